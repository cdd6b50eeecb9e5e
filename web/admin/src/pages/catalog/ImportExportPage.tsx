import {
  ArrowLeftOutlined,
  CheckCircleFilled,
  CloseCircleFilled,
  CloudDownloadOutlined,
  CloudUploadOutlined,
  FileExcelOutlined,
  FileTextOutlined,
  InboxOutlined,
  ReloadOutlined,
  SwapOutlined,
} from '@ant-design/icons';
import { Alert, App, Button, Card, Col, Descriptions, Progress, Row, Space, Table, Tag, Typography, Upload } from 'antd';
import { useState, type ReactNode } from 'react';
import { useSearchParams } from 'react-router';
import { isApiError } from '../../api/client';
import {
  downloadFile,
  exportPath,
  importErrorsPath,
  importTemplatePath,
  uploadImport,
  useImportJob,
  type CatalogImport,
  type FileFormat,
  type ImportRowError,
} from '../../api/ops';
import { useShop } from '../../auth/ShopContext';
import { LinkButton } from '../../components/LinkButton';
import { PageHeader } from '../../components/PageHeader';
import { ErrorState, useErrorMessage } from '../../components/States';
import { useDocumentTitle } from '../../components/useDocumentTitle';
import { useI18n } from '../../i18n/I18nProvider';
import { shopPath } from '../../layout/sections';

const MAX_BYTES = 64 << 20;

/** /catalog/import: upload a CSV or XLSX catalog, follow the job, read its bad rows; download the template and the export. */
export function ImportExportPage() {
  const { t } = useI18n();
  const { shop, can } = useShop();
  const writable = can('catalog:write');
  useDocumentTitle(t('ops.import.title'), shop.name);

  return (
    <>
      <PageHeader
        title={t('ops.import.title')}
        icon={<SwapOutlined />}
        subtitle={t('ops.import.subtitle')}
        extra={
          <LinkButton icon={<ArrowLeftOutlined />} to={shopPath(shop.slug, 'catalog')}>
            {t('ops.import.backToCatalog')}
          </LinkButton>
        }
      />
      <Row gutter={[16, 16]}>
        <Col xs={24} xl={16}>
          {writable ? (
            <ImportCard />
          ) : (
            <Card title={t('ops.import.importTitle')}>
              <Alert type="info" showIcon message={t('ops.import.readOnly')} data-testid="import-read-only" />
            </Card>
          )}
        </Col>
        <Col xs={24} xl={8}>
          <Space direction="vertical" size={16} style={{ width: '100%' }}>
            <DownloadCard
              testid="export"
              title={t('ops.export.title')}
              text={t('ops.export.text')}
              path={(f) => exportPath(shop.slug, f)}
              fallback={`catalog-${shop.slug}`}
            />
            <DownloadCard
              testid="template"
              title={t('ops.template.title')}
              text={t('ops.template.text')}
              path={(f) => importTemplatePath(shop.slug, f)}
              fallback="catalog-template"
            >
              <ul style={{ margin: '16px 0 0', paddingLeft: 18 }}>
                <li>
                  <Typography.Text type="secondary">{t('ops.template.ruleHandle')}</Typography.Text>
                </li>
                <li>
                  <Typography.Text type="secondary">{t('ops.template.rulePrice')}</Typography.Text>
                </li>
                <li>
                  <Typography.Text type="secondary">{t('ops.template.ruleStock')}</Typography.Text>
                </li>
                <li>
                  <Typography.Text type="secondary">{t('ops.template.ruleAllOrNothing')}</Typography.Text>
                </li>
              </ul>
            </DownloadCard>
          </Space>
        </Col>
      </Row>
    </>
  );
}

function DownloadCard({
  testid,
  title,
  text,
  path,
  fallback,
  children,
}: {
  testid: string;
  title: string;
  text: string;
  path: (f: FileFormat) => string;
  fallback: string;
  children?: ReactNode;
}) {
  const { message } = App.useApp();
  const errorMessage = useErrorMessage();
  const [busy, setBusy] = useState<FileFormat | null>(null);
  const get = (f: FileFormat) => {
    setBusy(f);
    downloadFile(path(f), `${fallback}.${f}`)
      .catch((e: unknown) => void message.error(errorMessage(e)))
      .finally(() => setBusy(null));
  };
  return (
    <Card title={title} data-testid={`${testid}-card`}>
      <Typography.Paragraph type="secondary" style={{ marginBottom: 12 }}>
        {text}
      </Typography.Paragraph>
      <Space wrap>
        <Button icon={<FileTextOutlined />} loading={busy === 'csv'} onClick={() => get('csv')} data-testid={`${testid}-csv`}>
          CSV
        </Button>
        <Button icon={<FileExcelOutlined />} loading={busy === 'xlsx'} onClick={() => get('xlsx')} data-testid={`${testid}-xlsx`}>
          Excel (XLSX)
        </Button>
      </Space>
      {children}
    </Card>
  );
}

