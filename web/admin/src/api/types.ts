// Shapes of the admin API's answers.

export type TenantMode = 'test' | 'live';
export type TenantStatus = 'active' | 'suspended' | (string & {});

/** A permission, "object:action". */
export type Permission =
  | 'shop:read'
  | 'shop:write'
  | 'catalog:read'
  | 'catalog:write'
  | 'orders:read'
  | 'orders:write'
  | 'orders:refund'
  | 'customers:read'
  | 'finance:read'
  | 'finance:write'
  | 'credentials:read'
  | 'credentials:write'
  | 'team:read'
  | 'team:write'
  | 'audit:read'
  | 'billing:write'
  | 'tenant:delete'
  | 'ownership:transfer';

export interface TenantRef {
  slug: string;
  name: string;
  status: TenantStatus;
  mode: TenantMode;
}

export interface User {
  id: number;
  email: string;
  name: string;
  totp_enabled: boolean;
  operator: boolean;
}

export interface Membership {
  tenant: TenantRef;
  role: string;
}

export interface AgencyRef {
  id: number;
  name: string;
}

export interface AgencyMembership extends AgencyRef {
  role: string;
}

export interface Client {
  tenant: TenantRef;
  role: string;
  agency: AgencyRef;
}

export interface Session {
  user: User;
  memberships: Membership[];
  agencies: AgencyMembership[];
  clients: Client[];
  /** Shop slug → what the user may do there. Shops missing here cannot be opened. */
  permissions: Record<string, string[]>;
}

export interface SignInRequest {
  email: string;
  password: string;
  totp?: string;
}

export interface Tenant {
  id: number;
  slug: string;
  name: string;
  status: TenantStatus;
  provisioned_at: string | null;
  created_at: string;
  updated_at: string;
}
