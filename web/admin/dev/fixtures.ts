// Fixture mode of the Vite dev server (`npm run dev:fixtures`): answers the
// admin API from memory so screens can be worked on before the real
// endpoints exist. It is a dev-server plugin: `vite build` never loads it, so
// nothing here reaches a production bundle, and the browser tests run against
// the real server.
//
// Sign in with any password except "wrong". The e-mail picks the account:
//   owner@…   owner of one shop, agency admin with clients (the default)
//   agency@…  agency user with a dozen client shops (searchable switcher)
//   solo@…    one shop: goes straight in
//   viewer@…  read-only in one shop
//   new@…     no shop yet
//   totp@…    asks for a 6-digit code (123456 passes)
//   locked@…  too many attempts
// GET /tenants/broken-shop answers 500, to see the error state.
// Team, audit log, home counters, account and agency screens: dev/team.ts
// (TOTP code 123456; reset token "expired" shows the dead-link page).
// Orders, customs, failed tasks, reconciliation and logistics: dev/ops.ts
// (texts in the console's language, as the server writes them).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { Plugin } from 'vite';
import { opsFixture } from './ops.ts';
import { resetFixture, teamFixture } from './team.ts';

type Mode = 'test' | 'live';
interface Tenant {
  slug: string;
  name: string;
  status: 'active' | 'suspended';
  mode: Mode;
}

const ALL = [
  'shop:read', 'shop:write', 'catalog:read', 'catalog:write', 'orders:read', 'orders:write',
  'orders:refund', 'customers:read', 'finance:read', 'finance:write', 'credentials:read',
  'credentials:write', 'team:read', 'team:write', 'audit:read',
];
const ROLE_PERMS: Record<string, string[]> = {
  owner: ALL,
  admin: ALL,
  catalog_manager: ['shop:read', 'catalog:read', 'catalog:write'],
  order_manager: ['shop:read', 'catalog:read', 'orders:read', 'orders:write', 'orders:refund', 'customers:read'],
  finance: ['shop:read', 'orders:read', 'orders:refund', 'customers:read', 'finance:read', 'finance:write'],
  viewer: ['shop:read', 'catalog:read', 'orders:read', 'customers:read', 'finance:read', 'credentials:read'],
};

const t = (slug: string, name: string, mode: Mode = 'test', status: Tenant['status'] = 'active'): Tenant => ({
  slug, name, status, mode,
});

const nordic = t('nordic-skin', 'Nordic Skin');
const dutch = t('dutch-cocoa', 'Dutch Cocoa Company');
const agency = { id: 3, name: 'Bright Agency' };
const manyClients = [
  t('alpine-honey', 'Alpine Honey', 'live'), t('baltic-amber', 'Baltic Amber'), t('celtic-wool', 'Celtic Wool Co.', 'live'),
  t('danube-teas', 'Danube Teas'), t('elbe-optics', 'Elbe Optics', 'live', 'suspended'), t('fjord-fish-oil', 'Fjord Fish Oil'),
  t('gascony-wines', 'Gascony Wines', 'live'), t('helvetic-watches', 'Helvetic Watches'), t('iberian-olive', 'Iberian Olive Oil'),
  t('jutland-toys', 'Jutland Toys', 'live'), t('kerry-dairy', 'Kerry Dairy'), t('lapland-berries', 'Lapland Berries'),
];

interface Account {
  name: string;
  memberships: { tenant: Tenant; role: string }[];
  agencies: { id: number; name: string; role: string }[];
  clients: { tenant: Tenant; role: string; agency: { id: number; name: string } }[];
  totp?: boolean;
}

function account(email: string): Account {
  const who = email.split('@')[0]?.toLowerCase() ?? '';
  switch (who) {
    case 'agency':
      return {
        name: 'Agency Member',
        memberships: [],
        agencies: [{ ...agency, role: 'agency_member' }],
        clients: manyClients.map((tenant, i) => ({ tenant, role: i % 3 === 0 ? 'admin' : 'catalog_manager', agency })),
      };
    case 'solo':
      return { name: 'Solo Owner', memberships: [{ tenant: nordic, role: 'owner' }], agencies: [], clients: [] };
    case 'viewer':
      return { name: 'Read-only Viewer', memberships: [{ tenant: t('lisbon-tiles', 'Lisbon Tiles', 'live'), role: 'viewer' }], agencies: [], clients: [] };
    case 'new':
      return { name: 'New User', memberships: [], agencies: [], clients: [] };
    case 'totp':
      return { name: 'Two-step User', memberships: [{ tenant: nordic, role: 'admin' }], agencies: [], clients: [], totp: true };
    default:
      return {
        name: 'Shop Owner',
        memberships: [{ tenant: nordic, role: 'owner' }, { tenant: t('broken-shop', 'Broken Shop (500s)'), role: 'owner' }],
        agencies: [{ ...agency, role: 'agency_admin' }],
        clients: [{ tenant: dutch, role: 'catalog_manager', agency }],
      };
  }
}

function sessionBody(email: string) {
  const a = account(email);
  const permissions: Record<string, string[]> = {};
  for (const m of a.memberships) permissions[m.tenant.slug] = ROLE_PERMS[m.role] ?? [];
  for (const c of a.clients) permissions[c.tenant.slug] ??= ROLE_PERMS[c.role] ?? [];
  return {
    user: { id: 1, email, name: a.name, totp_enabled: !!a.totp, operator: false },
    memberships: a.memberships,
    agencies: a.agencies,
    clients: a.clients,
    permissions,
  };
}

