import { GlobalOutlined } from '@ant-design/icons';
import { Button, Dropdown } from 'antd';
import { useI18n } from '../i18n/I18nProvider';
import { isLocale, locales, type Locale } from '../i18n/locales';

/** A button showing the current language, with a menu of the others. */
export function LanguageSwitch({ compact = false }: { compact?: boolean }) {
  const { locale, setLocale, t } = useI18n();
  const items = (Object.keys(locales) as Locale[]).map((l) => ({
    key: l,
    label: <span lang={l}>{locales[l].label}</span>,
    'data-testid': `language-${l}`,
  }));
  return (
    <Dropdown
      trigger={['click']}
      menu={{
        items,
        selectable: true,
        selectedKeys: [locale],
        onClick: ({ key }) => {
          if (isLocale(key)) setLocale(key);
        },
      }}
    >
      <Button type="text" icon={<GlobalOutlined />} aria-label={t('lang.label')} data-testid="language-switch">
        {!compact && locales[locale].label}
      </Button>
    </Dropdown>
  );
}
