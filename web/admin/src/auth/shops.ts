import type { AgencyRef, Permission, Session, TenantMode, TenantStatus } from '../api/types';

/** A shop the user can open, from a membership or an agency client. */
export interface ShopEntry {
  slug: string;
  name: string;
  status: TenantStatus;
  mode: TenantMode;
  role: string;
  /** Set when access comes through an agency. */
  agency?: AgencyRef;
  permissions: ReadonlySet<string>;
}

/**
 * The shops of a session: direct memberships first, then agency clients, each
 * once, keeping only shops the session grants permissions in.
 */
export function shopsOf(session: Session): ShopEntry[] {
  const out: ShopEntry[] = [];
  const seen = new Set<string>();
  const add = (e: Omit<ShopEntry, 'permissions'>) => {
    const perms = session.permissions[e.slug];
    if (!perms || seen.has(e.slug)) return;
    seen.add(e.slug);
    out.push({ ...e, permissions: new Set(perms) });
  };
  for (const m of session.memberships ?? []) {
    add({ ...m.tenant, role: m.role });
  }
  for (const c of session.clients ?? []) {
    add({ ...c.tenant, role: c.role, agency: c.agency });
  }
  return out;
}

export function can(shop: ShopEntry | undefined, perm: Permission): boolean {
  return !!shop && shop.permissions.has(perm);
}

/** Case- and accent-insensitive match on name and slug. */
export function matchesShop(shop: ShopEntry, query: string): boolean {
  const norm = (s: string) => s.normalize('NFD').replace(/\p{Diacritic}/gu, '').toLowerCase();
  const q = norm(query.trim());
  if (!q) return true;
  return norm(shop.name).includes(q) || shop.slug.includes(q) || (shop.agency ? norm(shop.agency.name).includes(q) : false);
}

/** Shops grouped for display: the user's own, then one group per agency. */
export function groupShops(shops: ShopEntry[]): { agency?: AgencyRef; shops: ShopEntry[] }[] {
  const own = shops.filter((s) => !s.agency);
  const byAgency = new Map<number, { agency: AgencyRef; shops: ShopEntry[] }>();
  for (const s of shops) {
    if (!s.agency) continue;
    const g = byAgency.get(s.agency.id) ?? { agency: s.agency, shops: [] };
    g.shops.push(s);
    byAgency.set(s.agency.id, g);
  }
  const groups: { agency?: AgencyRef; shops: ShopEntry[] }[] = [];
  if (own.length) groups.push({ shops: own });
  groups.push(...byAgency.values());
  return groups;
}

/** The path of the sign-in page, remembering where the user was going. */
export function loginPath(location: { pathname: string; search: string; hash: string }): string {
  const here = location.pathname + location.search + location.hash;
  if (location.pathname === '/' || location.pathname.startsWith('/login')) return '/login';
  return '/login?next=' + encodeURIComponent(here);
}

/** A safe in-app path from ?next=, or null (no open redirects). */
export function safeNext(next: string | null): string | null {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return null;
  if (next.startsWith('/login')) return null;
  return next;
}
