import { MutationCache, QueryCache, QueryClient } from '@tanstack/react-query';
import { isApiError } from '../api/client';
import { signedOut } from '../api/session';

/**
 * The app's QueryClient. A 401 from any endpoint other than the session's
 * means the session ended: everything cached is dropped and the session
 * marked gone, which sends the user to sign-in with the page they were on.
 */
export function createQueryClient(): QueryClient {
  const onError = (e: unknown) => {
    if (isApiError(e) && e.status === 401 && e.path !== '/session') signedOut(qc);
  };
  const qc: QueryClient = new QueryClient({
    queryCache: new QueryCache({ onError }),
    mutationCache: new MutationCache({ onError }),
    defaultOptions: {
      queries: {
        staleTime: 30_000,
        // Retry what may pass a second time (network, 5xx); never 4xx.
        retry: (count, e) => count < 2 && isApiError(e) && (e.isNetwork || e.status >= 500),
        refetchOnWindowFocus: false,
      },
      mutations: { retry: false },
    },
  });
  return qc;
}
