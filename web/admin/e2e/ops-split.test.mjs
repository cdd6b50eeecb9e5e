// Browser test of an order shipped from two warehouses: two customs orders
// (out_trade_no-1, -2), customs rejects the second one's order declaration,
// the Customs page names that customs order, and the 三单 panel declares it
// again on its own while the first keeps its documents.
//
// Needs `scripts/e2e.sh` (a running minishop dev and its WeChat sandbox).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { adminURL, buyAndPay, invitedPage, launch, newPage, screenshot, shopAPI, signInWithSandbox, storefrontRequest, waitFor } from './helpers.mjs';

const SLUG = 'alpine-kids';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** A published, declarable product with one SKU and qty units in warehouse wh. */
async function stockedProduct(context, { tag, code, title, wh, qty }) {
  const prod = await shopAPI(context, SLUG, 'POST', '/products', { brand: 'Alpine Kids', content: { en: { title: `${title} ${tag}` }, 'zh-CN': { title: `${title} ${tag}` } } });
  assert.equal(prod.status, 201, `product: ${JSON.stringify(prod.body)}`);
  const sku = prod.body.skus[0];
  const skus = await shopAPI(context, SLUG, 'PUT', `/products/${prod.body.id}/skus`, {
    skus: [{
      id: sku.id, code: `${code}-${tag}`, price: 15900, weight_g: 200, hs_code: '6505009900', origin_country: '330', gname: '羊毛帽',
      gmodel: 'Alpine Kids wool hat', unit: '007', legal_unit1: '035', legal_qty1: 0.1, net_weight_g: 100, gross_weight_g: 200,
      item_record_no: 'REC0003', trade_mode: '1210', tax_category: 'general', positive_list: true,
    }],
  });
  assert.equal(skus.status, 200, `skus: ${JSON.stringify(skus.body)}`);
  assert.equal((await shopAPI(context, SLUG, 'POST', `/products/${prod.body.id}/publish`)).status, 200);
  const mv = await shopAPI(context, SLUG, 'POST', '/stock/movements', { sku_id: sku.id, warehouse_id: wh, kind: 'received', quantity: qty });
  assert.ok(mv.status === 200 || mv.status === 201, `stock: ${JSON.stringify(mv.body)}`);
  return sku.id;
}

/** Puts skuId in buyer's cart on the storefront (buyAndPay then adds its own SKU to the same cart). */
async function preFillCart(context, sandbox, buyer, skuId) {
  const appid = await waitFor('the test Mini Program', async () => (await shopAPI(context, SLUG, 'GET', '/credentials')).body?.credentials?.test?.miniprogram?.public?.appid);
  const lc = await fetch(sandbox + '/sandbox/v1/wx-login-code', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ appid, user: buyer }) });
  const code = (await lc.json()).code;
  const host = `${SLUG}.localhost`;
  const auth = await storefrontRequest('POST', host, '/api/v1/auth/wechat', { code });
  assert.equal(auth.status, 200, `auth: ${auth.text}`);
  const cart = await storefrontRequest('POST', host, '/api/v1/cart/items', { sku_id: skuId, quantity: 1 }, { Authorization: `Bearer ${auth.body.token}` });
  assert.equal(cart.status, 200, `cart: ${cart.text}`);
}

