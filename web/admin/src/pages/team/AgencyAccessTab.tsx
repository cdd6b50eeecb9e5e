import { CheckOutlined, CloseOutlined, SolutionOutlined, StopOutlined } from '@ant-design/icons';
import { App, Button, Card, Empty, Select, Space, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { GRANTABLE_ROLES, useAgencyAccess, useDecideAccess, type Access, type AccessStatus, type GrantableRole } from '../../api/team';
import { useShop } from '../../auth/ShopContext';
import { QueryState, useErrorMessage } from '../../components/States';
import { RoleTag, useRoleLabel } from '../../components/Tags';
import { useI18n } from '../../i18n/I18nProvider';
import { useConfirm } from './confirm';
import { RoleOption, useRoleOptions } from './MembersTab';

const statusColor: Record<AccessStatus, string> = { pending: 'gold', approved: 'green', declined: 'default', revoked: 'red' };

export function AccessStatusTag({ status }: { status: AccessStatus }) {
  const { t } = useI18n();
  return (
    <Tag color={statusColor[status]} bordered={false}>
      {t(`team.access.status.${status}`)}
    </Tag>
  );
}

function RolePicker({ value, onChange, testId }: { value: GrantableRole; onChange: (r: GrantableRole) => void; testId?: string }) {
  const { t } = useI18n();
  const options = useRoleOptions(GRANTABLE_ROLES);
  return (
    <Select<GrantableRole>
      value={value}
      onChange={onChange}
      style={{ width: 200 }}
      popupMatchSelectWidth={300}
      options={options.map((o) => ({ value: o.value as GrantableRole, label: o.label, desc: o.desc }))}
      optionRender={(o) => <RoleOption label={String(o.data.label)} desc={String(o.data.desc)} />}
      aria-label={t('team.access.roleToGrant')}
      data-testid={testId}
    />
  );
}

export function AgencyAccessTab() {
  const { t } = useI18n();
  const { shop, can } = useShop();
  const access = useAgencyAccess(shop.slug);
  const writable = can('team:write');
  return (
    <QueryState query={access}>
      {(list) => {
        const pending = list.filter((a) => a.status === 'pending');
        const others = list.filter((a) => a.status !== 'pending');
        return (
          <>
            <Typography.Paragraph type="secondary">{t('team.access.help')}</Typography.Paragraph>
            {list.length === 0 && (
              <Empty image={<SolutionOutlined style={{ fontSize: 48, color: '#a5b4fc' }} />} description={t('team.access.empty')} style={{ padding: '32px 0' }} />
            )}
            {pending.length > 0 && (
              <div data-testid="access-pending" style={{ marginBottom: 24 }}>
                <Typography.Title level={5}>{t('team.access.pendingTitle', { count: pending.length })}</Typography.Title>
                <Space direction="vertical" style={{ width: '100%' }} size={12}>
                  {pending.map((a) => (
                    <PendingRequest key={a.agency_id} access={a} writable={writable} />
                  ))}
                </Space>
              </div>
            )}
            {others.length > 0 && <Grants list={others} writable={writable} />}
          </>
        );
      }}
    </QueryState>
  );
}

function PendingRequest({ access: a, writable }: { access: Access; writable: boolean }) {
  const { t, dateTime } = useI18n();
  const { shop } = useShop();
  const { message } = App.useApp();
  const confirm = useConfirm();
  const errorMessage = useErrorMessage();
  const roleLabel = useRoleLabel();
  const decide = useDecideAccess(shop.slug);
  const [role, setRole] = useState<GrantableRole>('catalog_manager');
  const busy = decide.isPending;

  const approve = () =>
    decide.mutate(
      { agencyId: a.agency_id, decision: 'approve', role },
      {
        onSuccess: () => void message.success(t('team.access.approved', { agency: a.agency_name, role: roleLabel(role) })),
        onError: (e) => void message.error(errorMessage(e)),
      },
    );
  const decline = () =>
    confirm({
      title: t('team.access.declineTitle', { agency: a.agency_name }),
      content: t('team.access.declineText'),
      okText: t('team.access.decline'),
      run: () => decide.mutateAsync({ agencyId: a.agency_id, decision: 'decline' }),
      done: t('team.access.declined', { agency: a.agency_name }),
    });

  return (
    <Card size="small" data-testid={`access-request-${a.agency_id}`} style={{ borderColor: '#fde68a', background: '#fffbeb' }}>
      <div style={{ display: 'flex', justifyContent: 'space-between', gap: 16, flexWrap: 'wrap', alignItems: 'flex-start' }}>
        <div style={{ minWidth: 240, flex: 1 }}>
          <Typography.Text strong style={{ fontSize: 15 }}>
            {a.agency_name}
          </Typography.Text>{' '}
          <AccessStatusTag status={a.status} />
          <div>
            <Typography.Text type="secondary">{t('team.access.requestedAt', { when: dateTime(a.requested_at) })}</Typography.Text>
          </div>
          {a.message ? (
            <Typography.Paragraph style={{ margin: '8px 0 0', whiteSpace: 'pre-wrap' }} ellipsis={{ rows: 3, expandable: true }}>
              “{a.message}”
            </Typography.Paragraph>
          ) : (
            <Typography.Paragraph type="secondary" style={{ margin: '8px 0 0' }}>
              {t('team.access.noMessage')}
            </Typography.Paragraph>
          )}
        </div>
        {writable ? (
          <Space wrap align="end">
            <div>
              <div>
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {t('team.access.roleToGrant')}
                </Typography.Text>
              </div>
              <RolePicker value={role} onChange={setRole} testId={`access-role-${a.agency_id}`} />
            </div>
            <Button type="primary" icon={<CheckOutlined />} onClick={approve} loading={busy && decide.variables?.decision === 'approve'} data-testid={`access-approve-${a.agency_id}`}>
              {t('team.access.approve')}
            </Button>
            <Button icon={<CloseOutlined />} onClick={decline} disabled={busy} data-testid={`access-decline-${a.agency_id}`}>
              {t('team.access.decline')}
            </Button>
          </Space>
        ) : (
          <Typography.Text type="secondary">{t('team.access.askAdmin')}</Typography.Text>
        )}
      </div>
    </Card>
  );
}

function Grants({ list, writable }: { list: Access[]; writable: boolean }) {
  const { t, dateTime } = useI18n();
  const { shop } = useShop();
  const { message } = App.useApp();
  const confirm = useConfirm();
  const errorMessage = useErrorMessage();
  const roleLabel = useRoleLabel();
  const decide = useDecideAccess(shop.slug);

  const changeRole = (a: Access, role: GrantableRole) =>
    decide.mutate(
      { agencyId: a.agency_id, decision: 'approve', role },
      {
        onSuccess: () => void message.success(t('team.access.roleChanged', { agency: a.agency_name, role: roleLabel(role) })),
        onError: (e) => void message.error(errorMessage(e)),
      },
    );
  const revoke = (a: Access) =>
    confirm({
      title: t('team.access.revokeTitle', { agency: a.agency_name }),
      content: t('team.access.revokeText'),
      okText: t('team.access.revoke'),
      run: () => decide.mutateAsync({ agencyId: a.agency_id, decision: 'revoke' }),
      done: t('team.access.revoked', { agency: a.agency_name }),
    });

  return (
    <>
      <Typography.Title level={5}>{t('team.access.grantsTitle')}</Typography.Title>
      <Table<Access>
        rowKey="agency_id"
        dataSource={list}
        pagination={false}
        scroll={{ x: 640 }}
        data-testid="access-grants"
        columns={[
          { title: t('team.access.agency'), dataIndex: 'agency_name', render: (v: string) => <Typography.Text strong>{v}</Typography.Text> },
          { title: t('team.access.state'), dataIndex: 'status', width: 130, render: (s: AccessStatus) => <AccessStatusTag status={s} /> },
          {
            title: t('team.role'),
            key: 'role',
            width: 230,
            render: (_, a) =>
              a.status !== 'approved' || !a.role ? (
                <Typography.Text type="secondary">{t('common.notAvailable')}</Typography.Text>
              ) : writable ? (
                <RolePicker value={a.role} onChange={(r) => changeRole(a, r)} testId={`grant-role-${a.agency_id}`} />
              ) : (
                <RoleTag role={a.role} />
              ),
          },
          { title: t('team.access.decidedAt'), dataIndex: 'decided_at', width: 180, render: (v: string | null) => dateTime(v) },
          ...(writable
            ? [
                {
                  title: '',
                  key: 'actions',
                  width: 120,
                  align: 'right' as const,
                  render: (_: unknown, a: Access) =>
                    a.status === 'approved' ? (
                      <Button danger type="text" icon={<StopOutlined />} onClick={() => revoke(a)} data-testid={`grant-revoke-${a.agency_id}`}>
                        {t('team.access.revoke')}
                      </Button>
                    ) : null,
                },
              ]
            : []),
        ]}
      />
    </>
  );
}
