import { CarOutlined, InboxOutlined, ReloadOutlined } from '@ant-design/icons';
import { Alert, Button, Card, Table, Tabs, Tag, Typography, Upload } from 'antd';
import { useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { isApiError } from '../../api/client';
import { importShipments, useLogisticsAlerts, type LogisticsAlert, type ShipmentImportError, type ShipmentImportResult } from '../../api/ops';
import { useQueryClient } from '@tanstack/react-query';
import { useShop } from '../../auth/ShopContext';
import { PageHeader } from '../../components/PageHeader';
import { ErrorState, useErrorMessage } from '../../components/States';
import { useDocumentTitle } from '../../components/useDocumentTitle';
import { useI18n } from '../../i18n/I18nProvider';
import { shopPath } from '../../layout/sections';
import { AllClear } from '../customs/common';
import { FailedTasks } from '../customs/FailedTasks';
import { ShipmentStateTag } from '../orders/ShipmentsPanel';

type TabKey = 'alerts' | 'import' | 'tasks';

/** /logistics: what needs acting on (WeChat shipping information, parcels in trouble), tracking numbers from a CSV, failed shipping tasks. */
export function LogisticsPage() {
  const { t } = useI18n();
  const { shop, can } = useShop();
  const [params, setParams] = useSearchParams();
  const writable = can('orders:write');
  const asked = params.get('tab');
  const tab: TabKey = asked === 'import' && writable ? 'import' : asked === 'tasks' ? 'tasks' : 'alerts';
  useDocumentTitle(t('nav.logistics'), shop.name);
  return (
    <>
      <PageHeader title={t('nav.logistics')} icon={<CarOutlined />} subtitle={t('ops.logi.subtitle')} />
      <Card className="list-card">
        <Tabs
          activeKey={tab}
          onChange={(k) => setParams(k === 'alerts' ? {} : { tab: k }, { replace: true })}
          items={[
            { key: 'alerts', label: t('ops.logi.alertsTab'), children: <Alerts /> },
            ...(writable ? [{ key: 'import', label: t('ops.logi.importTab'), children: <TrackingImport /> }] : []),
            { key: 'tasks', label: t('ops.tasks.tab'), children: <FailedTasks kinds={['logistics.']} /> },
          ]}
        />
      </Card>
    </>
  );
}

function Alerts() {
  const { t, tMaybe, dateTime } = useI18n();
  const { shop } = useShop();
  const navigate = useNavigate();
  const q = useLogisticsAlerts(shop.slug);
  if (q.isError) return <ErrorState error={q.error} variant="inline" onRetry={() => void q.refetch()} />;
  return (
    <Table<LogisticsAlert>
      rowKey={(a) => `${a.kind}|${a.order_id}|${a.shipment_id ?? ''}`}
      loading={q.isFetching}
      dataSource={q.data?.alerts ?? []}
      pagination={(q.data?.alerts.length ?? 0) > 50 ? { pageSize: 50, showSizeChanger: false } : false}
      scroll={{ x: true }}
      data-testid="logistics-alerts"
      onRow={(a) => ({ onClick: () => void navigate(shopPath(shop.slug, `orders/${a.order_id}`)), className: 'clickable-row' })}
      locale={{
        emptyText: q.isPending ? (
          ' '
        ) : (
          <AllClear title={t('ops.logi.noAlertsTitle')} text={t('ops.logi.noAlertsText')} testid="logistics-alerts-empty" />
        ),
      }}
      columns={[
        {
          title: t('ops.logi.alert'),
          dataIndex: 'kind',
          width: 230,
          render: (k: LogisticsAlert['kind'], a) => (
            <Tag bordered={false} color={a.severity === 'error' ? 'error' : 'warning'}>
              {tMaybe(`ops.logi.kind.${k}`, k)}
            </Tag>
          ),
        },
        {
          title: t('orders.number'),
          dataIndex: 'out_trade_no',
          width: 200,
          render: (v: string) => (
            <Typography.Text strong className="mono">
              {v}
            </Typography.Text>
          ),
        },
        { title: t('ops.logi.tracking'), dataIndex: 'tracking_no', width: 170, render: (v: string) => (v ? <span className="mono">{v}</span> : '—') },
        {
          title: t('ops.logi.message'),
          dataIndex: 'message',
          render: (m: string, a) => (
            <span>
              {a.code && <Typography.Text code>{a.code}</Typography.Text>} {m}
            </span>
          ),
        },
        { title: t('ops.logi.since'), dataIndex: 'since', width: 180, render: (d: string) => dateTime(d) },
      ]}
    />
  );
}

function TrackingImport() {
  const { t, number } = useI18n();
  const { shop } = useShop();
  const qc = useQueryClient();
  const errorMessage = useErrorMessage();
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<ShipmentImportResult | null>(null);
  const [failure, setFailure] = useState<unknown>(null);

  const send = (file: File) => {
    setBusy(true);
    setResult(null);
    setFailure(null);
    importShipments(shop.slug, file)
      .then((r) => {
        setResult(r);
        void qc.invalidateQueries({ queryKey: ['order-shipments', shop.slug] });
        void qc.invalidateQueries({ queryKey: ['orders', shop.slug] });
        void qc.invalidateQueries({ queryKey: ['logistics-alerts', shop.slug] });
      })
      .catch((e: unknown) => setFailure(e))
      .finally(() => setBusy(false));
  };
  const details = isApiError(failure) ? (failure.details as { errors?: ShipmentImportError[]; total?: number } | undefined) : undefined;
  const rows = Array.isArray(details?.errors) ? details.errors : [];

  return (
    <div data-testid="tracking-import">
      <Typography.Paragraph type="secondary">{t('ops.logi.importHelp')}</Typography.Paragraph>
      <Typography.Paragraph>
        <Typography.Text code>order_no,carrier,tracking_no,lines</Typography.Text>
        <br />
        <Typography.Text code>MS20261130000001,yuantong,YT6186594166532,</Typography.Text>
        <br />
        <Typography.Text code>MS20261130000002,shunfeng,SF1234567890123,1:2;3:1</Typography.Text>
      </Typography.Paragraph>
      {result || failure ? (
        <Button icon={<ReloadOutlined />} onClick={() => (setResult(null), setFailure(null))} style={{ marginBottom: 12 }} data-testid="tracking-import-another">
          {t('ops.import.another')}
        </Button>
      ) : (
        <div data-testid="tracking-dropzone">
          <Upload.Dragger
            accept=".csv,text/csv"
            multiple={false}
            showUploadList={false}
            disabled={busy}
            beforeUpload={(f) => {
              send(f);
              return false;
            }}
          >
            <p className="ant-upload-drag-icon">
              <InboxOutlined />
            </p>
            <p className="ant-upload-text">{busy ? t('ops.import.uploading') : t('ops.logi.drop')}</p>
            <p className="ant-upload-hint">{t('ops.logi.dropHint')}</p>
          </Upload.Dragger>
        </div>
      )}
      {result && (
        <div data-testid="tracking-import-result">
          <Alert type="success" showIcon message={t('ops.logi.imported', { imported: number(result.imported), unchanged: number(result.unchanged) })} style={{ marginBottom: 12 }} />
          <Table
            size="small"
            rowKey="id"
            pagination={false}
            dataSource={result.shipments}
            columns={[
              { title: t('ops.logi.order'), dataIndex: 'order_id', render: (id: number) => `#${id}` },
              { title: t('ops.ship.carrier'), dataIndex: 'carrier_name' },
              { title: t('ops.logi.tracking'), dataIndex: 'tracking_no', render: (v: string) => <span className="mono">{v}</span> },
              { title: t('ops.logi.state'), dataIndex: 'state', render: (s) => <ShipmentStateTag state={s} /> },
            ]}
          />
        </div>
      )}
      {failure !== null && (
        <div data-testid="tracking-import-errors">
          <Alert
            type="error"
            showIcon
            message={rows.length ? ((details?.total ?? rows.length) === 1 ? t('ops.logi.importFailedOne') : t('ops.logi.importFailed', { count: number(details?.total ?? rows.length) })) : errorMessage(failure)}
            style={{ marginBottom: 12 }}
          />
          {rows.length > 0 && (
            <Table<ShipmentImportError>
              size="small"
              rowKey={(r) => `${r.line}|${r.column}|${r.code}`}
              pagination={false}
              dataSource={rows}
              columns={[
                { title: t('ops.import.line'), dataIndex: 'line', width: 70, align: 'right' },
                { title: t('ops.import.column'), dataIndex: 'column', width: 120, render: (c: string) => (c ? <Typography.Text code>{c}</Typography.Text> : '—') },
                { title: t('ops.import.reason'), dataIndex: 'message' },
              ]}
            />
          )}
        </div>
      )}
    </div>
  );
}