/** The upload and the job it started (kept in ?job= so a reload finds it again). */
function ImportCard() {
  const { t } = useI18n();
  const { shop } = useShop();
  const errorMessage = useErrorMessage();
  const [params, setParams] = useSearchParams();
  const jobParam = params.get('job');
  const jobId = jobParam && /^[1-9]\d{0,15}$/.test(jobParam) ? Number(jobParam) : null;
  const [uploaded, setUploaded] = useState<CatalogImport | undefined>(undefined);
  const [sending, setSending] = useState<{ name: string; sent: number } | null>(null);
  const [refused, setRefused] = useState<{ name: string; error: unknown } | null>(null);
  const job = useImportJob(shop.slug, jobId, uploaded);

  const start = (file: File) => {
    setRefused(null);
    if (!/\.(csv|xlsx)$/i.test(file.name)) {
      setRefused({ name: file.name, error: new Error(t('ops.import.wrongType')) });
      return;
    }
    if (file.size > MAX_BYTES) {
      setRefused({ name: file.name, error: new Error(t('ops.import.tooLarge')) });
      return;
    }
    setSending({ name: file.name, sent: 0 });
    uploadImport(shop.slug, file, (sent) => setSending({ name: file.name, sent }))
      .then((j) => {
        setUploaded(j);
        setParams({ job: String(j.id) }, { replace: false });
      })
      .catch((e: unknown) => setRefused({ name: file.name, error: e }))
      .finally(() => setSending(null));
  };

  const reset = () => {
    setUploaded(undefined);
    setRefused(null);
    setParams({}, { replace: false });
  };

  const busy = sending !== null || job.data?.status === 'queued' || job.data?.status === 'running';

  return (
    <Card
      title={t('ops.import.importTitle')}
      data-testid="import-card"
      extra={
        (jobId !== null || refused) &&
        !busy && (
          <Button icon={<ReloadOutlined />} onClick={reset} data-testid="import-another">
            {t('ops.import.another')}
          </Button>
        )
      }
    >
      {jobId === null && !sending && (
        <div data-testid="import-dropzone">
        <Upload.Dragger
          accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
          multiple={false}
          showUploadList={false}
          beforeUpload={(file) => {
            start(file);
            return false;
          }}
        >
          <p className="ant-upload-drag-icon">
            <InboxOutlined />
          </p>
          <p className="ant-upload-text">{t('ops.import.drop')}</p>
          <p className="ant-upload-hint">{t('ops.import.dropHint')}</p>
        </Upload.Dragger>
        </div>
      )}
      {sending && (
        <div data-testid="import-uploading">
          <Typography.Text strong>{sending.name}</Typography.Text>
          <Progress percent={Math.round(sending.sent * 100)} status="active" />
          <Typography.Text type="secondary">{t('ops.import.uploading')}</Typography.Text>
        </div>
      )}
      {refused && <Refused name={refused.name} error={refused.error} message={errorMessage(refused.error)} />}
      {jobId !== null && !sending && (
        <>
          {job.isPending && <Progress percent={0} status="active" />}
          {job.isError && <ErrorState error={job.error} variant="inline" onRetry={() => void job.refetch()} />}
          {job.data && <JobView job={job.data} />}
        </>
      )}
    </Card>
  );
}

/** A file the server refused outright (not a catalog, a bad header): its problems, if listed. */
function Refused({ name, error, message }: { name: string; error: unknown; message: string }) {
  const { t } = useI18n();
  const details = isApiError(error) ? (error.details as { errors?: ImportRowError[] } | undefined) : undefined;
  const rows = Array.isArray(details?.errors) ? details.errors : [];
  return (
    <div data-testid="import-refused" style={{ marginTop: 16 }}>
      <Alert type="error" showIcon message={t('ops.import.refused', { name })} description={message} />
      {rows.length > 0 && <RowErrors rows={rows} />}
    </div>
  );
}

