import { Alert, Button, Result, Skeleton, Spin, Typography } from 'antd';
import type { UseQueryResult } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { isApiError } from '../api/client';
import { useI18n } from '../i18n/I18nProvider';

/** The message to show for an error: the server's, or ours for network failures. */
export function useErrorMessage(): (e: unknown) => string {
  const { t } = useI18n();
  return (e) => {
    if (isApiError(e)) return e.isNetwork ? t('error.network') : e.message;
    return e instanceof Error && e.message ? e.message : t('error.title');
  };
}

/** The request id of an error, copyable, for support. */
export function RequestId({ error }: { error: unknown }) {
  const { t } = useI18n();
  if (!isApiError(error) || !error.requestId) return null;
  return (
    <Typography.Text type="secondary" className="request-id">
      {t('common.requestId')}:{' '}
      <Typography.Text code copyable={{ text: error.requestId }}>
        {error.requestId}
      </Typography.Text>
    </Typography.Text>
  );
}

export function Forbidden() {
  const { t } = useI18n();
  return <Result status="403" title={t('error.forbiddenTitle')} subTitle={t('error.forbiddenText')} />;
}

export function NotFound({ extra }: { extra?: ReactNode }) {
  const { t } = useI18n();
  return <Result status="404" title={t('error.notFoundTitle')} subTitle={t('error.notFoundText')} extra={extra} />;
}

/**
 * Any failed request: 403 and 404 get their own wording, the rest the
 * server's message and the request id. "page" fills a page, "inline" fits in
 * a card.
 */
export function ErrorState({
  error,
  title,
  onRetry,
  variant = 'page',
}: {
  error: unknown;
  title?: string;
  onRetry?: () => void;
  variant?: 'page' | 'inline';
}) {
  const { t } = useI18n();
  const message = useErrorMessage();
  const forbidden = isApiError(error) && error.status === 403;
  const notFound = isApiError(error) && error.status === 404 && error.code !== 'route_not_found';
  if (variant === 'inline') {
    if (forbidden) {
      return <Alert type="warning" showIcon message={t('error.forbiddenTitle')} description={t('error.forbiddenText')} />;
    }
    return (
      <Alert
        type="error"
        showIcon
        message={title ?? (notFound ? t('error.notFoundTitle') : t('error.title'))}
        description={
          <div className="error-inline">
            <div data-testid="error-message">{message(error)}</div>
            <RequestId error={error} />
            {onRetry && (
              <div>
                <Button size="small" onClick={onRetry}>
                  {t('common.retry')}
                </Button>
              </div>
            )}
          </div>
        }
      />
    );
  }
  if (forbidden) return <Forbidden />;
  if (notFound) return <NotFound />;
  return (
    <Result
      status={isApiError(error) && error.isNetwork ? 'warning' : 'error'}
      title={title ?? t('error.title')}
      subTitle={
        <div className="error-sub">
          <div data-testid="error-message">{message(error)}</div>
          <RequestId error={error} />
        </div>
      }
      extra={
        onRetry && (
          <Button type="primary" onClick={onRetry}>
            {t('common.retry')}
          </Button>
        )
      }
    />
  );
}

export function FullPageLoading() {
  const { t } = useI18n();
  return (
    <div className="full-page-center" aria-busy="true">
      <Spin size="large" tip={t('common.loading')}>
        <div style={{ width: 120, height: 80 }} />
      </Spin>
    </div>
  );
}

export function FullPageError(props: { error: unknown; title?: string; onRetry?: () => void }) {
  return (
    <div className="full-page-center">
      <ErrorState {...props} />
    </div>
  );
}

/**
 * The four states of a data screen: loading (skeleton), error (with the
 * request id; 403 as forbidden), empty, and the data. Use variant="page"
 * when the query is the whole page.
 */
export function QueryState<T>({
  query,
  children,
  isEmpty,
  empty,
  loading,
  variant = 'inline',
}: {
  query: UseQueryResult<T>;
  children: (data: T) => ReactNode;
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  loading?: ReactNode;
  variant?: 'page' | 'inline';
}) {
  if (query.isPending) return <>{loading ?? <Skeleton active paragraph={{ rows: 4 }} />}</>;
  if (query.isError) return <ErrorState error={query.error} variant={variant} onRetry={() => void query.refetch()} />;
  if (isEmpty?.(query.data)) return <>{empty}</>;
  return <>{children(query.data)}</>;
}
