import { AccountBookOutlined, ArrowLeftOutlined, CheckOutlined, CloudDownloadOutlined } from '@ant-design/icons';
import { Alert, App, Button, Card, Col, Descriptions, Empty, Input, Modal, Row, Segmented, Space, Statistic, Table, Typography } from 'antd';
import { useState } from 'react';
import { useParams } from 'react-router';
import {
  discrepanciesCSVPath,
  downloadFile,
  useReconciliationDay,
  useResolveDiscrepancy,
  type Discrepancy,
  type Reconciliation,
} from '../../api/ops';
import { useShop } from '../../auth/ShopContext';
import { LinkButton } from '../../components/LinkButton';
import { PageHeader } from '../../components/PageHeader';
import { NotFound, QueryState, useErrorMessage } from '../../components/States';
import { useDocumentTitle } from '../../components/useDocumentTitle';
import { useI18n } from '../../i18n/I18nProvider';
import { shopPath } from '../../layout/sections';
import { KindTag, RunDay, RunStatusTag, StateTag } from './common';

/** /reconciliation/:date: a day's totals and its discrepancies. */
export function ReconciliationDayPage() {
  const { date: param = '' } = useParams();
  if (!/^\d{4}-\d{2}-\d{2}$/.test(param)) return <NotFound />;
  return <Day date={param} />;
}

function Day({ date: day }: { date: string }) {
  const { t, date } = useI18n();
  const { shop, can } = useShop();
  const { message } = App.useApp();
  const errorMessage = useErrorMessage();
  const q = useReconciliationDay(shop.slug, day);
  const writable = can('finance:write');
  const [downloading, setDownloading] = useState(false);
  const label = date(day + 'T12:00:00+08:00');
  useDocumentTitle(t('ops.recon.dayTitle', { date: label }), shop.name);

  const download = () => {
    setDownloading(true);
    downloadFile(discrepanciesCSVPath(shop.slug, day), `discrepancies-${day}.csv`)
      .catch((e: unknown) => void message.error(errorMessage(e)))
      .finally(() => setDownloading(false));
  };

  return (
    <>
      <PageHeader
        title={t('ops.recon.dayTitle', { date: label })}
        icon={<AccountBookOutlined />}
        tags={q.data && <RunStatusTag status={q.data.reconciliation.status} />}
        extra={
          <Space wrap align="start">
            <LinkButton icon={<ArrowLeftOutlined />} to={shopPath(shop.slug, 'reconciliation')}>
              {t('ops.recon.allDays')}
            </LinkButton>
            {q.data && (
              <Button icon={<CloudDownloadOutlined />} loading={downloading} onClick={download} data-testid="recon-csv">
                {t('ops.recon.csv')}
              </Button>
            )}
            {writable && q.data && <RunDay initial={day} compact />}
          </Space>
        }
      />
      <QueryState query={q} variant="page">
        {({ reconciliation: r, discrepancies }) => (
          <div data-testid="recon-day">
            {r.status === 'failed' && (
              <Alert type="error" showIcon message={t('ops.recon.failed')} description={r.error} style={{ marginBottom: 16 }} data-testid="recon-failed" />
            )}
            {r.summary_problems.length > 0 && (
              <Alert
                type="warning"
                showIcon
                message={t('ops.recon.summaryProblems')}
                description={
                  <ul style={{ margin: 0, paddingLeft: 18 }}>
                    {r.summary_problems.map((p) => (
                      <li key={p}>{p}</li>
                    ))}
                  </ul>
                }
                style={{ marginBottom: 16 }}
              />
            )}
            <Totals r={r} />
            <Discrepancies date={day} list={discrepancies} writable={writable} />
          </div>
        )}
      </QueryState>
    </>
  );
}

