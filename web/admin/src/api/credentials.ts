import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './client';
import { profileKey } from './profile';
import { sessionKey } from './session';
import type { CredentialKind, CredentialsOverview, SavedCredentials, TenantMode, Verification } from './types';

const enc = encodeURIComponent;
export const credentialsKey = (slug: string) => ['credentials', slug] as const;

export function useCredentials(slug: string, opts: { poll?: boolean } = {}) {
  return useQuery({
    queryKey: credentialsKey(slug),
    queryFn: ({ signal }) => api.get<CredentialsOverview>(`/tenants/${enc(slug)}/credentials`, { signal }),
    // While a verification is pending, ask again every two seconds.
    refetchInterval: (q) => {
      if (!opts.poll) return false;
      const o = q.state.data;
      if (!o) return false;
      const pending = Object.values(o.credentials).some((m) => Object.values(m).some((s) => s.verification?.pending));
      return pending ? 2000 : false;
    },
  });
}

export function useSaveCredentials(slug: string, mode: TenantMode, kind: CredentialKind) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Record<string, unknown>) =>
      api.put<SavedCredentials>(`/tenants/${enc(slug)}/credentials/${mode}/${kind}`, body),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: credentialsKey(slug) });
      void qc.invalidateQueries({ queryKey: profileKey(slug) });
      // Live credentials may switch the shop to live: the session carries the mode.
      void qc.invalidateQueries({ queryKey: sessionKey });
    },
  });
}

export function useVerifyCredentials(slug: string, mode: TenantMode, kind: CredentialKind) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () =>
      api.post<{ verification: Verification }>(`/tenants/${enc(slug)}/credentials/${mode}/${kind}/verify`),
    onSuccess: () => void qc.invalidateQueries({ queryKey: credentialsKey(slug) }),
  });
}
