// The console in Chinese: switch the language on the sign-in page, walk the
// main screens (home, catalog, orders, team with its four tabs, audit log,
// settings, account security) and reset the password from the dev outbox's
// link, check Chinese text and ¥ amounts, and save a
// screenshot of each (web/admin/e2e/artifacts/*-zh.png).
// The brand is new (made by sign-up), so the demo data is left alone.
// Then what the server writes, in Chinese: a refund refused while customs
// has not answered, a refusal the server has no Chinese for (the code's
// translation instead), the publishing checklist, the customs queue with a
// rejected order, and a reconciliation difference (Alpine Kids, demo data).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { API, adminURL, buyAndPay, demo, launch, newPage, openSignIn, screenshot, sessionAPIMissing, shopAPI, signIn, signInWithSandbox, waitFor } from './helpers.mjs';

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

/** Today in China (UTC+8), YYYY-MM-DD. */
const chinaToday = () => new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);

// An English sentence: a word only sentences have, then another word.
const englishSentence = /\b(the|is|are|was|not|has|have|of|to|and|or|be|will|we|our|this|cannot|no)\s+[a-z]{2,}/i;

/** The English sentences in text (none expected in the Chinese console). */
function englishIn(text) {
  return text.split('\n').filter((l) => englishSentence.test(l));
}

