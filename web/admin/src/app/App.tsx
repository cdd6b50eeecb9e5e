import { QueryClientProvider } from '@tanstack/react-query';
import { App as AntdApp, ConfigProvider } from 'antd';
import { useState } from 'react';
import { RouterProvider } from 'react-router';
import { I18nProvider, useI18n } from '../i18n/I18nProvider';
import { locales } from '../i18n/locales';
import { createQueryClient } from './queryClient';
import { createRouter } from './router';
import { theme } from './theme';

function Themed() {
  const { locale } = useI18n();
  const [queryClient] = useState(createQueryClient);
  const [router] = useState(createRouter);
  return (
    <ConfigProvider locale={locales[locale].antd} theme={theme}>
      <AntdApp>
        <QueryClientProvider client={queryClient}>
          <RouterProvider router={router} />
        </QueryClientProvider>
      </AntdApp>
    </ConfigProvider>
  );
}

export function App() {
  return (
    <I18nProvider>
      <Themed />
    </I18nProvider>
  );
}
