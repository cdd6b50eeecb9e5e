import { CheckCircleFilled, ClockCircleOutlined, CloseCircleFilled, ExclamationCircleFilled, MinusCircleOutlined, RedoOutlined } from '@ant-design/icons';
import { Alert, App, Button, Card, Col, Collapse, Empty, Row, Space, Tag, Timeline, Typography } from 'antd';
import { useCustomsDocuments, useRedeclare, useWarehouseNames, type CustomsDocState, type CustomsDocument, type CustomsSubOrder } from '../../api/ops';
import { useShop } from '../../auth/ShopContext';
import { ErrorState, useErrorMessage } from '../../components/States';
import { useI18n } from '../../i18n/I18nProvider';

const stateColor: Record<CustomsDocState, string> = {
  not_started: 'default',
  pending: 'default',
  sent: 'processing',
  received: 'processing',
  accepted: 'success',
  rejected: 'error',
  failed: 'error',
};

function StateIcon({ state }: { state: CustomsDocState }) {
  if (state === 'accepted') return <CheckCircleFilled style={{ color: '#52c41a' }} />;
  if (state === 'rejected' || state === 'failed') return <CloseCircleFilled style={{ color: '#ff4d4f' }} />;
  if (state === 'not_started') return <MinusCircleOutlined style={{ color: '#bfbfbf' }} />;
  return <ClockCircleOutlined style={{ color: '#1677ff' }} />;
}

export function CustomsStateTag({ kind, state }: { kind: string; state: CustomsDocState }) {
  const { t } = useI18n();
  return (
    <Tag bordered={false} color={stateColor[state]} data-testid={kind === 'order' ? 'customs-state' : `customs-state-${kind}`} data-state={state}>
      {t(`ops.customs.state.${state}`)}
    </Tag>
  );
}

/** The 三单 panel of an order: its four customs documents side by side, and what a person must do. */
export function CustomsPanel({ slug, orderId }: { slug: string; orderId: number }) {
  const { t } = useI18n();
  const q = useCustomsDocuments(slug, orderId);
  const docs = q.data?.documents ?? [];
  const started = docs.some((d) => d.state !== 'not_started');
  return (
    <Card
      title={
        <span>
          {t('ops.customs.panelTitle')} <Typography.Text type="secondary" style={{ fontWeight: 'normal' }}>三单对碰</Typography.Text>
        </span>
      }
      style={{ marginBottom: 16 }}
      data-testid="order-customs"
    >
      {q.isPending ? null : q.isError ? (
        <ErrorState error={q.error} variant="inline" onRetry={() => void q.refetch()} />
      ) : !started ? (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('ops.customs.notStarted')} data-testid="customs-not-started" />
      ) : q.data.sub_orders?.length ? (
        <SplitOrders slug={slug} orderId={orderId} docs={docs} subs={q.data.sub_orders} />
      ) : (
        <>
          {docs
            .filter((d) => d.attention)
            .map((d) => (
              <Attention key={d.kind} slug={slug} orderId={orderId} doc={d} />
            ))}
          <Row gutter={[12, 12]}>
            {docs.map((d) => (
              <Col key={d.kind} xs={24} md={12} xxl={6}>
                <DocumentCard doc={d} />
              </Col>
            ))}
          </Row>
        </>
      )}
    </Card>
  );
}

/**
 * An order shipped from several warehouses: one block per customs order
 * (`out_trade_no-N`) with its warehouse, lines, amounts and four documents;
 * Declare again acts on that customs order only. The payment declaration is
 * the whole order's: its problem is shown once, above the blocks.
 */
