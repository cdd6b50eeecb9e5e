// The shop's audit log.
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api } from './client';

export type ActorKind = 'system' | 'operator' | 'user' | 'agency' | 'token' | 'customer';
export const ACTOR_KINDS: ActorKind[] = ['user', 'agency', 'token', 'operator', 'system', 'customer'];

export interface AuditEntry {
  id: number;
  actor_kind: ActorKind;
  actor_id: string;
  action: string;
  object: string;
  data: Record<string, unknown> | null;
  ip: string | null;
  request_id: string;
  created_at: string;
}

export interface AuditFilter {
  action?: string;
  actor_kind?: ActorKind;
  actor_id?: string;
  /** RFC 3339. */
  since?: string;
  until?: string;
  before?: number;
  limit?: number;
}

export interface AuditPage {
  entries: AuditEntry[];
  next_before: number | null;
}

export function useAudit(slug: string, f: AuditFilter) {
  return useQuery({
    queryKey: ['audit', slug, f] as const,
    queryFn: ({ signal }) =>
      api.get<AuditPage>(`/tenants/${encodeURIComponent(slug)}/audit`, {
        signal,
        query: { ...f },
      }),
    placeholderData: keepPreviousData,
  });
}
