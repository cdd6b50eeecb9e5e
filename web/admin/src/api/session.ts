import { useMutation, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
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

export function useSignOut() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => api.delete('/session'),
    onSettled: () => signedOut(qc),
  });
}

/** Forgets everything cached and marks the session as gone (the app then shows sign-in). */
export function signedOut(qc: QueryClient): void {
  qc.removeQueries({ predicate: (q) => q.queryKey[0] !== sessionKey[0] });
  qc.setQueryData(sessionKey, null);
}
