import { AccountBookOutlined } from '@ant-design/icons';
import { Badge, Card, Empty, Table, Tooltip, Typography } from 'antd';
import { useNavigate } from 'react-router';
import { useReconciliations, type Reconciliation } from '../../api/ops';
import { useShop } from '../../auth/ShopContext';
import { PageHeader } from '../../components/PageHeader';
import { ErrorState } from '../../components/States';
import { useDocumentTitle } from '../../components/useDocumentTitle';
import { useI18n } from '../../i18n/I18nProvider';
import { shopPath } from '../../layout/sections';
import { RunDay, RunStatusTag } from './common';

/** /reconciliation: the reconciled days, newest first, and a day run on demand. */
export function ReconciliationPage() {
  const { t, money, number, date, dateTime } = useI18n();
  const { shop, can } = useShop();
  const navigate = useNavigate();
  const days = useReconciliations(shop.slug);
  const writable = can('finance:write');
  useDocumentTitle(t('nav.reconciliation'), shop.name);

  const diff = (ours: number, bill: number) =>
    ours === bill ? (
      money(bill)
    ) : (
      <Tooltip title={t('ops.recon.oursTip', { ours: money(ours) })}>
        <Typography.Text type="danger">{money(bill)}</Typography.Text>
      </Tooltip>
    );

  return (
    <>
      <PageHeader
        title={t('nav.reconciliation')}
        icon={<AccountBookOutlined />}
        subtitle={t('ops.recon.subtitle')}
        extra={writable && <RunDay />}
      />
      <Card className="list-card">
        {days.isError ? (
          <ErrorState error={days.error} variant="inline" onRetry={() => void days.refetch()} />
        ) : (
          <Table<Reconciliation>
            rowKey="date"
            loading={days.isFetching}
            dataSource={days.data?.reconciliations ?? []}
            pagination={false}
            scroll={{ x: true }}
            data-testid="recon-days"
            onRow={(r) => ({
              onClick: () => void navigate(shopPath(shop.slug, `reconciliation/${r.date}`)),
              className: 'clickable-row',
              'data-testid': `recon-day-${r.date}`,
            })}
            locale={{
              emptyText: days.isPending ? (
                ' '
              ) : (
                <Empty
                  image={<span className="coming-soon-icon"><AccountBookOutlined /></span>}
                  styles={{ image: { height: 'auto' } }}
                  data-testid="recon-empty"
                  description={
                    <div>
                      <Typography.Title level={5}>{t('ops.recon.emptyTitle')}</Typography.Title>
                      <Typography.Paragraph type="secondary" style={{ maxWidth: 460, margin: '0 auto' }}>
                        {writable ? t('ops.recon.emptyText') : t('ops.recon.emptyTextReadOnly')}
                      </Typography.Paragraph>
                    </div>
                  }
                />
              ),
            }}
            columns={[
              { title: t('ops.recon.date'), dataIndex: 'date', width: 130, render: (d: string) => <Typography.Text strong>{date(d + 'T12:00:00+08:00')}</Typography.Text> },
              { title: t('ops.recon.statusCol'), dataIndex: 'status', width: 150, render: (s: Reconciliation['status']) => <RunStatusTag status={s} /> },
              {
                title: t('ops.recon.open'),
                dataIndex: 'open',
                width: 110,
                align: 'center',
                render: (n: number) => (n > 0 ? <Badge count={n} overflowCount={9999} data-testid="recon-open" /> : <Typography.Text type="secondary">0</Typography.Text>),
              },
              { title: t('ops.recon.billRows'), dataIndex: 'bill_rows', align: 'right', render: (n: number) => number(n) },
              { title: t('ops.recon.payments'), key: 'payments', align: 'right', render: (_, r) => diff(r.our_payments, r.bill_payments) },
              { title: t('ops.recon.refunds'), key: 'refunds', align: 'right', render: (_, r) => diff(r.our_refunds, r.bill_refunds) },
              { title: t('ops.recon.fees'), dataIndex: 'bill_fee', align: 'right', render: (v: number) => money(v) },
              {
                title: t('ops.recon.net'),
                dataIndex: 'net_settlement',
                align: 'right',
                render: (v: number) => <Typography.Text strong>{money(v)}</Typography.Text>,
              },
              {
                title: t('ops.recon.updated'),
                dataIndex: 'updated_at',
                width: 180,
                render: (d: string, r) => (
                  <Typography.Text type="secondary">
                    {dateTime(d)}
                    {r.runs > 1 && ` · ×${r.runs}`}
                  </Typography.Text>
                ),
              },
            ]}
          />
        )}
      </Card>
    </>
  );
}
