import { MailOutlined, RedoOutlined, StopOutlined, UserAddOutlined } from '@ant-design/icons';
import { App, Button, Empty, Form, Input, Modal, Select, Space, Table, Tag, Tooltip, Typography } from 'antd';
import { useState } from 'react';
import { useSearchParams } from 'react-router';
import {
  TENANT_ROLES,
  useInvitations,
  useInvite,
  useResendInvitation,
  useRevokeInvitation,
  type Invitation,
  type TenantRole,
} from '../../api/team';
import { useShop } from '../../auth/ShopContext';
import { showFieldError } from '../../components/formErrors';
import { QueryState, useErrorMessage } from '../../components/States';
import { RoleTag, useRoleLabel } from '../../components/Tags';
import { useI18n } from '../../i18n/I18nProvider';
import { useConfirm } from './confirm';
import { RoleOption, useRoleOptions } from './MembersTab';

export function InvitationsTab() {
  const { t, dateTime } = useI18n();
  const { shop, can } = useShop();
  const { message } = App.useApp();
  const confirm = useConfirm();
  const errorMessage = useErrorMessage();
  const [params, setParams] = useSearchParams();
  const invitations = useInvitations(shop.slug);
  const revoke = useRevokeInvitation(shop.slug);
  const resend = useResendInvitation(shop.slug);
  const writable = can('team:write');
  const [open, setOpen] = useState(params.get('invite') === '1' && writable);

  const close = () => {
    setOpen(false);
    if (params.has('invite')) setParams({ tab: 'invitations' }, { replace: true });
  };

  const confirmRevoke = (inv: Invitation) =>
    confirm({
      title: t('team.invitations.revokeTitle', { email: inv.email }),
      content: t('team.invitations.revokeText'),
      okText: t('team.invitations.revoke'),
      run: () => revoke.mutateAsync(inv.id),
      done: t('team.invitations.revoked', { email: inv.email }),
    });

  return (
    <>
      <div style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center', marginBottom: 12, gap: 12, flexWrap: 'wrap' }}>
        <Typography.Text type="secondary">{t('team.invitations.help')}</Typography.Text>
        {writable && (
          <Button icon={<UserAddOutlined />} type="primary" onClick={() => setOpen(true)} data-testid="invite-open">
            {t('team.invite.button')}
          </Button>
        )}
      </div>
      <QueryState query={invitations}>
        {(list) => (
          <Table<Invitation>
            rowKey="id"
            dataSource={list}
            pagination={false}
            data-testid="invitations-table"
            scroll={{ x: 640 }}
            locale={{
              emptyText: (
                <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('team.invitations.empty')}>
                  {writable && (
                    <Button icon={<MailOutlined />} onClick={() => setOpen(true)}>
                      {t('team.invite.button')}
                    </Button>
                  )}
                </Empty>
              ),
            }}
            columns={[
              { title: t('team.email'), dataIndex: 'email', render: (v: string) => <Typography.Text strong>{v}</Typography.Text> },
              { title: t('team.role'), dataIndex: 'role', width: 180, render: (r: string) => <RoleTag role={r} /> },
              { title: t('team.invitations.sent'), dataIndex: 'created_at', width: 180, render: (v: string) => dateTime(v) },
              {
                title: t('team.invitations.expires'),
                dataIndex: 'expires_at',
                width: 200,
                render: (v: string) =>
                  new Date(v).getTime() - Date.now() < 24 * 3600 * 1000 ? (
                    <Tag color="orange" bordered={false}>
                      {dateTime(v)}
                    </Tag>
                  ) : (
                    dateTime(v)
                  ),
              },
              ...(writable
                ? [
                    {
                      title: '',
                      key: 'actions',
                      width: 120,
                      align: 'right' as const,
                      render: (_: unknown, inv: Invitation) => (
                        <Space size={4}>
                          <Tooltip title={t('team.invitations.resend')}>
                            <Button
                              type="text"
                              icon={<RedoOutlined />}
                              aria-label={t('team.invitations.resend')}
                              loading={resend.isPending && resend.variables?.id === inv.id}
                              onClick={() =>
                                resend.mutate(inv, {
                                  onSuccess: () => void message.success(t('team.invitations.resent', { email: inv.email })),
                                  onError: (e) => void message.error(errorMessage(e)),
                                })
                              }
                              data-testid={`invitation-resend-${inv.email}`}
                            />
                          </Tooltip>
                          <Tooltip title={t('team.invitations.revoke')}>
                            <Button
                              type="text"
                              danger
                              icon={<StopOutlined />}
                              aria-label={t('team.invitations.revoke')}
                              onClick={() => confirmRevoke(inv)}
                              data-testid={`invitation-revoke-${inv.email}`}
                            />
                          </Tooltip>
                        </Space>
                      ),
                    },
                  ]
                : []),
            ]}
          />
        )}
      </QueryState>
      {writable && <InviteModal open={open} onClose={close} />}
    </>
  );
}

function InviteModal({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { t } = useI18n();
  const { shop } = useShop();
  const { message } = App.useApp();
  const errorMessage = useErrorMessage();
  const roleLabel = useRoleLabel();
  const invite = useInvite(shop.slug);
  const [form] = Form.useForm<{ email: string; role: TenantRole }>();
  const isOwner = shop.role === 'owner' && !shop.agency;
  const roleOptions = useRoleOptions(isOwner ? TENANT_ROLES : TENANT_ROLES.filter((r) => r !== 'owner'));

  const submit = (v: { email: string; role: TenantRole }) =>
    invite.mutate(
      { email: v.email.trim(), role: v.role },
      {
        onSuccess: (inv) => {
          void message.success(t('team.invite.sent', { email: inv.email, role: roleLabel(inv.role) }));
          form.resetFields();
          onClose();
        },
        onError: (e) => {
          if (!showFieldError(form, e)) void message.error(errorMessage(e));
        },
      },
    );

  return (
    <Modal
      open={open}
      title={t('team.invite.title')}
      onCancel={onClose}
      okText={t('team.invite.send')}
      cancelText={t('common.cancel')}
      onOk={() => form.submit()}
      confirmLoading={invite.isPending}
      destroyOnHidden
      data-testid="invite-modal"
    >
      <Typography.Paragraph type="secondary">{t('team.invite.text', { shop: shop.name })}</Typography.Paragraph>
      <Form form={form} layout="vertical" requiredMark={false} onFinish={submit} initialValues={{ role: 'viewer' }} name="invite">
        <Form.Item
          name="email"
          label={t('team.email')}
          rules={[
            { required: true, message: t('team.emailRequired') },
            { type: 'email', message: t('team.emailInvalid') },
          ]}
        >
          <Input prefix={<MailOutlined />} placeholder="name@company.com" autoFocus inputMode="email" />
        </Form.Item>
        <Form.Item name="role" label={t('team.role')} rules={[{ required: true }]}>
          <Select<TenantRole>
            options={roleOptions.map((o) => ({ value: o.value as TenantRole, label: o.label, desc: o.desc }))}
            optionRender={(o) => <RoleOption label={String(o.data.label)} desc={String(o.data.desc)} />}
            data-testid="invite-role"
          />
        </Form.Item>
      </Form>
    </Modal>
  );
}
