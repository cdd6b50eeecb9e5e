// Team: members, invitations, API tokens and agencies' access to a shop;
// the agency side of access requests; the home page's counters.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './client';
import { sessionKey } from './session';
import type { Session } from './types';

const enc = encodeURIComponent;
const base = (slug: string) => `/tenants/${enc(slug)}`;

/** Shop roles, most powerful first. */
export const TENANT_ROLES = ['owner', 'admin', 'catalog_manager', 'order_manager', 'finance', 'viewer'] as const;
export type TenantRole = (typeof TENANT_ROLES)[number];
/** Roles an API token or an agency can hold (never owner). */
export const GRANTABLE_ROLES = ['admin', 'catalog_manager', 'order_manager', 'finance', 'viewer'] as const;
export type GrantableRole = (typeof GRANTABLE_ROLES)[number];

export interface Member {
  user_id: number;
  email: string;
  name: string;
  role: TenantRole;
  created_at: string;
}

export interface Invitation {
  id: number;
  email: string;
  role: string;
  created_at: string;
  expires_at: string;
  accepted_at: string | null;
}

export interface Token {
  id: number;
  name: string;
  role: GrantableRole;
  last4: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface CreatedToken extends Token {
  /** The secret, shown only once. */
  token: string;
}

export interface TokenInput {
  name: string;
  role: GrantableRole;
  expires_at?: string | null;
}

export type AccessStatus = 'pending' | 'approved' | 'declined' | 'revoked';

export interface Access {
  tenant_slug: string;
  tenant_name: string;
  agency_id: number;
  agency_name: string;
  status: AccessStatus;
  role: GrantableRole | null;
  message: string;
  requested_at: string;
  decided_at: string | null;
}

export interface AgencyMember {
  user_id: number;
  email: string;
  name: string;
  role: 'agency_admin' | 'agency_staff';
}

export interface AgencyView {
  id: number;
  name: string;
  created_at: string;
  members: AgencyMember[];
  access: Access[];
}

export interface HomeFigures {
  mode: 'test' | 'live';
  products_published: number;
  products_draft: number;
  orders_today: number | null;
  paid_today: number | null;
  customers: number | null;
}

const keys = {
  members: (slug: string) => ['team', slug, 'members'] as const,
  invitations: (slug: string) => ['team', slug, 'invitations'] as const,
  tokens: (slug: string) => ['team', slug, 'tokens'] as const,
  access: (slug: string) => ['team', slug, 'access'] as const,
  agency: (id: number) => ['agency', id] as const,
};

export function useMembers(slug: string) {
  return useQuery({
    queryKey: keys.members(slug),
    queryFn: ({ signal }) => api.get<{ members: Member[] }>(`${base(slug)}/members`, { signal }).then((r) => r.members),
  });
}

export function useSetRole(slug: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ userId, role }: { userId: number; role: TenantRole }) =>
      api.put<Member>(`${base(slug)}/members/${userId}`, { role }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: keys.members(slug) });
      void qc.invalidateQueries({ queryKey: sessionKey });
    },
  });
}

export function useRemoveMember(slug: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (userId: number) => api.delete(`${base(slug)}/members/${userId}`),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.members(slug) }),
  });
}

export function useInvitations(slug: string) {
  return useQuery({
    queryKey: keys.invitations(slug),
    queryFn: ({ signal }) =>
      api.get<{ invitations: Invitation[] }>(`${base(slug)}/invitations`, { signal }).then((r) => r.invitations),
  });
}

export function useInvite(slug: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { email: string; role: TenantRole }) => api.post<Invitation>(`${base(slug)}/invitations`, body),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.invitations(slug) }),
  });
}

export function useRevokeInvitation(slug: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => api.delete(`${base(slug)}/invitations/${id}`),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.invitations(slug) }),
  });
}

/** Sends a fresh link: the old one is revoked, a new one mailed (7 more days). */
export function useResendInvitation(slug: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async (inv: Invitation) => {
      await api.delete(`${base(slug)}/invitations/${inv.id}`);
      return api.post<Invitation>(`${base(slug)}/invitations`, { email: inv.email, role: inv.role });
    },
    onSettled: () => void qc.invalidateQueries({ queryKey: keys.invitations(slug) }),
  });
}

export function useTokens(slug: string) {
  return useQuery({
    queryKey: keys.tokens(slug),
    queryFn: ({ signal }) => api.get<{ tokens: Token[] }>(`${base(slug)}/tokens`, { signal }).then((r) => r.tokens),
  });
}

export function useCreateToken(slug: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: TokenInput) => api.post<CreatedToken>(`${base(slug)}/tokens`, body),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.tokens(slug) }),
  });
}

export function useRevokeToken(slug: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => api.delete(`${base(slug)}/tokens/${id}`),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.tokens(slug) }),
  });
}

export function useAgencyAccess(slug: string) {
  return useQuery({
    queryKey: keys.access(slug),
    queryFn: ({ signal }) => api.get<{ agencies: Access[] }>(`${base(slug)}/agency-access`, { signal }).then((r) => r.agencies),
  });
}

