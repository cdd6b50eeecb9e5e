// The console in Chinese: switch the language on the sign-in page, walk the
// main screens (home, catalog, orders, team with its four tabs, audit log,
// settings, account security) and reset the password from the dev outbox's
// link, check Chinese text and ¥ amounts, and save a
// screenshot of each (web/admin/e2e/artifacts/*-zh.png).
// The brand is new (made by sign-up), so the demo data is left alone.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { API, adminURL, launch, newPage, openSignIn, screenshot, sessionAPIMissing, shopAPI, signIn } from './helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const PASSWORD = 'chinese e2e password';

describe('the console in Chinese', () => {
  test('switch to Chinese and walk the main screens', async (t) => {
    const tag = randomUUID().slice(0, 6);
    const slug = `cn-tea-${tag}`;
    const email = `owner@${slug}.test`;
    const { context, page, errors } = await newPage(browser);
    try {
      const skip = await sessionAPIMissing(context);
      if (skip) return t.skip(skip);

      // A brand with a product at ¥128.00 and a second member, made through the API.
      const su = await context.request.post(API + '/signup', {
        headers: { 'Content-Type': 'application/json' },
        data: JSON.stringify({ email, password: PASSWORD, name: '林晓', company: 'Fjord Tea 北欧茶', slug }),
      });
      assert.equal(su.status(), 201, `sign-up: ${await su.text()}`);
      const created = await shopAPI(context, slug, 'POST', '/products', {
        content: { 'zh-CN': { title: '北欧白桦茶', subtitle: '', description: '' }, en: { title: 'Nordic Birch Tea', subtitle: '', description: '' } },
        options: [],
        images: [],
        tags: [],
        brand: 'Fjord Tea',
        sort: 0,
        category_id: null,
      });
      assert.equal(created.status, 201, `product: ${JSON.stringify(created.body)}`);
      const sku = created.body.skus[0];
      const priced = await shopAPI(context, slug, 'PUT', `/products/${created.body.id}/skus`, { skus: [{ id: sku.id, code: sku.code || 'TEA-1', price: 12800 }] });
      assert.equal(priced.status, 200, `sku price: ${JSON.stringify(priced.body)}`);
      const inv = await shopAPI(context, slug, 'POST', '/invitations', { email: `wang.fang@${slug}.test`, role: 'catalog_manager' });
      assert.equal(inv.status, 201, `invite: ${JSON.stringify(inv.body)}`);
      await context.clearCookies();

      // ——— Sign in, in Chinese ———
      await openSignIn(page);
      await page.getByTestId('language-switch').click();
      await page.getByRole('menuitem', { name: '简体中文' }).click();
      await page.getByText('忘记密码？').waitFor();
      assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN');
      const res = await signIn(page, email, PASSWORD);
      assert.equal(res.status, 200, `sign-in: ${JSON.stringify(res.body)}`);
      await page.waitForURL(new RegExp(`/admin/s/${slug}$`));

      // ——— Home: counters with real figures ———
      const counters = page.getByTestId('home-counters');
      await counters.getByText('在售商品').waitFor();
      await page.getByTestId('counter-products').getByText('1 个草稿未发布').waitFor();
      await page.getByTestId('counter-paid').getByText('¥0.00').waitFor();
      await page.getByTestId('counter-mode').getByText('测试模式').first().waitFor();
      await page.getByText('开店准备').waitFor();
      await screenshot(page, 'home-zh');

      // ——— Catalog: the price in yuan ———
      await page.getByRole('menuitem', { name: '商品' }).click();
      await page.getByText('北欧白桦茶').waitFor();
      await page.getByText('¥128.00').first().waitFor();
      await screenshot(page, 'catalog-zh');

      // ——— Orders ———
      await page.getByRole('menuitem', { name: '订单' }).click();
      await page.waitForURL(/\/orders$/);
      await page.locator('.ant-table, .ant-empty').first().waitFor();
      await screenshot(page, 'orders-zh');

      // ——— Team: members, invitations, a token shown once, agencies ———
      await page.getByRole('menuitem', { name: '团队' }).click();
      await page.getByText('谁可以管理此店铺，以及每个人的权限。').waitFor();
      await page.getByTestId('members-table').locator('strong', { hasText: '林晓' }).waitFor();
      await page.getByTestId('members-table').getByText('所有者').waitFor();
      await screenshot(page, 'team-members-zh');
      await page.getByRole('tab', { name: /邀请/ }).click();
      await page.getByTestId('invitations-table').getByText(`wang.fang@${slug}.test`).waitFor();
      await page.getByTestId('invitations-table').getByText('商品管理', { exact: true }).waitFor();
      await page.getByTestId('invite-open').click();
      await page.getByTestId('invite-modal').getByText('邀请成员加入团队').waitFor();
      await screenshot(page, 'team-invite-zh');
      await page.getByTestId('invite-modal').getByRole('button', { name: /取\s*消/ }).click();
      await page.getByRole('tab', { name: /API 令牌/ }).click();
      await page.getByText('暂无 API 令牌').waitFor();
      await page.getByTestId('token-create').click();
      await page.locator('#token_name').fill('ERP 同步');
      const [tok] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith(`/tenants/${slug}/tokens`) && r.request().method() === 'POST'),
        page.locator('.ant-modal-footer').getByRole('button', { name: '创建令牌' }).click(),
      ]);
      assert.equal(tok.status(), 201);
      const secret = (await tok.json()).token;
      const modal = page.getByTestId('token-secret-modal');
      await modal.getByText('请立即复制：令牌只显示这一次').waitFor();
      assert.equal(await page.getByTestId('token-secret').innerText(), secret, 'the secret is shown in full, once');
      await screenshot(page, 'team-token-once-zh');
      await page.getByTestId('token-secret-done').click();
      await page.getByTestId('token-secret-modal').waitFor({ state: 'detached' });
      await page.getByTestId('tokens-table').getByText('ERP 同步').waitFor();
      assert.equal(await page.getByText(secret).count(), 0, 'the secret is gone once the dialog is closed');
      await page.getByTestId('tokens-table').getByText(secret.slice(-4), { exact: false }).first().waitFor();
      await screenshot(page, 'team-tokens-zh');
      await page.getByRole('tab', { name: /代运营/ }).click();
      await page.getByText('还没有代运营公司申请访问此店铺').waitFor();

      // ——— Audit log ———
      await page.getByRole('menuitem', { name: '操作日志' }).click();
      await page.getByTestId('audit-table').getByText('创建 API 令牌').waitFor();
      await page.getByTestId('audit-table').getByText('发送邀请').waitFor();
      await screenshot(page, 'audit-zh');
      await page.getByTestId('audit-actor-kind').click();
      await page.locator('.ant-select-dropdown:visible').getByText('系统', { exact: true }).click();
      await page.getByTestId('audit-table').getByText('店铺初始化完成').or(page.getByText('没有符合筛选条件的记录')).first().waitFor();
      assert.equal(await page.getByTestId('audit-table').getByText('创建 API 令牌').count(), 0, 'the filter hides entries by users');

      // ——— Settings ———
      await page.getByRole('menuitem', { name: '设置' }).click();
      await page.getByRole('tab', { name: /公司信息/ }).waitFor();
      await screenshot(page, 'settings-zh');

      // ——— Account security, from the user menu ———
      await page.getByTestId('user-menu').click();
      await page.getByTestId('menu-account').click();
      await page.waitForURL(/\/admin\/account$/);
      await page.getByText('两步验证').first().waitFor();
      await page.getByTestId('session-current').getByText('当前设备').waitFor();
      await page.getByTestId('totp-enrol').click();
      await page.getByTestId('totp-qr').waitFor();
      await page.getByText('用验证器应用扫描此二维码。').waitFor();
      await screenshot(page, 'account-totp-zh');
      await page.getByTestId('totp-modal').getByRole('button', { name: /取\s*消/ }).click();
      await screenshot(page, 'account-zh');

      // Nothing English left on the page.
      const text = await page.locator('body').innerText();
      for (const word of ['Team', 'Audit log', 'Sign out', 'Two-factor']) {
        assert.ok(!text.includes(word), `“${word}” is not translated`);
      }

      // ——— Forgot the password: the link from the dev outbox, a new password ———
      await page.getByTestId('user-menu').click();
      await page.getByRole('menuitem', { name: '退出登录' }).click();
      await page.waitForURL(/\/admin\/login/);
      await page.getByTestId('forgot-link').click();
      await page.waitForURL(/\/admin\/forgot-password/);
      await page.locator('#forgot_email').fill(email);
      await page.getByTestId('reset-request').click();
      await page.getByTestId('reset-sent').getByText('请查收邮件').waitFor();
      await screenshot(page, 'reset-sent-zh');
      const mail = await context.request.get(API + `/dev/mail?to=${encodeURIComponent(email)}`);
      assert.equal(mail.status(), 200);
      const link = /(\/admin\/reset-password\?token=\S+)/.exec((await mail.json()).mail[0]?.body ?? '')?.[1];
      assert.ok(link, 'a reset link in the dev outbox');
      await page.goto(new URL(link, page.url()).toString());
      await page.getByText('设置新密码').first().waitFor();
      await page.getByTestId('reset-password').fill('a new chinese password');
      await page.getByTestId('reset-confirm').fill('a new chinese password');
      await screenshot(page, 'reset-form-zh');
      await page.getByTestId('reset-submit').click();
      await page.getByText('密码已修改').waitFor();
      // The link worked once: opening it again says so.
      await page.goto(new URL(link, page.url()).toString());
      await page.getByTestId('reset-password').fill('yet another password 2');
      await page.getByTestId('reset-confirm').fill('yet another password 2');
      await page.getByTestId('reset-submit').click();
      await page.getByText('此链接已失效').waitFor();
      const again = await signIn(page, email, 'a new chinese password');
      assert.equal(again.status, 200, `sign-in with the new password: ${JSON.stringify(again.body)}`);
      assert.deepEqual(errors, [], 'no page errors');
    } finally {
      await context.close();
    }
  });
});
