import { CheckCircleOutlined, RedoOutlined } from '@ant-design/icons';
import { App, Button, Empty, Segmented, Table, Tag, Tooltip, Typography } from 'antd';
import { useState } from 'react';
import { Link } from 'react-router';
import type { Permission } from '../../api/types';
import { useFailedTasks, useRetryTask, type FailedTask } from '../../api/ops';
import { useShop } from '../../auth/ShopContext';
import { CursorPager } from './common';
import { ErrorState, useErrorMessage } from '../../components/States';
import { useI18n } from '../../i18n/I18nProvider';
import { shopPath } from '../../layout/sections';

/** The permission a task's retry needs (tenant/tasks.go): the console hides Retry without it. */
function retryPermission(kind: string): Permission {
  if (kind === 'order.refund_required' || kind === 'order.refund_submit') return 'orders:refund';
  if (kind.startsWith('customs.') || kind.startsWith('logistics.') || kind.startsWith('order.')) return 'orders:write';
  if (kind === 'catalog.import') return 'catalog:write';
  if (kind === 'billing.reconcile_day') return 'finance:write';
  if (kind === 'credentials.verify') return 'credentials:write';
  return 'shop:write';
}

/**
 * The shop's background tasks that failed (given up after their automatic
 * retries, or still being retried), with Retry for those the user may run.
 * `kinds` keeps only tasks whose kind starts with one of the prefixes.
 */
export function FailedTasks({ kinds }: { kinds?: string[] }) {
  const { t, tMaybe, dateTime } = useI18n();
  const { shop, can } = useShop();
  const { message } = App.useApp();
  const errorMessage = useErrorMessage();
  const [state, setState] = useState<'failed' | 'retrying'>('failed');
  const [cursors, setCursors] = useState<number[]>([]);
  const q = useFailedTasks(shop.slug, state, cursors[cursors.length - 1]);
  const retry = useRetryTask(shop.slug);
  const [retried, setRetried] = useState<Set<number>>(new Set());
  const tasks = (q.data?.tasks ?? []).filter((x) => !kinds || kinds.some((k) => x.kind.startsWith(k)));

  const run = (task: FailedTask) =>
    retry.mutate(task.id, {
      onSuccess: () => {
        setRetried((s) => new Set(s).add(task.id));
        void message.success(t('ops.tasks.retried'));
      },
      onError: (e) => void message.error(errorMessage(e)),
    });

  return (
    <div data-testid="failed-tasks">
      <div style={{ marginBottom: 12 }}>
        <Segmented
          value={state}
          onChange={(v) => {
            setState(v as 'failed' | 'retrying');
            setCursors([]);
          }}
          options={[
            { value: 'failed', label: t('ops.tasks.failed') },
            { value: 'retrying', label: t('ops.tasks.retrying') },
          ]}
        />
      </div>
      {q.isError ? (
        <ErrorState error={q.error} variant="inline" onRetry={() => void q.refetch()} />
      ) : (
        <Table<FailedTask>
          rowKey="id"
          size="middle"
          loading={q.isFetching}
          dataSource={tasks}
          pagination={false}
          scroll={{ x: true }}
          data-testid="failed-task-table"
          locale={{
            emptyText: q.isPending ? (
              ' '
            ) : (
              <Empty
                image={<CheckCircleOutlined style={{ fontSize: 32, color: '#52c41a' }} />}
                styles={{ image: { height: 'auto' } }}
                description={state === 'failed' ? t('ops.tasks.noneFailed') : t('ops.tasks.noneRetrying')}
                data-testid="failed-tasks-empty"
              />
            ),
          }}
          columns={[
            {
              title: t('ops.tasks.task'),
              key: 'label',
              width: 200,
              render: (_, x) => (
                <div>
                  <Typography.Text strong>{tMaybe(`ops.tasks.kind.${x.kind}`, x.label)}</Typography.Text>
                  <div>
                    <Typography.Text type="secondary" className="mono" style={{ fontSize: 12 }}>
                      {x.kind}
                    </Typography.Text>
                  </div>
                </div>
              ),
            },
            { title: t('ops.tasks.error'), dataIndex: 'error', render: (e: string, x) => <Typography.Text>{e || x.message}</Typography.Text> },
            {
              title: t('ops.tasks.order'),
              dataIndex: 'order_id',
              width: 110,
              render: (id: number | null) => (id ? <Link to={shopPath(shop.slug, `orders/${id}`)}>#{id}</Link> : '—'),
            },
            { title: t('ops.tasks.failures'), dataIndex: 'failures', width: 90, align: 'right' },
            { title: t('ops.tasks.failedAt'), dataIndex: 'failed_at', width: 180, render: (d: string) => dateTime(d) },
            {
              key: 'action',
              width: 130,
              render: (_, x) =>
                retried.has(x.id) ? (
                  <Tag bordered={false} color="processing">
                    {t('ops.tasks.queued')}
                  </Tag>
                ) : x.state === 'failed' && can(retryPermission(x.kind)) ? (
                  <Button size="small" icon={<RedoOutlined />} loading={retry.isPending && retry.variables === x.id} onClick={() => run(x)} data-testid="task-retry">
                    {t('ops.tasks.retry')}
                  </Button>
                ) : x.state === 'retrying' ? (
                  <Tooltip title={t('ops.tasks.autoRetry')}>
                    <Tag bordered={false}>{t('ops.tasks.auto')}</Tag>
                  </Tooltip>
                ) : null,
            },
          ]}
        />
      )}
      <CursorPager cursors={cursors} next={q.data?.next_before} onChange={setCursors} />
    </div>
  );
}