function Totals({ r }: { r: Reconciliation }) {
  const { t, money, number, dateTime } = useI18n();
  const mismatch = (a: number, b: number) => (a === b ? undefined : { color: '#cf1322' });
  return (
    <Card style={{ marginBottom: 16 }} data-testid="recon-totals">
      <Row gutter={[24, 16]}>
        <Col xs={12} md={8} xl={4}>
          <Statistic title={t('ops.recon.ourPayments')} value={money(r.our_payments)} />
        </Col>
        <Col xs={12} md={8} xl={4}>
          <Statistic title={t('ops.recon.billPayments')} value={money(r.bill_payments)} valueStyle={mismatch(r.our_payments, r.bill_payments)} />
        </Col>
        <Col xs={12} md={8} xl={4}>
          <Statistic title={t('ops.recon.ourRefunds')} value={money(r.our_refunds)} />
        </Col>
        <Col xs={12} md={8} xl={4}>
          <Statistic title={t('ops.recon.billRefunds')} value={money(r.bill_refunds)} valueStyle={mismatch(r.our_refunds, r.bill_refunds)} />
        </Col>
        <Col xs={12} md={8} xl={4}>
          <Statistic title={t('ops.recon.fees')} value={money(r.bill_fee)} />
        </Col>
        <Col xs={12} md={8} xl={4}>
          <Statistic title={t('ops.recon.net')} value={money(r.net_settlement)} valueStyle={{ fontWeight: 600 }} data-testid="recon-net" />
        </Col>
      </Row>
      <Typography.Paragraph type="secondary" style={{ margin: '16px 0 0' }}>
        {t('ops.recon.meta', { rows: number(r.bill_rows), runs: number(r.runs), at: dateTime(r.updated_at) })}
      </Typography.Paragraph>
    </Card>
  );
}

function Discrepancies({ date, list, writable }: { date: string; list: Discrepancy[]; writable: boolean }) {
  const { t, dateTime } = useI18n();
  const open = list.filter((d) => d.state === 'open').length;
  const [filter, setFilter] = useState<'open' | 'all'>(open > 0 ? 'open' : 'all');
  const [resolving, setResolving] = useState<Discrepancy | null>(null);
  const shown = filter === 'open' ? list.filter((d) => d.state === 'open') : list;

  return (
    <Card
      title={t('ops.recon.discrepancies')}
      extra={
        list.length > 0 && (
          <Segmented
            value={filter}
            onChange={(v) => setFilter(v as 'open' | 'all')}
            options={[
              { value: 'open', label: t('ops.recon.filterOpen', { count: open }) },
              { value: 'all', label: t('ops.recon.filterAll', { count: list.length }) },
            ]}
            data-testid="discrepancy-filter"
          />
        )
      }
    >
      {list.length === 0 ? (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('ops.recon.noDiscrepancies')} data-testid="recon-no-discrepancies" />
      ) : (
        <Table<Discrepancy>
          rowKey="id"
          size="middle"
          dataSource={shown}
          pagination={shown.length > 50 ? { pageSize: 50, showSizeChanger: false } : false}
          scroll={{ x: true }}
          data-testid="discrepancy-table"
          locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('ops.recon.noneOpen')} /> }}
          onRow={(d) => ({ className: 'discrepancy-row', 'data-testid': `discrepancy-${d.id}` })}
          expandable={{ expandedRowRender: (d) => <Evidence d={d} />, rowExpandable: () => true }}
          columns={[
            { title: t('ops.recon.kind'), dataIndex: 'kind', width: 170, render: (k: Discrepancy['kind']) => <KindTag kind={k} /> },
            {
              title: t('ops.recon.reference'),
              dataIndex: 'reference',
              width: 230,
              render: (v: string) => (v ? <Typography.Text copyable={{ text: v }} className="mono">{v}</Typography.Text> : '—'),
            },
            { title: t('ops.recon.explanation'), dataIndex: 'explanation' },
            {
              title: t('ops.recon.stateCol'),
              key: 'state',
              width: 240,
              render: (_, d) => (
                <div>
                  <StateTag state={d.state} />
                  {d.state === 'resolved' && (
                    <div>
                      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                        {d.resolved_by} · {dateTime(d.resolved_at)}
                      </Typography.Text>
                      {d.note && <div data-testid="discrepancy-note">{d.note}</div>}
                    </div>
                  )}
                </div>
              ),
            },
            ...(writable
              ? [
                  {
                    key: 'action',
                    width: 110,
                    render: (_: unknown, d: Discrepancy) =>
                      d.state === 'open' && (
                        <Button size="small" icon={<CheckOutlined />} onClick={() => setResolving(d)} data-testid="discrepancy-resolve">
                          {t('ops.recon.resolve')}
                        </Button>
                      ),
                  },
                ]
              : []),
          ]}
        />
      )}
      {resolving && <ResolveModal date={date} d={resolving} onClose={() => setResolving(null)} />}
    </Card>
  );
}

