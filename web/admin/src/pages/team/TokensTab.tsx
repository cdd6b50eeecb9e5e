import { ApiOutlined, KeyOutlined, PlusOutlined, StopOutlined, WarningOutlined } from '@ant-design/icons';
import { Alert, App, Badge, Button, DatePicker, Empty, Form, Input, Modal, Select, Table, Tooltip, Typography } from 'antd';
import type { Dayjs } from 'dayjs';
import { useState } from 'react';
import {
  GRANTABLE_ROLES,
  useCreateToken,
  useRevokeToken,
  useTokens,
  type CreatedToken,
  type GrantableRole,
  type Token,
} from '../../api/team';
import { useShop } from '../../auth/ShopContext';
import { showFieldError } from '../../components/formErrors';
import { QueryState, useErrorMessage } from '../../components/States';
import { RoleTag } from '../../components/Tags';
import { useI18n } from '../../i18n/I18nProvider';
import { useConfirm } from './confirm';
import { RoleOption, useRoleOptions } from './MembersTab';

function tokenState(tk: Token): 'active' | 'revoked' | 'expired' {
  if (tk.revoked_at) return 'revoked';
  if (tk.expires_at && new Date(tk.expires_at).getTime() <= Date.now()) return 'expired';
  return 'active';
}

export function TokensTab() {
  const { t, dateTime } = useI18n();
  const { shop, can } = useShop();
  const confirm = useConfirm();
  const tokens = useTokens(shop.slug);
  const revoke = useRevokeToken(shop.slug);
  const writable = can('team:write');
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<CreatedToken | null>(null);

  const confirmRevoke = (tk: Token) =>
    confirm({
      title: t('team.tokens.revokeTitle', { name: tk.name }),
      content: t('team.tokens.revokeText'),
      okText: t('team.tokens.revoke'),
      run: () => revoke.mutateAsync(tk.id),
      done: t('team.tokens.revoked', { name: tk.name }),
    });

  return (
    <>
      <div style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center', marginBottom: 12, gap: 12, flexWrap: 'wrap' }}>
        <Typography.Text type="secondary">{t('team.tokens.help')}</Typography.Text>
        {writable && (
          <Button icon={<PlusOutlined />} type="primary" onClick={() => setCreating(true)} data-testid="token-create">
            {t('team.tokens.create')}
          </Button>
        )}
      </div>
      <QueryState query={tokens}>
        {(list) => (
          <Table<Token>
            rowKey="id"
            dataSource={list}
            pagination={false}
            data-testid="tokens-table"
            scroll={{ x: 760 }}
            rowClassName={(tk) => (tokenState(tk) === 'active' ? '' : 'row-muted')}
            locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('team.tokens.empty')} /> }}
            columns={[
              {
                title: t('team.tokens.name'),
                dataIndex: 'name',
                render: (v: string, tk) => (
                  <span style={{ display: 'flex', flexDirection: 'column' }}>
                    <Typography.Text strong>{v}</Typography.Text>
                    <Typography.Text type="secondary" className="mono" data-testid={`token-masked-${tk.id}`}>
                      mst_••••••••{tk.last4}
                    </Typography.Text>
                  </span>
                ),
              },
              { title: t('team.role'), dataIndex: 'role', width: 170, render: (r: string) => <RoleTag role={r} /> },
              {
                title: t('team.tokens.state'),
                key: 'state',
                width: 120,
                render: (_, tk) => {
                  const s = tokenState(tk);
                  return <Badge status={s === 'active' ? 'success' : 'default'} text={t(`team.tokens.state.${s}`)} />;
                },
              },
              { title: t('team.tokens.lastUsed'), dataIndex: 'last_used_at', width: 170, render: (v: string | null) => (v ? dateTime(v) : t('team.tokens.never')) },
              { title: t('team.tokens.expires'), dataIndex: 'expires_at', width: 170, render: (v: string | null) => (v ? dateTime(v) : t('team.tokens.noExpiry')) },
              ...(writable
                ? [
                    {
                      title: '',
                      key: 'actions',
                      width: 64,
                      align: 'right' as const,
                      render: (_: unknown, tk: Token) =>
                        tokenState(tk) === 'active' ? (
                          <Tooltip title={t('team.tokens.revoke')}>
                            <Button
                              type="text"
                              danger
                              icon={<StopOutlined />}
                              aria-label={t('team.tokens.revoke')}
                              onClick={() => confirmRevoke(tk)}
                              data-testid={`token-revoke-${tk.id}`}
                            />
                          </Tooltip>
                        ) : null,
                    },
                  ]
                : []),
            ]}
          />
        )}
      </QueryState>
      {writable && (
        <CreateTokenModal
          open={creating}
          onClose={() => setCreating(false)}
          onCreated={(tk) => {
            setCreating(false);
            setCreated(tk);
          }}
        />
      )}
      <SecretModal token={created} onClose={() => setCreated(null)} />
    </>
  );
}

