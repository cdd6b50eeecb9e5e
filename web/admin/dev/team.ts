// Fixture answers of the Team, audit log, account and agency screens, for
// `npm run dev:fixtures` (see fixtures.ts). State lives in memory per shop and
// is lost when the dev server restarts.
import { randomBytes } from 'node:crypto';

type Json = Record<string, unknown>;
export interface Reply {
  status: number;
  body?: unknown;
}

const now = () => new Date().toISOString();
const ago = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
const err = (status: number, code: string, message: string): Reply => ({ status, body: { error: { code, message, request_id: 'fx-' + randomBytes(6).toString('hex') } } });

interface ShopState {
  members: Json[];
  invitations: Json[];
  tokens: Json[];
  access: Json[];
  audit: Json[];
}

const shops = new Map<string, ShopState>();
let nextId = 100;

function state(slug: string, email: string): ShopState {
  let s = shops.get(slug);
  if (!s) {
    s = {
      members: [
        { user_id: 1, email, name: 'Shop Owner', role: 'owner', created_at: ago(120) },
        { user_id: 2, email: 'li.wei@' + slug + '.test', name: 'Li Wei', role: 'catalog_manager', created_at: ago(60) },
        { user_id: 3, email: 'anna@' + slug + '.test', name: '', role: 'viewer', created_at: ago(3) },
      ],
      invitations: [{ id: nextId++, email: 'new.hire@' + slug + '.test', role: 'order_manager', created_at: ago(2), expires_at: ago(-5), accepted_at: null }],
      tokens: [{ id: nextId++, name: 'ERP sync', role: 'catalog_manager', last4: 'x9Qa', created_at: ago(30), expires_at: null, last_used_at: ago(0.1), revoked_at: null }],
      access: [
        { tenant_slug: slug, tenant_name: slug, agency_id: 7, agency_name: 'Shanghai Growth Partners', status: 'pending', role: null, message: 'We run your Tmall Global store and would like to manage the Mini Program too.', requested_at: ago(1), decided_at: null },
        { tenant_slug: slug, tenant_name: slug, agency_id: 3, agency_name: 'Bright Agency', status: 'approved', role: 'catalog_manager', message: '', requested_at: ago(40), decided_at: ago(39) },
      ],
      audit: [],
    };
    shops.set(slug, s);
    for (let i = 0; i < 60; i++) {
      const kinds = ['member.role_changed', 'token.created', 'product.updated', 'invitation.sent', 'credentials.saved'];
      s.audit.push({
        id: 1000 - i, actor_kind: i % 7 === 0 ? 'system' : 'user', actor_id: i % 7 === 0 ? 'minishop' : `1 ${email}`,
        action: kinds[i % kinds.length], object: `user:${i}`, data: i % 5 === 0 ? { from: 'viewer', to: 'admin' } : null,
        ip: i % 7 === 0 ? null : '203.0.113.7', request_id: randomBytes(16).toString('hex'), created_at: ago(i * 0.3),
      });
    }
  }
  return s;
}

function audit(s: ShopState, email: string, action: string, object: string, data: Json | null = null) {
  s.audit.unshift({ id: nextId++ + 10_000, actor_kind: 'user', actor_id: `1 ${email}`, action, object, data, ip: '127.0.0.1', request_id: randomBytes(16).toString('hex'), created_at: now() });
}

