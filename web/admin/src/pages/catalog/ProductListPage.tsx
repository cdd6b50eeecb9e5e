import { AppstoreOutlined, InboxOutlined, PlusOutlined, RocketOutlined, TagsOutlined } from '@ant-design/icons';
import { App, Button, Card, Empty, Input, Segmented, Space, Table, Typography } from 'antd';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { useBulkProducts, useProducts } from '../../api/catalog';
import type { BulkResult, Product } from '../../api/types';
import { useShop } from '../../auth/ShopContext';
import { LinkButton } from '../../components/LinkButton';
import { PageHeader } from '../../components/PageHeader';
import { ErrorState, useErrorMessage } from '../../components/States';
import { useDocumentTitle } from '../../components/useDocumentTitle';
import { useI18n } from '../../i18n/I18nProvider';
import { shopPath } from '../../layout/sections';
import { StatusTag, Thumb, useProductTitle } from './common';
import { ProblemList } from './ProductEditorPage';
import { ImportExportLink } from './ImportExportPage';

const STATUSES = ['', 'draft', 'published', 'archived'] as const;

export function ProductListPage() {
  const { t, money, dateTime } = useI18n();
  const { shop, can } = useShop();
  const { modal, message } = App.useApp();
  const navigate = useNavigate();
  const title = useProductTitle();
  const errorMessage = useErrorMessage();
  const [q, setQ] = useState('');
  const [status, setStatus] = useState<(typeof STATUSES)[number]>('');
  const [cursors, setCursors] = useState<string[]>([]);
  const [selected, setSelected] = useState<number[]>([]);
  const products = useProducts(shop.slug, { q, status, cursor: cursors[cursors.length - 1] });
  const bulk = useBulkProducts(shop.slug);
  const writable = can('catalog:write');
  useDocumentTitle(t('nav.catalog'), shop.name);

  const runBulk = (action: 'publish' | 'archive') =>
    bulk.mutate(
      { ids: selected, action },
      {
        onSuccess: ({ results }) => {
          const failed = results.filter((r) => !r.ok);
          const ok = results.length - failed.length;
          setSelected(failed.map((r) => r.id));
          if (!failed.length) {
            void message.success(t('catalog.bulkDone', { count: ok }));
            return;
          }
          modal.warning({
            title: t('catalog.bulkPartial', { ok, failed: failed.length }),
            width: 560,
            content: <BulkFailures results={failed} products={products.data?.products ?? []} />,
          });
        },
        onError: (e) => void message.error(errorMessage(e)),
      },
    );

  const filtered = q !== '' || status !== '';
  const data = products.data;

  return (
    <>
      <PageHeader
        title={t('nav.catalog')}
        icon={<AppstoreOutlined />}
        subtitle={t('section.catalog')}
        extra={
          <Space wrap>
            <LinkButton icon={<TagsOutlined />} to={shopPath(shop.slug, 'catalog/categories')}>
              {t('catalog.categories')}
            </LinkButton>
            <ImportExportLink />
            {writable && (
              <LinkButton type="primary" icon={<PlusOutlined />} to={shopPath(shop.slug, 'catalog/new')} data-testid="new-product">
                {t('catalog.newProduct')}
              </LinkButton>
            )}
          </Space>
        }
      />
      <Card className="list-card">
        <div className="list-toolbar">
          <Space wrap>
            <Input.Search
              allowClear
              placeholder={t('catalog.searchPlaceholder')}
              onSearch={(v) => {
                setQ(v.trim());
                setCursors([]);
              }}
              style={{ width: 280 }}
              data-testid="product-search"
            />
            <Segmented
              value={status}
              onChange={(v) => {
                setStatus(v as (typeof STATUSES)[number]);
                setCursors([]);
              }}
              options={STATUSES.map((s) => ({ value: s, label: s ? t(`product.status.${s}`) : t('catalog.all') }))}
            />
          </Space>
          {writable && selected.length > 0 && (
            <Space className="bulk-bar" data-testid="bulk-bar">
              <Typography.Text strong>{t('catalog.selected', { count: selected.length })}</Typography.Text>
              <Button icon={<RocketOutlined />} type="primary" loading={bulk.isPending} onClick={() => runBulk('publish')} data-testid="bulk-publish">
                {t('product.publish')}
              </Button>
              <Button icon={<InboxOutlined />} loading={bulk.isPending} onClick={() => runBulk('archive')} data-testid="bulk-archive">
                {t('product.archive')}
              </Button>
            </Space>
          )}
        </div>
        {products.isError ? (
          <ErrorState error={products.error} variant="inline" onRetry={() => void products.refetch()} />
        ) : (
          <Table<Product>
            rowKey="id"
            loading={products.isFetching}
            dataSource={data?.products ?? []}
            pagination={false}
            data-testid="product-table"
            rowSelection={writable ? { selectedRowKeys: selected, onChange: (keys) => setSelected(keys as number[]) } : undefined}
            onRow={(p) => ({ onClick: () => void navigate(shopPath(shop.slug, `catalog/${p.id}`)), className: 'clickable-row' })}
            locale={{
              emptyText: products.isPending ? ' ' : filtered ? (
                <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('catalog.noMatch')} />
              ) : (
                <Empty
                  image={<span className="coming-soon-icon"><AppstoreOutlined /></span>}
                  styles={{ image: { height: 'auto' } }}
                  description={
                    <div>
                      <Typography.Title level={5}>{t('catalog.emptyTitle')}</Typography.Title>
                      <Typography.Paragraph type="secondary">{t('catalog.emptyText')}</Typography.Paragraph>
                    </div>
                  }
                >
                  {writable && (
                    <LinkButton type="primary" icon={<PlusOutlined />} to={shopPath(shop.slug, 'catalog/new')}>
                      {t('catalog.newProduct')}
                    </LinkButton>
                  )}
                </Empty>
              ),
            }}
            columns={[
              {
                title: t('catalog.product'),
                key: 'title',
                render: (_, p) => (
                  <span className="product-cell">
                    <Thumb slug={shop.slug} hash={p.images[0]?.hash} />
                    <span className="product-cell-text">
                      <Typography.Text strong>{title(p)}</Typography.Text>
                      <Typography.Text type="secondary" className="product-cell-sub">
                        {[p.content['zh-CN']?.title, p.content.en?.title].filter((x) => x && x !== title(p)).join(' · ') || p.brand}
                      </Typography.Text>
                    </span>
                  </span>
                ),
              },
              { title: t('catalog.status'), dataIndex: 'status', width: 130, render: (s: Product['status']) => <StatusTag status={s} /> },
              {
                title: t('catalog.price'),
                dataIndex: 'min_price',
                width: 140,
                align: 'right',
                render: (v: number | null) => (!v ? '—' : t('catalog.from', { price: money(v) })),
              },
              { title: t('catalog.updated'), dataIndex: 'updated_at', width: 190, render: (d: string) => <Typography.Text type="secondary">{dateTime(d)}</Typography.Text> },
            ]}
          />
        )}
        {(cursors.length > 0 || data?.next_cursor) && (
          <div className="list-pager">
            <Button disabled={cursors.length === 0} onClick={() => setCursors((c) => c.slice(0, -1))}>
              {t('common.previous')}
            </Button>
            <Button disabled={!data?.next_cursor} onClick={() => data?.next_cursor && setCursors((c) => [...c, data.next_cursor!])}>
              {t('common.next')}
            </Button>
          </div>
        )}
      </Card>
    </>
  );
}

function BulkFailures({ results, products }: { results: BulkResult[]; products: Product[] }) {
  const title = useProductTitle();
  return (
    <ul className="bulk-failures">
      {results.map((r) => {
        const p = products.find((x) => x.id === r.id);
        return (
          <li key={r.id}>
            <Typography.Text strong>{p ? title(p) : `#${r.id}`}</Typography.Text>
            <div className="bulk-failure-detail">
              {r.details?.length ? <ProblemList problems={r.details} /> : <Typography.Text type="secondary">{r.message}</Typography.Text>}
            </div>
          </li>
        );
      })}
    </ul>
  );
}
