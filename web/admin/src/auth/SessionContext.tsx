import { createContext, useContext, useMemo, type ReactNode } from 'react';
import type { Session } from '../api/types';
import { shopsOf, type ShopEntry } from './shops';

interface SessionValue {
  session: Session;
  shops: ShopEntry[];
}

const Ctx = createContext<SessionValue | null>(null);

export function SessionProvider({ session, children }: { session: Session; children: ReactNode }) {
  const value = useMemo(() => ({ session, shops: shopsOf(session) }), [session]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

/** The signed-in session; only inside RequireSession. */
export function useSignedIn(): SessionValue {
  const v = useContext(Ctx);
  if (!v) throw new Error('useSignedIn outside RequireSession');
  return v;
}