function SplitOrders({ slug, orderId, docs, subs }: { slug: string; orderId: number; docs: CustomsDocument[]; subs: CustomsSubOrder[] }) {
  const { t } = useI18n();
  const { can } = useShop();
  const warehouses = useWarehouseNames(slug, can('catalog:read'));
  const pay = docs.find((d) => d.kind === 'payment');
  const warehouseName = (id: number | null) => {
    if (id == null) return null;
    const w = warehouses.data?.find((x) => x.id === id);
    return w ? `${w.name} (${w.code})` : `#${id}`;
  };
  return (
    <>
      <Typography.Paragraph type="secondary" data-testid="customs-split-note">
        {t('ops.customs.split.note', { count: subs.length })}
      </Typography.Paragraph>
      {pay?.attention && <Attention slug={slug} orderId={orderId} doc={pay} />}
      {subs.map((s) => (
        <div
          key={s.order_no}
          data-testid={`customs-sub-${s.order_no}`}
          className="customs-sub"
          style={{ border: '1px solid rgba(5,5,5,0.08)', borderRadius: 10, padding: 14, marginBottom: 12, background: 'rgba(0,0,0,0.015)' }}
        >
          <SubOrderHeader sub={s} warehouse={warehouseName(s.warehouse_id)} />
          {s.documents
            .filter((d) => d.attention && d.kind !== 'payment')
            .map((d) => (
              <Attention key={d.kind} slug={slug} orderId={orderId} doc={d} orderNo={s.order_no} />
            ))}
          <Row gutter={[12, 12]}>
            {s.documents.map((d) => (
              <Col key={d.kind} xs={24} md={12} xxl={6}>
                <DocumentCard doc={d} />
              </Col>
            ))}
          </Row>
        </div>
      ))}
    </>
  );
}

function SubOrderHeader({ sub: s, warehouse }: { sub: CustomsSubOrder; warehouse: string | null }) {
  const { t, money } = useI18n();
  const worst = s.documents.reduce<CustomsDocState>((w, d) => (rank[d.state] > rank[w] ? d.state : w), 'accepted');
  const amounts: [string, number, string][] = [
    [t('ops.customs.split.goods'), s.goods_value, 'goods'],
    [t('ops.customs.split.freight'), s.freight, 'freight'],
    [t('ops.customs.split.tax'), s.tax_total, 'tax'],
  ];
  if (s.discount) amounts.push([t('ops.customs.split.discount'), -s.discount, 'discount']);
  return (
    <div style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'flex-start', gap: 12, flexWrap: 'wrap', marginBottom: 12 }}>
      <div>
        <Space size={8} wrap>
          <StateIcon state={worst} />
          <Typography.Text strong className="mono" data-testid="customs-sub-no">
            {s.order_no}
          </Typography.Text>
          {warehouse && (
            <Tag bordered={false} data-testid="customs-sub-warehouse">
              {warehouse}
            </Tag>
          )}
        </Space>
        <div>
          <Typography.Text type="secondary" style={{ fontSize: 12 }} data-testid="customs-sub-lines">
            {s.line_nos.length ? t('ops.customs.split.lines', { lines: s.line_nos.join(', ') }) : t('ops.customs.split.noLines')}
          </Typography.Text>
        </div>
      </div>
      <div style={{ textAlign: 'right' }}>
        <div>
          <Typography.Text type="secondary">{t('ops.customs.split.paid')} </Typography.Text>
          <Typography.Text strong data-testid="customs-sub-paid">
            {money(s.actural_paid)}
          </Typography.Text>
        </div>
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {amounts.map(([label, v, k], i) => (
            <span key={k}>
              {i > 0 && ' · '}
              {label} {money(v)}
            </span>
          ))}
        </Typography.Text>
      </div>
    </div>
  );
}

/** Document states from done to furthest from it (the customs order's icon shows the worst). */
const rank: Record<CustomsDocState, number> = { accepted: 0, received: 1, sent: 2, not_started: 3, pending: 4, failed: 5, rejected: 6 };

