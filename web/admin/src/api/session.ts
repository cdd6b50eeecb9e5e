import { useMutation, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import { api, isApiError } from './client';
import type { Session, SignInRequest } from './types';

export const sessionKey = ['session'] as const;

/** The signed-in session, or null when nobody is signed in. */
export async function fetchSession(signal?: AbortSignal): Promise<Session | null> {
  try {
    return await api.get<Session>('/session', { signal });
  } catch (e) {
    if (isApiError(e) && e.status === 401) return null;
    throw e;
  }
}

export function useSession() {
  return useQuery({ queryKey: sessionKey, queryFn: ({ signal }) => fetchSession(signal), staleTime: 60_000 });
}

/** Why the session ended: signed out on purpose, or refused by the server (expired, revoked). */
export type SessionEnd = 'signed-out' | 'expired';
const endKey = ['session-end'] as const;

export function useSignIn() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: SignInRequest) => api.post<Session>('/session', body),
    onSuccess: (session) => {
      // Nothing cached for another account may survive a sign-in.
      qc.removeQueries({ predicate: (q) => q.queryKey[0] !== sessionKey[0] });
      qc.setQueryData(sessionKey, session);
    },
  });
}

/** Signs out and shows the sign-in page, without a ?next=: the next person starts afresh. */
export function useSignOut() {
  const qc = useQueryClient();
  const navigate = useNavigate();
  return useMutation({
    mutationFn: () => api.delete('/session'),
    // Here rather than in mutate(): the menu that started it may be gone by then.
    onSettled: () => {
      signedOut(qc, 'signed-out');
      void navigate('/login', { replace: true });
    },
  });
}

/**
 * Forgets everything cached and marks the session as gone, which shows the
 * sign-in page: with the current address as ?next= when it expired, so the
 * user comes back to it, and without when they signed out.
 */
export function signedOut(qc: QueryClient, how: SessionEnd = 'expired'): void {
  qc.removeQueries({ predicate: (q) => q.queryKey[0] !== sessionKey[0] });
  qc.setQueryData(endKey, how);
  qc.setQueryData(sessionKey, null);
}

/** How the last session ended, if it did. */
export function sessionEnd(qc: QueryClient): SessionEnd | undefined {
  return qc.getQueryData<SessionEnd>(endKey);
}
