import { CarOutlined, PlusOutlined, ReloadOutlined } from '@ant-design/icons';
import { Alert, App, Button, Card, Empty, Form, Input, InputNumber, Modal, Select, Space, Table, Tag, Timeline, Typography } from 'antd';
import { useState } from 'react';
import type { Order } from '../../api/orders';
import {
  useCarriers,
  useCreateShipment,
  useOrderShipments,
  useRetryShippingUpload,
  type OrderShipments,
  type Shipment,
  type ShipmentLine,
  type ShippingUpload,
} from '../../api/ops';
import { useShop } from '../../auth/ShopContext';
import { ErrorState, useErrorMessage } from '../../components/States';
import { useI18n } from '../../i18n/I18nProvider';
import { useLocalText } from '../catalog/common';

/** Statuses in which a parcel may be recorded (shop/shipment.go: after customs released the order). */
const SHIPPABLE = new Set(['declared', 'shipped', 'partially_refunded']);

const shipmentColor: Record<Shipment['state'], string> = {
  created: 'default',
  in_transit: 'processing',
  customs: 'cyan',
  delivering: 'blue',
  delivered: 'success',
  exception: 'error',
  returned: 'warning',
};

export function ShipmentStateTag({ state }: { state: Shipment['state'] }) {
  const { t } = useI18n();
  return (
    <Tag bordered={false} color={shipmentColor[state]} data-testid="shipment-state" data-state={state}>
      {t(`ops.ship.state.${state}`)}
    </Tag>
  );
}

/** The parcels of an order, where they are, and its shipping information at WeChat. */
export function ShipmentsPanel({ order }: { order: Order }) {
  const { t } = useI18n();
  const { shop, can } = useShop();
  const q = useOrderShipments(shop.slug, order.id);
  const [adding, setAdding] = useState(false);
  const d = q.data;
  const canShip = can('orders:write') && !!d && d.unshipped.length > 0 && SHIPPABLE.has(d.order_status);

  return (
    <Card
      title={t('ops.ship.title')}
      style={{ marginBottom: 16 }}
      data-testid="order-shipments"
      extra={
        canShip && (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setAdding(true)} data-testid="add-shipment">
            {t('ops.ship.add')}
          </Button>
        )
      }
    >
      {q.isPending ? null : q.isError ? (
        <ErrorState error={q.error} variant="inline" onRetry={() => void q.refetch()} />
      ) : (
        <ShipmentsBody order={order} data={q.data} />
      )}
      {adding && d && <AddShipmentModal order={order} unshipped={d.unshipped} onClose={() => setAdding(false)} />}
    </Card>
  );
}

function ShipmentsBody({ order, data: d }: { order: Order; data: OrderShipments }) {
  const { t } = useI18n();
  const lineName = useLineName(order);
  return (
    <>
      {d.wechat_shipping && <WeChatShipping orderId={order.id} upload={d.wechat_shipping} />}
      {d.shipments.length === 0 ? (
        <Empty
          image={<span style={{ fontSize: 32, color: '#bfbfbf' }}><CarOutlined /></span>}
          styles={{ image: { height: 'auto' } }}
          description={SHIPPABLE.has(d.order_status) ? t('ops.ship.none') : t('ops.ship.notYet')}
          data-testid="shipments-empty"
        />
      ) : (
        d.shipments.map((s) => <ShipmentRow key={s.id} s={s} lineName={lineName} />)
      )}
      {d.shipments.length > 0 && d.unshipped.length > 0 && (
        <Typography.Paragraph type="secondary" style={{ margin: '12px 0 0' }} data-testid="unshipped">
          {t('ops.ship.left')}: {d.unshipped.map((l) => `${lineName(l.line_no)} × ${l.quantity}`).join(', ')}
        </Typography.Paragraph>
      )}
    </>
  );
}

function useLineName(order: Order): (lineNo: number) => string {
  const text = useLocalText();
  return (n) => {
    const l = order.lines?.find((x) => x.line_no === n);
    return l ? `${text(l.title) || l.gname}${l.option_values.length ? ' · ' + l.option_values.join(' / ') : ''}` : `#${n}`;
  };
}

