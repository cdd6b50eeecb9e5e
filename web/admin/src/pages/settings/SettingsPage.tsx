import { BankOutlined, CarOutlined, SafetyCertificateOutlined, SettingOutlined, ShopOutlined, WalletOutlined, WechatOutlined } from '@ant-design/icons';
import { App, Button, Card, Tabs } from 'antd';
import type { ReactNode } from 'react';
import { useSearchParams } from 'react-router';
import { useCredentials } from '../../api/credentials';
import { useProfile } from '../../api/profile';
import type { CredentialsOverview } from '../../api/types';
import { useShop } from '../../auth/ShopContext';
import { PageHeader } from '../../components/PageHeader';
import { Forbidden, QueryState } from '../../components/States';
import { useDocumentTitle } from '../../components/useDocumentTitle';
import { useI18n } from '../../i18n/I18nProvider';
import { CompanyForm, CustomsForm, MiniProgramForm, ShopProfileForm, WarehouseForm, WeChatPayForm, type Footer } from './forms';

export const SETTINGS_TABS = ['company', 'shop', 'mini-program', 'wechat-pay', 'customs', 'warehouses'] as const;
export type SettingsTab = (typeof SETTINGS_TABS)[number];

/** Company details, shop profile, credentials and warehouses, one tab each. */
export function SettingsPage() {
  const { t } = useI18n();
  const { shop, can } = useShop();
  const { message } = App.useApp();
  const [params, setParams] = useSearchParams();
  const tab = (SETTINGS_TABS as readonly string[]).includes(params.get('tab') ?? '') ? (params.get('tab') as SettingsTab) : 'company';
  const profile = useProfile(shop.slug);
  const creds = useCredentials(shop.slug, { poll: true });
  useDocumentTitle(t('nav.settings'), shop.name);

  const footer: Footer = (submitting) => (
    <div className="form-footer">
      <Button type="primary" htmlType="submit" loading={submitting}>
        {t('common.save')}
      </Button>
    </div>
  );
  const saved = () => void message.success(t('common.saved'));
  const credTab = (render: (o: CredentialsOverview) => ReactNode) =>
    can('credentials:read') ? <QueryState query={creds}>{render}</QueryState> : <Forbidden />;

  const items = [
    { key: 'company', icon: <BankOutlined />, label: t('wizard.company'), children: <QueryState query={profile}>{(p) => <CompanyForm key={p.updated_at} profile={p} footer={footer} onSaved={saved} />}</QueryState> },
    { key: 'shop', icon: <ShopOutlined />, label: t('wizard.shop'), children: <QueryState query={profile}>{(p) => <ShopProfileForm key={p.updated_at} profile={p} footer={footer} onSaved={saved} />}</QueryState> },
    { key: 'mini-program', icon: <WechatOutlined />, label: t('wizard.miniProgram'), children: credTab((o) => <MiniProgramForm overview={o} footer={footer} onSaved={saved} />) },
    { key: 'wechat-pay', icon: <WalletOutlined />, label: t('wizard.wechatPay'), children: credTab((o) => <WeChatPayForm overview={o} footer={footer} onSaved={saved} />) },
    { key: 'customs', icon: <SafetyCertificateOutlined />, label: t('wizard.customs'), children: credTab((o) => <CustomsForm overview={o} footer={footer} onSaved={saved} />) },
    { key: 'warehouses', icon: <CarOutlined />, label: t('settings.warehouses'), children: <WarehouseForm footer={footer} onSaved={saved} /> },
  ];

  return (
    <>
      <PageHeader title={t('nav.settings')} subtitle={t('section.settings')} icon={<SettingOutlined />} />
      <Card className="settings-card">
        <Tabs
          activeKey={tab}
          onChange={(k) => setParams({ tab: k }, { replace: true })}
          items={items}
          destroyOnHidden
        />
      </Card>
    </>
  );
}