describe('an order shipped from two warehouses', () => {
  test('two customs orders in the 三单 panel; customs rejects one; the queue names it; Declare again acts on it alone', async (t) => {
    const { context, page, errors } = await newPage(browser);
    try {
      const sandbox = await signInWithSandbox(t, context, 'owner@alpine-kids.test');
      if (!sandbox) return;
      const tag = randomUUID().slice(0, 6).toUpperCase();

      // Two bonded warehouses, each the only one stocking its product.
      const wh1 = await shopAPI(context, SLUG, 'POST', '/warehouses', { code: `SP1-${tag}`, name: 'Hangzhou bonded', kind: 'bonded' });
      const wh2 = await shopAPI(context, SLUG, 'POST', '/warehouses', { code: `SP2-${tag}`, name: 'Ningbo bonded', kind: 'bonded' });
      assert.equal(wh1.status, 201, `warehouse: ${JSON.stringify(wh1.body)}`);
      assert.equal(wh2.status, 201, `warehouse: ${JSON.stringify(wh2.body)}`);
      const hat = await stockedProduct(context, { tag, code: 'HAT', title: 'Wool hat', wh: wh1.body.id, qty: 500 });
      const mittens = await stockedProduct(context, { tag, code: 'MIT', title: 'Wool mittens', wh: wh2.body.id, qty: 500 });

      // The buyer orders both: customs rejects the order declaration of the second customs order only.
      const buyer = `split-${tag}`;
      await preFillCart(context, sandbox, buyer, mittens);
      let second = '';
      const order = await buyAndPay(context, {
        slug: SLUG, sandbox, skuId: hat, buyer, idSeq: 31,
        beforePay: async (o) => {
          second = `${o.out_trade_no}-2`;
          const f = await fetch(sandbox + '/sandbox/v1/customs/faults', {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ order_no: second, return_info: '订购人身份信息校验不通过 (e2e split)' }),
          });
          assert.equal(f.status, 200, `customs fault: ${await f.text()}`);
        },
      });
      const first = `${order.out_trade_no}-1`;
      const docsOf = (v, no) => v?.sub_orders?.find((s) => s.order_no === no)?.documents ?? [];
      const view = await waitFor(
        'customs to reject the second customs order and accept the first one',
        async () => {
          const v = (await shopAPI(context, SLUG, 'GET', `/orders/${order.id}/customs`)).body;
          return docsOf(v, second)[0]?.state === 'rejected' && docsOf(v, first)[0]?.state === 'accepted' ? v : null;
        },
        240_000,
      );
      assert.equal(view.sub_orders.length, 2, `two customs orders: ${JSON.stringify(view.sub_orders)}`);

      // The Customs page names the customs order that needs a person.
      await page.goto(adminURL(`/s/${SLUG}/customs`));
      const row = page.getByTestId(`customs-queue-${order.id}`);
      await row.waitFor({ timeout: 60_000 });
      await page.locator('[data-testid="customs-queue"] .ant-spin-spinning').waitFor({ state: 'detached' });
      const named = row.locator(`[data-testid="queue-doc-order"][data-order-no="${second}"]`);
      await named.waitFor();
      assert.ok((await named.getByTestId('queue-doc-order-no').innerText()).includes(second), 'the queue names the customs order');
      await page.waitForTimeout(400);
      await screenshot(page, 'ops-split-queue-en');

      // The 三单 panel: both customs orders, their warehouses, lines and amounts.
      await row.click();
      const panel = page.getByTestId('order-customs');
      const sub1 = panel.getByTestId(`customs-sub-${first}`);
      const sub2 = panel.getByTestId(`customs-sub-${second}`);
      await sub1.waitFor();
      await sub2.waitFor();
      const warehouses = [await sub1.getByTestId('customs-sub-warehouse').innerText(), await sub2.getByTestId('customs-sub-warehouse').innerText()];
      assert.deepEqual(warehouses.map((w) => w.includes(`SP1-${tag}`) || w.includes(`SP2-${tag}`)), [true, true], `warehouses: ${warehouses}`);
      assert.notEqual(warehouses[0], warehouses[1], 'each customs order has its own warehouse');
      for (const [el, s] of [[sub1, view.sub_orders[0]], [sub2, view.sub_orders[1]]]) {
        const paid = await el.getByTestId('customs-sub-paid').innerText();
        assert.equal(paid.replace(/[^\d.]/g, ''), (s.actural_paid / 100).toFixed(2), `the customs order's acturalPaid in yuan: ${paid}`);
        assert.ok((await el.getByTestId('customs-sub-lines').innerText()).includes(String(s.line_nos[0])), 'its lines');
      }
      for (const kind of ['order', 'payment', 'waybill', 'inventory']) {
        await sub1.getByTestId(`customs-doc-${kind}`).waitFor();
        await sub2.getByTestId(`customs-doc-${kind}`).waitFor();
      }
      assert.equal(await sub1.getByTestId('customs-state').getAttribute('data-state'), 'accepted');
      assert.equal(await sub2.getByTestId('customs-state').getAttribute('data-state'), 'rejected');
      assert.ok((await sub2.getByTestId('customs-attention-order').innerText()).length > 0);
      assert.ok((await sub2.getByTestId('customs-doc-order').innerText()).includes('(e2e split)'), 'customs’ reason in the last receipt');
      assert.equal(await sub1.getByTestId('customs-redeclare').count(), 0, 'nothing to declare again for the accepted customs order');
      await screenshot(page, 'ops-split-panel-en');

      // A viewer (in Chinese) sees the same customs orders, without Declare again.
      const viewer = await invitedPage(browser, context, { slug: SLUG, email: `viewer+split-${tag.toLowerCase()}@alpine-kids.test`, role: 'viewer', locale: 'zh-CN' });
      try {
        const vp = viewer.page;
        await vp.goto(adminURL(`/s/${SLUG}/orders/${order.id}`));
        const vsub2 = vp.getByTestId('order-customs').getByTestId(`customs-sub-${second}`);
        await vsub2.getByTestId('customs-attention-order').waitFor();
        await vp.getByTestId('order-customs').getByTestId(`customs-sub-${first}`).getByTestId('customs-sub-warehouse').waitFor();
        assert.ok((await vp.getByTestId('customs-split-note').innerText()).includes('个仓库'), 'the note in Chinese');
        assert.equal(await vp.getByTestId('customs-redeclare').count(), 0, 'no Declare again for a viewer');
        await screenshot(vp, 'ops-split-viewer-zh');
        assert.deepEqual(viewer.errors, []);
      } finally {
        await viewer.context.close();
      }

      // Declare the rejected customs order again: only it gets a new attempt.
      const [re] = await Promise.all([
        page.waitForResponse((r) => r.url().includes(`/orders/${order.id}/customs/redeclare`) && r.request().method() === 'POST'),
        sub2.getByTestId('customs-redeclare').click(),
      ]);
      assert.equal(re.status(), 202, `redeclare: ${await re.text()}`);
      assert.equal(new URL(re.url()).searchParams.get('order_no'), second, 'Declare again names the customs order');
      const moved = await waitFor(
        'the second customs order to move on',
        async () => {
          const v = (await shopAPI(context, SLUG, 'GET', `/orders/${order.id}/customs`)).body;
          const d = docsOf(v, second)[0];
          return d && d.attempt === 2 && d.state !== 'rejected' && d.state !== 'pending' ? v : null;
        },
        120_000,
      );
      assert.equal(docsOf(moved, first)[0].attempt, 1, 'the first customs order keeps its declaration');
      await page.reload();
      await sub2.waitFor();
      await waitFor('the panel to show the new attempt', async () => (await sub2.getByTestId('customs-state').getAttribute('data-state')) !== 'rejected', 30_000);
      assert.equal(await sub2.getByTestId('customs-attention-order').count(), 0, 'no more attention on the declared-again customs order');
      await screenshot(page, 'ops-split-redeclared-en');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