interface TokenForm {
  name: string;
  role: GrantableRole;
  expires?: Dayjs | null;
}

function CreateTokenModal({ open, onClose, onCreated }: { open: boolean; onClose: () => void; onCreated: (t: CreatedToken) => void }) {
  const { t } = useI18n();
  const { shop } = useShop();
  const { message } = App.useApp();
  const errorMessage = useErrorMessage();
  const create = useCreateToken(shop.slug);
  const [form] = Form.useForm<TokenForm>();
  const roleOptions = useRoleOptions(GRANTABLE_ROLES);

  const submit = (v: TokenForm) =>
    create.mutate(
      { name: v.name.trim(), role: v.role, expires_at: v.expires ? v.expires.endOf('day').toISOString() : null },
      {
        onSuccess: (tk) => {
          form.resetFields();
          onCreated(tk);
        },
        onError: (e) => {
          if (!showFieldError(form, e, { expires_at: 'expires' })) void message.error(errorMessage(e));
        },
      },
    );

  return (
    <Modal
      open={open}
      title={
        <span>
          <ApiOutlined /> {t('team.tokens.createTitle')}
        </span>
      }
      onCancel={onClose}
      okText={t('team.tokens.create')}
      cancelText={t('common.cancel')}
      onOk={() => form.submit()}
      confirmLoading={create.isPending}
      destroyOnHidden
    >
      <Form form={form} layout="vertical" requiredMark={false} onFinish={submit} initialValues={{ role: 'viewer' }} name="token">
        <Form.Item
          name="name"
          label={t('team.tokens.name')}
          extra={t('team.tokens.nameHelp')}
          rules={[
            { required: true, whitespace: true, message: t('team.tokens.nameRequired') },
            { max: 80, message: t('team.tokens.nameTooLong') },
          ]}
        >
          <Input placeholder={t('team.tokens.namePlaceholder')} autoFocus maxLength={80} />
        </Form.Item>
        <Form.Item name="role" label={t('team.tokens.scope')} extra={t('team.tokens.scopeHelp')} rules={[{ required: true }]}>
          <Select<GrantableRole>
            options={roleOptions.map((o) => ({ value: o.value as GrantableRole, label: o.label, desc: o.desc }))}
            optionRender={(o) => <RoleOption label={String(o.data.label)} desc={String(o.data.desc)} />}
            data-testid="token-role"
          />
        </Form.Item>
        <Form.Item name="expires" label={t('team.tokens.expires')} extra={t('team.tokens.expiresHelp')}>
          <DatePicker style={{ width: '100%' }} disabledDate={(d) => d.isBefore(new Date(), 'day')} placeholder={t('team.tokens.noExpiry')} />
        </Form.Item>
      </Form>
    </Modal>
  );
}

/** The secret of a new token, shown once: closing needs a confirmation that it was copied. */
function SecretModal({ token, onClose }: { token: CreatedToken | null; onClose: () => void }) {
  const { t } = useI18n();
  const [copied, setCopied] = useState(false);
  const close = () => {
    setCopied(false);
    onClose();
  };
  return (
    <Modal
      open={token !== null}
      title={
        <span>
          <KeyOutlined /> {t('team.tokens.secretTitle')}
        </span>
      }
      closable={false}
      maskClosable={false}
      keyboard={false}
      destroyOnHidden
      footer={
        <Button type="primary" onClick={close} data-testid="token-secret-done">
          {copied ? t('team.tokens.secretDone') : t('team.tokens.secretDoneUncopied')}
        </Button>
      }
      data-testid="token-secret-modal"
    >
      {token && (
        <>
          <Alert type="warning" showIcon icon={<WarningOutlined />} message={t('team.tokens.secretOnce')} style={{ marginBottom: 16 }} />
          <Typography.Paragraph>
            <Typography.Text strong>{token.name}</Typography.Text> · <RoleTag role={token.role} />
          </Typography.Paragraph>
          <Typography.Paragraph
            code
            copyable={{ text: token.token, onCopy: () => setCopied(true), tooltips: [t('team.copy'), t('team.copied')] }}
            style={{ wordBreak: 'break-all', fontSize: 13 }}
            data-testid="token-secret"
          >
            {token.token}
          </Typography.Paragraph>
          <Typography.Paragraph type="secondary" style={{ marginBottom: 0 }}>
            {t('team.tokens.secretUse')} <Typography.Text code>Authorization: Bearer …</Typography.Text>
          </Typography.Paragraph>
        </>
      )}
    </Modal>
  );
}
