// The operations API of the console: catalog import and export,
// reconciliation, and (as they land) customs, logistics and failed tasks.
// Types mirror internal/openapi/openapi.yaml.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { API_BASE, ApiError, acceptLanguage, api } from './client';
import type { Warehouse } from './types';

const enc = encodeURIComponent;
const base = (slug: string) => `/tenants/${enc(slug)}`;

// ---------------------------------------------------------------- files

/** Turns a failed non-JSON-API response (a download, an upload) into an ApiError. */
async function responseError(res: Response, method: string, path: string): Promise<ApiError> {
  const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string; request_id?: string; details?: unknown } } | null;
  return new ApiError({
    status: res.status,
    code: body?.error?.code ?? `http_${res.status}`,
    message: body?.error?.message || res.statusText || `HTTP ${res.status}`,
    requestId: body?.error?.request_id || res.headers.get('X-Request-ID') || undefined,
    details: body?.error?.details,
    method,
    path,
    language: res.headers.get('Content-Language'),
  });
}

/** The file name of a Content-Disposition header, else fallback. */
function attachmentName(header: string | null, fallback: string): string {
  const m = header ? /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(header) : null;
  return m?.[1] ? decodeURIComponent(m[1]) : fallback;
}

/**
 * Downloads an attachment of the admin API (session cookie) and hands it to
 * the browser as a file. A refusal (403, 404, 5xx) is thrown as an ApiError
 * instead of leaving the console for an error page.
 */
export async function downloadFile(path: string, fallbackName: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(API_BASE + path, { credentials: 'same-origin', headers: { 'Accept-Language': acceptLanguage() } });
  } catch {
    throw new ApiError({ status: 0, code: 'network_error', message: 'network error', method: 'GET', path });
  }
  if (!res.ok) throw await responseError(res, 'GET', path);
  const blob = await res.blob();
  const name = attachmentName(res.headers.get('Content-Disposition'), fallbackName);
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return name;
}

// ------------------------------------------------------- catalog import

export type FileFormat = 'csv' | 'xlsx';

export interface ImportRowError {
  line: number;
  column: string;
  sku: string;
  message: string;
}

export interface ImportSummary {
  products: number;
  products_created: number;
  products_updated: number;
  products_unchanged: number;
  skus: number;
  skus_created: number;
  skus_updated: number;
  skus_unchanged: number;
  skus_archived: number;
  stock_adjusted: number;
}

export interface CatalogImport {
  id: number;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  format: FileFormat;
  filename: string;
  size: number;
  rows_total: number;
  rows_done: number;
  progress: number;
  error_count: number;
  errors: ImportRowError[];
  summary: ImportSummary;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export const importTemplatePath = (slug: string, format: FileFormat) => `${base(slug)}/catalog/import/template?format=${format}`;
export const exportPath = (slug: string, format: FileFormat) => `${base(slug)}/catalog/export?format=${format}`;
export const importErrorsPath = (slug: string, id: number) => `${base(slug)}/catalog/imports/${id}/errors`;

/**
 * Uploads a catalog file (multipart, field "file"), reporting the bytes sent
 * through onProgress (0..1). Resolves to the job: finished for small files,
 * queued for large ones.
 */
export function uploadImport(slug: string, file: File, onProgress: (sent: number) => void): Promise<CatalogImport> {
  const path = `${base(slug)}/catalog/imports`;
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', API_BASE + path);
    xhr.withCredentials = true;
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('Accept-Language', acceptLanguage());
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
    };
    xhr.onerror = () => reject(new ApiError({ status: 0, code: 'network_error', message: 'network error', method: 'POST', path }));
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(body as CatalogImport);
        return;
      }
      const e = (body as { error?: { code?: string; message?: string; request_id?: string; details?: unknown } } | null)?.error;
      reject(
        new ApiError({
          status: xhr.status,
          code: e?.code ?? `http_${xhr.status}`,
          message: e?.message || xhr.statusText || `HTTP ${xhr.status}`,
          requestId: e?.request_id || xhr.getResponseHeader('X-Request-ID') || undefined,
          details: e?.details,
          method: 'POST',
          path,
          language: xhr.getResponseHeader('Content-Language'),
        }),
      );
    };
    const form = new FormData();
    form.append('file', file);
    xhr.send(form);
  });
}

