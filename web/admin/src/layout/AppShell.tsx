import { ExperimentOutlined, MenuFoldOutlined, MenuOutlined, MenuUnfoldOutlined, StopOutlined } from '@ant-design/icons';
import { Alert, Button, Drawer, Grid, Layout, Menu, Tooltip } from 'antd';
import { useEffect, useState } from 'react';
import { Link, Outlet, useLocation } from 'react-router';
import { useShop } from '../auth/ShopContext';
import { LanguageSwitch } from '../components/LanguageSwitch';
import { Logo } from '../components/Logo';
import { useI18n } from '../i18n/I18nProvider';
import { sections, shopPath } from './sections';
import { ShopSwitcher } from './ShopSwitcher';
import { UserMenu } from './UserMenu';

const COLLAPSED_KEY = 'minishop.sider.collapsed';

function readCollapsed(): boolean {
  try {
    return window.localStorage.getItem(COLLAPSED_KEY) === '1';
  } catch {
    return false;
  }
}

/** The signed-in frame of a shop: sider, header with the shop switcher, banners, page. */
export function AppShell() {
  const { t } = useI18n();
  const { shop, can } = useShop();
  const location = useLocation();
  const screens = Grid.useBreakpoint();
  const mobile = screens.md === false; // undefined before the first measure
  const [collapsed, setCollapsed] = useState(readCollapsed);
  const [drawer, setDrawer] = useState(false);

  useEffect(() => {
    setDrawer(false);
  }, [location.pathname]);
  // A new page starts at its top.
  useEffect(() => {
    window.scrollTo(0, 0);
  }, [location.pathname]);

  const toggle = () => {
    const next = !collapsed;
    setCollapsed(next);
    try {
      window.localStorage.setItem(COLLAPSED_KEY, next ? '1' : '0');
    } catch {
      // not remembered
    }
  };

  const seg = location.pathname.split('/')[3] ?? '';
  const selected = sections.find((s) => s.path === seg)?.key ?? 'home';
  const items = sections
    .filter((s) => s.perm === null || can(s.perm))
    .map((s) => ({
      key: s.key,
      icon: s.icon,
      label: <Link to={shopPath(shop.slug, s.path)}>{t(`nav.${s.key}`)}</Link>,
    }));

  const menu = <Menu theme="dark" mode="inline" selectedKeys={[selected]} items={items} className="side-menu" />;

  return (
    <Layout className="app-shell">
      {!mobile && (
        <Layout.Sider
          width={232}
          collapsedWidth={72}
          collapsible
          collapsed={collapsed}
          trigger={null}
          className="app-sider"
        >
          <div className="sider-inner">
            <Link to="/" className="sider-logo" aria-label="Minishop">
              <Logo tone="light" collapsed={collapsed} />
            </Link>
            {menu}
          </div>
        </Layout.Sider>
      )}
      {mobile && (
        <Drawer
          placement="left"
          open={drawer}
          onClose={() => setDrawer(false)}
          width={260}
          closable={false}
          styles={{ body: { padding: 0, background: '#0f172a' } }}
        >
          <div className="sider-logo">
            <Logo tone="light" />
          </div>
          {menu}
        </Drawer>
      )}
      <Layout>
        <Layout.Header className="app-header">
          <div className="app-header-left">
            {mobile ? (
              <Button type="text" icon={<MenuOutlined />} onClick={() => setDrawer(true)} aria-label={t('nav.menu')} />
            ) : (
              <Tooltip title={collapsed ? t('nav.expand') : t('nav.collapse')} placement="bottom">
                <Button
                  type="text"
                  icon={collapsed ? <MenuUnfoldOutlined /> : <MenuFoldOutlined />}
                  onClick={toggle}
                  aria-label={collapsed ? t('nav.expand') : t('nav.collapse')}
                />
              </Tooltip>
            )}
            <ShopSwitcher current={shop} />
          </div>
          <div className="app-header-right">
            <LanguageSwitch compact={mobile} />
            <UserMenu />
          </div>
        </Layout.Header>
        {shop.mode === 'test' && (
          <Alert
            banner
            type="warning"
            icon={<ExperimentOutlined />}
            showIcon
            className="test-mode-banner"
            data-testid="test-mode-banner"
            message={t('testMode.banner')}
            action={
              can('credentials:write') ? (
                <Link to={shopPath(shop.slug, 'settings')} className="banner-link">
                  {t('testMode.goLive')}
                </Link>
              ) : undefined
            }
          />
        )}
        {shop.status === 'suspended' && (
          <Alert banner type="error" icon={<StopOutlined />} showIcon message={t('shop.suspendedBanner')} />
        )}
        <Layout.Content className="app-content">
          <div className="app-content-inner">
            <Outlet />
          </div>
        </Layout.Content>
      </Layout>
    </Layout>
  );
}
