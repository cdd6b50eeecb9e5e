import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './client';
import type { Text } from './types';

const enc = encodeURIComponent;
const base = (slug: string) => `/tenants/${enc(slug)}/orders`;

export const ORDER_STATUSES = [
  'pending_payment',
  'paid',
  'declaring',
  'declared',
  'customs_rejected',
  'shipped',
  'delivered',
  'completed',
  'cancelled',
  'closed',
  'refunding',
  'partially_refunded',
  'refunded',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** The statuses from which staff may refund (shop/refund.go). */
export const REFUNDABLE: ReadonlySet<string> = new Set([
  'paid',
  'customs_rejected',
  'declared',
  'shipped',
  'delivered',
  'completed',
  'partially_refunded',
]);

export interface OrderAddress {
  consignee: string;
  phone: string;
  province_code: string;
  city_code: string;
  district_code: string;
  province: string;
  city: string;
  district: string;
  detail: string;
}

export interface OrderBuyer {
  identity_id: number;
  name_masked: string;
  id_number_masked: string;
}

export interface OrderLine {
  line_no: number;
  sku_id: number;
  product_id: number;
  warehouse_id: number;
  sku_code: string;
  title: Text;
  option_values: string[];
  quantity: number;
  unit_price: number;
  goods: number;
  freight_share: number;
  discount_share: number;
  tax_category: string;
  tax_rate: string;
  tax: number;
  total: number;
  hs_code: string;
  gname: string;
  item_record_no: string;
  origin_country: string;
  unit: string;
  trade_mode: string;
}

export interface OrderEvent {
  id: number;
  kind: string;
  from_status: string | null;
  to_status: string | null;
  actor: string;
  data: Record<string, unknown>;
  created_at: string;
}

export interface Order {
  id: number;
  out_trade_no: string;
  customer_id: number;
  status: OrderStatus;
  currency: string;
  goods_value: number;
  freight: number;
  discount: number;
  tax_total: number;
  actural_paid: number;
  tax_mode: 'cbec' | 'general_trade';
  trade_mode: string;
  weight_g: number;
  address: OrderAddress;
  buyer: OrderBuyer;
  note: string;
  expires_at: string;
  paid_at: string | null;
  needs_refund: boolean;
  created_at: string;
  updated_at: string;
  lines?: OrderLine[];
  events?: OrderEvent[];
}

export interface OrderPage {
  orders: Order[];
  next_cursor: string | null;
}

export interface Refund {
  out_refund_no: string;
  order_id: number;
  kind: 'staff' | 'payment_return';
  amount: number;
  reason: string;
  status: 'requested' | 'processing' | 'succeeded' | 'abnormal' | 'closed';
  refund_id: string;
  actor: string;
  created_at: string;
  updated_at: string;
}

export interface CustomsReceipt {
  guid: string;
  return_status: number;
  return_time: string;
  return_info: string;
}

export interface CustomsDeclaration {
  kind: 'order';
  order_no: string;
  state: 'pending' | 'sent' | 'received' | 'accepted' | 'rejected' | 'failed';
  attempt: number;
  guid: string;
  sends: number;
  last_status: number | null;
  last_info: string;
  last_receipt_at: string | null;
  last_error: string;
  sent_at: string | null;
  updated_at: string;
  receipts: CustomsReceipt[];
}

export interface CustomsView {
  order_id: number;
  order_no: string;
  order_status: string;
  order_declaration: CustomsDeclaration | null;
}

export interface OrderFilter {
  status?: string;
  from?: string;
  to?: string;
  customer_id?: number;
  cursor?: string;
}

export function useOrders(slug: string, f: OrderFilter) {
  return useQuery({
    queryKey: ['orders', slug, f],
    queryFn: ({ signal }) =>
      api.get<OrderPage>(base(slug), {
        signal,
        query: {
          status: f.status || undefined,
          from: f.from || undefined,
          to: f.to || undefined,
          customer_id: f.customer_id,
          cursor: f.cursor,
          limit: 20,
        },
      }),
    placeholderData: keepPreviousData,
  });
}

export function useOrder(slug: string, id: number) {
  return useQuery({
    queryKey: ['order', slug, id],
    queryFn: ({ signal }) => api.get<Order>(`${base(slug)}/${id}`, { signal }),
  });
}

export function useOrderRefunds(slug: string, id: number) {
  return useQuery({
    queryKey: ['order-refunds', slug, id],
    queryFn: ({ signal }) => api.get<{ refunds: Refund[] }>(`${base(slug)}/${id}/refunds`, { signal }),
  });
}

export function useOrderCustoms(slug: string, id: number) {
  return useQuery({
    queryKey: ['order-customs', slug, id],
    queryFn: ({ signal }) => api.get<CustomsView>(`${base(slug)}/${id}/customs`, { signal }),
  });
}

export function useRefundOrder(slug: string, id: number) {
  const qc = useQueryClient();
  return useMutation({
    // key: the Idempotency-Key, one per refund the person means to make, so
    // that sending it again (a double click, a retry after an error) cannot
    // refund twice.
    mutationFn: ({ key, ...body }: { amount_fen: number; reason: string; key: string }) =>
      api.post<Refund>(`${base(slug)}/${id}/refunds`, body, { headers: { 'Idempotency-Key': key } }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['order', slug, id] });
      void qc.invalidateQueries({ queryKey: ['order-refunds', slug, id] });
      void qc.invalidateQueries({ queryKey: ['orders', slug] });
    },
  });
}

/** What is left to refund: paid minus staff refunds that did not fail. */
export function refundableLeft(o: Order, refunds: Refund[]): number {
  const used = refunds
    .filter((r) => r.kind === 'staff' && r.status !== 'abnormal' && r.status !== 'closed')
    .reduce((s, r) => s + r.amount, 0);
  return Math.max(0, o.actural_paid - used);
}

/** "12.34" (yuan) → 1234 fen; null when not a positive amount with at most 2 decimals. */
export function yuanToFen(s: string): number | null {
  const m = /^\s*(\d+)(?:\.(\d{1,2}))?\s*$/.exec(s);
  if (!m) return null;
  const fen = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  return Number.isSafeInteger(fen) && fen > 0 ? fen : null;
}
