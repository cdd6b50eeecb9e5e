import { ShoppingCartOutlined } from '@ant-design/icons';
import { Button, Card, DatePicker, Empty, Input, Select, Space, Table, Typography } from 'antd';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { ORDER_STATUSES, useOrders, type Order } from '../../api/orders';
import { useShop } from '../../auth/ShopContext';
import { PageHeader } from '../../components/PageHeader';
import { ErrorState } from '../../components/States';
import { useDocumentTitle } from '../../components/useDocumentTitle';
import { useI18n } from '../../i18n/I18nProvider';
import { shopPath } from '../../layout/sections';
import { OrderStatusTag } from './common';

export function OrderListPage() {
  const { t, money, dateTime } = useI18n();
  const { shop } = useShop();
  const navigate = useNavigate();
  const [status, setStatus] = useState('');
  const [range, setRange] = useState<[string, string]>(['', '']);
  const [customer, setCustomer] = useState<number | undefined>(undefined);
  const [customerError, setCustomerError] = useState(false);
  const [cursors, setCursors] = useState<string[]>([]);
  const orders = useOrders(shop.slug, {
    status,
    from: range[0],
    to: range[1],
    customer_id: customer,
    cursor: cursors[cursors.length - 1],
  });
  useDocumentTitle(t('nav.orders'), shop.name);

  const filtered = status !== '' || range[0] !== '' || range[1] !== '' || customer !== undefined;
  const data = orders.data;

  return (
    <>
      <PageHeader title={t('nav.orders')} icon={<ShoppingCartOutlined />} subtitle={t('section.orders')} />
      <Card className="list-card">
        <div className="list-toolbar">
          <Space wrap>
            <Select
              value={status}
              style={{ width: 200 }}
              data-testid="order-status-filter"
              onChange={(v) => {
                setStatus(v);
                setCursors([]);
              }}
              options={[
                { value: '', label: t('orders.allStatuses') },
                ...ORDER_STATUSES.map((s) => ({ value: s, label: t(`order.status.${s}`) })),
              ]}
            />
            <DatePicker.RangePicker
              allowEmpty={[true, true]}
              placeholder={[t('orders.from'), t('orders.to')]}
              onChange={(_, s) => {
                setRange([s?.[0] ?? '', s?.[1] ?? '']);
                setCursors([]);
              }}
              data-testid="order-date-range"
            />
            <Input.Search
              allowClear
              placeholder={t('orders.customerPlaceholder')}
              status={customerError ? 'error' : undefined}
              style={{ width: 220 }}
              data-testid="order-customer-filter"
              onSearch={(v) => {
                const s = v.trim();
                if (s === '') {
                  setCustomer(undefined);
                  setCustomerError(false);
                } else if (/^[1-9]\d{0,15}$/.test(s)) {
                  setCustomer(Number(s));
                  setCustomerError(false);
                } else {
                  setCustomerError(true);
                  return;
                }
                setCursors([]);
              }}
            />
          </Space>
        </div>
        {orders.isError ? (
          <ErrorState error={orders.error} variant="inline" onRetry={() => void orders.refetch()} />
        ) : (
          <Table<Order>
            rowKey="id"
            loading={orders.isFetching}
            dataSource={data?.orders ?? []}
            pagination={false}
            data-testid="order-table"
            onRow={(o) => ({
              onClick: () => void navigate(shopPath(shop.slug, `orders/${o.id}`)),
              className: 'clickable-row',
              'data-testid': `order-row-${o.id}`,
            })}
            locale={{
              emptyText: orders.isPending ? (
                ' '
              ) : filtered ? (
                <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('orders.noMatch')} data-testid="orders-no-match" />
              ) : (
                <Empty
                  image={<span className="coming-soon-icon"><ShoppingCartOutlined /></span>}
                  styles={{ image: { height: 'auto' } }}
                  data-testid="orders-empty"
                  description={
                    <div>
                      <Typography.Title level={5}>{t('orders.emptyTitle')}</Typography.Title>
                      <Typography.Paragraph type="secondary">{t('orders.emptyText')}</Typography.Paragraph>
                    </div>
                  }
                />
              ),
            }}
            columns={[
              {
                title: t('orders.number'),
                dataIndex: 'out_trade_no',
                render: (v: string) => <Typography.Text strong copyable={{ text: v }}>{v}</Typography.Text>,
              },
              { title: t('orders.created'), dataIndex: 'created_at', width: 190, render: (d: string) => dateTime(d) },
              {
                title: t('orders.customer'),
                key: 'customer',
                render: (_, o) => (
                  <span>
                    <Typography.Text>{o.buyer.name_masked}</Typography.Text>{' '}
                    <Typography.Text type="secondary">#{o.customer_id}</Typography.Text>
                  </span>
                ),
              },
              { title: t('orders.status'), dataIndex: 'status', width: 150, render: (s: Order['status']) => <OrderStatusTag status={s} /> },
              {
                title: t('orders.acturalPaid'),
                dataIndex: 'actural_paid',
                width: 140,
                align: 'right',
                render: (v: number) => <span data-testid="order-paid">{money(v)}</span>,
              },
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
