import { Result } from 'antd';
import type { ReactNode } from 'react';
import { useParams } from 'react-router';
import { useSignedIn } from '../auth/SessionContext';
import { ShopProvider, useShop } from '../auth/ShopContext';
import type { Permission } from '../api/types';
import { Forbidden } from '../components/States';
import { useDocumentTitle } from '../components/useDocumentTitle';
import { LinkButton } from '../components/LinkButton';
import { useI18n } from '../i18n/I18nProvider';
import { AppShell } from '../layout/AppShell';
import { BareLayout } from '../layout/BareLayout';

/** /s/{slug}/…: the shop from the URL, if the user may open it. */
export function ShopLayout() {
  const { t } = useI18n();
  const { slug = '' } = useParams();
  const { shops } = useSignedIn();
  const shop = shops.find((s) => s.slug === slug);
  useDocumentTitle(shop ? undefined : t('shop.noAccessTitle'));
  if (!shop) {
    return (
      <BareLayout>
        <Result
          status="403"
          title={t('shop.noAccessTitle')}
          subTitle={t('shop.noAccessText', { slug })}
          extra={
            <LinkButton type="primary" to="/">
              {t('shop.chooseAnother')}
            </LinkButton>
          }
        />
      </BareLayout>
    );
  }
  return (
    <ShopProvider shop={shop}>
      <AppShell />
    </ShopProvider>
  );
}

/** Shows children only with perm in the current shop; a 403 page otherwise. */
export function RequirePermission({ perm, children }: { perm: Permission | null; children: ReactNode }) {
  const { can } = useShop();
  if (perm && !can(perm)) return <Forbidden />;
  return <>{children}</>;
}
