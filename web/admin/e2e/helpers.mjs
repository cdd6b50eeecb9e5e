// Shared helpers of the browser tests: a headless Debian Chromium driven by
// playwright-core, against the server at MINISHOP_E2E_URL (scripts/e2e.sh
// starts one). Screenshots go to e2e/artifacts/ (git-ignored).
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));

/** Base URL of the Minishop server, without a trailing slash. */
export function baseURL() {
  const url = process.env.MINISHOP_E2E_URL;
  assert.ok(url, 'MINISHOP_E2E_URL is not set: run the browser tests with scripts/e2e.sh, or point it at a running `minishop dev`');
  return url.replace(/\/+$/, '');
}

/** Absolute URL of a console path: adminURL('/login') → http://…/admin/login. */
export function adminURL(path = '/') {
  return baseURL() + '/admin' + (path.startsWith('/') ? path : '/' + path);
}

export const API = '/api/admin/v1';

/** Accounts that `minishop dev` creates with its demo data. */
export const demo = {
  password: 'minishop-demo',
  owner: 'owner@nordic-skin.test', // owner of Nordic Skin, and of nothing else
  agencyLead: 'lead@brightpath.test', // agency admin; catalog manager of Dutch Cocoa
  operator: 'operator@minishop.test', // platform operator, in no shop team
};

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-quic',
      '--disable-sync',
    ],
  });
}

/**
 * A fresh browser context (own cookies and storage) and page. `locale` sets
 * navigator.language. Page errors are collected in `errors`, so a test can
 * assert that a screen ran cleanly.
 */
export async function newPage(browser, { locale = 'en-US', viewport = { width: 1366, height: 860 } } = {}) {
  const context = await browser.newContext({ locale, viewport, baseURL: baseURL() });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { context, page, errors };
}

export async function screenshot(page, name) {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: ARTIFACTS + name + '.png', fullPage: true });
}

/**
 * Whether the session API is mounted: `GET /api/admin/v1/session` answers
 * 404 route_not_found until it is. Returns null when it is there, or the
 * reason to skip a test that needs it.
 */
export async function sessionAPIMissing(context) {
  const res = await context.request.get(API + '/session');
  if (res.status() !== 404) return null;
  const body = await res.json().catch(() => ({}));
  if (body?.error?.code === 'route_not_found') {
    return 'the session API is not mounted yet (GET /api/admin/v1/session answers 404 route_not_found)';
  }
  return null;
}

/** The sign-in page, loaded and ready for input. */
export async function openSignIn(page, path = '/login') {
  await page.goto(adminURL(path));
  await page.locator('form[id="sign-in"]').waitFor();
}

/**
 * Signs in through the form: fills e-mail and password, and the 6-digit code
 * if the server asks for one and `totp` is given. Resolves to the server's
 * answer to POST /api/admin/v1/session: { status, body }.
 */
export async function signIn(page, email, password, { totp } = {}) {
  if (!page.url().includes('/admin/login')) await openSignIn(page);
  await page.locator('#sign-in_email').fill(email);
  await page.locator('#sign-in_password').fill(password);
  let res = await submitAndWait(page, () => page.locator('form[id="sign-in"] button[type="submit"]').click());
  if (res.status === 401 && res.body?.error?.code === 'totp_required' && totp) {
    await page.locator('form[id="totp"]').waitFor();
    res = await submitAndWait(page, () => page.keyboard.type(totp));
  }
  return res;
}

async function submitAndWait(page, act) {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith(API + '/session') && r.request().method() === 'POST'),
    act(),
  ]);
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  return { status: response.status(), body };
}

/** The path of the page inside the console: "/login?next=…". */
export function consolePath(page) {
  const u = new URL(page.url());
  return u.pathname.replace(/^\/admin/, '') + u.search;
}

// ——— Helpers of the operations tests (orders that are paid, through the
// storefront API and the sandbox, as a Mini Program would). ———

/**
 * The sandbox's base URL: MINISHOP_E2E_SANDBOX_URL, else the
 * MINISHOP_SANDBOX_ADDR of the `minishop dev` process serving baseURL()
 * (scripts/e2e.sh starts it with both addresses in its environment); null
 * when unknown.
 */
export async function findSandboxURL() {
  if (process.env.MINISHOP_E2E_SANDBOX_URL) return process.env.MINISHOP_E2E_SANDBOX_URL.replace(/\/+$/, '');
  const { readdir, readFile } = await import('node:fs/promises');
  const port = new URL(baseURL()).port;
  let pids = [];
  try {
    pids = (await readdir('/proc')).filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  for (const pid of pids) {
    let env;
    try {
      env = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0');
    } catch {
      continue;
    }
    if (!env.some((v) => v.startsWith('MINISHOP_HTTP_ADDR=') && v.endsWith(':' + port))) continue;
    const sb = env.find((v) => v.startsWith('MINISHOP_SANDBOX_ADDR='));
    if (sb) return 'http://' + sb.slice('MINISHOP_SANDBOX_ADDR='.length);
  }
  return null;
}

/**
 * Signs context in as email (demo password) through the API once the
 * sandbox is known: the sandbox's URL, or null after skipping t (no session
 * API, or the sandbox address is unknown).
 */
export async function signInWithSandbox(t, context, email) {
  const missing = await sessionAPIMissing(context);
  if (missing) {
    t.skip(missing);
    return null;
  }
  const sandbox = await findSandboxURL();
  if (!sandbox) {
    t.skip('the sandbox address is unknown (set MINISHOP_E2E_SANDBOX_URL)');
    return null;
  }
  const login = await context.request.post(API + '/session', {
    headers: { 'Content-Type': 'application/json' },
    data: JSON.stringify({ email, password: demo.password }),
  });
  assert.equal(login.status(), 200, `sign-in as ${email}: ${await login.text()}`);
  return sandbox;
}

/** A JSON request to the server naming a storefront by its Host header: { status, body, text }. */
export async function storefrontRequest(method, host, path, body, headers = {}) {
  const http = await import('node:http');
  const u = new URL(baseURL());
  const data = body === undefined ? null : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        method,
        hostname: u.hostname,
        port: u.port,
        path,
        headers: { Host: host, Accept: 'application/json', ...(data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {}), ...headers },
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json = null;
          try {
            json = text ? JSON.parse(text) : null;
          } catch {
            json = null;
          }
          resolve({ status: res.statusCode, body: json, text });
        });
      },
    );
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

