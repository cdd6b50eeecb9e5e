import type { FormInstance } from 'antd';
import { isApiError } from '../api/client';

/** The field an API error names in details.field, if any. */
export function errorField(e: unknown): string | undefined {
  if (!isApiError(e)) return undefined;
  const d = e.details as { field?: unknown } | unknown[] | undefined;
  if (d && !Array.isArray(d) && typeof d === 'object' && typeof (d as { field?: unknown }).field === 'string') {
    return (d as { field: string }).field;
  }
  if (Array.isArray(d) && d.length && typeof (d[0] as { field?: unknown }).field === 'string') {
    return (d[0] as { field: string }).field;
  }
  return undefined;
}

/**
 * Shows the server's refusal next to the field it names, when the form has
 * that field (map renames API fields to form paths). Returns whether it did.
 */
export function showFieldError(form: FormInstance, e: unknown, map: Record<string, (string | number)[] | string> = {}): boolean {
  const field = errorField(e);
  if (!field || !isApiError(e)) return false;
  const target = map[field] ?? field;
  const name = Array.isArray(target) ? target : [target];
  if (form.getFieldInstance(name) === undefined && !form.isFieldTouched(name) && form.getFieldValue(name) === undefined) return false;
  form.setFields([{ name, errors: [e.message] }]);
  form.scrollToField(name, { block: 'center' });
  return true;
}
