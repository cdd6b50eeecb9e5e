// Agency onboarding in the console: a person signs up as an agency on the
// sign-up page, lands on the agency's home, asks a brand for access by
// pasting the brand's shop address, invites a colleague; the brand approves;
// the agency sees the client shop with its figures and switches to it. And a
// signed-in person with no shop and no agency is offered both, and sets up an
// agency from there. Every account is new, so the demo data stays untouched.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { API, adminURL, launch, newPage, screenshot, sessionAPIMissing } from './helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const PASSWORD = 'agency sign-up e2e password';

async function signUpBrand(context, email, slug, company) {
  const res = await context.request.post(API + '/signup', {
    headers: { 'Content-Type': 'application/json' },
    data: JSON.stringify({ email, password: PASSWORD, name: company + ' Owner', company, slug }),
  });
  assert.equal(res.status(), 201, `brand sign-up ${slug}: ${await res.text()}`);
}

/** Accepts the invitation mailed to email in context (which then holds that person's session); their user id. */
async function acceptInvitation(context, email, name) {
  const mail = await (await context.request.get(`${API}/dev/mail?to=${encodeURIComponent(email)}`)).json();
  const token = /\/admin\/invite\/([A-Za-z0-9_-]+)/.exec(mail.mail[0].body)?.[1];
  assert.ok(token, 'the invitation mail carries its link');
  const acc = await context.request.post(`${API}/invitations/accept`, { data: { token, name, password: PASSWORD } });
  assert.equal(acc.status(), 200, await acc.text());
  return (await acc.json()).user.id;
}

/** Submits a form by clicking testId and returns the answer to the request whose URL ends with path. */
async function submit(page, testId, path) {
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith(path) && r.request().method() !== 'GET'),
    page.getByTestId(testId).click(),
  ]);
  return res;
}

