import {
  AppstoreOutlined,
  ArrowRightOutlined,
  BankOutlined,
  CarOutlined,
  ShoppingCartOutlined,
  SafetyCertificateOutlined,
  ExperimentOutlined,
  WalletOutlined,
  WechatOutlined,
  AccountBookOutlined,
  CheckCircleFilled,
  RocketOutlined,
} from '@ant-design/icons';
import { Alert, Card, Col, Descriptions, Progress, Row, Skeleton, Statistic, Tag, Typography } from 'antd';
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { useProfile } from '../api/profile';
import { useTenant } from '../api/tenants';
import { useHomeFigures } from '../api/team';
import { LinkButton } from '../components/LinkButton';
import type { Onboarding, Permission } from '../api/types';
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
  key: keyof Onboarding;
  title: MessageKey;
  text: MessageKey;
  icon: ReactNode;
  to: string;
  perm: Permission;
}

// What "done" means comes from GET /tenants/{slug}/profile (onboarding).
const checklist: ChecklistItem[] = [
  { key: 'company', title: 'home.checklist.company', text: 'home.checklist.companyText', icon: <BankOutlined />, to: 'settings?tab=company', perm: 'shop:write' },
  { key: 'mini_program', title: 'home.checklist.miniProgram', text: 'home.checklist.miniProgramText', icon: <WechatOutlined />, to: 'settings?tab=mini-program', perm: 'credentials:write' },
  { key: 'wechat_pay', title: 'home.checklist.wechatPay', text: 'home.checklist.wechatPayText', icon: <WalletOutlined />, to: 'settings?tab=wechat-pay', perm: 'credentials:write' },
  { key: 'customs', title: 'home.checklist.customs', text: 'home.checklist.customsText', icon: <SafetyCertificateOutlined />, to: 'settings?tab=customs', perm: 'credentials:write' },
  { key: 'warehouse', title: 'home.checklist.warehouse', text: 'home.checklist.warehouseText', icon: <CarOutlined />, to: 'settings?tab=warehouses', perm: 'catalog:write' },
  { key: 'product', title: 'home.checklist.product', text: 'home.checklist.productText', icon: <AppstoreOutlined />, to: 'catalog/new', perm: 'catalog:write' },
  { key: 'published', title: 'home.checklist.published', text: 'home.checklist.publishedText', icon: <RocketOutlined />, to: 'catalog', perm: 'catalog:write' },
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
  const { t, money, number } = useI18n();
  const { shop } = useShop();
  const figures = useHomeFigures(shop.slug);
  const f = figures.data;
  const na = t('common.notAvailable');
  // null: the role may not read that figure; undefined: not loaded yet.
  const show = (v: number | null | undefined, fmt: (n: number) => string = number) => (v == null ? na : fmt(v));
  const counters: { key: string; title: string; value: string; hint?: string; icon: ReactNode; tone: string }[] = [
    {
      key: 'products',
      title: t('home.counters.published'),
      value: show(f?.products_published),
      hint: f ? t('home.counters.drafts', { count: f.products_draft }) : undefined,
      icon: <AppstoreOutlined />,
      tone: 'amber',
    },
    {
      key: 'orders',
      title: t('home.counters.ordersToday'),
      value: show(f?.orders_today),
      hint: f && f.orders_today === null ? t('home.counters.noAccess') : t('home.counters.chinaTime'),
      icon: <ShoppingCartOutlined />,
      tone: 'indigo',
    },
    {
      key: 'paid',
      title: t('home.counters.paidToday'),
      value: show(f?.paid_today, (n) => money(n)),
      hint: f && f.paid_today === null ? t('home.counters.noAccess') : t('home.counters.chinaTime'),
      icon: <AccountBookOutlined />,
      tone: 'green',
    },
    {
      key: 'mode',
      title: t('home.counters.mode'),
      value: (f?.mode ?? shop.mode) === 'live' ? t('mode.live') : t('mode.test'),
      hint: (f?.mode ?? shop.mode) === 'live' ? t('home.counters.liveHint') : t('home.counters.testHint'),
      icon: <ExperimentOutlined />,
      tone: 'sky',
    },
  ];
  return (
    <div className="counters" data-testid="home-counters">
      <Row gutter={[16, 16]}>
        {counters.map((c) => (
          <Col key={c.key} xs={12} lg={6}>
            <Card className="counter-card" data-testid={`counter-${c.key}`}>
              <div className="counter">
                <Statistic title={c.title} value={c.value} loading={figures.isPending} />
                <span className={`counter-icon tone-${c.tone}`}>{c.icon}</span>
              </div>
              {c.hint && (
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {c.hint}
                </Typography.Text>
              )}
            </Card>
          </Col>
        ))}
      </Row>
      {figures.isError && (
        <Typography.Text type="secondary" className="counters-hint">
          {t('home.counters.failed')}
        </Typography.Text>
      )}
    </div>
  );
}

function Checklist() {
  const { t } = useI18n();
  const { shop, can } = useShop();
  const profile = useProfile(shop.slug);
  return (
    <QueryState query={profile} loading={<Card title={t('home.checklist.title')}><Skeleton active /></Card>}>
      {(p) => {
        const done = checklist.filter((i) => p.onboarding[i.key]).length;
        return (
          <>
            {p.onboarding_completed_at === null && can('shop:write') && (
              <Alert
                type="info"
                showIcon
                icon={<RocketOutlined />}
                className="wizard-banner"
                data-testid="continue-setup"
                message={t('home.setup.title')}
                description={t('home.setup.text')}
                action={
                  <LinkButton type="primary" to={shopPath(shop.slug, 'onboarding')}>
                    {t('home.setup.button')}
                  </LinkButton>
                }
              />
            )}
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
                {checklist.map((item) => {
                  const ok = p.onboarding[item.key];
                  return (
                    <li key={item.key} className={`checklist-item${ok ? ' checklist-item-done' : ''}`} data-testid={`checklist-${item.key}`} data-done={ok ? 'true' : 'false'}>
                      <span className="checklist-icon">{ok ? <CheckCircleFilled /> : item.icon}</span>
                      <div className="checklist-text">
                        <Typography.Text strong>{t(item.title)}</Typography.Text>
                        <Typography.Text type="secondary">{t(item.text)}</Typography.Text>
                      </div>
                      <div className="checklist-action">
                        {ok ? (
                          <Tag color="success" bordered={false}>
                            {t('common.done')}
                          </Tag>
                        ) : (
                          <Tag bordered={false}>{t('common.toDo')}</Tag>
                        )}
                        {ok ? null : can(item.perm) ? (
                          <Link to={shopPath(shop.slug, item.to)} className="checklist-link">
                            {t('home.checklist.setUp')} <ArrowRightOutlined />
                          </Link>
                        ) : (
                          <Typography.Text type="secondary" className="checklist-ask">
                            {t('home.checklist.askAdmin')}
                          </Typography.Text>
                        )}
                      </div>
                    </li>
                  );
                })}
              </ol>
            </Card>
          </>
        );
      }}
    </QueryState>
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