/** An import job, polled every second while it is queued or running. */
export function useImportJob(slug: string, id: number | null, initial?: CatalogImport) {
  return useQuery({
    queryKey: ['catalog-import', slug, id],
    queryFn: ({ signal }) => api.get<CatalogImport>(`${base(slug)}/catalog/imports/${id}`, { signal }),
    enabled: id !== null,
    initialData: initial && initial.id === id ? initial : undefined,
    refetchInterval: (q) => {
      const s = q.state.data?.status;
      return s === 'queued' || s === 'running' ? 1000 : false;
    },
  });
}

// ------------------------------------------------------- reconciliation

export interface Reconciliation {
  date: string;
  status: 'running' | 'matched' | 'discrepancies' | 'failed';
  bill_rows: number;
  bill_payments: number;
  bill_refunds: number;
  bill_fee: number;
  net_settlement: number;
  our_payments: number;
  our_refunds: number;
  summary_problems: string[];
  open: number;
  error: string;
  runs: number;
  updated_at: string;
}

export type DiscrepancyKind = 'missing_with_us' | 'missing_in_bill' | 'amount_mismatch' | 'status_mismatch' | 'refund_mismatch';

export interface Discrepancy {
  id: number;
  date: string;
  kind: DiscrepancyKind;
  reference: string;
  evidence: Record<string, unknown>;
  explanation: string;
  state: 'open' | 'auto_resolved' | 'resolved';
  note: string;
  resolved_by: string;
  resolved_at: string | null;
}

export function useReconciliations(slug: string) {
  return useQuery({
    queryKey: ['reconciliations', slug],
    queryFn: ({ signal }) => api.get<{ reconciliations: Reconciliation[] }>(`${base(slug)}/reconciliations`, { signal, query: { limit: 90 } }),
    placeholderData: keepPreviousData,
  });
}

export function useReconciliationDay(slug: string, date: string | null) {
  return useQuery({
    queryKey: ['reconciliation', slug, date],
    queryFn: ({ signal }) =>
      api.get<{ reconciliation: Reconciliation; discrepancies: Discrepancy[] }>(`${base(slug)}/reconciliations/${enc(date ?? '')}`, { signal }),
    enabled: date !== null,
  });
}

export function useRunReconciliation(slug: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (date: string) => api.post<{ reconciliation: Reconciliation }>(`${base(slug)}/reconciliations`, { date }),
    onSettled: (_d, _e, date) => {
      void qc.invalidateQueries({ queryKey: ['reconciliations', slug] });
      void qc.invalidateQueries({ queryKey: ['reconciliation', slug, date] });
    },
  });
}

export function useResolveDiscrepancy(slug: string, date: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, note }: { id: number; note: string }) =>
      api.post<{ discrepancy: Discrepancy }>(`${base(slug)}/reconciliations/${enc(date)}/discrepancies/${id}/resolve`, { note }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['reconciliations', slug] });
      void qc.invalidateQueries({ queryKey: ['reconciliation', slug, date] });
    },
  });
}

export const discrepanciesCSVPath = (slug: string, date: string) => `${base(slug)}/reconciliations/${enc(date)}/discrepancies.csv`;

// ---------------------------------------------------------------- customs

export type CustomsDocKind = 'order' | 'payment' | 'waybill' | 'inventory';
export type CustomsDocState = 'not_started' | 'pending' | 'sent' | 'received' | 'accepted' | 'rejected' | 'failed';
export type CustomsAction =
  | 'redeclare'
  | 'ask_buyer_or_refund'
  | 'fix_identity'
  | 'fix_product'
  | 'refund'
  | 'configure_customs'
  | 'contact_agent'
  | 'wait';

export interface CustomsLastReceipt {
  status: number;
  info: string;
  time: string;
}

export interface CustomsAttention {
  problem: 'rejected' | 'failed' | 'not_sent' | 'detained' | 'stuck';
  reason: string;
  action: CustomsAction;
  action_text: string;
}

export interface CustomsDocument {
  kind: CustomsDocKind;
  /** The customs order of the document, for an order split into customs orders. */
  order_no?: string;
  state: CustomsDocState;
  attempt: number;
  guid: string;
  sends: number;
  last_receipt: CustomsLastReceipt | null;
  last_error: string;
  sent_at: string | null;
  updated_at: string | null;
  receipts: { guid: string; return_status: number; return_time: string; return_info: string }[];
  attention: CustomsAttention | null;
}

