// The signed-in user's own account: sessions, two-factor, password reset,
// and accepting invitations.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './client';
import { sessionKey } from './session';
import type { Session } from './types';

export interface SessionInfo {
  id: string;
  ip: string | null;
  user_agent: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  current: boolean;
}

export interface Enrollment {
  secret: string;
  otpauth_url: string;
  qr_png_base64: string;
}

export interface InvitationInfo {
  email: string;
  role: string;
  shop: string | null;
  agency: string | null;
  expires_at: string;
  user_exists: boolean;
}

const sessionsKey = ['account', 'sessions'] as const;

export function useSessions() {
  return useQuery({
    queryKey: sessionsKey,
    queryFn: ({ signal }) => api.get<{ sessions: SessionInfo[] }>('/session/sessions', { signal }).then((r) => r.sessions),
  });
}

export function useRevokeSession() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.delete(`/session/sessions/${encodeURIComponent(id)}`),
    onSuccess: () => void qc.invalidateQueries({ queryKey: sessionsKey }),
  });
}

/** Signs out every session but the current one. */
export function useRevokeOtherSessions() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async (ids: string[]) => {
      for (const id of ids) await api.delete(`/session/sessions/${encodeURIComponent(id)}`);
    },
    onSettled: () => void qc.invalidateQueries({ queryKey: sessionsKey }),
  });
}

export function useBeginTOTP() {
  return useMutation({ mutationFn: () => api.post<Enrollment>('/session/totp') });
}

export function useConfirmTOTP() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (code: string) => api.post<{ recovery_codes: string[] }>('/session/totp/confirm', { code }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: sessionKey }),
  });
}

export function useDisableTOTP() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (password: string) => api.delete('/session/totp', { body: { password } }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: sessionKey }),
  });
}

export function useRequestReset() {
  return useMutation({ mutationFn: (email: string) => api.post('/password-reset', { email }) });
}

export function useResetPassword() {
  return useMutation({
    mutationFn: (body: { token: string; password: string }) => api.post('/password-reset/confirm', body),
  });
}

export function useInvitationInfo(token: string) {
  return useQuery({
    queryKey: ['invitation', token] as const,
    queryFn: ({ signal }) => api.get<InvitationInfo>(`/invitations/${encodeURIComponent(token)}`, { signal }),
    retry: false,
  });
}

export function useAcceptInvitation() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { token: string; name?: string; password?: string }) => api.post<Session>('/invitations/accept', body),
    onSuccess: (s) => {
      qc.removeQueries({ predicate: (q) => q.queryKey[0] !== sessionKey[0] });
      qc.setQueryData(sessionKey, s);
    },
  });
}
