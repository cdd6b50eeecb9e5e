import { DeleteOutlined, MailOutlined, RedoOutlined, StopOutlined, UserAddOutlined } from '@ant-design/icons';
import type { UseQueryResult } from '@tanstack/react-query';
import { Alert, App, Avatar, Button, Card, Divider, Empty, Form, Input, List, Select, Space, Tooltip, Typography } from 'antd';
import {
  AGENCY_ROLES,
  useAgencyInvitations,
  useInviteToAgency,
  useRemoveAgencyMember,
  useResendAgencyInvitation,
  useRevokeAgencyInvitation,
  useSetAgencyRole,
  type AgencyMember,
  type AgencyRoleName,
  type AgencyView,
  type Invitation,
} from '../../api/team';
import { useSignedIn } from '../../auth/SessionContext';
import { showFieldError } from '../../components/formErrors';
import { initials } from '../../components/ShopAvatar';
import { QueryState, useErrorMessage } from '../../components/States';
import { RoleTag, useRoleLabel } from '../../components/Tags';
import { useI18n } from '../../i18n/I18nProvider';
import { useConfirm } from '../team/confirm';

/** The agency's people: members with their agency role, invitations, and inviting a colleague. */
export function AgencyTeam({ agencyId, admin, query }: { agencyId: number; admin: boolean; query: UseQueryResult<AgencyView> }) {
  const { t } = useI18n();
  const { session } = useSignedIn();
  return (
    <Card title={t('agencyHome.team.title')} className="agency-card" data-testid="agency-team">
      <QueryState query={query}>
        {(a) => (
          <List<AgencyMember>
            dataSource={a.members}
            data-testid="agency-members"
            renderItem={(m) => (
              <List.Item
                data-testid={`agency-member-${m.email}`}
                extra={admin && m.user_id !== session.user.id ? <MemberActions agencyId={agencyId} agencyName={a.name} member={m} /> : <RoleTag role={m.role} />}
              >
                <List.Item.Meta
                  avatar={<Avatar style={{ background: '#e0e7ff', color: '#4338ca' }}>{initials(m.name || m.email)}</Avatar>}
                  title={
                    <span>
                      {m.name || m.email}
                      {m.user_id === session.user.id && <Typography.Text type="secondary"> ({t('agencyHome.team.you')})</Typography.Text>}
                    </span>
                  }
                  description={m.email}
                />
              </List.Item>
            )}
          />
        )}
      </QueryState>
      <Divider orientation="left" plain>
        {t('agencyHome.team.pending')}
      </Divider>
      <Invitations agencyId={agencyId} admin={admin} />
      <Divider orientation="left" plain>
        {t('agencyHome.team.invite')}
      </Divider>
      {admin ? <InviteForm agencyId={agencyId} /> : <Alert type="info" showIcon message={t('agencyHome.team.adminsOnly')} />}
    </Card>
  );
}

/** An admin's controls on a colleague: their agency role, and removing them (after confirmation). */
function MemberActions({ agencyId, agencyName, member: m }: { agencyId: number; agencyName: string; member: AgencyMember }) {
  const { t } = useI18n();
  const { message } = App.useApp();
  const errorMessage = useErrorMessage();
  const confirm = useConfirm();
  const roleLabel = useRoleLabel();
  const setRole = useSetAgencyRole(agencyId);
  const remove = useRemoveAgencyMember(agencyId);
  const name = m.name || m.email;
  return (
    <Space size={4}>
      <Select<AgencyRoleName>
        value={m.role}
        size="small"
        className="agency-member-role"
        popupMatchSelectWidth={false}
        loading={setRole.isPending}
        disabled={setRole.isPending}
        options={AGENCY_ROLES.map((r) => ({ value: r, label: roleLabel(r) }))}
        onChange={(role) =>
          setRole.mutate(
            { userId: m.user_id, role },
            {
              onSuccess: () => void message.success(t('agencyHome.team.roleChanged', { name, role: roleLabel(role) })),
              onError: (e) => void message.error(errorMessage(e)),
            },
          )
        }
        aria-label={t('agencyHome.team.roleOf', { name })}
        data-testid={`agency-member-role-${m.email}`}
      />
      <Tooltip title={t('agencyHome.team.remove')}>
        <Button
          type="text"
          danger
          size="small"
          icon={<DeleteOutlined />}
          aria-label={t('agencyHome.team.removeOf', { name })}
          data-testid={`agency-member-remove-${m.email}`}
          onClick={() =>
            confirm({
              title: t('agencyHome.team.removeTitle', { name }),
              content: t('agencyHome.team.removeText', { agency: agencyName }),
              okText: t('agencyHome.team.remove'),
              run: () => remove.mutateAsync(m.user_id),
              done: t('agencyHome.team.removed', { name }),
            })
          }
        />
      </Tooltip>
    </Space>
  );
}

