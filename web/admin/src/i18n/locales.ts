import type { Locale as AntdLocale } from 'antd/es/locale';
import antdEn from 'antd/es/locale/en_US';
import antdZh from 'antd/es/locale/zh_CN';
import dayjs from 'dayjs';
import 'dayjs/locale/zh-cn';
import { en, type Messages } from './en';
import { zhCN } from './zh-CN';

/** The console's languages, as BCP 47 tags (also used by Intl). */
export type Locale = 'en' | 'zh-CN';

export interface LocaleInfo {
  label: string; // in its own language, for the switcher
  messages: Messages;
  antd: AntdLocale;
  dayjs: string;
}

export const locales: Record<Locale, LocaleInfo> = {
  en: { label: 'English', messages: en, antd: antdEn, dayjs: 'en' },
  'zh-CN': { label: '简体中文', messages: zhCN, antd: antdZh, dayjs: 'zh-cn' },
};

export const STORAGE_KEY = 'minishop.locale';

export function isLocale(v: unknown): v is Locale {
  return v === 'en' || v === 'zh-CN';
}

/** The remembered choice, else the browser's language, else English. */
export function initialLocale(): Locale {
  try {
    const saved = window.localStorage.getItem(STORAGE_KEY);
    if (isLocale(saved)) return saved;
  } catch {
    // storage blocked: fall through
  }
  const langs = navigator.languages?.length ? navigator.languages : [navigator.language];
  for (const l of langs) {
    const low = (l ?? '').toLowerCase();
    if (low.startsWith('zh')) return 'zh-CN';
    if (low.startsWith('en')) return 'en';
  }
  return 'en';
}

export function applyLocale(locale: Locale): void {
  dayjs.locale(locales[locale].dayjs);
  document.documentElement.lang = locale;
}