function DocumentCard({ doc: d }: { doc: CustomsDocument }) {
  const { t, dateTime } = useI18n();
  const r = d.last_receipt;
  return (
    <div className="customs-doc" data-testid={`customs-doc-${d.kind}`} style={{ border: '1px solid rgba(5,5,5,0.08)', borderRadius: 8, padding: 12, height: '100%', boxSizing: 'border-box' }}>
      <div style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'flex-start', gap: 8 }}>
        <div>
          <Space size={6}>
            <StateIcon state={d.state} />
            <Typography.Text strong>{t(`ops.customs.kind.${d.kind}`)}</Typography.Text>
          </Space>
          <div>
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {t(`ops.customs.kindHint.${d.kind}`)}
            </Typography.Text>
          </div>
        </div>
        <CustomsStateTag kind={d.kind} state={d.state} />
      </div>
      <div style={{ marginTop: 10, fontSize: 13 }}>
        {r ? (
          <div data-testid="customs-last-receipt">
            <Typography.Text type="secondary">{t('ops.customs.lastReceipt')}: </Typography.Text>
            <Typography.Text code>{r.status}</Typography.Text> {r.info}
            <div>
              <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                {dateTime(r.time)}
              </Typography.Text>
            </div>
          </div>
        ) : (
          <Typography.Text type="secondary">{d.state === 'not_started' ? t('ops.customs.notYet') : t('ops.customs.noReceipt')}</Typography.Text>
        )}
        {d.last_error && (
          <div style={{ marginTop: 6 }}>
            <Typography.Text type="danger" data-testid="customs-last-error">
              {d.last_error}
            </Typography.Text>
          </div>
        )}
        {d.attempt > 0 && (
          <div style={{ marginTop: 6 }}>
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {t('ops.customs.attempt', { attempt: d.attempt })}
              {d.sent_at && ` · ${t('ops.customs.sentAt', { at: dateTime(d.sent_at) })}`}
            </Typography.Text>
          </div>
        )}
      </div>
      {d.receipts.length > 0 && (
        <Collapse
          ghost
          size="small"
          style={{ marginTop: 6, marginLeft: -12, marginRight: -12 }}
          items={[
            {
              key: 'r',
              label: <Typography.Text type="secondary">{t('ops.customs.receipts', { count: d.receipts.length })}</Typography.Text>,
              children: (
                <Timeline
                  style={{ marginTop: 8 }}
                  items={d.receipts.map((x, i) => ({
                    key: `${x.guid}-${i}`,
                    color: x.return_status === 100 || x.return_status < 0 ? 'red' : x.return_status === 120 || x.return_status === 800 ? 'green' : 'blue',
                    children: (
                      <div>
                        <Typography.Text code>{x.return_status}</Typography.Text> {x.return_info}
                        <div>
                          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                            {dateTime(x.return_time)}
                          </Typography.Text>
                        </div>
                      </div>
                    ),
                  }))}
                />
              ),
            },
          ]}
        />
      )}
    </div>
  );
}

/** A document that needs a person: why, what to do, and the action when the console can take it. */
function Attention({ slug, orderId, doc, orderNo }: { slug: string; orderId: number; doc: CustomsDocument; orderNo?: string }) {
  const { t } = useI18n();
  const { can } = useShop();
  const { message } = App.useApp();
  const errorMessage = useErrorMessage();
  const redeclare = useRedeclare(slug, orderId);
  const a = doc.attention!;
  // Declaring again is the last step of fixing the product or the identity too.
  const canRedeclare =
    can('orders:write') && (doc.state === 'rejected' || doc.state === 'failed') && (a.action === 'redeclare' || a.action === 'fix_product' || a.action === 'fix_identity');
  return (
    <Alert
      type={a.action === 'wait' ? 'info' : 'warning'}
      showIcon
      icon={<ExclamationCircleFilled />}
      style={{ marginBottom: 12 }}
      data-testid={`customs-attention-${doc.kind}`}
      message={
        <span>
          <Typography.Text strong>{t(`ops.customs.kind.${doc.kind}`)}</Typography.Text> · {t(`ops.customs.problem.${a.problem}`)}: {a.reason}
        </span>
      }
      description={
        <span>
          <Tag bordered={false} color="gold">
            {t(`ops.customs.action.${a.action}`)}
          </Tag>
          {a.action_text}
        </span>
      }
      action={
        canRedeclare && (
          <Button
            icon={<RedoOutlined />}
            loading={redeclare.isPending}
            data-testid="customs-redeclare"
            onClick={() =>
              redeclare.mutate({ kind: doc.kind === 'payment' ? 'payment' : 'order', orderNo }, {
                onSuccess: () => void message.success(t('ops.customs.redeclared')),
                onError: (e) => void message.error(errorMessage(e)),
              })
            }
          >
            {t('ops.customs.redeclare')}
          </Button>
        )
      }
    />
  );
}
