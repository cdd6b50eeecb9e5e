import {
  AppstoreOutlined,
  ArrowRightOutlined,
  BankOutlined,
  CarOutlined,
  ShoppingCartOutlined,
  SafetyCertificateOutlined,
  TeamOutlined,
  WalletOutlined,
  WechatOutlined,
  AccountBookOutlined,
} from '@ant-design/icons';
import { Card, Col, Descriptions, Progress, Row, Statistic, Tag, Typography } from 'antd';
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { useTenant } from '../api/tenants';
import type { Permission } from '../api/types';
import { useSignedIn } from '../auth/SessionContext';
import { useShop } from '../auth/ShopContext';
import { PageHeader } from '../components/PageHeader';
import { QueryState } from '../components/States';
import { ModeTag, StatusBadge, useRoleLabel } from '../components/Tags';
import { useDocumentTitle } from '../components/useDocumentTitle';
import type { MessageKey } from '../i18n/en';
import { useI18n } from '../i18n/I18nProvider';
import { shopPath } from '../layout/sections';

interface ChecklistItem {
  key: string;
  title: MessageKey;
  text: MessageKey;
  icon: ReactNode;
  section: 'settings' | 'catalog';
  perm: Permission;
  done: boolean;
}

// Everything is "to do" until the endpoints that know the answers exist.
const checklist: ChecklistItem[] = [
  { key: 'company', title: 'home.checklist.company', text: 'home.checklist.companyText', icon: <BankOutlined />, section: 'settings', perm: 'shop:write', done: false },
  { key: 'mini-program', title: 'home.checklist.miniProgram', text: 'home.checklist.miniProgramText', icon: <WechatOutlined />, section: 'settings', perm: 'credentials:write', done: false },
  { key: 'wechat-pay', title: 'home.checklist.wechatPay', text: 'home.checklist.wechatPayText', icon: <WalletOutlined />, section: 'settings', perm: 'credentials:write', done: false },
  { key: 'customs', title: 'home.checklist.customs', text: 'home.checklist.customsText', icon: <SafetyCertificateOutlined />, section: 'settings', perm: 'shop:write', done: false },
  { key: 'warehouse', title: 'home.checklist.warehouse', text: 'home.checklist.warehouseText', icon: <CarOutlined />, section: 'settings', perm: 'shop:write', done: false },
  { key: 'product', title: 'home.checklist.product', text: 'home.checklist.productText', icon: <AppstoreOutlined />, section: 'catalog', perm: 'catalog:write', done: false },
];

export function HomePage() {
  const { t } = useI18n();
  const { session } = useSignedIn();
  const { shop } = useShop();
  useDocumentTitle(t('nav.home'), shop.name);
  const firstName = session.user.name || session.user.email;

  return (
    <>
      <PageHeader
        title={shop.name}
        tags={
          <span className="page-header-tags">
            <ModeTag mode={shop.mode} />
            <StatusBadge status={shop.status} />
          </span>
        }
        subtitle={`${t('home.greeting', { name: firstName })} · ${t('home.subtitle', { shop: shop.name })}`}
      />
      <Counters />
      <Row gutter={[16, 16]}>
        <Col xs={24} xl={16}>
          <Checklist />
        </Col>
        <Col xs={24} xl={8}>
          <ShopDetails />
        </Col>
      </Row>
    </>
  );
}

function Counters() {
  const { t } = useI18n();
  const counters: { title: MessageKey; icon: ReactNode; tone: string }[] = [
    { title: 'home.counters.ordersToday', icon: <ShoppingCartOutlined />, tone: 'indigo' },
    { title: 'home.counters.revenueToday', icon: <AccountBookOutlined />, tone: 'green' },
    { title: 'home.counters.products', icon: <AppstoreOutlined />, tone: 'amber' },
    { title: 'home.counters.customers', icon: <TeamOutlined />, tone: 'sky' },
  ];
  return (
    <div className="counters">
      <Row gutter={[16, 16]}>
        {counters.map((c) => (
          <Col key={c.title} xs={12} lg={6}>
            <Card className="counter-card">
              <div className="counter">
                <Statistic title={t(c.title)} value={t('common.notAvailable')} />
                <span className={`counter-icon tone-${c.tone}`}>{c.icon}</span>
              </div>
            </Card>
          </Col>
        ))}
      </Row>
      <Typography.Text type="secondary" className="counters-hint">
        {t('home.counters.soon')}
      </Typography.Text>
    </div>
  );
}

function Checklist() {
  const { t } = useI18n();
  const { shop, can } = useShop();
  const done = checklist.filter((i) => i.done).length;
  return (
    <Card
      title={t('home.checklist.title')}
      extra={
        <span className="checklist-progress">
          <Typography.Text type="secondary">{t('home.checklist.progress', { done, total: checklist.length })}</Typography.Text>
          <Progress percent={Math.round((done / checklist.length) * 100)} steps={checklist.length} size="small" showInfo={false} />
        </span>
      }
      className="checklist-card"
      data-testid="onboarding-checklist"
    >
      <ol className="checklist">
        {checklist.map((item) => (
          <li key={item.key} className="checklist-item">
            <span className="checklist-icon">{item.icon}</span>
            <div className="checklist-text">
              <Typography.Text strong>{t(item.title)}</Typography.Text>
              <Typography.Text type="secondary">{t(item.text)}</Typography.Text>
            </div>
            <div className="checklist-action">
              {item.done ? (
                <Tag color="success" bordered={false}>
                  {t('common.done')}
                </Tag>
              ) : (
                <Tag bordered={false}>{t('common.toDo')}</Tag>
              )}
              {can(item.perm) ? (
                <Link to={shopPath(shop.slug, item.section)} className="checklist-link">
                  {t('home.checklist.setUp')} <ArrowRightOutlined />
                </Link>
              ) : (
                <Typography.Text type="secondary" className="checklist-ask">
                  {t('home.checklist.askAdmin')}
                </Typography.Text>
              )}
            </div>
          </li>
        ))}
      </ol>
    </Card>
  );
}

function ShopDetails() {
  const { t, dateTime } = useI18n();
  const { shop } = useShop();
  const roleLabel = useRoleLabel();
  const tenant = useTenant(shop.slug);
  return (
    <Card title={t('home.details.title')} className="details-card" data-testid="shop-details">
      <QueryState query={tenant}>
        {(tn) => (
          <Descriptions column={1} size="small" colon={false} className="details">
            <Descriptions.Item label={t('home.details.slug')}>
              <Typography.Text copyable className="mono">
                {tn.slug}
              </Typography.Text>
            </Descriptions.Item>
            <Descriptions.Item label={t('home.details.status')}>
              <StatusBadge status={tn.status} />
            </Descriptions.Item>
            <Descriptions.Item label={t('home.details.mode')}>
              <ModeTag mode={shop.mode} />
            </Descriptions.Item>
            <Descriptions.Item label={t('home.details.role')}>{roleLabel(shop.role)}</Descriptions.Item>
            <Descriptions.Item label={t('home.details.created')}>{dateTime(tn.created_at)}</Descriptions.Item>
            <Descriptions.Item label={t('home.details.provisioned')}>
              {tn.provisioned_at ? dateTime(tn.provisioned_at) : t('home.details.notProvisioned')}
            </Descriptions.Item>
          </Descriptions>
        )}
      </QueryState>
    </Card>
  );
}
