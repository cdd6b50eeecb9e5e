import { useQuery } from '@tanstack/react-query';
import { api } from './client';
import type { Tenant } from './types';

export const tenantKey = (slug: string) => ['tenant', slug] as const;

export function useTenant(slug: string) {
  return useQuery({
    queryKey: tenantKey(slug),
    queryFn: ({ signal }) => api.get<Tenant>(`/tenants/${encodeURIComponent(slug)}`, { signal }),
  });
}
