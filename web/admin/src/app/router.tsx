import { createBrowserRouter, Outlet, useParams } from 'react-router';
import { RequireSession } from '../auth/RequireSession';
import { sections, type Section } from '../layout/sections';
import { ChooseShopPage } from '../pages/ChooseShopPage';
import { HomePage } from '../pages/HomePage';
import { LoginPage } from '../pages/LoginPage';
import { SignupPage } from '../pages/SignupPage';
import { OnboardingPage } from '../pages/onboarding/OnboardingPage';
import { SettingsPage } from '../pages/settings/SettingsPage';
import { ProductListPage } from '../pages/catalog/ProductListPage';
import { ProductEditorPage } from '../pages/catalog/ProductEditorPage';
import { CategoriesPage } from '../pages/catalog/CategoriesPage';
import { OrderListPage } from '../pages/orders/OrderListPage';
import { OrderDetailPage } from '../pages/orders/OrderDetailPage';
import { ImportExportPage } from '../pages/catalog/ImportExportPage';
import { ReconciliationPage } from '../pages/reconciliation/ReconciliationPage';
import { ReconciliationDayPage } from '../pages/reconciliation/ReconciliationDayPage';
import { CustomsPage } from '../pages/customs/CustomsPage';
import { LogisticsPage } from '../pages/logistics/LogisticsPage';
import { NotFoundPage } from '../pages/NotFoundPage';
import { RootRedirect } from '../pages/RootRedirect';
import { RouteError } from '../pages/RouteError';
import { ComingSoonPage } from '../pages/SectionPage';
import { RequirePermission, ShopLayout } from '../pages/ShopLayout';
import { TeamPage } from '../pages/team/TeamPage';
import { AgencyIndex, AgencyPage } from '../pages/team/AgencyPage';
import { AuditPage } from '../pages/audit/AuditPage';
import { AccountPage } from '../pages/account/AccountPage';
import { ForgotPasswordPage, InvitePage, ResetPasswordPage } from '../pages/account/AuthPages';

/** The base path the Go binary serves the console at (vite.config.ts `base`). */
export const BASENAME = '/admin';

function ShopNotFound() {
  const { slug = '' } = useParams();
  return <NotFoundPage home={`/s/${slug}`} />;
}

// Sections with screens of their own are routed above.
const built = new Set<Section['key']>(['home', 'catalog', 'orders', 'settings', 'team', 'audit', 'reconciliation', 'customs', 'logistics']);
const notHome = (s: Section): s is Section & { key: Exclude<Section['key'], 'home'> } => !built.has(s.key);

export function createRouter() {
  return createBrowserRouter(
    [
      {
        element: <Outlet />,
        errorElement: <RouteError />,
        children: [
          { path: 'login', element: <LoginPage /> },
          { path: 'signup', element: <SignupPage /> },
          { path: 'forgot-password', element: <ForgotPasswordPage /> },
          { path: 'reset-password', element: <ResetPasswordPage /> },
          { path: 'invite/:token', element: <InvitePage /> },
          {
            element: <RequireSession />,
            children: [
              { index: true, element: <RootRedirect /> },
              { path: 'shops', element: <ChooseShopPage /> },
              { path: 'account', element: <AccountPage /> },
              { path: 'agency', element: <AgencyIndex /> },
              { path: 'agencies/:id', element: <AgencyPage /> },
              {
                path: 's/:slug',
                element: <ShopLayout />,
                children: [
                  { index: true, element: <HomePage /> },
                  { path: 'onboarding', element: <OnboardingPage /> },
                  { path: 'catalog', element: <RequirePermission perm="catalog:read"><ProductListPage /></RequirePermission> },
                  { path: 'catalog/categories', element: <RequirePermission perm="catalog:read"><CategoriesPage /></RequirePermission> },
                  { path: 'catalog/import', element: <RequirePermission perm="catalog:read"><ImportExportPage /></RequirePermission> },
                  { path: 'catalog/:id', element: <RequirePermission perm="catalog:read"><ProductEditorPage /></RequirePermission> },
                  { path: 'orders', element: <RequirePermission perm="orders:read"><OrderListPage /></RequirePermission> },
                  { path: 'orders/:id', element: <RequirePermission perm="orders:read"><OrderDetailPage /></RequirePermission> },
                  { path: 'customs', element: <RequirePermission perm="orders:read"><CustomsPage /></RequirePermission> },
                  { path: 'logistics', element: <RequirePermission perm="orders:read"><LogisticsPage /></RequirePermission> },
                  { path: 'reconciliation', element: <RequirePermission perm="finance:read"><ReconciliationPage /></RequirePermission> },
                  { path: 'reconciliation/:date', element: <RequirePermission perm="finance:read"><ReconciliationDayPage /></RequirePermission> },
                  { path: 'settings', element: <RequirePermission perm="shop:read"><SettingsPage /></RequirePermission> },
                  { path: 'team', element: <RequirePermission perm="team:read"><TeamPage /></RequirePermission> },
                  { path: 'audit', element: <RequirePermission perm="audit:read"><AuditPage /></RequirePermission> },
                  // Sections not built yet: each gets its own route (and
                  // its permission check) so deep links keep working later.
                  ...sections.filter(notHome).map((s) => ({
                    path: `${s.path}/*`,
                    element: (
                      <RequirePermission perm={s.perm}>
                        <ComingSoonPage section={s} />
                      </RequirePermission>
                    ),
                  })),
                  { path: '*', element: <ShopNotFound /> },
                ],
              },
            ],
          },
          { path: '*', element: <NotFoundPage /> },
        ],
      },
    ],
    { basename: BASENAME },
  );
}
