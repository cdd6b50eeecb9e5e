import { ArrowRightOutlined, ShopOutlined } from '@ant-design/icons';
import { Button, Card, Col, Empty, Row, Skeleton, Tag, Tooltip, Typography } from 'antd';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { imageURL } from '../../api/catalog';
import { useAgencyClients, type ClientShop } from '../../api/team';
import { useSignedIn } from '../../auth/SessionContext';
import { ShopAvatar } from '../../components/ShopAvatar';
import { QueryState } from '../../components/States';
import { ModeTag, StatusBadge, useRoleLabel } from '../../components/Tags';
import { useI18n } from '../../i18n/I18nProvider';
import { shopPath } from '../../layout/sections';

/** The shops the agency is approved for, as cards with their figures. */
export function ClientShops({ agencyId, admin }: { agencyId: number; admin: boolean }) {
  const { t } = useI18n();
  const clients = useAgencyClients(agencyId);
  return (
    <Card
      title={t('agencyHome.clients.title')}
      extra={clients.data && clients.data.length > 0 ? <Typography.Text type="secondary">{clients.data.length === 1 ? t('agencyHome.clients.countOne') : t('agencyHome.clients.count', { count: clients.data.length })}</Typography.Text> : null}
      data-testid="agency-clients"
    >
      <QueryState
        query={clients}
        loading={<Skeleton active avatar paragraph={{ rows: 3 }} />}
        isEmpty={(l) => l.length === 0}
        empty={
          <Empty image={<ShopOutlined className="agency-empty-icon" />} description={<Typography.Text strong>{t('agencyHome.clients.empty')}</Typography.Text>} data-testid="agency-clients-empty">
            <Typography.Paragraph type="secondary" className="agency-empty-text">
              {admin ? t('agencyHome.clients.emptyText') : t('agencyHome.clients.emptyStaff')}
            </Typography.Paragraph>
            {admin && (
              <Button type="primary" onClick={() => document.querySelector<HTMLInputElement>('[data-testid="request-shop"]')?.focus()}>
                {t('agency.request.title')}
              </Button>
            )}
          </Empty>
        }
      >
        {(list) => (
          <Row gutter={[16, 16]}>
            {list.map((c) => (
              <Col key={c.slug} xs={24} md={12}>
                <ClientCard shop={c} />
              </Col>
            ))}
          </Row>
        )}
      </QueryState>
    </Card>
  );
}

function ClientLogo({ shop }: { shop: ClientShop }) {
  const { shops } = useSignedIn();
  const [failed, setFailed] = useState(false);
  // An uploaded logo is read through the catalog's images: only for roles that read the catalog.
  const canRead = shops.find((s) => s.slug === shop.slug)?.permissions.has('catalog:read') ?? false;
  const src = shop.logo_image && canRead ? imageURL(shop.slug, shop.logo_image) : shop.logo_url;
  if (!src || failed) return <ShopAvatar slug={shop.slug} name={shop.name} size={48} />;
  return <img src={src} alt="" className="agency-client-logo" onError={() => setFailed(true)} />;
}

function ClientCard({ shop }: { shop: ClientShop }) {
  const { t, number } = useI18n();
  const roleLabel = useRoleLabel();
  const navigate = useNavigate();
  const { shops } = useSignedIn();
  // The session lists the shop once the switcher knows it (right after approval it may lag a moment).
  const openable = shops.some((s) => s.slug === shop.slug);
  const open = () => void navigate(shopPath(shop.slug));
  return (
    <Card size="small" className="agency-client" data-testid={`client-${shop.slug}`}>
      <div className="agency-client-head">
        <ClientLogo shop={shop} />
        <div className="agency-client-title">
          <Typography.Text strong ellipsis className="agency-client-name">
            {shop.name}
          </Typography.Text>
          <Typography.Text type="secondary" className="mono" ellipsis>
            {shop.storefront_host}
          </Typography.Text>
        </div>
      </div>
      <div className="agency-client-tags">
        <ModeTag mode={shop.mode} />
        <StatusBadge status={shop.status} />
        <Tag bordered={false} color="blue">
          {t('agencyHome.clients.role', { role: roleLabel(shop.role) })}
        </Tag>
      </div>
      <div className="agency-client-figures">
        <div>
          <div className="agency-figure" data-testid={`client-products-${shop.slug}`}>
            {number(shop.products_published)}
          </div>
          <Typography.Text type="secondary">{t('agencyHome.clients.products')}</Typography.Text>
        </div>
        <div>
          {shop.orders_today === null ? (
            <Tooltip title={t('agencyHome.clients.notInRole')}>
              <div className="agency-figure agency-figure-muted">{t('common.notAvailable')}</div>
            </Tooltip>
          ) : (
            <div className="agency-figure">{number(shop.orders_today)}</div>
          )}
          <Typography.Text type="secondary">{t('agencyHome.clients.ordersToday')}</Typography.Text>
        </div>
      </div>
      <Button type="primary" ghost block onClick={open} disabled={!openable} data-testid={`agency-open-${shop.slug}`}>
        {t('agencyHome.clients.open')} <ArrowRightOutlined />
      </Button>
    </Card>
  );
}
