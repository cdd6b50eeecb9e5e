import {
  ArrowLeftOutlined,
  CheckCircleFilled,
  DesktopOutlined,
  KeyOutlined,
  LockOutlined,
  LogoutOutlined,
  MobileOutlined,
  SafetyOutlined,
  UserOutlined,
} from '@ant-design/icons';
import { Alert, App, Button, Card, Col, Descriptions, Empty, Form, Input, List, Modal, Row, Space, Steps, Tag, Typography } from 'antd';
import { useEffect, useRef, useState } from 'react';
import { useNavigate } from 'react-router';
import {
  useBeginTOTP,
  useConfirmTOTP,
  useDisableTOTP,
  useRequestReset,
  useRevokeOtherSessions,
  useRevokeSession,
  useSessions,
  type Enrollment,
  type SessionInfo,
} from '../../api/account';
import { isApiError } from '../../api/client';
import { useSignOut } from '../../api/session';
import { useSignedIn } from '../../auth/SessionContext';
import { QueryState, useErrorMessage } from '../../components/States';
import { useDocumentTitle } from '../../components/useDocumentTitle';
import { useI18n } from '../../i18n/I18nProvider';
import { BareLayout } from '../../layout/BareLayout';

/** /account: the signed-in user's sign-in security. */
export function AccountPage() {
  const { t } = useI18n();
  const navigate = useNavigate();
  useDocumentTitle(t('account.title'));
  return (
    <BareLayout>
      <div className="choose-shop" data-testid="account-page">
        <Button type="link" icon={<ArrowLeftOutlined />} onClick={() => void navigate(-1)} style={{ paddingInline: 0 }}>
          {t('common.back')}
        </Button>
        <Typography.Title level={2} style={{ margin: '4px 0' }}>
          {t('account.title')}
        </Typography.Title>
        <Typography.Paragraph type="secondary">{t('account.subtitle')}</Typography.Paragraph>
        <Row gutter={[24, 24]}>
          <Col xs={24} lg={10}>
            <Space direction="vertical" size={24} style={{ width: '100%' }}>
              <ProfileCard />
              <PasswordCard />
            </Space>
          </Col>
          <Col xs={24} lg={14}>
            <Space direction="vertical" size={24} style={{ width: '100%' }}>
              <TwoFactorCard />
              <SessionsCard />
            </Space>
          </Col>
        </Row>
      </div>
    </BareLayout>
  );
}

function ProfileCard() {
  const { t, tMaybe } = useI18n();
  const { session, shops } = useSignedIn();
  const u = session.user;
  return (
    <Card title={<span><UserOutlined /> {t('account.profile')}</span>}>
      <Descriptions column={1} size="small" colon={false}>
        <Descriptions.Item label={t('account.email')}>{u.email}</Descriptions.Item>
        <Descriptions.Item label={t('account.name')}>{u.name || t('common.notAvailable')}</Descriptions.Item>
        <Descriptions.Item label={t('account.shops')}>{shops.length}</Descriptions.Item>
        {session.agencies.map((a) => (
          <Descriptions.Item key={a.id} label={t('account.agency')}>
            {a.name} · {tMaybe(`role.${a.role}`, a.role)}
          </Descriptions.Item>
        ))}
      </Descriptions>
    </Card>
  );
}

function PasswordCard() {
  const { t } = useI18n();
  const { session } = useSignedIn();
  const { message } = App.useApp();
  const errorMessage = useErrorMessage();
  const reset = useRequestReset();
  return (
    <Card title={<span><LockOutlined /> {t('account.password')}</span>}>
      <Typography.Paragraph type="secondary">{t('account.passwordText')}</Typography.Paragraph>
      {reset.isSuccess ? (
        <Alert type="success" showIcon message={t('account.resetSent', { email: session.user.email })} data-testid="account-reset-sent" />
      ) : (
        <Button
          icon={<KeyOutlined />}
          loading={reset.isPending}
          onClick={() => reset.mutate(session.user.email, { onError: (e) => void message.error(errorMessage(e)) })}
          data-testid="account-reset"
        >
          {t('account.sendReset')}
        </Button>
      )}
    </Card>
  );
}

function TwoFactorCard() {
  const { t } = useI18n();
  const { session } = useSignedIn();
  const [enrolling, setEnrolling] = useState(false);
  const [disabling, setDisabling] = useState(false);
  const on = session.user.totp_enabled;
  return (
    <Card
      title={<span><SafetyOutlined /> {t('account.totp')}</span>}
      extra={
        on ? (
          <Tag color="green" bordered={false} icon={<CheckCircleFilled />} data-testid="totp-on">
            {t('account.totpOn')}
          </Tag>
        ) : (
          <Tag bordered={false} data-testid="totp-off">
            {t('account.totpOff')}
          </Tag>
        )
      }
      data-testid="totp-card"
    >
      <Typography.Paragraph type="secondary">{on ? t('account.totpOnText') : t('account.totpOffText')}</Typography.Paragraph>
      {on ? (
        <Button danger onClick={() => setDisabling(true)} data-testid="totp-disable">
          {t('account.totpDisable')}
        </Button>
      ) : (
        <Button type="primary" icon={<SafetyOutlined />} onClick={() => setEnrolling(true)} data-testid="totp-enrol">
          {t('account.totpEnable')}
        </Button>
      )}
      {enrolling && <EnrolModal onClose={() => setEnrolling(false)} />}
      {disabling && <DisableModal onClose={() => setDisabling(false)} />}
    </Card>
  );
}