/** The 三单 view of an order (GET /orders/{id}/customs). */
export interface CustomsDocuments {
  order_id: number;
  order_no: string;
  order_status: string;
  documents: CustomsDocument[];
  /** The customs orders of an order shipped from several warehouses (absent otherwise). */
  sub_orders?: CustomsSubOrder[];
}

/** One customs order (`out_trade_no-N`) of an order shipped from several warehouses; amounts in fen. */
export interface CustomsSubOrder {
  order_no: string;
  warehouse_id: number | null;
  line_nos: number[];
  goods_value: number;
  freight: number;
  discount: number;
  tax_total: number;
  actural_paid: number;
  documents: CustomsDocument[];
}

export interface CustomsQueueDoc {
  kind: CustomsDocKind;
  /** The customs order (`out_trade_no-N`) of a split order's document. */
  order_no?: string;
  state: Exclude<CustomsDocState, 'not_started'>;
  since: string;
  last_receipt: CustomsLastReceipt | null;
  last_error: string;
  problem: CustomsAttention['problem'];
  reason: string;
  action: CustomsAction;
  action_text: string;
}

export interface CustomsQueueItem {
  order_id: number;
  order_no: string;
  order_status: string;
  documents: CustomsQueueDoc[];
}

const ordersBase = (slug: string) => `${base(slug)}/orders`;

export function useCustomsDocuments(slug: string, orderId: number) {
  return useQuery({
    queryKey: ['order-customs', slug, orderId],
    queryFn: ({ signal }) => api.get<CustomsDocuments>(`${ordersBase(slug)}/${orderId}/customs`, { signal }),
    // Receipts arrive over minutes: keep the panel current while it is open.
    refetchInterval: 30_000,
  });
}

export function useRedeclare(slug: string, orderId: number) {
  const qc = useQueryClient();
  return useMutation({
    // orderNo: one customs order of a split order (the order declaration only).
    mutationFn: ({ kind, orderNo }: { kind: 'order' | 'payment'; orderNo?: string }) =>
      api.post<unknown>(`${ordersBase(slug)}/${orderId}/customs${kind === 'payment' ? '/payment' : ''}/redeclare`, undefined, {
        query: kind === 'order' && orderNo ? { order_no: orderNo } : undefined,
      }),
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: ['order-customs', slug, orderId] });
      void qc.invalidateQueries({ queryKey: ['order', slug, orderId] });
      void qc.invalidateQueries({ queryKey: ['customs-queue', slug] });
    },
  });
}

/** The shop's warehouses (to name a customs order's), only for roles that may read them; shares the catalog's cache. */
export function useWarehouseNames(slug: string, enabled: boolean) {
  return useQuery({
    queryKey: ['warehouses', slug],
    queryFn: ({ signal }) => api.get<{ warehouses: Warehouse[] }>(`${base(slug)}/warehouses`, { signal }),
    select: (d) => d.warehouses,
    enabled,
    staleTime: 5 * 60_000,
  });
}

export function useCustomsQueue(slug: string, cursor: string | undefined) {
  return useQuery({
    queryKey: ['customs-queue', slug, cursor],
    queryFn: ({ signal }) =>
      api.get<{ orders: CustomsQueueItem[]; next_cursor: string | null }>(`${base(slug)}/customs/queue`, { signal, query: { cursor, limit: 50 } }),
    placeholderData: keepPreviousData,
  });
}

// ------------------------------------------------------------ failed tasks

export interface FailedTask {
  id: number;
  kind: string;
  label: string;
  state: 'failed' | 'retrying' | 'queued';
  message: string;
  error: string;
  failures: number;
  order_id: number | null;
  created_at: string;
  failed_at: string;
}

export function useFailedTasks(slug: string, state: 'failed' | 'retrying', before: number | undefined) {
  return useQuery({
    queryKey: ['tasks', slug, state, before],
    queryFn: ({ signal }) =>
      api.get<{ tasks: FailedTask[]; next_before: number | null }>(`${base(slug)}/tasks`, { signal, query: { state, before, limit: 50 } }),
    placeholderData: keepPreviousData,
  });
}

export function useRetryTask(slug: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => api.post<FailedTask>(`${base(slug)}/tasks/${id}/retry`),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ['tasks', slug] }),
  });
}

