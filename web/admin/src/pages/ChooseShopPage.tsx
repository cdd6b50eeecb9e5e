import { SearchOutlined } from '@ant-design/icons';
import { Alert, Card, Col, Empty, Input, Row, Typography } from 'antd';
import { useMemo, useState } from 'react';
import { Navigate, useNavigate } from 'react-router';
import { useSignedIn } from '../auth/SessionContext';
import { groupShops, matchesShop, type ShopEntry } from '../auth/shops';
import { ShopAvatar } from '../components/ShopAvatar';
import { ModeTag, StatusBadge, useRoleLabel } from '../components/Tags';
import { useDocumentTitle } from '../components/useDocumentTitle';
import { useI18n } from '../i18n/I18nProvider';
import { BareLayout } from '../layout/BareLayout';
import { shopPath } from '../layout/sections';
import { SEARCH_THRESHOLD } from '../layout/ShopSwitcher';
import { StartChoices } from './agency/StartChoices';
import { AgencyLinks } from './team/AgencyPage';

export function ChooseShopPage() {
  const { t } = useI18n();
  const { shops } = useSignedIn();
  const [query, setQuery] = useState('');
  const groups = useMemo(() => groupShops(shops.filter((s) => matchesShop(s, query))), [shops, query]);
  useDocumentTitle(t('shop.chooseTitle'));
  if (shops.length === 0) return <NoShopPage />;
  return (
    <BareLayout>
      <div className="choose-shop">
        <Typography.Title level={2} style={{ marginBottom: 4 }}>
          {t('shop.chooseTitle')}
        </Typography.Title>
        <Typography.Paragraph type="secondary">{t('shop.chooseSubtitle', { count: shops.length })}</Typography.Paragraph>
        <div style={{ marginBottom: 16 }}>
          <AgencyLinks />
        </div>
        {shops.length > SEARCH_THRESHOLD && (
          <Input
            allowClear
            size="large"
            prefix={<SearchOutlined />}
            placeholder={t('shop.searchPlaceholder')}
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            aria-label={t('common.search')}
            className="choose-shop-search"
          />
        )}
        {groups.length === 0 && <Empty description={t('shop.noMatch', { query: query.trim() })} />}
        {groups.map((g) => (
          <section key={g.agency?.id ?? 'own'} className="choose-shop-group">
            <Typography.Title level={5} type="secondary" className="choose-shop-group-title">
              {g.agency ? t('shop.clientsOf', { agency: g.agency.name }) : t('shop.yourShops')}
            </Typography.Title>
            <Row gutter={[16, 16]}>
              {g.shops.map((s) => (
                <Col key={s.slug} xs={24} sm={12} lg={8} xxl={6}>
                  <ShopCard shop={s} />
                </Col>
              ))}
            </Row>
          </section>
        ))}
      </div>
    </BareLayout>
  );
}

function ShopCard({ shop }: { shop: ShopEntry }) {
  const navigate = useNavigate();
  const roleLabel = useRoleLabel();
  const { t } = useI18n();
  const open = () => void navigate(shopPath(shop.slug));
  return (
    <Card
      hoverable
      className="shop-card"
      onClick={open}
      role="link"
      tabIndex={0}
      onKeyDown={(e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          open();
        }
      }}
      data-testid={`shop-card-${shop.slug}`}
    >
      <div className="shop-card-head">
        <ShopAvatar slug={shop.slug} name={shop.name} size={44} />
        <div className="shop-card-title">
          <Typography.Text strong ellipsis className="shop-card-name">
            {shop.name}
          </Typography.Text>
          <Typography.Text type="secondary" className="mono">
            {shop.slug}
          </Typography.Text>
        </div>
      </div>
      <div className="shop-card-tags">
        <ModeTag mode={shop.mode} />
        <StatusBadge status={shop.status} />
      </div>
      <Typography.Text type="secondary" className="shop-card-role">
        {roleLabel(shop.role)}
        {shop.agency && ` · ${t('shop.viaAgency', { agency: shop.agency.name })}`}
      </Typography.Text>
    </Card>
  );
}

/**
 * A signed-in user who belongs to no shop yet: an agency's staff go to their
 * agency's home; anyone else may open a shop or set up an agency here.
 */
export function NoShopPage() {
  const { t } = useI18n();
  const { session } = useSignedIn();
  useDocumentTitle(t('shop.noneTitle'));
  const agency = session.agencies[0];
  if (agency) return <Navigate to={`/agencies/${agency.id}`} replace />;
  return (
    <BareLayout>
      {session.user.operator && (
        <Alert type="info" showIcon className="choose-shop" style={{ marginBottom: 8 }} message={t('shop.noneOperator')} />
      )}
      <StartChoices />
    </BareLayout>
  );
}
