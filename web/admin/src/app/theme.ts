import type { ThemeConfig } from 'antd';

export const brand = {
  primary: '#4f46e5',
  siderBg: '#0f172a',
  siderBgDeep: '#0b1222',
};

const fontFamily = [
  '-apple-system',
  'BlinkMacSystemFont',
  "'Segoe UI'",
  'Roboto',
  "'Helvetica Neue'",
  'Arial',
  "'PingFang SC'",
  "'Hiragino Sans GB'",
  "'Microsoft YaHei'",
  "'Noto Sans CJK SC'",
  "'Noto Sans SC'",
  'sans-serif',
].join(', ');

/** Ant Design's default theme with the Minishop indigo and calmer surfaces. */
export const theme: ThemeConfig = {
  token: {
    colorPrimary: brand.primary,
    colorInfo: brand.primary,
    colorLink: brand.primary,
    colorBgLayout: '#f5f6fa',
    borderRadius: 8,
    borderRadiusLG: 12,
    fontFamily,
    colorTextHeading: '#101828',
    colorText: '#1f2937',
  },
  components: {
    Layout: {
      siderBg: brand.siderBg,
      headerBg: '#ffffff',
      headerHeight: 64,
      headerPadding: '0 20px',
      bodyBg: '#f5f6fa',
    },
    Menu: {
      darkItemBg: brand.siderBg,
      darkSubMenuItemBg: brand.siderBgDeep,
      darkItemSelectedBg: brand.primary,
      darkItemColor: 'rgba(226, 232, 240, 0.72)',
      darkItemHoverColor: '#ffffff',
      itemBorderRadius: 8,
      itemMarginInline: 12,
      iconSize: 16,
      collapsedIconSize: 18,
    },
    Card: {
      headerFontSize: 16,
    },
    Statistic: {
      contentFontSize: 28,
    },
  },
};
