import { Layout } from 'antd';
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { LanguageSwitch } from '../components/LanguageSwitch';
import { Logo } from '../components/Logo';
import { UserMenu } from './UserMenu';

/** The frame of signed-in pages outside a shop: choose a shop, no shop yet. */
export function BareLayout({ children }: { children: ReactNode }) {
  return (
    <Layout className="bare-layout">
      <Layout.Header className="app-header bare-header">
        <Link to="/" aria-label="Minishop">
          <Logo />
        </Link>
        <div className="app-header-right">
          <LanguageSwitch />
          <UserMenu />
        </div>
      </Layout.Header>
      <Layout.Content className="bare-content">{children}</Layout.Content>
    </Layout>
  );
}
