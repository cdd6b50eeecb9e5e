// The operations API of the console: catalog import and export,
// reconciliation, and (as they land) customs, logistics and failed tasks.
// Types mirror internal/openapi/openapi.yaml.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { API_BASE, ApiError, api } from './client';

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
    res = await fetch(API_BASE + path, { credentials: 'same-origin' });
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