function Invitations({ agencyId, admin }: { agencyId: number; admin: boolean }) {
  const { t, dateTime } = useI18n();
  const { message } = App.useApp();
  const errorMessage = useErrorMessage();
  const confirm = useConfirm();
  const invitations = useAgencyInvitations(agencyId);
  const revoke = useRevokeAgencyInvitation(agencyId);
  const resend = useResendAgencyInvitation(agencyId);
  return (
    <QueryState
      query={invitations}
      loading={<Typography.Text type="secondary">{t('common.loading')}</Typography.Text>}
      isEmpty={(l) => l.length === 0}
      empty={<Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('agencyHome.team.noPending')} className="agency-empty-small" />}
    >
      {(list) => (
        <List<Invitation>
          size="small"
          dataSource={list}
          data-testid="agency-invitations"
          renderItem={(inv) => (
            <List.Item
              data-testid={`agency-invitation-${inv.email}`}
              actions={
                admin
                  ? [
                      <Space key="actions" size={0}>
                        <Tooltip title={t('agencyHome.team.resend')}>
                          <Button
                            type="text"
                            icon={<RedoOutlined />}
                            aria-label={t('agencyHome.team.resend')}
                            loading={resend.isPending && resend.variables?.id === inv.id}
                            onClick={() =>
                              resend.mutate(inv, {
                                onSuccess: () => void message.success(t('agencyHome.team.resent', { email: inv.email })),
                                onError: (e) => void message.error(errorMessage(e)),
                              })
                            }
                          />
                        </Tooltip>
                        <Tooltip title={t('agencyHome.team.revoke')}>
                          <Button
                            type="text"
                            danger
                            icon={<StopOutlined />}
                            aria-label={t('agencyHome.team.revoke')}
                            data-testid={`agency-invitation-revoke-${inv.email}`}
                            onClick={() =>
                              confirm({
                                title: t('agencyHome.team.revokeTitle', { email: inv.email }),
                                content: t('agencyHome.team.revokeText'),
                                okText: t('agencyHome.team.revoke'),
                                run: () => revoke.mutateAsync(inv.id),
                                done: t('agencyHome.team.revoked', { email: inv.email }),
                              })
                            }
                          />
                        </Tooltip>
                      </Space>,
                    ]
                  : []
              }
            >
              <List.Item.Meta
                avatar={<MailOutlined className="agency-invite-icon" />}
                title={inv.email}
                description={
                  <span>
                    <RoleTag role={inv.role} /> {t('agencyHome.team.expires', { when: dateTime(inv.expires_at) })}
                  </span>
                }
              />
            </List.Item>
          )}
        />
      )}
    </QueryState>
  );
}

function InviteForm({ agencyId }: { agencyId: number }) {
  const { t } = useI18n();
  const { message } = App.useApp();
  const errorMessage = useErrorMessage();
  const roleLabel = useRoleLabel();
  const invite = useInviteToAgency(agencyId);
  const [form] = Form.useForm<{ email: string; role: AgencyRoleName }>();
  const submit = (v: { email: string; role: AgencyRoleName }) =>
    invite.mutate(
      { email: v.email.trim(), role: v.role },
      {
        onSuccess: (inv) => {
          void message.success(t('agencyHome.team.sent', { email: inv.email }));
          form.resetFields();
        },
        onError: (e) => {
          if (!showFieldError(form, e)) form.setFields([{ name: 'email', errors: [errorMessage(e)] }]);
        },
      },
    );
  return (
    <>
      <Typography.Paragraph type="secondary" className="agency-invite-text">
        {t('agencyHome.team.inviteText')}
      </Typography.Paragraph>
      <Form form={form} layout="vertical" requiredMark={false} onFinish={submit} initialValues={{ role: 'agency_staff' }} name="agency-invite" disabled={invite.isPending}>
        <Form.Item
          name="email"
          label={t('agencyHome.team.email')}
          rules={[
            { required: true, message: t('agencyHome.team.emailRequired') },
            { type: 'email', message: t('agencyHome.team.emailInvalid') },
          ]}
        >
          <Input prefix={<MailOutlined />} placeholder="li.wei@example.com" autoComplete="off" inputMode="email" data-testid="agency-invite-email" />
        </Form.Item>
        <Form.Item name="role" label={t('agencyHome.team.role')}>
          <Select<AgencyRoleName> options={AGENCY_ROLES.map((r) => ({ value: r, label: roleLabel(r) }))} data-testid="agency-invite-role" />
        </Form.Item>
        <Button htmlType="submit" icon={<UserAddOutlined />} loading={invite.isPending} block data-testid="agency-invite-submit">
          {t('agencyHome.team.send')}
        </Button>
      </Form>
    </>
  );
}
