import {
  AccountBookOutlined,
  AppstoreOutlined,
  AuditOutlined,
  CarOutlined,
  HomeOutlined,
  SafetyCertificateOutlined,
  SettingOutlined,
  ShoppingCartOutlined,
  TeamOutlined,
  UserOutlined,
} from '@ant-design/icons';
import type { ReactNode } from 'react';
import type { Permission } from '../api/types';

export type SectionKey =
  | 'home'
  | 'catalog'
  | 'orders'
  | 'customers'
  | 'customs'
  | 'logistics'
  | 'reconciliation'
  | 'team'
  | 'audit'
  | 'settings';

export interface Section {
  key: SectionKey;
  /** Path under /s/{slug}/ ("" for home). */
  path: string;
  /** Needed to see the section; null: everyone with access to the shop. */
  perm: Permission | null;
  icon: ReactNode;
}

/** The sider, in order. Sections the user may not read are hidden. */
export const sections: Section[] = [
  { key: 'home', path: '', perm: null, icon: <HomeOutlined /> },
  { key: 'catalog', path: 'catalog', perm: 'catalog:read', icon: <AppstoreOutlined /> },
  { key: 'orders', path: 'orders', perm: 'orders:read', icon: <ShoppingCartOutlined /> },
  { key: 'customers', path: 'customers', perm: 'customers:read', icon: <UserOutlined /> },
  { key: 'customs', path: 'customs', perm: 'orders:read', icon: <SafetyCertificateOutlined /> },
  { key: 'logistics', path: 'logistics', perm: 'orders:read', icon: <CarOutlined /> },
  { key: 'reconciliation', path: 'reconciliation', perm: 'finance:read', icon: <AccountBookOutlined /> },
  { key: 'team', path: 'team', perm: 'team:read', icon: <TeamOutlined /> },
  { key: 'audit', path: 'audit', perm: 'audit:read', icon: <AuditOutlined /> },
  { key: 'settings', path: 'settings', perm: 'shop:read', icon: <SettingOutlined /> },
];

export function sectionByPath(path: string): Section | undefined {
  return sections.find((s) => s.path === path);
}

export function shopPath(slug: string, section = ''): string {
  return `/s/${encodeURIComponent(slug)}` + (section ? `/${section}` : '');
}