function ShipmentRow({ s, lineName }: { s: Shipment; lineName: (n: number) => string }) {
  const { t, dateTime, locale } = useI18n();
  const { shop } = useShop();
  const carriers = useCarriers(shop.slug);
  const zh = locale === 'zh-CN' ? carriers.data?.carriers.find((c) => c.code === s.carrier)?.name_zh : undefined;
  const items = [
    {
      key: 'created',
      color: 'gray',
      children: (
        <div>
          <Typography.Text>{t('ops.ship.recorded', { source: t(`ops.ship.source.${s.source}`) })}</Typography.Text>
          <div>
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {dateTime(s.created_at)}
            </Typography.Text>
          </div>
        </div>
      ),
    },
  ];
  if (s.last_trace) {
    items.push({
      key: 'trace',
      color: s.state === 'exception' || s.state === 'returned' ? 'red' : s.state === 'delivered' ? 'green' : 'blue',
      children: (
        <div>
          <Typography.Text>{s.last_trace}</Typography.Text>
          <div>
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {dateTime(s.last_trace_at)}
            </Typography.Text>
          </div>
        </div>
      ),
    });
  }
  if (s.delivered_at) {
    items.push({
      key: 'delivered',
      color: 'green',
      children: (
        <div>
          <Typography.Text strong>{t('ops.ship.delivered')}</Typography.Text>
          <div>
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {dateTime(s.delivered_at)}
            </Typography.Text>
          </div>
        </div>
      ),
    });
  }
  return (
    <div
      data-testid={`shipment-${s.id}`}
      className="shipment"
      style={{ display: 'flex', flexWrap: 'wrap', gap: 24, padding: '12px 0', borderTop: '1px solid rgba(5,5,5,0.06)' }}
    >
      <div style={{ minWidth: 240, flex: '1 1 240px' }}>
        <Space size={8} wrap>
          <Typography.Text strong>{zh || s.carrier_name || s.carrier}</Typography.Text>
          <Typography.Text copyable={{ text: s.tracking_no }} className="mono" data-testid="shipment-tracking">
            {s.tracking_no}
          </Typography.Text>
          <ShipmentStateTag state={s.state} />
        </Space>
        <ul style={{ margin: '8px 0 0', paddingLeft: 18 }}>
          {s.lines.map((l) => (
            <li key={l.line_no}>
              <Typography.Text>
                {lineName(l.line_no)} × {l.quantity}
              </Typography.Text>
            </li>
          ))}
        </ul>
        {s.tracking_error && (
          <Typography.Paragraph type="danger" style={{ margin: '6px 0 0' }}>
            {t('ops.ship.trackingError')}: {s.tracking_error}
          </Typography.Paragraph>
        )}
      </div>
      <div style={{ flex: '1 1 280px' }} data-testid="shipment-timeline">
        <Timeline items={items} style={{ marginBottom: -24 }} />
      </div>
    </div>
  );
}

function WeChatShipping({ orderId, upload: u }: { orderId: number; upload: ShippingUpload }) {
  const { t, dateTime } = useI18n();
  const { shop, can } = useShop();
  const { message } = App.useApp();
  const errorMessage = useErrorMessage();
  const retry = useRetryShippingUpload(shop.slug, orderId);
  const type = u.state === 'uploaded' ? 'success' : u.state === 'failed' ? 'error' : 'info';
  const title =
    u.state === 'uploaded'
      ? t('ops.ship.wx.uploaded', { at: dateTime(u.uploaded_at) })
      : u.state === 'failed'
        ? t('ops.ship.wx.failed')
        : t('ops.ship.wx.pending');
  const detail = [
    u.last_errcode !== null ? `errcode ${u.last_errcode}` : '',
    u.last_error,
    u.state === 'pending' && u.next_attempt_at ? t('ops.ship.wx.next', { at: dateTime(u.next_attempt_at) }) : '',
  ]
    .filter(Boolean)
    .join(' · ');
  return (
    <Alert
      type={type}
      showIcon
      style={{ marginBottom: 12 }}
      data-testid="wechat-shipping"
      data-state={u.state}
      message={title}
      description={detail || (u.state !== 'uploaded' ? t('ops.ship.wx.why') : undefined)}
      action={
        u.state === 'failed' &&
        can('orders:write') && (
          <Button
            size="small"
            icon={<ReloadOutlined />}
            loading={retry.isPending}
            onClick={() =>
              retry.mutate(undefined, {
                onSuccess: () => void message.success(t('ops.ship.wx.retried')),
                onError: (e) => void message.error(errorMessage(e)),
              })
            }
            data-testid="retry-upload"
          >
            {t('ops.ship.wx.retry')}
          </Button>
        )
      }
    />
  );
}