function EnrolModal({ onClose }: { onClose: () => void }) {
  const { t } = useI18n();
  const begin = useBeginTOTP();
  const confirm = useConfirmTOTP();
  const errorMessage = useErrorMessage();
  const [enrollment, setEnrollment] = useState<Enrollment | null>(null);
  const [code, setCode] = useState('');
  const [codes, setCodes] = useState<string[] | null>(null);
  // One enrolment per opening of the dialog (a new one replaces an unconfirmed one).
  const started = useRef(false);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    begin.mutate(undefined, { onSuccess: setEnrollment });
  }, [begin]);
  const step = codes ? 2 : enrollment ? 1 : 0;
  const submit = (c: string) => {
    if (!/^\d{6}$/.test(c)) return;
    confirm.mutate(c, { onSuccess: (r) => setCodes(r.recovery_codes), onError: () => setCode('') });
  };
  return (
    <Modal
      open
      title={t('account.totpEnable')}
      onCancel={onClose}
      width={560}
      maskClosable={false}
      footer={
        codes ? (
          <Button type="primary" onClick={onClose} data-testid="totp-finish">
            {t('account.totpSaved')}
          </Button>
        ) : (
          <Space>
            <Button onClick={onClose}>{t('common.cancel')}</Button>
            <Button type="primary" disabled={!/^\d{6}$/.test(code) || !enrollment} loading={confirm.isPending} onClick={() => submit(code)} data-testid="totp-confirm">
              {t('account.totpConfirm')}
            </Button>
          </Space>
        )
      }
      data-testid="totp-modal"
    >
      <Steps
        size="small"
        current={step}
        style={{ margin: '8px 0 20px' }}
        items={[{ title: t('account.totpStepScan') }, { title: t('account.totpStepCode') }, { title: t('account.totpStepCodes') }]}
      />
      {begin.isError && <Alert type="error" showIcon message={errorMessage(begin.error)} />}
      {enrollment && !codes && (
        <>
          <div style={{ display: 'flex', gap: 20, alignItems: 'flex-start', flexWrap: 'wrap' }}>
            <img
              src={`data:image/png;base64,${enrollment.qr_png_base64}`}
              alt={t('account.totpQrAlt')}
              width={180}
              height={180}
              style={{ border: '1px solid #e2e8f0', borderRadius: 8 }}
              data-testid="totp-qr"
            />
            <div style={{ flex: 1, minWidth: 220 }}>
              <Typography.Paragraph>{t('account.totpScan')}</Typography.Paragraph>
              <Typography.Text type="secondary">{t('account.totpManual')}</Typography.Text>
              <Typography.Paragraph code copyable={{ text: enrollment.secret }} style={{ wordBreak: 'break-all', marginTop: 4 }} data-testid="totp-secret">
                {enrollment.secret.replace(/(.{4})/g, '$1 ').trim()}
              </Typography.Paragraph>
            </div>
          </div>
          <Form layout="vertical" onFinish={() => submit(code)} style={{ marginTop: 8 }}>
            <Form.Item
              label={t('account.totpCode')}
              validateStatus={confirm.isError ? 'error' : undefined}
              help={confirm.isError ? errorMessage(confirm.error) : undefined}
            >
              <Input.OTP
                length={6}
                value={code}
                formatter={(s) => s.replace(/\D/g, '')}
                onChange={(v) => {
                  setCode(v);
                  submit(v);
                }}
                aria-label={t('account.totpCode')}
                data-testid="totp-code"
              />
            </Form.Item>
          </Form>
        </>
      )}
      {codes && (
        <>
          <Alert type="success" showIcon message={t('account.totpEnabled')} style={{ marginBottom: 16 }} />
          <Typography.Paragraph>{t('account.totpCodesText')}</Typography.Paragraph>
          <div
            className="mono"
            style={{ display: 'grid', gridTemplateColumns: 'repeat(2, 1fr)', gap: 6, background: '#f8fafc', border: '1px solid #e2e8f0', borderRadius: 8, padding: 12 }}
            data-testid="totp-recovery-codes"
          >
            {codes.map((c) => (
              <span key={c}>{c}</span>
            ))}
          </div>
          <Typography.Paragraph copyable={{ text: codes.join('\n') }} style={{ marginTop: 8 }}>
            {t('account.totpCopyCodes')}
          </Typography.Paragraph>
        </>
      )}
    </Modal>
  );
}