describe('what the server writes, in Chinese', () => {
  test('a refused refund, the publishing checklist, the customs queue and reconciliation read in Chinese', async (t) => {
    const SLUG = 'alpine-kids';
    const { context, page, errors } = await newPage(browser, { locale: 'zh-CN' });
    try {
      const sandbox = await signInWithSandbox(t, context, 'owner@alpine-kids.test');
      if (!sandbox) return;
      const tag = randomUUID().slice(0, 6).toUpperCase();

      // A compliant product in stock, and a draft that lacks its Chinese title and customs data.
      const wh = await shopAPI(context, SLUG, 'POST', '/warehouses', { code: `ZH-${tag}`, name: 'ZH bonded warehouse', kind: 'bonded' });
      assert.equal(wh.status, 201, `warehouse: ${JSON.stringify(wh.body)}`);
      const prod = await shopAPI(context, SLUG, 'POST', '/products', { brand: 'Alpine Kids', content: { en: { title: `Wool hat ${tag}` }, 'zh-CN': { title: `羊毛帽 ${tag}` } } });
      assert.equal(prod.status, 201, `product: ${JSON.stringify(prod.body)}`);
      const sku = prod.body.skus[0];
      const skus = await shopAPI(context, SLUG, 'PUT', `/products/${prod.body.id}/skus`, {
        skus: [{
          id: sku.id, code: `HAT-${tag}`, price: 15900, weight_g: 200, hs_code: '6505009900', origin_country: '330', gname: '羊毛帽',
          gmodel: 'Alpine Kids wool hat', unit: '007', legal_unit1: '035', legal_qty1: 0.1, net_weight_g: 100, gross_weight_g: 200,
          item_record_no: 'REC0003', trade_mode: '1210', tax_category: 'general', positive_list: true,
        }],
      });
      assert.equal(skus.status, 200, `skus: ${JSON.stringify(skus.body)}`);
      assert.equal((await shopAPI(context, SLUG, 'POST', `/products/${prod.body.id}/publish`)).status, 200);
      const mv = await shopAPI(context, SLUG, 'POST', '/stock/movements', { sku_id: sku.id, warehouse_id: wh.body.id, kind: 'received', quantity: 10 });
      assert.ok(mv.status === 200 || mv.status === 201, `stock: ${JSON.stringify(mv.body)}`);
      const draft = await shopAPI(context, SLUG, 'POST', '/products', { brand: 'Alpine Kids', content: { en: { title: `Draft scarf ${tag}` } } });
      assert.equal(draft.status, 201, `draft: ${JSON.stringify(draft.body)}`);

      // Two paid orders: customs never answers the first one's declaration (it stays declaring),
      // and rejects the second one's for the product's record.
      const fault = (body) => fetch(sandbox + '/sandbox/v1/customs/faults', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      const silent = await buyAndPay(context, {
        slug: SLUG, sandbox, skuId: sku.id, buyer: `zh-silent-${tag}`, idSeq: 21,
        beforePay: async (o) => assert.equal((await fault({ order_no: o.out_trade_no, silent: true })).status, 200),
      });
      const rejected = await buyAndPay(context, {
        slug: SLUG, sandbox, skuId: sku.id, buyer: `zh-rej-${tag}`, idSeq: 22,
        beforePay: async (o) => assert.equal((await fault({ order_no: o.out_trade_no, return_info: '商品备案信息不符' })).status, 200),
      });

      // ——— Refund of an order customs has not answered: refused, in Chinese ———
      await waitFor('the order to be declared', async () => (await shopAPI(context, SLUG, 'GET', `/orders/${silent.id}`)).body?.status === 'declaring');
      // The page was opened just before the declaration began: it still shows the order paid, with its Refund button.
      const orderURL = `**/api/admin/v1/tenants/${SLUG}/orders/${silent.id}`;
      await page.route(orderURL, async (route) => {
        const res = await route.fetch();
        const body = await res.json();
        await route.fulfill({ response: res, json: { ...body, status: body.status === 'declaring' ? 'paid' : body.status } });
      });
      await page.goto(adminURL(`/s/${SLUG}/orders/${silent.id}`));
      await page.getByTestId('order-detail').waitFor();
      assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN', 'the console follows the browser’s Chinese');
      await page.getByTestId('refund-button').click();
      await page.getByTestId('refund-modal').waitFor();
      const [refused] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith(`/orders/${silent.id}/refunds`) && r.request().method() === 'POST'),
        page.getByTestId('refund-submit').click(),
      ]);
      assert.equal(refused.status(), 409, await refused.text());
      assert.equal(refused.headers()['content-language'], 'zh-CN');
      const refusal = await page.getByTestId('refund-error').innerText();
      assert.ok(refusal.includes('该订单正在向海关申报'), `the refusal in Chinese: ${refusal}`);
      assert.deepEqual(englishIn(refusal), [], refusal);
      await screenshot(page, 'refund-refused-zh');

      // A refusal the server has no Chinese for: the console shows its code's translation.
      await page.route(`**/orders/${silent.id}/refunds`, (route) =>
        route.fulfill({
          status: 409,
          contentType: 'application/json',
          headers: { 'Content-Language': 'en' },
          body: JSON.stringify({ error: { code: 'refund_in_progress', message: 'a brand-new English sentence the server did not translate' } }),
        }),
      );
      await page.getByTestId('refund-reason').fill('重复');
      await page.getByTestId('refund-submit').click();
      await page.getByTestId('refund-error').getByText('该订单有一笔退款正在处理中，请等待结果。').waitFor();
      await page.unroute(`**/orders/${silent.id}/refunds`);
      await page.unroute(orderURL);
      await page.getByTestId('refund-modal').press('Escape');
      // Opened now, the order is declaring: the Refund button is disabled and says what to wait for.
      await page.reload();
      const waitCustoms = page.getByTestId('refund-wait-customs');
      await waitCustoms.waitFor();
      assert.ok(await waitCustoms.isDisabled(), 'Refund is disabled while customs has not answered');
      assert.equal(await page.getByTestId('refund-button').count(), 0);
      await waitCustoms.hover({ force: true });
      await page.getByText('订单正在向海关申报：海关回执后即可退款。').waitFor();

      // ——— Publishing a product that lacks its Chinese title and customs data ———
      await page.goto(adminURL(`/s/${SLUG}/catalog/${draft.body.id}`));
      await page.getByTestId('publish-product').click();
      const checklist = page.getByTestId('publish-checklist');
      await checklist.getByText('缺少中文标题').first().waitFor();
      assert.deepEqual(englishIn(await checklist.innerText()), [], await checklist.innerText());
      await screenshot(page, 'publish-refused-zh');

      // ——— The customs queue: customs' reason and what to do, in Chinese ———
      const queued = await waitFor(
        'the rejected order in the customs queue',
        async () => (await shopAPI(context, SLUG, 'GET', '/customs/queue')).body?.orders?.some((o) => o.order_id === rejected.id),
        180_000,
      );
      assert.ok(queued);
      await page.goto(adminURL(`/s/${SLUG}/customs`));
      const row = page.getByTestId(`customs-queue-${rejected.id}`);
      await row.waitFor();
      await page.locator('[data-testid="customs-queue"] .ant-spin-spinning').waitFor({ state: 'detached' });
      await page.waitForTimeout(400); // the table's fade-in
      const rowText = await row.innerText();
      assert.ok(rowText.includes('有商品未做跨境进口备案') && rowText.includes('商品备案信息不符'), `the reason, with customs' own words: ${rowText}`);
      assert.deepEqual(englishIn(await page.getByTestId('customs-queue').innerText()), [], 'no English sentence in the customs queue');
      await screenshot(page, 'customs-queue-zh');
      await row.click();
      await page.getByTestId('order-customs').getByTestId('customs-attention-order').waitFor();
      assert.deepEqual(englishIn(await page.getByTestId('order-customs').innerText()), [], 'no English sentence in the 三单 panel');
      await screenshot(page, 'order-customs-rejected-zh');

      // ——— Reconciliation: the bill says the first order was paid ¥1 less ———
      const day = chinaToday();
      const creds = await shopAPI(context, SLUG, 'GET', '/credentials');
      const pub = creds.body?.credentials?.test?.wechatpay?.public ?? {};
      const bill = await fetch(sandbox + '/sandbox/v1/pay/bill-faults', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ mch_id: pub.mch_id, sub_mch_id: pub.sub_mch_id ?? '', date: day, faults: [{ kind: 'amount', out_trade_no: silent.out_trade_no, amount: silent.actural_paid - 100 }] }),
      });
      assert.equal(bill.status, 200, `bill fault: ${await bill.text()}`);
      const ran = await shopAPI(context, SLUG, 'POST', '/reconciliations', { date: day });
      assert.equal(ran.status, 200, `reconcile: ${JSON.stringify(ran.body)}`);
      await page.goto(adminURL(`/s/${SLUG}/reconciliation/${day}`));
      await page.getByTestId('recon-day').waitFor();
      const diff = page.locator('.discrepancy-row').filter({ hasText: silent.out_trade_no });
      await diff.waitFor();
      const diffText = await diff.innerText();
      assert.ok(diffText.includes('账单金额为') && diffText.includes('我方记录为'), `the explanation in Chinese: ${diffText}`);
      assert.deepEqual(englishIn(await page.getByTestId('recon-day').innerText()), [], 'no English sentence on the day of reconciliation');
      await screenshot(page, 'reconciliation-day-zh');

      // ——— Failed tasks and logistics alerts ———
      await page.goto(adminURL(`/s/${SLUG}/customs`));
      await page.getByRole('tab', { name: '失败任务' }).click();
      await page.getByTestId('failed-task-table').waitFor();
      await page.locator('[data-testid="failed-task-table"] .ant-spin-spinning').waitFor({ state: 'detached' });
      assert.deepEqual(englishIn(await page.getByTestId('failed-task-table').innerText()), [], 'no English sentence among failed tasks');
      await screenshot(page, 'failed-tasks-zh');
      await page.goto(adminURL(`/s/${SLUG}/logistics`));
      await page.getByTestId('logistics-alerts').waitFor();
      await page.locator('[data-testid="logistics-alerts"] .ant-spin-spinning').waitFor({ state: 'detached' });
      assert.deepEqual(englishIn(await page.getByTestId('logistics-alerts').innerText()), [], 'no English sentence among logistics alerts');
      await screenshot(page, 'logistics-zh');
      assert.deepEqual(errors, [], 'no page errors');
    } finally {
      await context.close();
    }
  });
});
