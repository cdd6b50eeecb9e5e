import { Button, Result } from 'antd';
import { useEffect } from 'react';
import { useRouteError } from 'react-router';
import { useI18n } from '../i18n/I18nProvider';

/** A page that threw while rendering: say so and offer a reload, never a blank screen. */
export function RouteError() {
  const { t } = useI18n();
  const error = useRouteError();
  useEffect(() => {
    console.error(error);
  }, [error]);
  return (
    <div className="full-page-center">
      <Result
        status="500"
        title={t('error.crashTitle')}
        subTitle={t('error.crashText')}
        extra={
          <Button type="primary" onClick={() => window.location.reload()}>
            {t('common.reload')}
          </Button>
        }
      />
    </div>
  );
}
