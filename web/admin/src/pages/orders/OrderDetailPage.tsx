import { ArrowLeftOutlined, RollbackOutlined, ShoppingCartOutlined } from '@ant-design/icons';
import { Alert, App, Button, Card, Descriptions, Empty, Form, Input, Modal, Radio, Table, Tag, Timeline, Tooltip, Typography } from 'antd';
import { useRef, useState } from 'react';
import { useParams } from 'react-router';
import {
  REFUNDABLE,
  refundableLeft,
  useOrder,
  useOrderRefunds,
  useRefundOrder,
  yuanToFen,
  type Order,
  type OrderLine,
  type Refund,
} from '../../api/orders';
import { useShop } from '../../auth/ShopContext';
import { LinkButton } from '../../components/LinkButton';
import { PageHeader } from '../../components/PageHeader';
import { NotFound, QueryState, useErrorMessage } from '../../components/States';
import { useDocumentTitle } from '../../components/useDocumentTitle';
import { useI18n } from '../../i18n/I18nProvider';
import { shopPath } from '../../layout/sections';
import { useLocalText } from '../catalog/common';
import { OrderStatusTag } from './common';
import { CustomsPanel } from './CustomsPanel';
import { ShipmentsPanel } from './ShipmentsPanel';

export function OrderDetailPage() {
  const { id: idParam = '' } = useParams();
  const id = /^[1-9]\d{0,15}$/.test(idParam) ? Number(idParam) : null;
  if (id === null) return <NotFound />;
  return <OrderDetail id={id} />;
}

function OrderDetail({ id }: { id: number }) {
  const { t } = useI18n();
  const { shop, can } = useShop();
  const order = useOrder(shop.slug, id);
  const refunds = useOrderRefunds(shop.slug, id);
  const [refundOpen, setRefundOpen] = useState(false);
  useDocumentTitle(order.data ? order.data.out_trade_no : t('nav.orders'), shop.name);

  const o = order.data;
  const left = o && refunds.data ? refundableLeft(o, refunds.data.refunds) : 0;
  const canRefund = !!o && can('orders:refund') && REFUNDABLE.has(o.status) && refunds.isSuccess && left > 0;

  return (
    <>
      <PageHeader
        title={o ? t('order.title', { no: o.out_trade_no }) : t('nav.orders')}
        icon={<ShoppingCartOutlined />}
        tags={o && <OrderStatusTag status={o.status} />}
        extra={
          <>
            <LinkButton icon={<ArrowLeftOutlined />} to={shopPath(shop.slug, 'orders')}>
              {t('order.backToList')}
            </LinkButton>
            {canRefund && (
              <Button type="primary" danger icon={<RollbackOutlined />} onClick={() => setRefundOpen(true)} data-testid="refund-button" style={{ marginLeft: 8 }}>
                {t('order.refund')}
              </Button>
            )}
            {o && o.status === 'declaring' && can('orders:refund') && (
              <Tooltip title={t('order.refundAfterCustoms')}>
                <Button danger disabled icon={<RollbackOutlined />} data-testid="refund-wait-customs" style={{ marginLeft: 8 }}>
                  {t('order.refund')}
                </Button>
              </Tooltip>
            )}
          </>
        }
      />
      <QueryState query={order} variant="page">
        {(o) => (
          <div className="order-detail" data-testid="order-detail">
            {o.needs_refund && <Alert type="warning" showIcon message={t('order.needsRefund')} style={{ marginBottom: 16 }} />}
            <Card title={t('order.lines')} style={{ marginBottom: 16 }}>
              <Lines order={o} />
              <Amounts order={o} />
            </Card>
            <Card title={t('order.buyerAndAddress')} style={{ marginBottom: 16 }}>
              <Descriptions column={{ xs: 1, sm: 1, md: 2, lg: 2, xl: 2, xxl: 2 }} size="small" bordered>
                <Descriptions.Item label={t('order.buyerName')}>
                  <span data-testid="buyer-name">{o.buyer.name_masked}</span>
                </Descriptions.Item>
                <Descriptions.Item label={t('order.buyerId')}>
                  <span data-testid="buyer-id-number">{o.buyer.id_number_masked}</span>
                </Descriptions.Item>
                <Descriptions.Item label={t('order.consignee')}>{o.address.consignee}</Descriptions.Item>
                <Descriptions.Item label={t('order.phone')}>{o.address.phone}</Descriptions.Item>
                <Descriptions.Item label={t('order.address')} span={2}>
                  {[o.address.province, o.address.city, o.address.district, o.address.detail].filter(Boolean).join(' ')}
                </Descriptions.Item>
                <Descriptions.Item label={t('order.customerId')}>#{o.customer_id}</Descriptions.Item>
                <Descriptions.Item label={t('order.tradeMode')}>
                  {o.trade_mode} · {t(`order.taxMode.${o.tax_mode}`)}
                </Descriptions.Item>
                {o.note && (
                  <Descriptions.Item label={t('order.note')} span={2}>
                    {o.note}
                  </Descriptions.Item>
                )}
              </Descriptions>
            </Card>
            <Card title={t('order.refunds')} style={{ marginBottom: 16 }}>
              <QueryState
                query={refunds}
                isEmpty={(d) => d.refunds.length === 0}
                empty={<Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('order.noRefunds')} />}
              >
                {(d) => <Refunds refunds={d.refunds} />}
              </QueryState>
            </Card>
            <CustomsPanel slug={shop.slug} orderId={o.id} />
            <ShipmentsPanel order={o} />
            <Card title={t('order.timeline')} style={{ marginBottom: 16 }}>
              <Events order={o} />
            </Card>
          </div>
        )}
      </QueryState>
      {o && refundOpen && <RefundModal order={o} left={left} onClose={() => setRefundOpen(false)} />}
    </>
  );
}