export type Decision = 'approve' | 'decline' | 'revoke';

export function useDecideAccess(slug: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ agencyId, decision, role }: { agencyId: number; decision: Decision; role?: GrantableRole }) =>
      api.post<Access>(`${base(slug)}/agency-access/${agencyId}/${decision}`, decision === 'approve' ? { role } : undefined),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.access(slug) }),
  });
}

// The agency's side.

export function useAgency(id: number) {
  return useQuery({
    queryKey: keys.agency(id),
    queryFn: ({ signal }) => api.get<AgencyView>(`/agencies/${id}`, { signal }),
  });
}

export function useRequestAccess(agencyId: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { tenant: string; message: string }) => api.post<Access>(`/agencies/${agencyId}/access-requests`, body),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.agency(agencyId) }),
  });
}

export function useHomeFigures(slug: string) {
  return useQuery({
    queryKey: ['home', slug] as const,
    queryFn: ({ signal }) => api.get<HomeFigures>(`${base(slug)}/home`, { signal }),
    staleTime: 30_000,
  });
}

// The agency's home: its client shops, its invitations, and how a person
// becomes an agency or opens a shop from the console.

export interface ClientShop {
  slug: string;
  name: string;
  status: 'active' | 'suspended';
  mode: 'test' | 'live';
  role: GrantableRole;
  storefront_host: string;
  logo_url: string | null;
  logo_image: string | null;
  products_published: number;
  /** null when the agency's role may not read orders. */
  orders_today: number | null;
  approved_at: string | null;
}

export type AgencyRoleName = AgencyMember['role'];
export const AGENCY_ROLES: readonly AgencyRoleName[] = ['agency_staff', 'agency_admin'];

const agencyKeys = {
  clients: (id: number) => ['agency', id, 'clients'] as const,
  invitations: (id: number) => ['agency', id, 'invitations'] as const,
};

export function useAgencyClients(id: number) {
  return useQuery({
    queryKey: agencyKeys.clients(id),
    queryFn: ({ signal }) => api.get<{ clients: ClientShop[] }>(`/agencies/${id}/clients`, { signal }).then((r) => r.clients),
    staleTime: 30_000,
  });
}

export function useAgencyInvitations(id: number) {
  return useQuery({
    queryKey: agencyKeys.invitations(id),
    queryFn: ({ signal }) => api.get<{ invitations: Invitation[] }>(`/agencies/${id}/invitations`, { signal }).then((r) => r.invitations),
  });
}

export function useInviteToAgency(id: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { email: string; role: AgencyRoleName }) => api.post<Invitation>(`/agencies/${id}/invitations`, body),
    onSuccess: () => void qc.invalidateQueries({ queryKey: agencyKeys.invitations(id) }),
  });
}

export function useRevokeAgencyInvitation(id: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (invitationId: number) => api.delete(`/agencies/${id}/invitations/${invitationId}`),
    onSettled: () => void qc.invalidateQueries({ queryKey: agencyKeys.invitations(id) }),
  });
}

/** Gives a member of the agency another agency role (admins only; the agency keeps an admin). */
export function useSetAgencyRole(id: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ userId, role }: { userId: number; role: AgencyRoleName }) => api.patch<AgencyMember>(`/agencies/${id}/members/${userId}`, { role }),
    onSettled: () => void qc.invalidateQueries({ queryKey: keys.agency(id) }),
  });
}

/** Takes a person out of the agency: they lose its client shops at once. */
export function useRemoveAgencyMember(id: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (userId: number) => api.delete(`/agencies/${id}/members/${userId}`),
    onSettled: () => void qc.invalidateQueries({ queryKey: keys.agency(id) }),
  });
}

/** A fresh link: the old invitation is revoked, a new one mailed (7 more days). */
export function useResendAgencyInvitation(id: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async (inv: Invitation) => {
      await api.delete(`/agencies/${id}/invitations/${inv.id}`);
      return api.post<Invitation>(`/agencies/${id}/invitations`, { email: inv.email, role: inv.role });
    },
    onSettled: () => void qc.invalidateQueries({ queryKey: agencyKeys.invitations(id) }),
  });
}

export interface AgencySignupRequest {
  name: string;
  email: string;
  password: string;
  agency: string;
}

/** Signs up an agency: the account and the agency in one call; the answer is the new session. */
export function useSignUpAgency() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: AgencySignupRequest) => api.post<Session>('/signup/agency', body),
    onSuccess: (session) => {
      qc.removeQueries({ predicate: (q) => q.queryKey[0] !== sessionKey[0] });
      qc.setQueryData(sessionKey, session);
    },
  });
}

/** Opens a shop owned by the signed-in user; the answer is their session with it. */
export function useCreateShop() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { company: string; slug: string }) => api.post<Session>('/shops', body),
    onSuccess: (session) => qc.setQueryData(sessionKey, session),
  });
}

/** Creates an agency with the signed-in user as its admin. */
export function useCreateAgency() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { name: string }) => api.post<{ id: number; name: string; created_at: string }>('/agencies', body),
    onSuccess: () => qc.invalidateQueries({ queryKey: sessionKey }),
  });
}