function DisableModal({ onClose }: { onClose: () => void }) {
  const { t } = useI18n();
  const { message } = App.useApp();
  const disable = useDisableTOTP();
  const errorMessage = useErrorMessage();
  const [form] = Form.useForm<{ password: string }>();
  return (
    <Modal
      open
      title={t('account.totpDisable')}
      onCancel={onClose}
      okText={t('account.totpDisable')}
      okButtonProps={{ danger: true }}
      cancelText={t('common.cancel')}
      confirmLoading={disable.isPending}
      onOk={() => form.submit()}
    >
      <Typography.Paragraph type="secondary">{t('account.totpDisableText')}</Typography.Paragraph>
      <Form
        form={form}
        layout="vertical"
        requiredMark={false}
        onFinish={(v) =>
          disable.mutate(v.password, {
            onSuccess: () => {
              void message.success(t('account.totpDisabled'));
              onClose();
            },
            onError: (e) => form.setFields([{ name: 'password', errors: [errorMessage(e)] }]),
          })
        }
      >
        <Form.Item name="password" label={t('login.password')} rules={[{ required: true, message: t('login.passwordRequired') }]}>
          <Input.Password autoFocus autoComplete="current-password" />
        </Form.Item>
      </Form>
    </Modal>
  );
}

/** A short description of a browser from its User-Agent. */
function describeAgent(ua: string): { label: string; mobile: boolean } {
  const mobile = /Mobile|Android|iPhone|iPad/i.test(ua);
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /MicroMessenger/i.test(ua)
      ? 'WeChat'
      : /Chrome\//.test(ua)
        ? 'Chrome'
        : /Firefox\//.test(ua)
          ? 'Firefox'
          : /Safari\//.test(ua)
            ? 'Safari'
            : '';
  const os = /Windows/.test(ua) ? 'Windows' : /Mac OS X/.test(ua) ? 'macOS' : /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Linux/.test(ua) ? 'Linux' : '';
  const label = [browser, os].filter(Boolean).join(' · ');
  return { label: label || ua.slice(0, 60) || '—', mobile };
}

function SessionsCard() {
  const { t, dateTime } = useI18n();
  const { message, modal } = App.useApp();
  const errorMessage = useErrorMessage();
  const sessions = useSessions();
  const revoke = useRevokeSession();
  const revokeOthers = useRevokeOtherSessions();
  const signOut = useSignOut();
  const others = (sessions.data ?? []).filter((s) => !s.current);

  const end = (s: SessionInfo) => {
    if (s.current) {
      signOut.mutate();
      return;
    }
    revoke.mutate(s.id, {
      onSuccess: () => void message.success(t('account.sessionEnded')),
      onError: (e) => {
        if (isApiError(e) && e.status === 404) void sessions.refetch();
        else void message.error(errorMessage(e));
      },
    });
  };

  return (
    <Card
      title={<span><DesktopOutlined /> {t('account.sessions')}</span>}
      extra={
        others.length > 0 && (
          <Button
            danger
            size="small"
            icon={<LogoutOutlined />}
            loading={revokeOthers.isPending}
            onClick={() =>
              modal.confirm({
                title: t('account.signOutOthersTitle', { count: others.length }),
                content: t('account.signOutOthersText'),
                okText: t('account.signOutOthers'),
                okButtonProps: { danger: true },
                cancelText: t('common.cancel'),
                onOk: () =>
                  revokeOthers.mutateAsync(others.map((s) => s.id)).then(
                    () => void message.success(t('account.othersEnded')),
                    (e: unknown) => void message.error(errorMessage(e)),
                  ),
              })
            }
            data-testid="sessions-revoke-others"
          >
            {t('account.signOutOthers')}
          </Button>
        )
      }
      data-testid="sessions-card"
    >
      <QueryState query={sessions} isEmpty={(l) => l.length === 0} empty={<Empty image={Empty.PRESENTED_IMAGE_SIMPLE} />}>
        {(list) => (
          <List<SessionInfo>
            dataSource={list}
            renderItem={(s) => {
              const a = describeAgent(s.user_agent);
              return (
                <List.Item
                  data-testid={s.current ? 'session-current' : 'session-other'}
                  actions={[
                    <Button key="end" type="link" danger={!s.current} onClick={() => end(s)} loading={revoke.isPending && revoke.variables === s.id}>
                      {s.current ? t('user.signOut') : t('account.endSession')}
                    </Button>,
                  ]}
                >
                  <List.Item.Meta
                    avatar={<span style={{ fontSize: 22, color: '#6366f1' }}>{a.mobile ? <MobileOutlined /> : <DesktopOutlined />}</span>}
                    title={
                      <span>
                        {a.label}{' '}
                        {s.current && (
                          <Tag color="green" bordered={false}>
                            {t('account.thisDevice')}
                          </Tag>
                        )}
                      </span>
                    }
                    description={
                      <span>
                        {s.ip ?? t('common.notAvailable')} · {t('account.signedInAt', { when: dateTime(s.created_at) })} ·{' '}
                        {t('account.lastSeen', { when: dateTime(s.last_seen_at) })}
                      </span>
                    }
                  />
                </List.Item>
              );
            }}
          />
        )}
      </QueryState>
    </Card>
  );
}
