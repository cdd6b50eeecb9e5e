import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import type { MessageKey } from './en';
import { applyLocale, initialLocale, locales, STORAGE_KEY, type Locale } from './locales';
import { formatDate, formatDateTime, formatMoney, formatNumber } from './format';

export type Vars = Record<string, string | number>;

export interface I18n {
  locale: Locale;
  setLocale: (l: Locale) => void;
  /** The string of key in the current language, with {placeholders} filled. */
  t: (key: MessageKey, vars?: Vars) => string;
  /** t for keys built at run time (roles from the API): the fallback when unknown. */
  tMaybe: (key: string, fallback: string, vars?: Vars) => string;
  money: (fen: number, currency?: string) => string;
  number: (n: number, opts?: Intl.NumberFormatOptions) => string;
  date: (v: string | number | Date | null | undefined) => string;
  dateTime: (v: string | number | Date | null | undefined) => string;
}

const I18nContext = createContext<I18n | null>(null);

function fill(s: string, vars?: Vars): string {
  if (!vars) return s;
  return s.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
}

export function I18nProvider({ children }: { children: ReactNode }) {
  const [locale, setLocaleState] = useState<Locale>(() => {
    const l = initialLocale();
    applyLocale(l);
    return l;
  });

  const setLocale = useCallback((l: Locale) => {
    applyLocale(l);
    try {
      window.localStorage.setItem(STORAGE_KEY, l);
    } catch {
      // storage blocked: the choice lasts for this page only
    }
    setLocaleState(l);
  }, []);

  const value = useMemo<I18n>(() => {
    const messages = locales[locale].messages as Record<string, string>;
    return {
      locale,
      setLocale,
      t: (key, vars) => fill(messages[key] ?? key, vars),
      tMaybe: (key, fallback, vars) => fill(messages[key] ?? fallback, vars),
      money: (fen, currency) => formatMoney(fen, locale, currency),
      number: (n, opts) => formatNumber(n, locale, opts),
      date: (v) => formatDate(v, locale),
      dateTime: (v) => formatDateTime(v, locale),
    };
  }, [locale, setLocale]);

  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const v = useContext(I18nContext);
  if (!v) throw new Error('useI18n outside I18nProvider');
  return v;
}
