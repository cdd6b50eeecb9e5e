// Typed fetch wrapper for the admin API (same origin, JSON, cookie session).
// Every failure becomes an ApiError: HTTP errors carry the server's code,
// message and request id; a network failure is status 0, code network_error.
// Requests name the console's language (Accept-Language): the server writes
// its messages in Chinese when it has them; when it has not, a Chinese
// console shows the error code's translation (i18n/server.ts) if it knows it.
import { serverCodeZh } from '../i18n/server';

export const API_BASE = '/api/admin/v1';

/** The console's current language, as applyLocale set it on <html lang>. */
export function uiLanguage(): 'en' | 'zh-CN' {
  return typeof document !== 'undefined' && document.documentElement.lang === 'zh-CN' ? 'zh-CN' : 'en';
}

/** The Accept-Language of the console's requests: its current language first. */
export function acceptLanguage(): string {
  return uiLanguage() === 'zh-CN' ? 'zh-CN,zh;q=0.9,en;q=0.5' : 'en,zh-CN;q=0.1';
}

const hasChinese = /[\u3400-\u9fff]/;

/**
 * The message to show for a server error in the console's language: the
 * server's when it is in that language, else (Chinese console, message left
 * in English) the translation of its code when the console knows it.
 */
export function localMessage(code: string, message: string, contentLanguage?: string | null): string {
  if (uiLanguage() !== 'zh-CN' || hasChinese.test(message) || contentLanguage?.toLowerCase().startsWith('zh')) return message;
  return serverCodeZh[code] ?? message;
}

/** The error body of every API endpoint. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown; request_id?: string };
}

export class ApiError extends Error {
  /** HTTP status; 0 when the server could not be reached. */
  readonly status: number;
  /** Machine-readable code, e.g. invalid_credentials, route_not_found. */
  readonly code: string;
  /** Request id to quote to support (from the body, or X-Request-ID). */
  readonly requestId: string | undefined;
  readonly details: unknown;
  /** The message as the server wrote it (message may be its translation). */
  readonly serverMessage: string;
  /** Method and path (under API_BASE) of the failed request. */
  readonly method: string;
  readonly path: string;

  constructor(init: {
    status: number;
    code: string;
    message: string;
    requestId?: string | undefined;
    details?: unknown;
    method: string;
    path: string;
    /** Content-Language of the answer, when known. */
    language?: string | null;
  }) {
    super(localMessage(init.code, init.message, init.language));
    this.serverMessage = init.message;
    this.name = 'ApiError';
    this.status = init.status;
    this.code = init.code;
    this.requestId = init.requestId;
    this.details = init.details;
    this.method = init.method;
    this.path = init.path;
  }

  get isNetwork(): boolean {
    return this.status === 0;
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}

function isErrorBody(v: unknown): v is ErrorBody {
  if (typeof v !== 'object' || v === null || !('error' in v)) return false;
  const e = (v as { error: unknown }).error;
  return typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string';
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestOptions {
  body?: unknown;
  signal?: AbortSignal | undefined;
  query?: Record<string, string | number | boolean | undefined>;
  /** Extra request headers (e.g. Idempotency-Key). */
  headers?: Record<string, string>;
}

/** Sends a request to API_BASE + path and decodes the JSON answer as T. */
export async function request<T>(method: Method, path: string, opts: RequestOptions = {}): Promise<T> {
  let url = API_BASE + path;
  if (opts.query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query)) if (v !== undefined) q.set(k, String(v));
    const s = q.toString();
    if (s) url += (url.includes('?') ? '&' : '?') + s;
  }
  const headers: Record<string, string> = { Accept: 'application/json', 'Accept-Language': acceptLanguage(), ...opts.headers };
  // The server refuses state-changing requests without a JSON content type.
  if (method !== 'GET') headers['Content-Type'] = 'application/json';

  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      credentials: 'same-origin',
      body: opts.body === undefined ? null : JSON.stringify(opts.body),
      signal: opts.signal ?? null,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError({ status: 0, code: 'network_error', message: 'network error', method, path });
  }

  const text = res.status === 204 ? '' : await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  if (!res.ok) {
    const headerId = res.headers.get('X-Request-ID') ?? undefined;
    if (isErrorBody(data)) {
      throw new ApiError({
        status: res.status,
        code: data.error.code,
        message: data.error.message || res.statusText,
        requestId: data.error.request_id || headerId,
        details: data.error.details,
        method,
        path,
        language: res.headers.get('Content-Language'),
      });
    }
    throw new ApiError({
      status: res.status,
      code: `http_${res.status}`,
      message: res.statusText || `HTTP ${res.status}`,
      requestId: headerId,
      method,
      path,
    });
  }
  return data as T;
}

export const api = {
  get: <T>(path: string, opts?: Omit<RequestOptions, 'body'>) => request<T>('GET', path, opts),
  post: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('POST', path, { ...opts, body }),
  put: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('PUT', path, { ...opts, body }),
  patch: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('PATCH', path, { ...opts, body }),
  delete: <T = void>(path: string, opts?: RequestOptions) => request<T>('DELETE', path, opts),
};