describe('agency sign-up', () => {
  test('a person signs up as an agency, asks a brand by its shop address, the brand approves, the agency opens the shop', async (t) => {
    const tag = randomUUID().slice(0, 6);
    const brandSlug = `fjell-${tag}`;
    const agencyName = `Growth Partners ${tag}`;
    const brand = await newPage(browser);
    const agency = await newPage(browser);
    try {
      const skip = await sessionAPIMissing(brand.context);
      if (skip) return t.skip(skip);
      await signUpBrand(brand.context, `owner@${brandSlug}.test`, brandSlug, `Fjell Skincare ${tag}`);

      // ——— Sign up as an agency ———
      const ap = agency.page;
      await ap.goto(adminURL('/signup'));
      await ap.getByTestId('signup-kind-brand').waitFor();
      assert.equal(await ap.getByTestId('signup-kind-brand').getAttribute('aria-checked'), 'true', 'a brand by default');
      await ap.getByTestId('signup-kind-agency').click();
      await ap.waitForURL(/\/admin\/signup\?kind=agency$/);
      await ap.getByText('Run your clients’ shops in China').waitFor();
      assert.equal(await ap.locator('#sign-up_slug').count(), 0, 'no shop address for an agency');
      await ap.locator('#sign-up_name').fill('Li Wei');
      await ap.locator('#sign-up_email').fill(`li.wei@growth-${tag}.test`);
      await ap.locator('#sign-up_password').fill(PASSWORD);
      // An empty agency name is caught before anything is sent.
      await ap.getByTestId('signup-submit').click();
      await ap.getByText('Enter the name of your agency.').waitFor();
      await ap.locator('#sign-up_agency').fill(agencyName);
      await screenshot(ap, 'agency-signup-en');
      const signed = await submit(ap, 'signup-submit', '/signup/agency');
      assert.equal(signed.status(), 201, await signed.text());
      const agencyId = (await signed.json()).agencies[0].id;
      await ap.waitForURL(new RegExp(`/admin/agencies/${agencyId}$`));
      await ap.getByTestId('agency-name').getByText(agencyName).waitFor();
      await ap.getByTestId('agency-clients-empty').waitFor();
      await ap.getByTestId('agency-members').getByText(`li.wei@growth-${tag}.test`).waitFor();
      await screenshot(ap, 'agency-home-empty-en');
      // The console's root brings an agency without shops home, not to a dead end.
      await ap.goto(adminURL('/'));
      await ap.waitForURL(new RegExp(`/admin/agencies/${agencyId}$`));

      // ——— Ask the brand, by its storefront address pasted as is ———
      const host = (await (await agency.context.request.get(API + `/slugs?slug=${brandSlug}`)).json()).host;
      assert.ok(host.startsWith(brandSlug + '.'), host);
      await ap.getByTestId('request-shop').fill(`no-such-shop-${tag}.${host.slice(brandSlug.length + 1)}`);
      const unknown = await submit(ap, 'request-submit', `/agencies/${agencyId}/access-requests`);
      assert.equal(unknown.status(), 404);
      await ap.locator('.ant-form-item-explain-error').getByText((await unknown.json()).error.message).waitFor();
      await ap.getByTestId('request-shop').fill(`https://${host}/`);
      await ap.getByTestId('request-message').fill('We run your Tmall Global store and would like to launch your WeChat shop.');
      const asked = await submit(ap, 'request-submit', `/agencies/${agencyId}/access-requests`);
      assert.equal(asked.status(), 201, await asked.text());
      const row = ap.getByTestId(`agency-request-${brandSlug}`);
      await row.getByText('Waiting').waitFor();
      // Asking twice is refused on the field, naming the shop.
      await ap.getByTestId('request-shop').fill(brandSlug);
      const twice = await submit(ap, 'request-submit', `/agencies/${agencyId}/access-requests`);
      assert.equal(twice.status(), 409);
      await ap.locator('.ant-form-item-explain-error').getByText('already waiting', { exact: false }).waitFor();

      // ——— Invite a colleague to the agency ———
      const colleague = `colleague@growth-${tag}.test`;
      await ap.getByTestId('agency-invite-email').fill(colleague);
      const invited = await submit(ap, 'agency-invite-submit', `/agencies/${agencyId}/invitations`);
      assert.equal(invited.status(), 201, await invited.text());
      await ap.getByTestId(`agency-invitation-${colleague}`).waitFor();
      await ap.getByTestId('agency-invite-email').fill(`li.wei@growth-${tag}.test`);
      const member = await submit(ap, 'agency-invite-submit', `/agencies/${agencyId}/invitations`);
      assert.equal(member.status(), 409, 'inviting someone who already works for the agency');
      await ap.locator('.ant-form-item-explain-error').getByText('already works for', { exact: false }).waitFor();
      await screenshot(ap, 'agency-home-requested-en');

      // ——— The brand approves, as order manager ———
      const bp = brand.page;
      await bp.goto(adminURL(`/s/${brandSlug}/team?tab=agencies`));
      await bp.getByTestId('access-pending').getByText(agencyName).waitFor();
      await bp.getByTestId(`access-role-${agencyId}`).click();
      await bp.locator('.ant-select-dropdown:visible').getByText('Order manager', { exact: true }).click();
      const approve = await submit(bp, `access-approve-${agencyId}`, `/agency-access/${agencyId}/approve`);
      assert.equal(approve.status(), 200, await approve.text());

      // ——— The agency sees its client shop and switches to it ———
      await ap.reload();
      const card = ap.getByTestId(`client-${brandSlug}`);
      await card.getByText(`Fjell Skincare ${tag}`).waitFor();
      await card.getByText('Order manager', { exact: false }).waitFor();
      await card.getByText('Test mode').waitFor();
      await card.getByText('Orders today').waitFor();
      assert.equal(await ap.getByTestId(`client-products-${brandSlug}`).textContent(), '0');
      assert.equal(await row.count(), 0, 'the approved request became a client shop');
      await ap.getByTestId('agency-requests').getByText('No open requests').waitFor();
      await screenshot(ap, 'agency-home-client-en');
      await ap.getByTestId(`agency-open-${brandSlug}`).click();
      await ap.waitForURL(new RegExp(`/admin/s/${brandSlug}$`));
      await ap.getByRole('menuitem', { name: 'Orders' }).waitFor();
      await ap.getByTestId('shop-switcher').click();
      await ap.getByTestId(`shop-option-${brandSlug}`).waitFor();
      await ap.locator('.shop-switcher-modal').getByText(agencyName, { exact: false }).first().waitFor();
      await screenshot(ap, 'agency-switcher-en');
      await ap.getByTestId(`agency-link-${agencyId}`).click();
      await ap.waitForURL(new RegExp(`/admin/agencies/${agencyId}$`));

      // ——— The colleague joins as staff: they open the client shop, and see no controls on the team ———
      const col = await newPage(browser);
      try {
        const colId = await acceptInvitation(col.context, colleague, 'Zhao Min');
        const shopAPI = `${API}/tenants/${brandSlug}`;
        assert.equal((await col.context.request.get(shopAPI)).status(), 200, 'staff open the client shop');
        await col.page.goto(adminURL(`/agencies/${agencyId}`));
        await col.page.getByTestId(`agency-member-${colleague}`).getByText('Agency staff').waitFor();
        assert.equal(await col.page.locator('[data-testid^="agency-member-role-"], [data-testid^="agency-member-remove-"]').count(), 0, 'no controls for staff');

        // ——— The admin makes them an admin, then removes them ———
        await ap.reload();
        const colRow = ap.getByTestId(`agency-member-${colleague}`);
        await colRow.waitFor();
        assert.equal(await ap.getByTestId(`agency-member-role-li.wei@growth-${tag}.test`).count(), 0, 'no controls on oneself');
        await ap.getByTestId(`agency-member-role-${colleague}`).click();
        const [promoted] = await Promise.all([
          ap.waitForResponse((r) => r.url().endsWith(`/agencies/${agencyId}/members/${colId}`) && r.request().method() === 'PATCH'),
          ap.locator('.ant-select-dropdown:visible').getByText('Agency admin', { exact: true }).click(),
        ]);
        assert.equal(promoted.status(), 200, await promoted.text());
        await ap.getByText('Zhao Min is now Agency admin').waitFor();
        await screenshot(ap, 'agency-team-roles-en');
        await ap.getByTestId(`agency-member-remove-${colleague}`).click();
        const dialog = ap.locator('.ant-modal-confirm');
        await dialog.locator('.ant-modal-confirm-title').getByText('Remove Zhao Min from the agency?').waitFor();
        await screenshot(ap, 'agency-team-remove-en');
        const [gone] = await Promise.all([
          ap.waitForResponse((r) => r.url().endsWith(`/agencies/${agencyId}/members/${colId}`) && r.request().method() === 'DELETE'),
          dialog.getByRole('button', { name: 'Remove from the agency' }).click(),
        ]);
        assert.equal(gone.status(), 204, 'the colleague is removed');
        await ap.getByText('Zhao Min no longer works for the agency').waitFor();
        await colRow.waitFor({ state: 'detached' });
        // Their next request to the client shop finds nothing.
        assert.equal((await col.context.request.get(shopAPI)).status(), 404, 'the removed colleague no longer opens the client shop');
        assert.deepEqual(col.errors, [], 'no page errors (colleague)');
      } finally {
        await col.context.close();
      }

      assert.deepEqual(agency.errors, [], 'no page errors (agency)');
      assert.deepEqual(brand.errors, [], 'no page errors (brand)');
    } finally {
      await brand.context.close();
      await agency.context.close();
    }
  });

  test('a person with no shop and no agency is offered both, and sets up an agency', async (t) => {
    const tag = randomUUID().slice(0, 6);
    const slug = `drift-${tag}`;
    const brand = await newPage(browser);
    const person = await newPage(browser, { locale: 'zh-CN' });
    try {
      const skip = await sessionAPIMissing(brand.context);
      if (skip) return t.skip(skip);
      // Someone joins a brand's team by invitation, then leaves it: an account with nothing.
      await signUpBrand(brand.context, `owner@${slug}.test`, slug, `Drift ${tag}`);
      const email = `drifter@${slug}.test`;
      const inv = await brand.context.request.post(`${API}/tenants/${slug}/invitations`, { data: { email, role: 'viewer' } });
      assert.equal(inv.status(), 201, await inv.text());
      const userId = await acceptInvitation(person.context, email, 'Wang Fang');
      const removed = await brand.context.request.delete(`${API}/tenants/${slug}/members/${userId}`);
      assert.equal(removed.status(), 204, await removed.text());

      const pp = person.page;
      await pp.goto(adminURL('/'));
      await pp.getByTestId('start-choices').waitFor();
      await pp.getByTestId('start-brand').getByText('开设你的品牌店铺').waitFor();
      await pp.getByTestId('start-agency').getByText('创建你的代运营公司').waitFor();
      await screenshot(pp, 'start-choices-zh');
      await pp.getByTestId('start-agency-name').fill(`漂流代运营 ${tag}`);
      const made = await submit(pp, 'start-agency-submit', '/agencies');
      assert.equal(made.status(), 201, await made.text());
      const id = (await made.json()).id;
      await pp.waitForURL(new RegExp(`/admin/agencies/${id}$`));
      await pp.getByTestId('agency-clients-empty').getByText('还没有客户店铺').waitFor();
      await screenshot(pp, 'agency-home-empty-zh');
      assert.deepEqual(person.errors, [], 'no page errors');
    } finally {
      await brand.context.close();
      await person.context.close();
    }
  });
});