function Lines({ order }: { order: Order }) {
  const { t, money } = useI18n();
  const text = useLocalText();
  return (
    <Table<OrderLine>
      rowKey="line_no"
      size="small"
      pagination={false}
      dataSource={order.lines ?? []}
      data-testid="order-lines"
      scroll={{ x: true }}
      columns={[
        {
          title: t('order.item'),
          key: 'title',
          render: (_, l) => (
            <span>
              <Typography.Text strong>{text(l.title) || l.gname}</Typography.Text>
              {l.option_values.length > 0 && <Typography.Text type="secondary"> · {l.option_values.join(' / ')}</Typography.Text>}
            </span>
          ),
        },
        { title: t('order.sku'), dataIndex: 'sku_code', render: (v: string) => <Typography.Text code>{v}</Typography.Text> },
        { title: t('order.qty'), dataIndex: 'quantity', align: 'right' },
        { title: t('order.unitPrice'), dataIndex: 'unit_price', align: 'right', render: (v: number) => money(v) },
        { title: t('order.goods'), dataIndex: 'goods', align: 'right', render: (v: number) => money(v) },
        {
          title: t('order.tax'),
          key: 'tax',
          align: 'right',
          render: (_, l) => (
            <span>
              {money(l.tax)} <Typography.Text type="secondary">({l.tax_rate})</Typography.Text>
            </span>
          ),
        },
        { title: t('order.lineTotal'), dataIndex: 'total', align: 'right', render: (v: number) => money(v) },
      ]}
    />
  );
}

function Amounts({ order: o }: { order: Order }) {
  const { t, money } = useI18n();
  const rows: [string, string, string][] = [
    [t('order.goodsValue'), money(o.goods_value), 'goods'],
    [t('order.freight'), money(o.freight), 'freight'],
    [t('order.taxTotal'), money(o.tax_total), 'tax'],
    [t('order.discount'), o.discount ? '−' + money(o.discount) : money(0), 'discount'],
  ];
  return (
    <div className="order-amounts" style={{ marginTop: 16, marginLeft: 'auto', maxWidth: 320 }} data-testid="order-amounts">
      {rows.map(([label, value, key]) => (
        <div key={key} style={{ display: 'flex', justifyContent: 'space-between' }}>
          <Typography.Text type="secondary">{label}</Typography.Text>
          <span data-testid={`amount-${key}`}>{value}</span>
        </div>
      ))}
      <div style={{ display: 'flex', justifyContent: 'space-between', borderTop: '1px solid rgba(0,0,0,0.08)', marginTop: 6, paddingTop: 6 }}>
        <Typography.Text strong>{t('orders.acturalPaid')}</Typography.Text>
        <Typography.Text strong data-testid="amount-paid">
          {money(o.actural_paid)}
        </Typography.Text>
      </div>
    </div>
  );
}

function Refunds({ refunds }: { refunds: Refund[] }) {
  const { t, tMaybe, money, dateTime } = useI18n();
  return (
    <Table<Refund>
      rowKey="out_refund_no"
      size="small"
      pagination={false}
      dataSource={refunds}
      data-testid="order-refunds"
      columns={[
        { title: t('order.refundNo'), dataIndex: 'out_refund_no' },
        { title: t('orders.created'), dataIndex: 'created_at', render: (d: string) => dateTime(d) },
        { title: t('order.refundKind'), dataIndex: 'kind', render: (k: string) => tMaybe(`refund.kind.${k}`, k) },
        { title: t('order.refundReason'), dataIndex: 'reason' },
        {
          title: t('orders.status'),
          dataIndex: 'status',
          render: (s: string) => (
            <Tag bordered={false} color={s === 'succeeded' ? 'success' : s === 'abnormal' || s === 'closed' ? 'error' : 'processing'} data-testid="refund-status">
              {tMaybe(`refund.status.${s}`, s)}
            </Tag>
          ),
        },
        { title: t('order.refundAmount'), dataIndex: 'amount', align: 'right', render: (v: number) => <span data-testid="refund-amount">{money(v)}</span> },
      ]}
    />
  );
}

