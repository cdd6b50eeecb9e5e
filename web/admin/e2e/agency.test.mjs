// Agency access: an agency asks a brand for access from its agency page, the
// brand approves it as catalog_manager under Team → Agencies, and the
// agency's staff then work on the brand's catalog but not on its team.
// Brand and agency are new accounts made by sign-up, so the demo data other
// tests rely on is left alone.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { API, adminURL, consolePath, launch, newPage, screenshot, sessionAPIMissing } from './helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const PASSWORD = 'agency e2e password';

/** Signs a new brand up through the API in context (which keeps the session cookie). */
async function signUp(context, email, slug, company) {
  const res = await context.request.post(API + '/signup', {
    headers: { 'Content-Type': 'application/json' },
    data: JSON.stringify({ email, password: PASSWORD, name: company + ' Lead', company, slug }),
  });
  assert.equal(res.status(), 201, `sign-up ${slug}: ${await res.text()}`);
  return res.json();
}

describe('agency access', () => {
  test('an agency asks, the brand approves as catalog manager, the agency edits products but not the team', async (t) => {
    const tag = randomUUID().slice(0, 6);
    const brandSlug = `brand-${tag}`;
    const agencyHome = `agency-${tag}`;
    const brand = await newPage(browser);
    const agency = await newPage(browser);
    try {
      const skip = await sessionAPIMissing(brand.context);
      if (skip) return t.skip(skip);

      // ——— The brand, and an agency whose lead has a shop of their own ———
      await signUp(brand.context, `owner@${brandSlug}.test`, brandSlug, `Brand ${tag}`);
      await signUp(agency.context, `lead@${agencyHome}.test`, agencyHome, `Agency ${tag}`);
      const ag = await agency.context.request.post(API + '/agencies', {
        headers: { 'Content-Type': 'application/json' },
        data: JSON.stringify({ name: `Growth Partners ${tag}` }),
      });
      assert.equal(ag.status(), 201, `create agency: ${await ag.text()}`);
      const agencyId = (await ag.json()).id;

      // ——— The agency asks, from the shop switcher's agency link ———
      const ap = agency.page;
      await ap.goto(adminURL('/'));
      await ap.waitForURL(new RegExp(`/admin/s/${agencyHome}$`));
      await ap.getByTestId('shop-switcher').click();
      await ap.getByTestId(`agency-link-${agencyId}`).click();
      await ap.waitForURL(new RegExp(`/admin/agencies/${agencyId}$`));
      await ap.getByTestId('agency-requests').getByText('No open requests').waitFor();
      await ap.getByTestId('agency-clients-empty').waitFor();
      await ap.getByTestId('request-shop').fill(brandSlug);
      await ap.getByTestId('request-message').fill('We run your Tmall Global store and would like to manage the Mini Program catalog too.');
      await ap.getByTestId('request-submit').click();
      const row = ap.getByTestId(`agency-request-${brandSlug}`);
      await row.getByText('Waiting').waitFor();
      // A shop that does not exist is refused with the server's reason.
      await ap.getByTestId('request-shop').fill(`no-such-shop-${tag}`);
      const [refused] = await Promise.all([
        ap.waitForResponse((r) => r.url().endsWith(`/agencies/${agencyId}/access-requests`)),
        ap.getByTestId('request-submit').click(),
      ]);
      assert.equal(refused.status(), 404);
      const reason = (await refused.json()).error.message;
      await ap.locator('.ant-form-item-explain-error').getByText(reason).waitFor();
      await ap.getByTestId('request-shop').fill('');
      await screenshot(ap, 'agency-request-en');

      // ——— The brand approves it as catalog manager ———
      const bp = brand.page;
      await bp.goto(adminURL(`/s/${brandSlug}/team?tab=agencies`));
      const pending = bp.getByTestId('access-pending');
      await pending.getByText(`Growth Partners ${tag}`).waitFor();
      await pending.getByText('We run your Tmall Global store', { exact: false }).waitFor();
      await screenshot(bp, 'team-agency-pending-en');
      await bp.getByTestId(`access-role-${agencyId}`).click();
      await bp.locator('.ant-select-dropdown:visible').getByText('Catalog manager', { exact: true }).click();
      const [approve] = await Promise.all([
        bp.waitForResponse((r) => r.url().endsWith(`/agency-access/${agencyId}/approve`)),
        bp.getByTestId(`access-approve-${agencyId}`).click(),
      ]);
      assert.equal(approve.status(), 200);
      assert.equal((await approve.json()).role, 'catalog_manager');
      const grants = bp.getByTestId('access-grants');
      await grants.getByText('Approved').waitFor();
      assert.equal(await bp.getByTestId('access-pending').count(), 0, 'nothing left to decide');
      await screenshot(bp, 'team-agency-approved-en');
      // The audit log has the decision.
      await bp.goto(adminURL(`/s/${brandSlug}/audit`));
      await bp.getByTestId('audit-table').getByText('Agency approved').first().waitFor();
      await bp.getByTestId('audit-table').getByText('Agency approved').first().click();
      await bp.getByTestId('audit-data').getByText('catalog_manager').waitFor();
      await screenshot(bp, 'audit-en');

      // ——— The agency sees the answer and switches to the brand's shop ———
      await ap.reload();
      await ap.getByTestId(`client-${brandSlug}`).getByText('Catalog manager', { exact: false }).waitFor();
      assert.equal(await row.count(), 0, 'an approved request is a client shop, no longer a request');
      await ap.getByTestId(`agency-open-${brandSlug}`).click();
      await ap.waitForURL(new RegExp(`/admin/s/${brandSlug}$`));
      await ap.getByRole('menuitem', { name: 'Catalog' }).waitFor();
      assert.equal(await ap.getByRole('menuitem', { name: 'Team' }).count(), 0, 'no Team section for a catalog manager');
      assert.equal(await ap.getByRole('menuitem', { name: 'Audit log' }).count(), 0, 'no Audit log section for a catalog manager');
      // The switcher lists it under the agency.
      await ap.getByTestId('shop-switcher').click();
      await ap.getByTestId(`shop-option-${brandSlug}`).click();
      await ap.locator('.shop-switcher-modal').waitFor({ state: 'hidden' });

      // Products: create one, then edit it.
      await ap.getByRole('menuitem', { name: 'Catalog' }).click();
      await ap.getByTestId('new-product').click();
      await ap.waitForURL(/\/catalog\/new$/);
      await ap.getByTestId('title-en').fill('Birch Sap Toner');
      await ap.getByTestId('title-zh-CN').fill('白桦树汁爽肤水');
      await ap.getByTestId('save-product').click();
      await ap.waitForURL(/\/catalog\/\d+$/);
      await ap.getByTestId('sku-table').waitFor();
      await ap.waitForFunction(() => document.querySelector('[data-testid="title-en"]')?.value === 'Birch Sap Toner');
      await ap.getByTestId('title-en').fill('Birch Sap Toner 200 ml');
      await ap.waitForFunction(() => !document.querySelector('[data-testid="save-product"]')?.disabled);
      const [saved] = await Promise.all([
        ap.waitForResponse((r) => /\/products\/\d+$/.test(r.url()) && r.request().method() !== 'GET'),
        ap.getByTestId('save-product').click(),
      ]);
      assert.ok(saved.status() < 300, `saving the product as the agency: ${saved.status()}`);

      // The Team screen is forbidden, by URL too; the API agrees.
      await ap.goto(adminURL(`/s/${brandSlug}/team`));
      await ap.getByText('You do not have permission').waitFor();
      assert.equal(consolePath(ap), `/s/${brandSlug}/team`);
      await screenshot(ap, 'agency-team-forbidden-en');
      const members = await agency.context.request.get(API + `/tenants/${brandSlug}/members`);
      assert.equal(members.status(), 403);

      // ——— The brand revokes; the agency loses the shop ———
      await bp.goto(adminURL(`/s/${brandSlug}/team?tab=agencies`));
      await bp.getByTestId(`grant-revoke-${agencyId}`).click();
      await bp.locator('.ant-modal-confirm').getByRole('button', { name: 'Revoke' }).click();
      await bp.getByTestId('access-grants').getByText('Revoked').waitFor();
      const gone = await agency.context.request.get(API + `/tenants/${brandSlug}/products`);
      assert.equal(gone.status(), 404, 'no access after revocation');

      assert.deepEqual(agency.errors, [], 'no page errors (agency)');
      assert.deepEqual(brand.errors, [], 'no page errors (brand)');
    } finally {
      await brand.context.close();
      await agency.context.close();
    }
  });
});
