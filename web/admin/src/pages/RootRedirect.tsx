import { Navigate } from 'react-router';
import { useSignedIn } from '../auth/SessionContext';
import { shopPath } from '../layout/sections';
import { NoShopPage } from './ChooseShopPage';

/** /admin/: straight into the only shop, the chooser for several, a welcome for none. */
export function RootRedirect() {
  const { shops } = useSignedIn();
  const only = shops.length === 1 ? shops[0] : undefined;
  if (only) return <Navigate to={shopPath(only.slug)} replace />;
  if (shops.length > 1) return <Navigate to="/shops" replace />;
  return <NoShopPage />;
}
