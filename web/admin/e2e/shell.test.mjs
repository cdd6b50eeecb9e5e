// Signed in: straight into the only shop, the shell, permissions, sign-out.
// Uses the demo accounts of `minishop dev`.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { API, adminURL, consolePath, demo, launch, newPage, openSignIn, screenshot, sessionAPIMissing, signIn } from './helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Runs fn with a fresh page, skipping the test while the session API is missing. */
async function withPage(t, fn, opts) {
  const { context, page, errors } = await newPage(browser, opts);
  try {
    const missing = await sessionAPIMissing(context);
    if (missing) {
      t.skip(missing);
      return;
    }
    await fn({ context, page, errors });
  } finally {
    await context.close();
  }
}

describe('signed in', () => {
  test('an owner of one shop goes straight in: shell, test-mode banner, home, sign-out', async (t) => {
    await withPage(t, async ({ context, page, errors }) => {
      await openSignIn(page);
      const res = await signIn(page, demo.owner, demo.password);
      assert.equal(res.status, 200, `sign-in as ${demo.owner}: ${JSON.stringify(res.body)}`);
      await page.waitForURL(/\/admin\/s\/nordic-skin$/);

      await page.getByRole('heading', { name: 'Nordic Skin', level: 3 }).waitFor();
      const banner = page.getByTestId('test-mode-banner');
      assert.match(await banner.innerText(), /Test mode/);
      assert.match(await page.getByTestId('shop-switcher').innerText(), /Nordic Skin/);
      await page.getByTestId('onboarding-checklist').waitFor();
      // The shop's details come from GET /tenants/{slug}.
      await page.getByTestId('shop-details').getByText('nordic-skin', { exact: true }).waitFor();
      for (const item of ['Home', 'Catalog', 'Orders', 'Team', 'Audit log', 'Settings']) {
        assert.ok(await page.getByRole('menuitem', { name: item }).isVisible(), `menu item ${item}`);
      }
      await screenshot(page, 'home');

      await page.getByRole('menuitem', { name: 'Catalog' }).click();
      await page.waitForURL(/\/admin\/s\/nordic-skin\/catalog$/);
      await page.getByTestId('product-table').waitFor();
      await page.getByRole('menuitem', { name: 'Orders' }).click();
      await page.waitForURL(/\/admin\/s\/nordic-skin\/orders$/);
      // The demo shop has no orders yet: the list shows its empty state.
      await page.getByTestId('order-table').waitFor();
      await page.getByTestId('orders-empty').waitFor();
      assert.equal(await page.getByTestId('coming-soon').count(), 0, 'Orders is no longer "coming soon"');
      await screenshot(page, 'orders-empty');

      await page.getByTestId('shop-switcher').click();
      const dialog = page.getByRole('dialog');
      await dialog.getByTestId('shop-option-nordic-skin').waitFor();
      await screenshot(page, 'shop-switcher');
      // Escape closes the dialog once it has taken the focus (after its opening animation).
      await page.waitForFunction(() => document.activeElement?.closest('[role="dialog"]'));
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });

      await page.getByTestId('user-menu').click();
      await page.getByRole('menuitem', { name: 'Sign out' }).click();
      await page.waitForURL(/\/admin\/login$/);
      const after = await context.request.get(API + '/session');
      assert.equal(after.status(), 401, 'the session is gone on the server');
      assert.deepEqual(errors, []);
    });
  });

  test('the page asked for before sign-in is the one shown after it', async (t) => {
    await withPage(t, async ({ page }) => {
      await page.goto(adminURL('/s/nordic-skin/orders'));
      await page.waitForURL(/\/admin\/login\?next=/);
      const res = await signIn(page, demo.owner, demo.password);
      assert.equal(res.status, 200);
      await page.waitForURL(/\/admin\/s\/nordic-skin\/orders$/);
      assert.equal(consolePath(page), '/s/nordic-skin/orders');
    });
  });

  test('a catalog manager sees only what the role allows', async (t) => {
    await withPage(t, async ({ page }) => {
      await openSignIn(page);
      const res = await signIn(page, demo.agencyLead, demo.password);
      assert.equal(res.status, 200, `sign-in as ${demo.agencyLead}: ${JSON.stringify(res.body)}`);
      const shops = Object.keys(res.body.permissions ?? {});
      if (shops.length === 1) {
        await page.waitForURL(new RegExp(`/admin/s/${shops[0]}$`));
      } else {
        await page.waitForURL(/\/admin\/shops$/);
        await page.getByTestId(`shop-card-dutch-cocoa`).click();
      }
      await page.getByRole('menuitem', { name: 'Catalog' }).waitFor();
      assert.equal(await page.getByRole('menuitem', { name: 'Team' }).count(), 0, 'no Team item for a catalog manager');
      assert.equal(await page.getByRole('menuitem', { name: 'Orders' }).count(), 0, 'no Orders item for a catalog manager');

      await page.goto(adminURL('/s/dutch-cocoa/team'));
      await page.getByText('You do not have permission').waitFor();
      await screenshot(page, 'forbidden');

      await page.goto(adminURL('/s/nordic-skin'));
      await page.getByText('You do not have access to this shop').waitFor();
    });
  });
});