// --------------------------------------------------------------- logistics

export interface ShipmentLine {
  line_no: number;
  quantity: number;
}

export interface Shipment {
  id: number;
  order_id: number;
  carrier: string;
  carrier_name: string;
  tracking_no: string;
  source: 'admin' | 'import' | 'warehouse';
  lines: ShipmentLine[];
  state: 'created' | 'in_transit' | 'customs' | 'delivering' | 'delivered' | 'exception' | 'returned';
  carrier_state: number | null;
  last_trace: string;
  last_trace_at: string | null;
  delivered_at: string | null;
  subscription: 'pending' | 'active' | 'aborted' | 'failed' | 'done';
  tracking_error: string;
  created_at: string;
}

export interface ShippingUpload {
  state: 'pending' | 'uploaded' | 'failed';
  uploads: number;
  attempts: number;
  last_errcode: number | null;
  last_error: string;
  next_attempt_at: string | null;
  uploaded_at: string | null;
}

export interface OrderShipments {
  order_id: number;
  order_status: string;
  shipments: Shipment[];
  unshipped: ShipmentLine[];
  wechat_shipping: ShippingUpload | null;
}

export interface Carrier {
  code: string;
  wechat_id: string;
  name: string;
  name_zh: string;
}

export interface LogisticsAlert {
  kind: 'wechat_upload_failed' | 'wechat_upload_delayed' | 'wechat_upload_missing' | 'tracking_exception' | 'tracking_unavailable';
  severity: 'error' | 'warning';
  order_id: number;
  out_trade_no: string;
  shipment_id: number | null;
  tracking_no: string;
  code: string;
  message: string;
  since: string;
}

export interface ShipmentImportResult {
  imported: number;
  unchanged: number;
  shipments: Shipment[];
}

/** A row error of a tracking import (422 import_invalid, details.errors). */
export interface ShipmentImportError {
  line: number;
  column: string;
  code: string;
  message: string;
}

export function useOrderShipments(slug: string, orderId: number) {
  return useQuery({
    queryKey: ['order-shipments', slug, orderId],
    queryFn: ({ signal }) => api.get<OrderShipments>(`${ordersBase(slug)}/${orderId}/shipments`, { signal }),
  });
}

export function useCarriers(slug: string, enabled = true) {
  return useQuery({
    queryKey: ['carriers', slug],
    queryFn: ({ signal }) => api.get<{ carriers: Carrier[] }>(`${base(slug)}/logistics/carriers`, { signal }),
    staleTime: 3600_000,
    enabled,
  });
}

export function useCreateShipment(slug: string, orderId: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { carrier: string; tracking_no: string; lines?: ShipmentLine[] }) =>
      api.post<Shipment>(`${ordersBase(slug)}/${orderId}/shipments`, body),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['order-shipments', slug, orderId] });
      void qc.invalidateQueries({ queryKey: ['order', slug, orderId] });
      void qc.invalidateQueries({ queryKey: ['orders', slug] });
    },
  });
}

export function useRetryShippingUpload(slug: string, orderId: number) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => api.post<OrderShipments>(`${ordersBase(slug)}/${orderId}/shipments/retry-upload`),
    onSuccess: (d) => {
      qc.setQueryData(['order-shipments', slug, orderId], d);
      void qc.invalidateQueries({ queryKey: ['logistics-alerts', slug] });
    },
  });
}

export function useLogisticsAlerts(slug: string) {
  return useQuery({
    queryKey: ['logistics-alerts', slug],
    queryFn: ({ signal }) => api.get<{ alerts: LogisticsAlert[] }>(`${base(slug)}/logistics/alerts`, { signal }),
  });
}

/** Sends a tracking CSV (text/csv body, all or nothing). */
export async function importShipments(slug: string, file: File): Promise<ShipmentImportResult> {
  const path = `${base(slug)}/shipments/import`;
  let res: Response;
  try {
    res = await fetch(API_BASE + path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { Accept: 'application/json', 'Accept-Language': acceptLanguage(), 'Content-Type': 'text/csv' },
      body: await file.text(),
    });
  } catch {
    throw new ApiError({ status: 0, code: 'network_error', message: 'network error', method: 'POST', path });
  }
  if (!res.ok) throw await responseError(res, 'POST', path);
  return (await res.json()) as ShipmentImportResult;
}