/** The name of a timeline event: its own string, else (customs_<document>_<state>) the document and its state. */
function useEventName(): (kind: string) => string {
  const { t, tMaybe } = useI18n();
  return (kind) => {
    const own = tMaybe(`event.${kind}`, '') || tMaybe(`ops.event.${kind}`, '');
    if (own) return own;
    const m = /^customs_(order|payment|waybill|inventory)_(pending|sent|received|accepted|rejected|failed)$/.exec(kind);
    if (m) return t('ops.event.customsDoc', { doc: t(`ops.customs.kind.${m[1] as 'order'}`), state: t(`ops.customs.state.${m[2] as 'accepted'}`) });
    return kind.replace(/_/g, ' ');
  };
}

function Events({ order }: { order: Order }) {
  const { t, dateTime } = useI18n();
  const eventName = useEventName();
  const events = order.events ?? [];
  if (events.length === 0) return <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('order.noEvents')} />;
  return (
    <div data-testid="order-timeline">
      <Timeline
        items={events.map((e) => ({
          key: e.id,
          children: (
            <div>
              <Typography.Text strong>{eventName(e.kind)}</Typography.Text>
              {e.to_status && (
                <>
                  {' '}
                  <OrderStatusTag status={e.to_status} />
                </>
              )}
              <div>
                <Typography.Text type="secondary">
                  {dateTime(e.created_at)} · {e.actor}
                </Typography.Text>
              </div>
            </div>
          ),
        }))}
      />
    </div>
  );
}

function refundKey(asked: { current: { what: string; key: string } | null }, what: string): string {
  if (asked.current?.what !== what) {
    asked.current = { what, key: `refund-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}` };
  }
  return asked.current.key;
}

function RefundModal({ order, left, onClose }: { order: Order; left: number; onClose: () => void }) {
  const { t, money } = useI18n();
  const { shop } = useShop();
  const { message } = App.useApp();
  const errorMessage = useErrorMessage();
  const refund = useRefundOrder(shop.slug, order.id);
  const [mode, setMode] = useState<'full' | 'partial'>('full');
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  // The Idempotency-Key of the refund being asked: the same while the
  // amount and reason stay the same (a double click or a retry after an
  // error cannot refund twice), a new one when they change.
  const asked = useRef<{ what: string; key: string } | null>(null);

  const submit = () => {
    setError(null);
    let fen = left;
    if (mode === 'partial') {
      const v = yuanToFen(amount);
      if (v === null) {
        setError(t('refund.invalidAmount'));
        return;
      }
      if (v > left) {
        setError(t('refund.tooMuch', { max: money(left) }));
        return;
      }
      fen = v;
    }
    refund.mutate(
      { amount_fen: fen, reason: reason.trim(), key: refundKey(asked, `${fen}|${reason.trim()}`) },
      {
        onSuccess: () => {
          void message.success(t('refund.requested'));
          onClose();
        },
        onError: (e) => setError(errorMessage(e)),
      },
    );
  };

  return (
    <Modal
      open
      title={t('refund.title', { no: order.out_trade_no })}
      okText={t('refund.submit')}
      okButtonProps={{ danger: true, loading: refund.isPending, 'data-testid': 'refund-submit' }}
      cancelText={t('common.cancel')}
      onOk={submit}
      onCancel={onClose}
      destroyOnHidden
    >
      <div data-testid="refund-modal">
        <Typography.Paragraph type="secondary">{t('refund.left', { amount: money(left) })}</Typography.Paragraph>
        <Form layout="vertical" onFinish={submit}>
          <Form.Item label={t('refund.amount')}>
            <Radio.Group value={mode} onChange={(e) => setMode(e.target.value as 'full' | 'partial')}>
              <Radio value="full" data-testid="refund-full">
                {t('refund.full', { amount: money(left) })}
              </Radio>
              <Radio value="partial" data-testid="refund-partial">
                {t('refund.partial')}
              </Radio>
            </Radio.Group>
          </Form.Item>
          {mode === 'partial' && (
            <Form.Item label={t('refund.amountYuan')}>
              <Input prefix="¥" inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} placeholder="0.00" data-testid="refund-amount-input" />
            </Form.Item>
          )}
          <Form.Item label={t('refund.reason')}>
            <Input maxLength={80} showCount value={reason} onChange={(e) => setReason(e.target.value)} data-testid="refund-reason" />
          </Form.Item>
        </Form>
        {error && <Alert type="error" showIcon message={error} data-testid="refund-error" />}
      </div>
    </Modal>
  );
}
