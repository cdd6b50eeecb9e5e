import { SafetyCertificateOutlined } from '@ant-design/icons';
import { Card, Table, Tabs, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { useCustomsQueue, type CustomsQueueDoc, type CustomsQueueItem } from '../../api/ops';
import { useShop } from '../../auth/ShopContext';
import { PageHeader } from '../../components/PageHeader';
import { ErrorState } from '../../components/States';
import { useDocumentTitle } from '../../components/useDocumentTitle';
import { useI18n } from '../../i18n/I18nProvider';
import { shopPath } from '../../layout/sections';
import { OrderStatusTag } from '../orders/common';
import { CustomsStateTag } from '../orders/CustomsPanel';
import { AllClear, CursorPager } from './common';
import { FailedTasks } from './FailedTasks';

/** /customs: orders whose customs documents need a person, and the shop's failed background tasks. */
export function CustomsPage() {
  const { t } = useI18n();
  const { shop } = useShop();
  const [params, setParams] = useSearchParams();
  const tab = params.get('tab') === 'tasks' ? 'tasks' : 'queue';
  useDocumentTitle(t('nav.customs'), shop.name);
  return (
    <>
      <PageHeader title={t('nav.customs')} icon={<SafetyCertificateOutlined />} subtitle={t('ops.customs.subtitle')} />
      <Card className="list-card">
        <Tabs
          activeKey={tab}
          onChange={(k) => setParams(k === 'tasks' ? { tab: 'tasks' } : {}, { replace: true })}
          items={[
            { key: 'queue', label: t('ops.customs.queueTab'), children: <Queue /> },
            { key: 'tasks', label: t('ops.tasks.tab'), children: <FailedTasks /> },
          ]}
        />
      </Card>
    </>
  );
}

function Queue() {
  const { t, dateTime } = useI18n();
  const { shop } = useShop();
  const navigate = useNavigate();
  const [cursors, setCursors] = useState<string[]>([]);
  const q = useCustomsQueue(shop.slug, cursors[cursors.length - 1]);
  if (q.isError) return <ErrorState error={q.error} variant="inline" onRetry={() => void q.refetch()} />;
  return (
    <>
      <Table<CustomsQueueItem>
        rowKey="order_id"
        loading={q.isFetching}
        dataSource={q.data?.orders ?? []}
        pagination={false}
        scroll={{ x: true }}
        data-testid="customs-queue"
        onRow={(o) => ({
          onClick: () => void navigate(shopPath(shop.slug, `orders/${o.order_id}`)),
          className: 'clickable-row',
          'data-testid': `customs-queue-${o.order_id}`,
        })}
        locale={{
          emptyText: q.isPending ? (
            ' '
          ) : (
            <AllClear title={t('ops.customs.queueEmptyTitle')} text={t('ops.customs.queueEmptyText')} testid="customs-queue-empty" />
          ),
        }}
        columns={[
          {
            title: t('orders.number'),
            dataIndex: 'order_no',
            width: 220,
            render: (v: string, o) => (
              <div>
                <Typography.Text strong className="mono">
                  {v}
                </Typography.Text>
                <div>
                  <OrderStatusTag status={o.order_status} />
                </div>
              </div>
            ),
          },
          {
            title: t('ops.customs.problemCol'),
            key: 'docs',
            render: (_, o) => (
              <div style={{ display: 'flex', flexDirection: 'column', gap: 10 }}>
                {o.documents.map((d) => (
                  <QueueDoc key={`${d.kind} ${d.order_no ?? ''}`} d={d} />
                ))}
              </div>
            ),
          },
          {
            title: t('ops.customs.since'),
            key: 'since',
            width: 180,
            render: (_, o) => <Typography.Text type="secondary">{dateTime(o.documents[0]?.since)}</Typography.Text>,
          },
        ]}
      />
      <CursorPager cursors={cursors} next={q.data?.next_cursor} onChange={setCursors} />
    </>
  );
}

function QueueDoc({ d }: { d: CustomsQueueDoc }) {
  const { t } = useI18n();
  return (
    <div data-testid={`queue-doc-${d.kind}`} data-order-no={d.order_no}>
      <div style={{ display: 'flex', gap: 6, alignItems: 'center', flexWrap: 'wrap' }}>
        <Typography.Text strong>{t(`ops.customs.kind.${d.kind}`)}</Typography.Text>
        {d.order_no && (
          <Tag bordered={false} color="blue" className="mono" data-testid="queue-doc-order-no">
            {t('ops.customs.split.queueOrder', { no: d.order_no })}
          </Tag>
        )}
        <CustomsStateTag kind={`queue-${d.kind}`} state={d.state} />
        {d.problem !== d.state && <Typography.Text type="secondary">{t(`ops.customs.problem.${d.problem}`)}</Typography.Text>}
      </div>
      <div>{d.reason}</div>
      {d.last_receipt && (
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          <Typography.Text code>{d.last_receipt.status}</Typography.Text> {d.last_receipt.info}
        </Typography.Text>
      )}
      <div style={{ marginTop: 2 }}>
        <Tag bordered={false} color="gold" data-testid="queue-action" data-action={d.action}>
          {t(`ops.customs.action.${d.action}`)}
        </Tag>
        <Typography.Text type="secondary">{d.action_text}</Typography.Text>
      </div>
    </div>
  );
}
