import { useQueryClient } from '@tanstack/react-query';
import { Navigate, Outlet, useLocation } from 'react-router';
import { sessionEnd, useSession } from '../api/session';
import { FullPageError, FullPageLoading } from '../components/States';
import { useI18n } from '../i18n/I18nProvider';
import { SessionProvider } from './SessionContext';
import { loginPath } from './shops';

/** Renders its routes for a signed-in user; sends anyone else to sign-in. */
export function RequireSession() {
  const { t } = useI18n();
  const location = useLocation();
  const q = useSession();
  const qc = useQueryClient();
  if (q.data) {
    return (
      <SessionProvider session={q.data}>
        <Outlet />
      </SessionProvider>
    );
  }
  if (q.data === null) {
    // After a sign-out the next person starts afresh; otherwise come back here.
    return <Navigate to={sessionEnd(qc) === 'signed-out' ? '/login' : loginPath(location)} replace />;
  }
  if (q.isError) return <FullPageError title={t('error.sessionTitle')} error={q.error} onRetry={() => void q.refetch()} />;
  return <FullPageLoading />;
}
