import { ArrowRightOutlined, SendOutlined, ShopOutlined, SolutionOutlined } from '@ant-design/icons';
import { useQueryClient } from '@tanstack/react-query';
import { Alert, App, Button, Card, Col, Empty, Form, Input, List, Result, Row, Table, Typography } from 'antd';
import { useEffect } from 'react';
import { Navigate, useNavigate, useParams } from 'react-router';
import { sessionKey } from '../../api/session';
import { useAgency, useRequestAccess, type Access, type AgencyMember } from '../../api/team';
import { useSignedIn } from '../../auth/SessionContext';
import { showFieldError } from '../../components/formErrors';
import { ShopAvatar } from '../../components/ShopAvatar';
import { QueryState, useErrorMessage } from '../../components/States';
import { RoleTag } from '../../components/Tags';
import { useDocumentTitle } from '../../components/useDocumentTitle';
import { useI18n } from '../../i18n/I18nProvider';
import { BareLayout } from '../../layout/BareLayout';
import { shopPath } from '../../layout/sections';
import { AccessStatusTag } from './AgencyAccessTab';

/** /agency: the user's first agency (most people work for one). */
export function AgencyIndex() {
  const { session } = useSignedIn();
  const first = session.agencies[0];
  if (!first) return <Navigate to="/" replace />;
  return <Navigate to={`/agencies/${first.id}`} replace />;
}

/** /agencies/{id}: ask brands for access and follow the answers. */
export function AgencyPage() {
  const { t } = useI18n();
  const { id = '' } = useParams();
  const { session } = useSignedIn();
  const agencyId = Number(id);
  const mine = session.agencies.find((a) => a.id === agencyId);
  const agency = useAgency(agencyId);
  const qc = useQueryClient();
  useDocumentTitle(mine ? mine.name : t('agency.title'));
  // A brand may have answered since the session was read: its shop joins the list.
  useEffect(() => {
    void qc.invalidateQueries({ queryKey: sessionKey });
  }, [qc, agency.dataUpdatedAt]);

  if (!mine) {
    return (
      <BareLayout>
        <Result status="404" title={t('agency.notFoundTitle')} subTitle={t('agency.notFoundText')} />
      </BareLayout>
    );
  }
  const admin = mine.role === 'agency_admin';
  return (
    <BareLayout>
      <div className="choose-shop" data-testid="agency-page">
        <div style={{ display: 'flex', alignItems: 'center', gap: 12, marginBottom: 4 }}>
          <span className="page-header-icon">
            <SolutionOutlined />
          </span>
          <div>
            <Typography.Title level={2} style={{ margin: 0 }}>
              {mine.name}
            </Typography.Title>
            <Typography.Text type="secondary">
              {t('agency.subtitle')} · <RoleTag role={mine.role} />
            </Typography.Text>
          </div>
        </div>
        <Row gutter={[24, 24]} style={{ marginTop: 24 }}>
          <Col xs={24} lg={10}>
            {admin ? (
              <RequestForm agencyId={agencyId} />
            ) : (
              <Card title={t('agency.request.title')}>
                <Alert type="info" showIcon message={t('agency.request.adminsOnly')} />
              </Card>
            )}
          </Col>
          <Col xs={24} lg={14}>
            <Card title={t('agency.requests.title')} data-testid="agency-requests">
              <QueryState query={agency}>{(a) => <Requests list={a.access} />}</QueryState>
            </Card>
            <Card title={t('agency.staff.title')} style={{ marginTop: 24 }}>
              <QueryState query={agency}>
                {(a) => (
                  <Table<AgencyMember>
                    rowKey="user_id"
                    size="small"
                    pagination={false}
                    dataSource={a.members}
                    columns={[
                      { title: t('team.members.person'), key: 'p', render: (_, m) => m.name || m.email },
                      { title: t('team.email'), dataIndex: 'email' },
                      { title: t('team.role'), dataIndex: 'role', render: (r: string) => <RoleTag role={r} /> },
                    ]}
                  />
                )}
              </QueryState>
            </Card>
          </Col>
        </Row>
      </div>
    </BareLayout>
  );
}

