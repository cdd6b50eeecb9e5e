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
