import { DeleteOutlined, UserAddOutlined } from '@ant-design/icons';
import { App, Avatar, Button, Empty, Select, Space, Table, Tag, Typography } from 'antd';
import { useNavigate } from 'react-router';
import { TENANT_ROLES, useMembers, useRemoveMember, useSetRole, type Member, type TenantRole } from '../../api/team';
import { useSignedIn } from '../../auth/SessionContext';
import { useShop } from '../../auth/ShopContext';
import { initials } from '../../components/ShopAvatar';
import { QueryState, useErrorMessage } from '../../components/States';
import { RoleTag, useRoleLabel } from '../../components/Tags';
import { useI18n } from '../../i18n/I18nProvider';
import { shopPath } from '../../layout/sections';
import { useConfirm } from './confirm';

/** Options of a role picker, each with what the role may do. */
export function useRoleOptions(roles: readonly string[]) {
  const { tMaybe } = useI18n();
  const roleLabel = useRoleLabel();
  return roles.map((r) => ({
    value: r,
    label: roleLabel(r),
    desc: tMaybe(`team.roleHelp.${r}`, ''),
  }));
}

export function RoleOption({ label, desc }: { label: string; desc: string }) {
  return (
    <div style={{ display: 'flex', flexDirection: 'column', lineHeight: 1.35, padding: '2px 0' }}>
      <span>{label}</span>
      {desc && (
        <Typography.Text type="secondary" style={{ fontSize: 12, whiteSpace: 'normal' }}>
          {desc}
        </Typography.Text>
      )}
    </div>
  );
}

export function MembersTab() {
  const { t, date } = useI18n();
  const { shop, can } = useShop();
  const { session } = useSignedIn();
  const { message } = App.useApp();
  const confirm = useConfirm();
  const navigate = useNavigate();
  const errorMessage = useErrorMessage();
  const roleLabel = useRoleLabel();
  const members = useMembers(shop.slug);
  const setRole = useSetRole(shop.slug);
  const remove = useRemoveMember(shop.slug);
  const writable = can('team:write');
  const isOwner = shop.role === 'owner' && !shop.agency;
  // Only owners may make or unmake owners.
  const roleOptions = useRoleOptions(isOwner ? TENANT_ROLES : TENANT_ROLES.filter((r) => r !== 'owner'));

  const change = (m: Member, role: TenantRole) =>
    setRole.mutate(
      { userId: m.user_id, role },
      {
        onSuccess: () => void message.success(t('team.members.roleChanged', { name: m.name || m.email, role: roleLabel(role) })),
        onError: (e) => void message.error(errorMessage(e)),
      },
    );

  const confirmRemove = (m: Member) =>
    confirm({
      title: t('team.members.removeTitle', { name: m.name || m.email }),
      content: t('team.members.removeText', { shop: shop.name }),
      okText: t('common.remove'),
      run: () => remove.mutateAsync(m.user_id),
      done: t('team.members.removed', { name: m.name || m.email }),
    });

  return (
    <QueryState query={members}>
      {(list) => (
        <>
          <div className="list-toolbar" style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center', marginBottom: 12, gap: 12, flexWrap: 'wrap' }}>
            <Typography.Text type="secondary">{t('team.members.count', { count: list.length })}</Typography.Text>
            {writable && (
              <Button icon={<UserAddOutlined />} type="primary" onClick={() => void navigate(shopPath(shop.slug, 'team?tab=invitations&invite=1'))} data-testid="invite-button">
                {t('team.invite.button')}
              </Button>
            )}
          </div>
          <Table<Member>
            rowKey="user_id"
            dataSource={list}
            pagination={false}
            data-testid="members-table"
            locale={{ emptyText: <Empty description={t('team.members.empty')} /> }}
            scroll={{ x: 640 }}
            columns={[
              {
                title: t('team.members.person'),
                key: 'person',
                render: (_, m) => (
                  <Space>
                    <Avatar size={32} style={{ background: '#e0e7ff', color: '#3730a3', fontSize: 12, fontWeight: 600 }}>
                      {initials(m.name || m.email)}
                    </Avatar>
                    <span style={{ display: 'flex', flexDirection: 'column' }}>
                      <Typography.Text strong>
                        {m.name || m.email}
                        {m.user_id === session.user.id && (
                          <Tag bordered={false} color="blue" style={{ marginInlineStart: 8 }}>
                            {t('team.members.you')}
                          </Tag>
                        )}
                      </Typography.Text>
                      {m.name && <Typography.Text type="secondary">{m.email}</Typography.Text>}
                    </span>
                  </Space>
                ),
              },
              {
                title: t('team.role'),
                key: 'role',
                width: 260,
                render: (_, m) => {
                  const editable = writable && m.user_id !== session.user.id && (m.role !== 'owner' || isOwner);
                  if (!editable) return <RoleTag role={m.role} />;
                  return (
                    <Select<TenantRole>
                      value={m.role}
                      style={{ width: 220 }}
                      popupMatchSelectWidth={300}
                      onChange={(r) => change(m, r)}
                      loading={setRole.isPending && setRole.variables?.userId === m.user_id}
                      options={roleOptions.map((o) => ({ value: o.value as TenantRole, label: o.label, desc: o.desc }))}
                      optionRender={(o) => <RoleOption label={String(o.data.label)} desc={String(o.data.desc)} />}
                      aria-label={t('team.role')}
                      data-testid={`member-role-${m.email}`}
                    />
                  );
                },
              },
              { title: t('team.members.joined'), dataIndex: 'created_at', width: 160, render: (v: string) => date(v) },
              ...(writable
                ? [
                    {
                      title: '',
                      key: 'actions',
                      width: 64,
                      align: 'right' as const,
                      render: (_: unknown, m: Member) =>
                        m.user_id !== session.user.id && (m.role !== 'owner' || isOwner) ? (
                          <Button
                            type="text"
                            danger
                            icon={<DeleteOutlined />}
                            aria-label={t('common.remove')}
                            title={t('common.remove')}
                            onClick={() => confirmRemove(m)}
                            data-testid={`member-remove-${m.email}`}
                          />
                        ) : null,
                    },
                  ]
                : []),
            ]}
          />
        </>
      )}
    </QueryState>
  );
}