function RequestForm({ agencyId }: { agencyId: number }) {
  const { t } = useI18n();
  const { message } = App.useApp();
  const errorMessage = useErrorMessage();
  const request = useRequestAccess(agencyId);
  const [form] = Form.useForm<{ tenant: string; message: string }>();
  const submit = (v: { tenant: string; message?: string }) =>
    request.mutate(
      { tenant: v.tenant.trim().toLowerCase(), message: (v.message ?? '').trim() },
      {
        onSuccess: (a) => {
          void message.success(t('agency.request.sent', { shop: a.tenant_name }));
          form.resetFields();
        },
        onError: (e) => {
          if (!showFieldError(form, e)) form.setFields([{ name: 'tenant', errors: [errorMessage(e)] }]);
        },
      },
    );
  return (
    <Card title={t('agency.request.title')}>
      <Typography.Paragraph type="secondary">{t('agency.request.text')}</Typography.Paragraph>
      <Form form={form} layout="vertical" requiredMark={false} onFinish={submit} name="access-request">
        <Form.Item
          name="tenant"
          label={t('agency.request.shop')}
          extra={t('agency.request.shopHelp')}
          rules={[{ required: true, whitespace: true, message: t('agency.request.shopRequired') }]}
        >
          <Input prefix={<ShopOutlined />} placeholder="nordic-skin" autoComplete="off" className="mono" data-testid="request-shop" />
        </Form.Item>
        <Form.Item name="message" label={t('agency.request.message')} rules={[{ max: 1000, message: t('agency.request.messageTooLong') }]}>
          <Input.TextArea rows={4} maxLength={1000} showCount placeholder={t('agency.request.messagePlaceholder')} data-testid="request-message" />
        </Form.Item>
        <Button type="primary" htmlType="submit" icon={<SendOutlined />} loading={request.isPending} block data-testid="request-submit">
          {t('agency.request.submit')}
        </Button>
      </Form>
    </Card>
  );
}

function Requests({ list }: { list: Access[] }) {
  const { t, dateTime } = useI18n();
  const { shops } = useSignedIn();
  const navigate = useNavigate();
  if (list.length === 0) return <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('agency.requests.empty')} />;
  return (
    <List<Access>
      dataSource={list}
      renderItem={(a) => {
        const open = a.status === 'approved' && shops.some((s) => s.slug === a.tenant_slug);
        return (
          <List.Item
            data-testid={`agency-request-${a.tenant_slug}`}
            actions={
              open
                ? [
                    <Button key="open" type="link" onClick={() => void navigate(shopPath(a.tenant_slug))} data-testid={`agency-open-${a.tenant_slug}`}>
                      {t('agency.requests.open')} <ArrowRightOutlined />
                    </Button>,
                  ]
                : []
            }
          >
            <List.Item.Meta
              avatar={<ShopAvatar slug={a.tenant_slug} name={a.tenant_name} size={36} />}
              title={
                <span>
                  {a.tenant_name} <AccessStatusTag status={a.status} />
                  {a.status === 'approved' && a.role && <RoleTag role={a.role} />}
                </span>
              }
              description={
                <span>
                  <span className="mono">{a.tenant_slug}</span> ·{' '}
                  {a.decided_at ? t('agency.requests.decided', { when: dateTime(a.decided_at) }) : t('team.access.requestedAt', { when: dateTime(a.requested_at) })}
                </span>
              }
            />
          </List.Item>
        );
      }}
    />
  );
}

/** Links to the agency pages of the signed-in user, for the shop lists. */
export function AgencyLinks() {
  const { t } = useI18n();
  const { session } = useSignedIn();
  const navigate = useNavigate();
  if (session.agencies.length === 0) return null;
  return (
    <div style={{ display: 'flex', gap: 8, flexWrap: 'wrap', alignItems: 'center' }} data-testid="agency-links">
      {session.agencies.map((a) => (
        <Button key={a.id} icon={<SolutionOutlined />} onClick={() => void navigate(`/agencies/${a.id}`)} data-testid={`agency-link-${a.id}`}>
          {session.agencies.length > 1 ? t('agency.linkNamed', { agency: a.name }) : t('agency.link')}
        </Button>
      ))}
    </div>
  );
}