/** An admin API call of a shop through a browser context's session: { status, body }. */
export async function shopAPI(context, slug, method, path, body) {
  const res = await context.request.fetch(API + `/tenants/${slug}` + path, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    data: body === undefined ? undefined : JSON.stringify(body),
  });
  let json = null;
  try {
    json = await res.json();
  } catch {
    json = null;
  }
  return { status: res.status(), body: json };
}

/** Polls fn every half second until it returns something truthy (that value), failing after ms. */
export async function waitFor(what, fn, ms = 60_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** A valid resident ID number for sequence n (GB 11643 check digit). */
export function residentID(n) {
  const base = `11010519900101${String(n % 1000).padStart(3, '0')}`;
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(base[i]) * w[i];
  return base + '10X98765432'[sum % 11];
}

/**
 * A buyer (a new WeChat user `buyer`) orders `quantity` of sku in the shop
 * and pays through the sandbox; resolves to the order (storefront view)
 * once WeChat Pay's notification has marked it paid. `context` is signed in
 * as a member who may read the shop's credentials and orders; `beforePay`
 * (optional) is awaited with the order before it is paid.
 */
export async function buyAndPay(context, { slug, sandbox, skuId, quantity = 1, buyer, idSeq = 7, beforePay }) {
  const appid = await waitFor('the test Mini Program', async () => {
    const c = await shopAPI(context, slug, 'GET', '/credentials');
    return c.body?.credentials?.test?.miniprogram?.public?.appid;
  });
  const host = `${slug}.localhost`;
  const post = async (url, body) => {
    const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: await res.json().catch(() => null) };
  };
  const lc = await post(sandbox + '/sandbox/v1/wx-login-code', { appid, user: buyer });
  assert.equal(lc.status, 200, `wx-login-code: ${JSON.stringify(lc.body)}`);
  const auth = await storefrontRequest('POST', host, '/api/v1/auth/wechat', { code: lc.body.code });
  assert.equal(auth.status, 200, `auth: ${auth.text}`);
  const bearer = { Authorization: `Bearer ${auth.body.token}` };
  const addr = await storefrontRequest(
    'POST',
    host,
    '/api/v1/me/addresses',
    { consignee: '李四', phone: '13900139000', province_code: '310000', city_code: '310100', district_code: '310115', province: '上海市', city: '上海市', district: '浦东新区', detail: '陆家嘴环路 100 号' },
    bearer,
  );
  assert.equal(addr.status, 201, `address: ${addr.text}`);
  const ident = await storefrontRequest('POST', host, '/api/v1/me/identities', { name: '李四', id_number: residentID(idSeq) }, bearer);
  assert.equal(ident.status, 201, `identity: ${ident.text}`);
  const cart = await storefrontRequest('POST', host, '/api/v1/cart/items', { sku_id: skuId, quantity }, bearer);
  assert.equal(cart.status, 200, `cart: ${cart.text}`);
  const ord = await storefrontRequest('POST', host, '/api/v1/orders', { address_id: addr.body.id, identity_id: ident.body.id }, { ...bearer, 'Idempotency-Key': buyer });
  assert.equal(ord.status, 201, `order: ${ord.text}`);
  if (beforePay) await beforePay(ord.body);
  const pay = await storefrontRequest('POST', host, `/api/v1/orders/${ord.body.id}/pay`, undefined, bearer);
  assert.equal(pay.status, 200, `pay: ${pay.text}`);
  const confirmed = await post(sandbox + '/sandbox/v1/pay', { appId: appid, ...pay.body.params });
  assert.equal(confirmed.body?.trade_state, 'SUCCESS', `sandbox pay: ${JSON.stringify(confirmed.body)}`);
  await waitFor('the order to be paid', async () => (await shopAPI(context, slug, 'GET', `/orders/${ord.body.id}`)).body?.paid_at);
  return ord.body;
}

/**
 * Invites email to shop slug with role (as the signed-in context), accepts
 * the invitation from the dev mailbox, and returns the invitee's page
 * (newPage's { context, page, errors }, in locale), signed in.
 */
export async function invitedPage(browser, context, { slug, email, role, locale = 'en-US', name = 'Vera Viewer' }) {
  const inv = await context.request.post(`${API}/tenants/${slug}/invitations`, { data: { email, role } });
  assert.equal(inv.status(), 201, await inv.text());
  const mail = await (await context.request.get(`${API}/dev/mail?to=${encodeURIComponent(email)}`)).json();
  const token = /\/admin\/invite\/([A-Za-z0-9_-]+)/.exec(mail.mail[0].body)?.[1];
  assert.ok(token, 'the invitation mail carries its link');
  const invitee = await newPage(browser, { locale });
  const acc = await invitee.context.request.post(`${API}/invitations/accept`, { data: { token, name, password: 'a long enough password' } });
  assert.equal(acc.status(), 200, await acc.text());
  return invitee;
}