const sessions = [
  { id: 'MFRGGZDFMZTWQ2LK', ip: '127.0.0.1', user_agent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0 Safari/537.36', created_at: ago(0.2), last_seen_at: now(), expires_at: ago(-6), current: true },
  { id: 'ONSWG4TFORSXI5DF', ip: '203.0.113.7', user_agent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 MicroMessenger/8.0', created_at: ago(2), last_seen_at: ago(0.5), expires_at: ago(-5), current: false },
];

/** Answers a request of these screens, or null when it is not one of theirs. */
export function teamFixture(method: string, path: string, query: URLSearchParams, body: Json, email: string, slugs: string[]): Reply | null {
  // The signed-in user's own account.
  if (path === '/session/sessions' && method === 'GET') return { status: 200, body: { sessions } };
  const sm = /^\/session\/sessions\/(\w+)$/.exec(path);
  if (sm && method === 'DELETE') {
    const i = sessions.findIndex((x) => x.id === sm[1]);
    if (i < 0) return err(404, 'session_not_found', 'no such session');
    sessions.splice(i, 1);
    return { status: 204 };
  }
  if (path === '/session/totp' && method === 'POST') {
    // A 1×1 transparent PNG stands in for the QR code.
    return { status: 200, body: { secret: 'JBSWY3DPEHPK3PXP', otpauth_url: `otpauth://totp/Minishop:${email}?secret=JBSWY3DPEHPK3PXP&issuer=Minishop`, qr_png_base64: 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=' } };
  }
  if (path === '/session/totp/confirm' && method === 'POST') {
    if (body.code !== '123456') return err(400, 'invalid_totp', 'the code is not correct (fixtures accept 123456)');
    return { status: 200, body: { recovery_codes: Array.from({ length: 10 }, (_, i) => `k7d${i}-q4mx`) } };
  }
  if (path === '/session/totp' && method === 'DELETE') return body.password === 'wrong' ? err(400, 'invalid_password', 'the password is not correct') : { status: 204 };

  // The agency side: its client shops and invitations (answered from what the shops approved).
  const ah = /^\/agencies\/(\d+)\/(clients|invitations)(?:\/(\d+))?$/.exec(path);
  if (ah) {
    const id = Number(ah[1]);
    if (ah[2] === 'clients') {
      const clients = [...shops.values()].flatMap((s) => s.access).filter((a) => a.agency_id === id && a.status === 'approved').map((a, i) => ({
        slug: a.tenant_slug, name: a.tenant_name, status: 'active', mode: i % 2 ? 'live' : 'test', role: a.role, storefront_host: `${a.tenant_slug}.localhost`,
        logo_url: null, logo_image: null, products_published: 12 + i, orders_today: a.role === 'catalog_manager' ? null : 3 + i, approved_at: a.decided_at,
      }));
      return { status: 200, body: { clients } };
    }
    if (method === 'GET') return { status: 200, body: { invitations: [{ id: 91, email: 'new.colleague@brightpath.test', role: 'agency_staff', created_at: ago(2), expires_at: ago(-5), accepted_at: null }] } };
    if (method === 'POST') return { status: 201, body: { id: 92, email: String(body.email ?? ''), role: String(body.role ?? 'agency_staff'), created_at: now(), expires_at: now(), accepted_at: null } };
    if (method === 'DELETE') return { status: 204 };
  }
  const am = /^\/agencies\/(\d+)(\/access-requests)?$/.exec(path);
  if (am) {
    const id = Number(am[1]);
    const access = [...shops.values()].flatMap((s) => s.access).filter((a) => a.agency_id === id);
    if (am[2] && method === 'POST') {
      const slug = String(body.tenant ?? '').trim().toLowerCase();
      if (slug === 'no-such-shop' || !slug) return err(404, 'tenant_not_found', 'no shop with the address ' + slug);
      const s = state(slug, 'owner@' + slug + '.test');
      const a = { tenant_slug: slug, tenant_name: slug, agency_id: id, agency_name: 'Bright Agency', status: 'pending', role: null, message: String(body.message ?? ''), requested_at: now(), decided_at: null };
      s.access = s.access.filter((x) => x.agency_id !== id).concat(a);
      return { status: 201, body: a };
    }
    if (method === 'GET') return { status: 200, body: { id, name: 'Bright Agency', created_at: ago(400), members: [{ user_id: 1, email, name: 'Agency Lead', role: 'agency_admin' }], access } };
  }

  // A shop's team, audit log and home.
  const m = /^\/tenants\/([a-z0-9-]+)\/(members|invitations|tokens|agency-access|audit|home)(?:\/(\d+))?(?:\/(approve|decline|revoke))?$/.exec(path);
  if (!m) return null;
  const [, slug = '', what, idStr, decision] = m;
  if (!slugs.includes(slug)) return err(404, 'tenant_not_found', 'no tenant with slug ' + slug);
  const s = state(slug, email);
  const id = Number(idStr);
  switch (what) {
    case 'home':
      return { status: 200, body: { mode: 'test', products_published: 12, products_draft: 3, orders_today: 8, paid_today: 1_284_350, customers: 214 } };
    case 'members':
      if (method === 'GET') return { status: 200, body: { members: s.members } };
      if (method === 'PUT') {
        const mem = s.members.find((x) => x.user_id === id);
        if (!mem) return err(404, 'member_not_found', 'no such member');
        audit(s, email, 'member.role_changed', `user:${id}`, { from: mem.role as string, to: body.role as string });
        mem.role = body.role;
        return { status: 200, body: mem };
      }
      if (method === 'DELETE') {
        s.members = s.members.filter((x) => x.user_id !== id);
        return { status: 204 };
      }
      break;
    case 'invitations':
      if (method === 'GET') return { status: 200, body: { invitations: s.invitations } };
      if (method === 'POST') {
        if (!String(body.email ?? '').includes('@')) return { status: 400, body: { error: { code: 'invalid_email', message: 'enter an email address such as name@example.com', details: { field: 'email' } } } };
        const inv = { id: nextId++, email: String(body.email).toLowerCase(), role: body.role, created_at: now(), expires_at: ago(-7), accepted_at: null };
        s.invitations.unshift(inv);
        return { status: 201, body: inv };
      }
      if (method === 'DELETE') {
        s.invitations = s.invitations.filter((x) => x.id !== id);
        return { status: 204 };
      }
      break;
    case 'tokens':
      if (method === 'GET') return { status: 200, body: { tokens: s.tokens } };
      if (method === 'POST') {
        const secret = randomBytes(24).toString('base64url');
        const tk = { id: nextId++, name: body.name, role: body.role, last4: secret.slice(-4), created_at: now(), expires_at: body.expires_at ?? null, last_used_at: null, revoked_at: null };
        s.tokens.unshift(tk);
        return { status: 201, body: { ...tk, token: `mst_${tk.id}_${secret}` } };
      }
      if (method === 'DELETE') {
        const tk = s.tokens.find((x) => x.id === id);
        if (tk) tk.revoked_at ??= now();
        return tk ? { status: 204 } : err(404, 'token_not_found', 'no such token');
      }
      break;
    case 'agency-access': {
      if (method === 'GET' && !decision) return { status: 200, body: { agencies: s.access } };
      const a = s.access.find((x) => x.agency_id === id);
      if (!a) return err(404, 'agency_not_found', 'no such agency');
      if (decision === 'approve') Object.assign(a, { status: 'approved', role: body.role, decided_at: now() });
      if (decision === 'decline') Object.assign(a, { status: 'declined', role: null, decided_at: now() });
      if (decision === 'revoke') Object.assign(a, { status: 'revoked', role: null, decided_at: now() });
      return { status: 200, body: a };
    }
    case 'audit': {
      const before = Number(query.get('before') ?? Infinity);
      const limit = Number(query.get('limit') ?? 50) || 50;
      const rows = s.audit.filter(
        (e) =>
          (e.id as number) < before &&
          (!query.get('actor_kind') || e.actor_kind === query.get('actor_kind')) &&
          (!query.get('action') || String(e.action).startsWith(query.get('action') ?? '')) &&
          (!query.get('actor_id') || String(e.actor_id).startsWith(query.get('actor_id') ?? '')),
      );
      const page = rows.slice(0, limit);
      return { status: 200, body: { entries: page, next_before: rows.length > limit ? (page[page.length - 1]?.id ?? null) : null } };
    }
  }
  return null;
}

/** The public password-reset endpoints (no session needed). */
export function resetFixture(method: string, path: string, body: Json): Reply | null {
  if (path === '/password-reset' && method === 'POST') return { status: 202 };
  if (path === '/password-reset/confirm' && method === 'POST') {
    if (body.token === 'expired') return err(400, 'invalid_reset_token', 'this reset link is not valid: it has expired or was already used; ask for a new one');
    if (String(body.password ?? '').length < 10) return { status: 400, body: { error: { code: 'weak_password', message: 'the password must be at least 10 characters long', details: { field: 'password' } } } };
    return { status: 204 };
  }
  return null;
}
