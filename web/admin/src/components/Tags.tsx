import { Badge, Tag } from 'antd';
import type { TenantMode, TenantStatus } from '../api/types';
import { useI18n } from '../i18n/I18nProvider';

export function ModeTag({ mode }: { mode: TenantMode }) {
  const { t } = useI18n();
  return mode === 'live' ? (
    <Tag color="green" bordered={false}>
      {t('mode.live')}
    </Tag>
  ) : (
    <Tag color="orange" bordered={false}>
      {t('mode.test')}
    </Tag>
  );
}

export function StatusBadge({ status }: { status: TenantStatus }) {
  const { t, tMaybe } = useI18n();
  if (status === 'active') return <Badge status="success" text={t('status.active')} />;
  return <Badge status="error" text={tMaybe(`status.${status}`, status)} />;
}

export function useRoleLabel(): (role: string) => string {
  const { tMaybe } = useI18n();
  return (role) => tMaybe(`role.${role}`, role.replace(/_/g, ' '));
}

export function RoleTag({ role }: { role: string }) {
  const label = useRoleLabel();
  return <Tag bordered={false}>{label(role)}</Tag>;
}
