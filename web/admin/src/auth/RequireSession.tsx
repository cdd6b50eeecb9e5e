import { Navigate, Outlet, useLocation } from 'react-router';
import { useSession } from '../api/session';
import { FullPageError, FullPageLoading } from '../components/States';
import { useI18n } from '../i18n/I18nProvider';
import { SessionProvider } from './SessionContext';
import { loginPath } from './shops';

/** Renders its routes for a signed-in user; sends anyone else to sign-in. */
export function RequireSession() {
  const { t } = useI18n();
  const location = useLocation();
  const q = useSession();
  if (q.data) {
    return (
      <SessionProvider session={q.data}>
        <Outlet />
      </SessionProvider>
    );
  }
  if (q.data === null) return <Navigate to={loginPath(location)} replace />;
  if (q.isError) return <FullPageError title={t('error.sessionTitle')} error={q.error} onRetry={() => void q.refetch()} />;
  return <FullPageLoading />;
}