/** The evidence of a discrepancy: the bill's row and our record, as labelled values. */
function Evidence({ d }: { d: Discrepancy }) {
  const { t, money } = useI18n();
  const entries = Object.entries(d.evidence ?? {});
  if (entries.length === 0) return <Typography.Text type="secondary">{t('ops.recon.noEvidence')}</Typography.Text>;
  // Amounts are fen: shown in yuan, with the raw figure for comparing with the bill.
  const show = (k: string, v: unknown) => {
    if (typeof v === 'object' && v !== null) return <pre className="mono" style={{ margin: 0, whiteSpace: 'pre-wrap' }}>{JSON.stringify(v, null, 2)}</pre>;
    if (typeof v === 'number' && Number.isInteger(v) && /(amount|total|fee|refund)$/.test(k)) {
      return (
        <span>
          {money(v)} <Typography.Text type="secondary" className="mono">({v})</Typography.Text>
        </span>
      );
    }
    return String(v);
  };
  return (
    <Descriptions size="small" bordered column={1} title={t('ops.recon.evidence')} data-testid="discrepancy-evidence">
      {entries.map(([k, v]) => (
        <Descriptions.Item key={k} label={<span className="mono">{k}</span>}>
          {show(k, v)}
        </Descriptions.Item>
      ))}
    </Descriptions>
  );
}

function ResolveModal({ date, d, onClose }: { date: string; d: Discrepancy; onClose: () => void }) {
  const { t } = useI18n();
  const { shop } = useShop();
  const { message } = App.useApp();
  const errorMessage = useErrorMessage();
  const resolve = useResolveDiscrepancy(shop.slug, date);
  const [note, setNote] = useState('');
  const [error, setError] = useState<string | null>(null);

  const submit = () => {
    const n = note.trim();
    if (n === '') {
      setError(t('ops.recon.noteRequired'));
      return;
    }
    resolve.mutate(
      { id: d.id, note: n },
      {
        onSuccess: () => {
          void message.success(t('ops.recon.resolved'));
          onClose();
        },
        onError: (e) => setError(errorMessage(e)),
      },
    );
  };

  return (
    <Modal
      open
      title={t('ops.recon.resolveTitle', { ref: d.reference || `#${d.id}` })}
      okText={t('ops.recon.resolve')}
      okButtonProps={{ loading: resolve.isPending, disabled: note.trim() === '', 'data-testid': 'resolve-submit' }}
      cancelText={t('common.cancel')}
      onOk={submit}
      onCancel={onClose}
      destroyOnHidden
    >
      <div data-testid="resolve-modal">
        <Typography.Paragraph>
          <KindTag kind={d.kind} /> {d.explanation}
        </Typography.Paragraph>
        <Input.TextArea
          rows={4}
          maxLength={1000}
          showCount
          value={note}
          onChange={(e) => setNote(e.target.value)}
          placeholder={t('ops.recon.notePlaceholder')}
          data-testid="resolve-note"
        />
        {note.trim() === '' && (
          <Typography.Text type="secondary" data-testid="resolve-note-required">
            {t('ops.recon.noteRequired')}
          </Typography.Text>
        )}
        {error && <Alert type="error" showIcon message={error} style={{ marginTop: 12 }} data-testid="resolve-error" />}
      </div>
    </Modal>
  );
}
