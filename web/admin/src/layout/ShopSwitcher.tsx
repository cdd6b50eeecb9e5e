import { CheckOutlined, DownOutlined, SearchOutlined } from '@ant-design/icons';
import { Button, Empty, Grid, Input, Modal, Typography } from 'antd';
import { useMemo, useState } from 'react';
import { useLocation, useNavigate } from 'react-router';
import { useSignedIn } from '../auth/SessionContext';
import { can, groupShops, matchesShop, type ShopEntry } from '../auth/shops';
import { ShopAvatar } from '../components/ShopAvatar';
import { ModeTag, StatusBadge, useRoleLabel } from '../components/Tags';
import { useI18n } from '../i18n/I18nProvider';
import { sectionByPath, shopPath } from './sections';
import { AgencyLinks } from '../pages/team/AgencyPage';

/** Shops above this number get a search box. */
export const SEARCH_THRESHOLD = 8;

/** The header button naming the current shop, opening the list of the others. */
export function ShopSwitcher({ current }: { current: ShopEntry }) {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  const screens = Grid.useBreakpoint();
  return (
    <>
      <Button
        type="text"
        className="shop-switcher-button"
        onClick={() => setOpen(true)}
        aria-haspopup="dialog"
        aria-label={`${t('shop.current')}: ${current.name}. ${t('shop.switch')}`}
        data-testid="shop-switcher"
      >
        <ShopAvatar slug={current.slug} name={current.name} size={28} />
        <span className="shop-switcher-text">
          <span className="shop-switcher-name">{current.name}</span>
          {screens.sm && <span className="shop-switcher-slug">{current.slug}</span>}
        </span>
        {screens.sm && <ModeTag mode={current.mode} />}
        <DownOutlined className="shop-switcher-caret" />
      </Button>
      <ShopSwitcherModal open={open} onClose={() => setOpen(false)} current={current} />
    </>
  );
}

function ShopSwitcherModal({ open, onClose, current }: { open: boolean; onClose: () => void; current: ShopEntry }) {
  const { t } = useI18n();
  const { shops } = useSignedIn();
  const [query, setQuery] = useState('');
  const navigate = useNavigate();
  const location = useLocation();
  const searchable = shops.length > SEARCH_THRESHOLD;
  const groups = useMemo(() => groupShops(shops.filter((s) => matchesShop(s, query))), [shops, query]);

  const choose = (shop: ShopEntry) => {
    onClose();
    setQuery('');
    if (shop.slug === current.slug) return;
    // Stay on the same section when the other shop allows it.
    const seg = location.pathname.split('/')[3] ?? '';
    const section = sectionByPath(seg);
    const keep = section && (section.perm === null || can(shop, section.perm)) ? section.path : '';
    void navigate(shopPath(shop.slug, keep));
  };

  return (
    <Modal
      open={open}
      onCancel={() => {
        onClose();
        setQuery('');
      }}
      title={t('shop.switcherTitle')}
      footer={null}
      width={560}
      destroyOnHidden
      className="shop-switcher-modal"
    >
      {searchable && (
        <Input
          autoFocus
          allowClear
          size="large"
          prefix={<SearchOutlined />}
          placeholder={t('shop.searchPlaceholder')}
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          aria-label={t('common.search')}
          style={{ marginBottom: 12 }}
        />
      )}
      <div className="shop-list" role="list">
        {groups.length === 0 && (
          <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('shop.noMatch', { query: query.trim() })} />
        )}
        {groups.map((g) => (
          <div key={g.agency?.id ?? 'own'} className="shop-group">
            <Typography.Text type="secondary" className="shop-group-title">
              {g.agency ? t('shop.clientsOf', { agency: g.agency.name }) : t('shop.yourShops')}
            </Typography.Text>
            {g.shops.map((s) => (
              <ShopRow key={s.slug} shop={s} active={s.slug === current.slug} onClick={() => choose(s)} />
            ))}
          </div>
        ))}
      </div>
      <div style={{ marginTop: 12 }} onClick={onClose}>
        <AgencyLinks />
      </div>
    </Modal>
  );
}

function ShopRow({ shop, active, onClick }: { shop: ShopEntry; active: boolean; onClick: () => void }) {
  const roleLabel = useRoleLabel();
  return (
    <button
      type="button"
      role="listitem"
      className={`shop-row${active ? ' shop-row-active' : ''}`}
      onClick={onClick}
      aria-current={active ? 'true' : undefined}
      data-testid={`shop-option-${shop.slug}`}
    >
      <ShopAvatar slug={shop.slug} name={shop.name} size={36} />
      <span className="shop-row-text">
        <span className="shop-row-name">{shop.name}</span>
        <span className="shop-row-meta">
          <span className="mono">{shop.slug}</span>
          <span aria-hidden="true">·</span>
          <span>{roleLabel(shop.role)}</span>
        </span>
      </span>
      <span className="shop-row-tags">
        {shop.status !== 'active' && <StatusBadge status={shop.status} />}
        <ModeTag mode={shop.mode} />
        <span className="shop-row-check">{active && <CheckOutlined />}</span>
      </span>
    </button>
  );
}
