// Locale-aware formatting with Intl. Amounts are integers of fen (分), the
// unit the API uses for CNY: 123450 → ¥1,234.50.
import type { Locale } from './locales';

const cache = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();

function numberFormat(locale: Locale, opts: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = 'n|' + locale + '|' + JSON.stringify(opts);
  let f = cache.get(key) as Intl.NumberFormat | undefined;
  if (!f) {
    f = new Intl.NumberFormat(locale, opts);
    cache.set(key, f);
  }
  return f;
}

function dateFormat(locale: Locale, opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = 'd|' + locale + '|' + JSON.stringify(opts);
  let f = cache.get(key) as Intl.DateTimeFormat | undefined;
  if (!f) {
    f = new Intl.DateTimeFormat(locale, opts);
    cache.set(key, f);
  }
  return f;
}

/** formatMoney(123450, 'en') === '¥1,234.50'. Negative amounts keep their sign. */
export function formatMoney(fen: number, locale: Locale, currency = 'CNY'): string {
  if (!Number.isFinite(fen)) return '—';
  return numberFormat(locale, {
    style: 'currency',
    currency,
    currencyDisplay: 'narrowSymbol',
    minimumFractionDigits: 2,
    maximumFractionDigits: 2,
  }).format(Math.round(fen) / 100);
}

/** formatNumber(12345.6, 'en') === '12,345.6'. */
export function formatNumber(n: number, locale: Locale, opts: Intl.NumberFormatOptions = {}): string {
  if (!Number.isFinite(n)) return '—';
  return numberFormat(locale, opts).format(n);
}

function toDate(v: string | number | Date): Date | null {
  const d = v instanceof Date ? v : new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** A calendar date: "Mar 2, 2025" / "2025年3月2日". */
export function formatDate(v: string | number | Date | null | undefined, locale: Locale): string {
  const d = v == null ? null : toDate(v);
  return d ? dateFormat(locale, { dateStyle: 'medium' }).format(d) : '—';
}

/** A moment: "Mar 2, 2025, 09:14" / "2025年3月2日 09:14". */
export function formatDateTime(v: string | number | Date | null | undefined, locale: Locale): string {
  const d = v == null ? null : toDate(v);
  return d ? dateFormat(locale, { dateStyle: 'medium', timeStyle: 'short', hourCycle: 'h23' }).format(d) : '—';
}
