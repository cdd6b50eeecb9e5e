import { PlayCircleOutlined } from '@ant-design/icons';
import { Alert, App, Button, DatePicker, Space, Tag } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { isApiError } from '../../api/client';
import { useRunReconciliation, type Discrepancy, type Reconciliation } from '../../api/ops';
import { useShop } from '../../auth/ShopContext';
import { useErrorMessage } from '../../components/States';
import { useI18n } from '../../i18n/I18nProvider';
import { shopPath } from '../../layout/sections';

/** Today in China (UTC+8), YYYY-MM-DD: bills and days are China time. */
export function chinaDay(offsetDays = 0): string {
  return new Date(Date.now() + 8 * 3600_000 + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

const statusColor: Record<Reconciliation['status'], string> = {
  running: 'processing',
  matched: 'success',
  discrepancies: 'warning',
  failed: 'error',
};

export function RunStatusTag({ status }: { status: Reconciliation['status'] }) {
  const { t } = useI18n();
  return (
    <Tag bordered={false} color={statusColor[status]} data-testid="recon-status" data-status={status}>
      {t(`ops.recon.status.${status}`)}
    </Tag>
  );
}

const kindColor: Record<Discrepancy['kind'], string> = {
  missing_with_us: 'volcano',
  missing_in_bill: 'orange',
  amount_mismatch: 'red',
  status_mismatch: 'purple',
  refund_mismatch: 'magenta',
};

export function KindTag({ kind }: { kind: Discrepancy['kind'] }) {
  const { tMaybe } = useI18n();
  return (
    <Tag bordered={false} color={kindColor[kind] ?? 'default'}>
      {tMaybe(`ops.recon.kind.${kind}`, kind)}
    </Tag>
  );
}

export function StateTag({ state }: { state: Discrepancy['state'] }) {
  const { t } = useI18n();
  const color = state === 'open' ? 'error' : state === 'resolved' ? 'success' : 'cyan';
  return (
    <Tag bordered={false} color={color} data-testid="discrepancy-state" data-state={state}>
      {t(`ops.recon.state.${state}`)}
    </Tag>
  );
}

/**
 * Reconcile a day on demand: a date (yesterday by default; never the
 * future, China time) and a button. Opens the day when it is done; the
 * server's refusal (no WeChat Pay, a run under way, no bill yet) is shown
 * under the control.
 */
export function RunDay({ initial, compact = false }: { initial?: string; compact?: boolean }) {
  const { t } = useI18n();
  const { shop } = useShop();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const errorMessage = useErrorMessage();
  const run = useRunReconciliation(shop.slug);
  const [day, setDay] = useState<Dayjs>(dayjs(initial ?? chinaDay(-1)));
  const today = chinaDay();

  const go = () => {
    const date = day.format('YYYY-MM-DD');
    run.mutate(date, {
      onSuccess: ({ reconciliation: r }) => {
        void message.success(t('ops.recon.ran', { date }));
        void navigate(shopPath(shop.slug, `reconciliation/${r.date}`));
      },
    });
  };
  const e = run.error;
  const notConfigured = isApiError(e) && e.code === 'payments_not_configured';

  return (
    <div>
      <Space.Compact>
        {!compact && (
          <DatePicker
            value={day}
            allowClear={false}
            onChange={(d) => d && setDay(d)}
            disabledDate={(d) => d.format('YYYY-MM-DD') > today}
            data-testid="recon-run-date"
          />
        )}
        <Button type="primary" icon={<PlayCircleOutlined />} loading={run.isPending} onClick={go} data-testid="recon-run">
          {compact ? t('ops.recon.runAgain') : t('ops.recon.run')}
        </Button>
      </Space.Compact>
      {e && (
        <Alert
          style={{ marginTop: 8, maxWidth: 520 }}
          type={notConfigured ? 'warning' : 'error'}
          showIcon
          closable
          onClose={() => run.reset()}
          message={notConfigured ? t('ops.recon.notConfigured') : errorMessage(e)}
          data-testid="recon-run-error"
        />
      )}
    </div>
  );
}
