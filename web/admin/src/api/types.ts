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

// Sign-up and the shop's profile.

export interface SignupRequest {
  email: string;
  password: string;
  name: string;
  company: string;
  slug: string;
}

export interface SlugStatus {
  slug: string;
  host: string;
  available: boolean;
  reason?: 'taken' | 'reserved' | 'invalid';
  message?: string;
}

export interface Onboarding {
  company: boolean;
  mini_program: boolean;
  wechat_pay: boolean;
  customs: boolean;
  warehouse: boolean;
  product: boolean;
  published: boolean;
}

export interface Profile {
  slug: string;
  storefront_host: string;
  display_name: string;
  legal_name: string;
  country: string;
  contact_name: string;
  contact_email: string;
  contact_phone: string;
  logo_url: string | null;
  logo_image: string | null;
  currency: string;
  locales: string[];
  default_locale: string;
  mode: TenantMode;
  onboarding_completed_at: string | null;
  onboarding: Onboarding;
  updated_at: string;
}

export interface ProfileInput {
  display_name: string;
  legal_name: string;
  country: string;
  contact_name: string;
  contact_email: string;
  contact_phone: string;
  logo_url: string | null;
  logo_image: string | null;
  locales: string[];
  default_locale: string;
  onboarding_completed?: boolean;
}

// Credentials vault.

export type CredentialKind = 'miniprogram' | 'wechatpay' | 'customs' | 'logistics';

export interface Hint {
  set: boolean;
  last4?: string;
  set_at?: string;
}

export interface Verification {
  status: 'ok' | 'failed' | 'format_checked' | 'pending' | (string & {});
  message: string;
  checked_at: string | null;
  requested_at: string | null;
  pending: boolean;
}

export interface CredentialSet {
  mode: TenantMode;
  kind: CredentialKind;
  configured: boolean;
  managed_by?: string;
  public: Record<string, unknown>;
  secrets: Record<string, Hint>;
  updated_at: string | null;
  verification: Verification | null;
}

export interface CredentialsOverview {
  mode: TenantMode;
  credentials: Record<TenantMode, Record<CredentialKind, CredentialSet>>;
}

export interface SavedCredentials {
  tenant_mode: TenantMode;
  fields_changed: string[];
  credential: CredentialSet;
}

// Catalog.

export type Text = Record<string, string>;

export interface Content {
  title: string;
  subtitle: string;
  description: string;
}

export interface Option {
  name: Text;
  values: Text[];
}

export interface ProductImage {
  hash: string;
  alt?: Text;
  url?: string;
}

export type ProductStatus = 'draft' | 'published' | 'archived';

export interface Landed {
  price: number;
  tax: number;
  total: number;
  tax_rate: string;
  tax_category: string;
}

export interface Customs {
  hs_code: string;
  origin_country: string;
  gname: string;
  gmodel: string;
  unit: string;
  legal_unit1: string;
  legal_qty1: number | null;
  legal_unit2: string;
  legal_qty2: number | null;
  net_weight_g: number | null;
  gross_weight_g: number | null;
  item_record_no: string;
  trade_mode: string;
  tax_category: string;
  positive_list: boolean;
}

export interface SKU extends Customs {
  id: number;
  product_id: number;
  code: string;
  barcode: string;
  option_values: string[];
  price: number;
  compare_at_price: number | null;
  weight_g: number | null;
  sort: number;
  archived_at: string | null;
  stock?: { on_hand: number; reserved: number; available: number };
  landed?: Landed;
}

export interface Problem {
  sku?: string;
  field: string;
  message: string;
}

export interface Product {
  id: number;
  status: ProductStatus;
  category_id: number | null;
  brand: string;
  tags: string[];
  sort: number;
  content: Record<string, Content>;
  options: Option[];
  images: ProductImage[];
  min_price: number | null;
  sales_count: number;
  version: number;
  published_at: string | null;
  created_at: string;
  updated_at: string;
  skus?: SKU[];
  checklist: Problem[];
}

export interface ProductInput {
  category_id: number | null;
  brand: string;
  tags: string[];
  sort: number;
  content: Record<string, Content>;
  options: Option[];
  images: ProductImage[];
}

export interface SKUEdit extends Customs {
  id: number;
  code: string;
  barcode: string;
  price: number;
  compare_at_price: number | null;
  weight_g: number | null;
}

export interface ProductPage {
  products: Product[];
  next_cursor: string | null;
}

export interface BulkResult {
  id: number;
  ok: boolean;
  code?: string;
  message?: string;
  details?: Problem[];
}

export interface Category {
  id: number;
  parent_id: number | null;
  name: Text;
  sort: number;
  created_at?: string;
  updated_at?: string;
}

export interface UploadedImage {
  hash: string;
  content_type: string;
  size: number;
  width: number;
  height: number;
  url: string;
  created_at: string;
}

export interface Warehouse {
  id: number;
  code: string;
  name: string;
  kind: 'bonded' | 'overseas' | (string & {});
  created_at: string;
}

export interface TaxRate {
  category: string;
  rate: string;
}
