import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { API_BASE, ApiError, acceptLanguage, api } from './client';
import { profileKey } from './profile';
import type {
  BulkResult,
  Category,
  Product,
  ProductInput,
  ProductPage,
  SKUEdit,
  TaxRate,
  UploadedImage,
  Warehouse,
} from './types';

const enc = encodeURIComponent;
const base = (slug: string) => `/tenants/${enc(slug)}`;

export interface ProductFilter {
  q?: string;
  status?: string;
  category_id?: number;
  cursor?: string;
}

export function useProducts(slug: string, f: ProductFilter) {
  return useQuery({
    queryKey: ['products', slug, f],
    queryFn: ({ signal }) =>
      api.get<ProductPage>(`${base(slug)}/products`, {
        signal,
        query: { q: f.q || undefined, status: f.status || undefined, category_id: f.category_id, cursor: f.cursor, limit: 50 },
      }),
    placeholderData: keepPreviousData,
  });
}

export function useProduct(slug: string, id: number | null) {
  return useQuery({
    queryKey: ['product', slug, id],
    queryFn: ({ signal }) => api.get<Product>(`${base(slug)}/products/${id}`, { signal }),
    enabled: id !== null,
  });
}

function useCatalogInvalidate(slug: string) {
  const qc = useQueryClient();
  return (p?: Product) => {
    if (p) qc.setQueryData(['product', slug, p.id], p);
    void qc.invalidateQueries({ queryKey: ['products', slug] });
    void qc.invalidateQueries({ queryKey: profileKey(slug) });
  };
}

export function useSaveProduct(slug: string) {
  const done = useCatalogInvalidate(slug);
  return useMutation({
    mutationFn: ({ id, body }: { id: number | null; body: ProductInput }) =>
      id === null ? api.post<Product>(`${base(slug)}/products`, body) : api.put<Product>(`${base(slug)}/products/${id}`, body),
    onSuccess: (p) => done(p),
  });
}

export function useSaveSKUs(slug: string) {
  const done = useCatalogInvalidate(slug);
  return useMutation({
    mutationFn: ({ id, skus }: { id: number; skus: SKUEdit[] }) => api.put<Product>(`${base(slug)}/products/${id}/skus`, { skus }),
    onSuccess: (p) => done(p),
  });
}

export function useSetProductStatus(slug: string) {
  const done = useCatalogInvalidate(slug);
  return useMutation({
    mutationFn: ({ id, action }: { id: number; action: 'publish' | 'unpublish' | 'archive' }) =>
      api.post<Product>(`${base(slug)}/products/${id}/${action}`),
    onSuccess: (p) => done(p),
  });
}

export function useBulkProducts(slug: string) {
  const done = useCatalogInvalidate(slug);
  return useMutation({
    mutationFn: (body: { ids: number[]; action: 'publish' | 'unpublish' | 'archive' }) =>
      api.post<{ results: BulkResult[] }>(`${base(slug)}/products/bulk`, body),
    onSuccess: () => done(),
  });
}

export function useCategories(slug: string) {
  return useQuery({
    queryKey: ['categories', slug],
    queryFn: ({ signal }) => api.get<{ categories: Category[] }>(`${base(slug)}/categories`, { signal }),
    select: (d) => d.categories,
  });
}

export function useSaveCategory(slug: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, body }: { id: number | null; body: Omit<Category, 'id'> }) =>
      id === null ? api.post<Category>(`${base(slug)}/categories`, body) : api.put<Category>(`${base(slug)}/categories/${id}`, body),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ['categories', slug] }),
  });
}

export function useDeleteCategory(slug: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => api.delete(`${base(slug)}/categories/${id}`),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ['categories', slug] }),
  });
}

export function useWarehouses(slug: string) {
  return useQuery({
    queryKey: ['warehouses', slug],
    queryFn: ({ signal }) => api.get<{ warehouses: Warehouse[] }>(`${base(slug)}/warehouses`, { signal }),
    select: (d) => d.warehouses,
  });
}

export function useCreateWarehouse(slug: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { code: string; name: string; kind: string }) => api.post<Warehouse>(`${base(slug)}/warehouses`, body),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['warehouses', slug] });
      void qc.invalidateQueries({ queryKey: profileKey(slug) });
    },
  });
}

export function useTaxRates(slug: string) {
  return useQuery({
    queryKey: ['tax-rates', slug],
    queryFn: ({ signal }) => api.get<{ categories: TaxRate[] }>(`${base(slug)}/tax-rates`, { signal }),
    select: (d) => d.categories,
    staleTime: 10 * 60_000,
  });
}

/** Uploads an image file (multipart); the answer names it by hash. */
export async function uploadImage(slug: string, file: File): Promise<UploadedImage> {
  const form = new FormData();
  form.append('file', file);
  const path = `${base(slug)}/images`;
  let res: Response;
  try {
    res = await fetch(API_BASE + path, { method: 'POST', body: form, credentials: 'same-origin', headers: { Accept: 'application/json', 'Accept-Language': acceptLanguage() } });
  } catch {
    throw new ApiError({ status: 0, code: 'network_error', message: 'network error', method: 'POST', path });
  }
  const data = (await res.json().catch(() => null)) as
    | (UploadedImage & { error?: { code: string; message: string; request_id?: string; details?: unknown } })
    | null;
  if (!res.ok) {
    throw new ApiError({
      status: res.status,
      code: data?.error?.code ?? `http_${res.status}`,
      message: data?.error?.message ?? res.statusText,
      requestId: data?.error?.request_id,
      details: data?.error?.details,
      method: 'POST',
      path,
    });
  }
  return data as UploadedImage;
}

/** The admin URL of an uploaded image. */
export function imageURL(slug: string, hash: string): string {
  return `${API_BASE}${base(slug)}/images/${hash}`;
}
