import { createContext, useContext, useMemo, type ReactNode } from 'react';
import type { Permission } from '../api/types';
import { can, type ShopEntry } from './shops';

interface ShopValue {
  shop: ShopEntry;
  can: (perm: Permission) => boolean;
}

const Ctx = createContext<ShopValue | null>(null);

export function ShopProvider({ shop, children }: { shop: ShopEntry; children: ReactNode }) {
  const value = useMemo(() => ({ shop, can: (p: Permission) => can(shop, p) }), [shop]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

/** The shop of the current /s/{slug}/ page and what the user may do there. */
export function useShop(): ShopValue {
  const v = useContext(Ctx);
  if (!v) throw new Error('useShop outside a shop route');
  return v;
}
