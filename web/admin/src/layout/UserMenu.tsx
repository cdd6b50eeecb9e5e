import { LockOutlined, LogoutOutlined, SafetyOutlined, SolutionOutlined } from '@ant-design/icons';
import { Avatar, Button, Dropdown, Grid, Typography } from 'antd';
import { useNavigate } from 'react-router';
import { useSignOut } from '../api/session';
import { useSignedIn } from '../auth/SessionContext';
import { initials } from '../components/ShopAvatar';
import { useI18n } from '../i18n/I18nProvider';

export function UserMenu() {
  const { t } = useI18n();
  const { session } = useSignedIn();
  const signOut = useSignOut();
  const navigate = useNavigate();
  const screens = Grid.useBreakpoint();
  const { user } = session;
  const name = user.name || user.email;
  return (
    <Dropdown
      trigger={['click']}
      placement="bottomRight"
      menu={{
        items: [
          {
            key: 'who',
            type: 'group',
            label: (
              <div className="user-menu-who">
                <Typography.Text type="secondary">{t('user.signedInAs')}</Typography.Text>
                <Typography.Text strong ellipsis>
                  {user.email}
                </Typography.Text>
                {user.operator && (
                  <Typography.Text type="secondary">
                    <SafetyOutlined /> {t('user.operator')}
                  </Typography.Text>
                )}
              </div>
            ),
          },
          { type: 'divider' },
          {
            key: 'account',
            icon: <LockOutlined />,
            label: <span data-testid="menu-account">{t('account.menu')}</span>,
            onClick: () => void navigate('/account'),
          },
          ...session.agencies.map((a) => ({
            key: `agency-${a.id}`,
            icon: <SolutionOutlined />,
            label: <span data-testid={`menu-agency-${a.id}`}>{t('agency.menu', { agency: a.name })}</span>,
            onClick: () => void navigate(`/agencies/${a.id}`),
          })),
          { type: 'divider' as const },
          {
            key: 'sign-out',
            icon: <LogoutOutlined />,
            label: t('user.signOut'),
            disabled: signOut.isPending,
            onClick: () => signOut.mutate(),
          },
        ],
      }}
    >
      <Button type="text" className="user-button" aria-label={t('user.menu')} data-testid="user-menu">
        <Avatar size={28} style={{ background: '#e0e7ff', color: '#3730a3', fontSize: 12, fontWeight: 600 }}>
          {initials(name)}
        </Avatar>
        {screens.md && <span className="user-name">{name}</span>}
      </Button>
    </Dropdown>
  );
}