function JobView({ job }: { job: CatalogImport }) {
  const { t, number, dateTime } = useI18n();
  const { shop } = useShop();
  const { message } = App.useApp();
  const errorMessage = useErrorMessage();
  const done = job.status === 'succeeded' || job.status === 'failed';
  const s = job.summary;
  return (
    <div data-testid="import-job" data-status={job.status}>
      <div style={{ display: 'flex', alignItems: 'center', gap: 8, flexWrap: 'wrap' }}>
        <Typography.Text strong>{job.filename}</Typography.Text>
        <Tag bordered={false} color={job.status === 'succeeded' ? 'success' : job.status === 'failed' ? 'error' : 'processing'} data-testid="import-status">
          {t(`ops.import.status.${job.status}`)}
        </Tag>
        <Typography.Text type="secondary">
          {t('ops.import.rows', { done: number(job.rows_done), total: number(job.rows_total) })} · {dateTime(job.created_at)}
        </Typography.Text>
      </div>
      <Progress
        percent={done ? 100 : job.progress}
        status={job.status === 'failed' ? 'exception' : job.status === 'succeeded' ? 'success' : 'active'}
        data-testid="import-progress"
      />
      {job.status === 'queued' && <Typography.Text type="secondary">{t('ops.import.queued')}</Typography.Text>}
      {job.status === 'succeeded' && (
        <div data-testid="import-summary" style={{ marginTop: 12 }}>
          <Alert type="success" showIcon icon={<CheckCircleFilled />} message={t('ops.import.succeeded')} style={{ marginBottom: 12 }} />
          <Descriptions size="small" bordered column={{ xs: 1, sm: 2, md: 3, lg: 3, xl: 3, xxl: 3 }}>
            <Descriptions.Item label={t('ops.import.productsCreated')}>{number(s.products_created)}</Descriptions.Item>
            <Descriptions.Item label={t('ops.import.productsUpdated')}>{number(s.products_updated)}</Descriptions.Item>
            <Descriptions.Item label={t('ops.import.productsUnchanged')}>{number(s.products_unchanged)}</Descriptions.Item>
            <Descriptions.Item label={t('ops.import.skusCreated')}>{number(s.skus_created)}</Descriptions.Item>
            <Descriptions.Item label={t('ops.import.skusUpdated')}>{number(s.skus_updated)}</Descriptions.Item>
            <Descriptions.Item label={t('ops.import.skusUnchanged')}>{number(s.skus_unchanged)}</Descriptions.Item>
            <Descriptions.Item label={t('ops.import.skusArchived')}>{number(s.skus_archived)}</Descriptions.Item>
            <Descriptions.Item label={t('ops.import.stockAdjusted')}>{number(s.stock_adjusted)}</Descriptions.Item>
          </Descriptions>
          <div style={{ marginTop: 12 }}>
            <LinkButton type="primary" to={shopPath(shop.slug, 'catalog')}>
              {t('ops.import.seeCatalog')}
            </LinkButton>
          </div>
        </div>
      )}
      {job.status === 'failed' && (
        <div data-testid="import-errors" style={{ marginTop: 12 }}>
          <Alert
            type="error"
            showIcon
            icon={<CloseCircleFilled />}
            message={job.error_count === 1 ? t('ops.import.failedOne') : t('ops.import.failed', { count: number(job.error_count) })}
            description={job.error_count > job.errors.length ? t('ops.import.firstErrors', { shown: job.errors.length }) : undefined}
            action={
              <Button
                icon={<CloudDownloadOutlined />}
                data-testid="import-errors-download"
                onClick={() =>
                  void downloadFile(importErrorsPath(shop.slug, job.id), 'import-errors.csv').catch((e: unknown) => void message.error(errorMessage(e)))
                }
              >
                {t('ops.import.errorReport')}
              </Button>
            }
          />
          <RowErrors rows={job.errors} />
        </div>
      )}
    </div>
  );
}

function RowErrors({ rows }: { rows: ImportRowError[] }) {
  const { t } = useI18n();
  return (
    <Table<ImportRowError>
      style={{ marginTop: 12 }}
      size="small"
      rowKey={(r) => `${r.line}|${r.column}|${r.message}`}
      dataSource={rows}
      pagination={rows.length > 20 ? { pageSize: 20, showSizeChanger: false } : false}
      data-testid="import-error-table"
      columns={[
        { title: t('ops.import.line'), dataIndex: 'line', width: 80, align: 'right' },
        {
          title: t('ops.import.column'),
          dataIndex: 'column',
          width: 160,
          render: (c: string) => (c ? <Typography.Text code>{c}</Typography.Text> : <Typography.Text type="secondary">{t('ops.import.wholeRow')}</Typography.Text>),
        },
        { title: 'SKU', dataIndex: 'sku', width: 140, render: (v: string) => v || '—' },
        { title: t('ops.import.reason'), dataIndex: 'message' },
      ]}
    />
  );
}

/** The Import / export button of the product list. */
export function ImportExportLink() {
  const { t } = useI18n();
  const { shop } = useShop();
  return (
    <LinkButton icon={<CloudUploadOutlined />} to={shopPath(shop.slug, 'catalog/import')} data-testid="catalog-import-export">
      {t('ops.import.link')}
    </LinkButton>
  );
}