const sessions = new Map<string, string>(); // cookie value -> e-mail
const COOKIE = 'minishop_fixture_session';

function rid(): string {
  return 'fx-' + randomBytes(6).toString('hex');
}

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  res.statusCode = status;
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  if (body === undefined) {
    res.end();
    return;
  }
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}

function fail(res: ServerResponse, status: number, code: string, message: string): void {
  send(res, status, { error: { code, message, request_id: rid() } });
}

function readJSON(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      try {
        resolve(raw ? (JSON.parse(raw) as Record<string, unknown>) : {});
      } catch {
        resolve({});
      }
    });
  });
}

function currentEmail(req: IncomingMessage): string | undefined {
  const m = /(?:^|;\s*)minishop_fixture_session=([^;]+)/.exec(req.headers.cookie ?? '');
  return m?.[1] ? sessions.get(m[1]) : undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://fixtures');
  const path = url.pathname.replace(/^\/api\/admin\/v1/, '');
  await sleep(250); // make loading states visible

  if (req.method !== 'GET' && !String(req.headers['content-type']).startsWith('application/json')) {
    return fail(res, 415, 'unsupported_media_type', 'state-changing requests must send Content-Type: application/json');
  }

  if (path === '/session') {
    if (req.method === 'GET') {
      const email = currentEmail(req);
      return email ? send(res, 200, sessionBody(email)) : fail(res, 401, 'unauthorized', 'sign in to continue');
    }
    if (req.method === 'DELETE') {
      return send(res, 204, undefined, { 'Set-Cookie': `${COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax` });
    }
    if (req.method === 'POST') {
      const body = await readJSON(req);
      const email = String(body.email ?? '').trim().toLowerCase();
      const who = email.split('@')[0];
      if (who === 'locked') {
        return fail(res, 429, 'too_many_attempts', 'Too many sign-in attempts. Try again in 14 minutes.');
      }
      if (!email.includes('@') || body.password === 'wrong') {
        return fail(res, 401, 'invalid_credentials', 'The e-mail address or password is incorrect.');
      }
      if (account(email).totp) {
        if (!body.totp) return fail(res, 401, 'totp_required', 'Enter the 6-digit code from your authenticator app.');
        if (body.totp !== '123456') return fail(res, 401, 'invalid_totp', 'That code is not valid. Codes change every 30 seconds.');
      }
      const token = randomBytes(16).toString('hex');
      sessions.set(token, email);
      return send(res, 200, sessionBody(email), {
        'Set-Cookie': `${COOKIE}=${token}; Path=/; HttpOnly; SameSite=Lax`,
      });
    }
  }

  if (path.startsWith('/password-reset')) {
    const r = resetFixture(req.method ?? 'GET', path, await readJSON(req));
    if (r) return send(res, r.status, r.body);
  }

  const email = currentEmail(req);
  if (!email) return fail(res, 401, 'unauthorized', 'sign in to continue');

  {
    const body = req.method === 'GET' || (req.method === 'DELETE' && !path.includes('/session/totp')) ? {} : await readJSON(req);
    const r = teamFixture(req.method ?? 'GET', path, url.searchParams, body, email, Object.keys(sessionBody(email).permissions));
    if (r) return send(res, r.status, r.body);
    const o = opsFixture(req.method ?? 'GET', path, url.searchParams, body, req.headers['accept-language']);
    if (o) return send(res, o.status, o.body, { 'Content-Language': req.headers['accept-language']?.startsWith('zh') ? 'zh-CN' : 'en' });
  }

  const m = /^\/tenants\/([a-z0-9-]+)$/.exec(path);
  if (m && req.method === 'GET') {
    const slug = m[1] ?? '';
    if (slug === 'broken-shop') return fail(res, 500, 'internal', 'something went wrong on our side; quote the request id if you contact support');
    const s = sessionBody(email);
    if (!s.permissions[slug]) return fail(res, 403, 'forbidden', 'you have no access to this shop');
    const all = [...s.memberships.map((x) => x.tenant), ...s.clients.map((x) => x.tenant)];
    const tn = all.find((x) => x.slug === slug);
    return send(res, 200, {
      id: 42, slug, name: tn?.name ?? slug, status: tn?.status ?? 'active',
      provisioned_at: '2025-03-02T09:14:00Z', created_at: '2025-03-02T09:13:51Z', updated_at: '2025-05-20T16:40:12Z',
    });
  }
  return fail(res, 404, 'route_not_found', `no such endpoint: ${req.method} ${url.pathname}`);
}

/** The fixture API as a Vite dev-server plugin. */
export function fixtures(): Plugin {
  return {
    name: 'minishop-fixtures',
    apply: 'serve',
    configureServer(server) {
      server.config.logger.info('\n  Fixture mode: the admin API is answered from web/admin/dev/fixtures.ts\n');
      server.middlewares.use('/api/admin/v1', (req, res) => {
        // connect strips the mount path; put it back for the router above.
        req.url = '/api/admin/v1' + (req.url ?? '');
        handle(req, res).catch((err: unknown) => {
          server.config.logger.error(String(err));
          fail(res, 500, 'internal', 'fixture error');
        });
      });
    },
  };
}