function AddShipmentModal({ order, unshipped, onClose }: { order: Order; unshipped: ShipmentLine[]; onClose: () => void }) {
  const { t, locale } = useI18n();
  const { shop } = useShop();
  const { message } = App.useApp();
  const errorMessage = useErrorMessage();
  const carriers = useCarriers(shop.slug);
  const create = useCreateShipment(shop.slug, order.id);
  const lineName = useLineName(order);
  const [carrier, setCarrier] = useState<string | undefined>(undefined);
  const [tracking, setTracking] = useState('');
  const [qty, setQty] = useState<Record<number, number>>(() => Object.fromEntries(unshipped.map((l) => [l.line_no, l.quantity])));
  const [error, setError] = useState<string | null>(null);

  const submit = () => {
    setError(null);
    const no = tracking.trim();
    if (!carrier) return setError(t('ops.ship.carrierRequired'));
    if (!/^[A-Za-z0-9-]{4,40}$/.test(no)) return setError(t('ops.ship.trackingInvalid'));
    const lines = unshipped.map((l) => ({ line_no: l.line_no, quantity: qty[l.line_no] ?? 0 })).filter((l) => l.quantity > 0);
    if (lines.length === 0) return setError(t('ops.ship.linesRequired'));
    create.mutate(
      { carrier, tracking_no: no, lines },
      {
        onSuccess: () => {
          void message.success(t('ops.ship.added'));
          onClose();
        },
        onError: (e) => setError(errorMessage(e)),
      },
    );
  };

  return (
    <Modal
      open
      width={620}
      title={t('ops.ship.addTitle', { no: order.out_trade_no })}
      okText={t('ops.ship.add')}
      okButtonProps={{ loading: create.isPending, 'data-testid': 'shipment-submit' }}
      cancelText={t('common.cancel')}
      onOk={submit}
      onCancel={onClose}
      destroyOnHidden
    >
      <div data-testid="shipment-modal">
        <Form layout="vertical" onFinish={submit}>
          <Form.Item label={t('ops.ship.carrier')} required>
            <Select
              showSearch
              value={carrier}
              onChange={setCarrier}
              loading={carriers.isPending}
              placeholder={t('ops.ship.carrierPlaceholder')}
              optionFilterProp="label"
              data-testid="shipment-carrier"
              options={(carriers.data?.carriers ?? []).map((c) => ({
                value: c.code,
                label: locale === 'zh-CN' ? `${c.name_zh} (${c.code})` : `${c.name} · ${c.name_zh} (${c.code})`,
              }))}
            />
          </Form.Item>
          <Form.Item label={t('ops.ship.trackingNo')} required>
            <Input value={tracking} onChange={(e) => setTracking(e.target.value)} maxLength={40} className="mono" data-testid="shipment-tracking-input" />
          </Form.Item>
          <Form.Item label={t('ops.ship.lines')} extra={t('ops.ship.linesHelp')}>
            <Table<ShipmentLine>
              size="small"
              rowKey="line_no"
              pagination={false}
              dataSource={unshipped}
              columns={[
                { title: t('order.item'), key: 'name', render: (_, l) => lineName(l.line_no) },
                { title: t('ops.ship.leftCol'), dataIndex: 'quantity', width: 80, align: 'right' },
                {
                  title: t('ops.ship.inParcel'),
                  key: 'qty',
                  width: 120,
                  render: (_, l) => (
                    <InputNumber
                      min={0}
                      max={l.quantity}
                      precision={0}
                      value={qty[l.line_no] ?? 0}
                      onChange={(v) => setQty((q) => ({ ...q, [l.line_no]: Number(v ?? 0) }))}
                      data-testid={`shipment-qty-${l.line_no}`}
                    />
                  ),
                },
              ]}
            />
          </Form.Item>
        </Form>
        {carriers.isError && <ErrorState error={carriers.error} variant="inline" onRetry={() => void carriers.refetch()} />}
        {error && <Alert type="error" showIcon message={error} data-testid="shipment-error" />}
      </div>
    </Modal>
  );
}
