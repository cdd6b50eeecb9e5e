import { ApiOutlined, MailOutlined, SolutionOutlined, TeamOutlined, UserOutlined } from '@ant-design/icons';
import { Badge, Card, Tabs } from 'antd';
import { useSearchParams } from 'react-router';
import { useAgencyAccess, useInvitations } from '../../api/team';
import { useShop } from '../../auth/ShopContext';
import { PageHeader } from '../../components/PageHeader';
import { useDocumentTitle } from '../../components/useDocumentTitle';
import { useI18n } from '../../i18n/I18nProvider';
import { AgencyAccessTab } from './AgencyAccessTab';
import { InvitationsTab } from './InvitationsTab';
import { MembersTab } from './MembersTab';
import { TokensTab } from './TokensTab';

export const TEAM_TABS = ['members', 'invitations', 'tokens', 'agencies'] as const;
type TeamTab = (typeof TEAM_TABS)[number];

/** Members and roles, invitations, API tokens and agencies, one tab each. */
export function TeamPage() {
  const { t } = useI18n();
  const { shop } = useShop();
  const [params, setParams] = useSearchParams();
  const tab: TeamTab = (TEAM_TABS as readonly string[]).includes(params.get('tab') ?? '') ? (params.get('tab') as TeamTab) : 'members';
  useDocumentTitle(t('nav.team'), shop.name);
  // Counts on the tabs: what waits for someone's answer.
  const invitations = useInvitations(shop.slug);
  const access = useAgencyAccess(shop.slug);
  const pendingInvites = invitations.data?.length ?? 0;
  const pendingAgencies = access.data?.filter((a) => a.status === 'pending').length ?? 0;

  const label = (text: string, count = 0) => (
    <span>
      {text}
      {count > 0 && <Badge count={count} size="small" color="#4f46e5" style={{ marginInlineStart: 6 }} />}
    </span>
  );

  const items = [
    { key: 'members', icon: <UserOutlined />, label: label(t('team.tab.members')), children: <MembersTab /> },
    { key: 'invitations', icon: <MailOutlined />, label: label(t('team.tab.invitations'), pendingInvites), children: <InvitationsTab /> },
    { key: 'tokens', icon: <ApiOutlined />, label: label(t('team.tab.tokens')), children: <TokensTab /> },
    { key: 'agencies', icon: <SolutionOutlined />, label: label(t('team.tab.agencies'), pendingAgencies), children: <AgencyAccessTab /> },
  ];

  return (
    <>
      <PageHeader title={t('nav.team')} subtitle={t('section.team')} icon={<TeamOutlined />} />
      <Card className="settings-card" data-testid="team-page">
        <Tabs activeKey={tab} onChange={(k) => setParams({ tab: k }, { replace: true })} items={items} destroyOnHidden />
      </Card>
    </>
  );
}
