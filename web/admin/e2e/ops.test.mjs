// Operations screens: the owner of Alpine Kids imports a catalog file with a
// bad row (sees the per-row report, downloads it, nothing is written), then
// the corrected file; downloads the export; a buyer pays an order of the
// imported product; the owner reconciles the day against a sandbox bill
// with one wrong amount, resolves the difference with a note and downloads
// the CSV; opens the paid order. A viewer sees the same screens read-only.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { API, adminURL, buyAndPay, demo, findSandboxURL, invitedPage, launch, newPage, screenshot, sessionAPIMissing, shopAPI, waitFor } from './helpers.mjs';

const SLUG = 'alpine-kids';
const OWNER = 'owner@alpine-kids.test';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Today in China (UTC+8), YYYY-MM-DD. */
const chinaToday = () => new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);

/** A catalog file of one published product with two sizes, stocked in warehouse wh; badPrice spoils the second row. */
function catalogCSV(tag, wh, { badPrice } = {}) {
  const header = [
    'handle', 'status', 'title_en', 'title_zh', 'option1_name_en', 'option1_value_en', 'sku', 'price', 'weight_g',
    'hs_code', 'origin_country', 'gname', 'gmodel', 'unit', 'legal_unit1', 'legal_qty1', 'net_weight_g', 'gross_weight_g',
    'item_record_no', 'trade_mode', 'tax_category', 'positive_list', `stock:${wh}`,
  ];
  const row = (first, size, price) => [
    `scarf-${tag}`, first ? 'published' : '', first ? `Merino scarf ${tag}` : '', first ? '美利奴羊毛围巾' : '', first ? 'Size' : '', size,
    `SCARF-${tag}-${size}`, price, '300', '6117100000', '330', '羊毛围巾', 'Alpine Kids merino scarf', '007', '035', '0.2', '200', '300',
    'REC0002', '1210', 'general', 'yes', '20',
  ];
  const lines = [header, row(true, 'S', '129.00'), row(false, 'M', badPrice ?? '139.00')];
  return '\uFEFF' + lines.map((l) => l.join(',')).join('\r\n') + '\r\n';
}

async function upload(page, name, text) {
  await page.locator('[data-testid="import-dropzone"] input[type="file"]').setInputFiles({ name, mimeType: 'text/csv', buffer: Buffer.from(text, 'utf8') });
}

async function downloaded(page, click) {
  const [dl] = await Promise.all([page.waitForEvent('download'), click()]);
  const path = await dl.path();
  return { name: dl.suggestedFilename(), text: await readFile(path, 'utf8') };
}

describe('operations', () => {
  test('catalog import with a bad row then a good one; reconciliation of the day; the paid order; read-only for a viewer', async (t) => {
    const { context, page, errors } = await newPage(browser);
    try {
      const missing = await sessionAPIMissing(context);
      if (missing) return t.skip(missing);
      const sandbox = await findSandboxURL();
      const login = await context.request.post(API + '/session', {
        headers: { 'Content-Type': 'application/json' },
        data: JSON.stringify({ email: OWNER, password: demo.password }),
      });
      assert.equal(login.status(), 200, `sign-in as ${OWNER}: ${await login.text()}`);
      const tag = randomUUID().slice(0, 6).toUpperCase();
      const whCode = `OPS-${tag}`;
      const wh = await shopAPI(context, SLUG, 'POST', '/warehouses', { code: whCode, name: 'Ops bonded warehouse', kind: 'bonded' });
      assert.equal(wh.status, 201, `warehouse: ${JSON.stringify(wh.body)}`);

      // ——— Import: from the product list ———
      await page.goto(adminURL(`/s/${SLUG}/catalog`));
      await page.getByTestId('catalog-import-export').click();
      await page.getByTestId('import-dropzone').waitFor();
      await screenshot(page, 'ops-import-en');

      // A file with a price of three decimals on its third line: refused, nothing written.
      await upload(page, 'scarves-bad.csv', catalogCSV(tag, whCode, { badPrice: '139.005' }));
      await page.locator('[data-testid="import-job"][data-status="failed"]').waitFor();
      const table = await page.getByTestId('import-error-table').innerText();
      assert.match(table, /\b3\b/, `the report names line 3: ${table}`);
      assert.ok(table.includes('price'), `the report names the price column: ${table}`);
      assert.ok(table.includes(`SCARF-${tag}-M`), `the report names the SKU: ${table}`);
      assert.match(new URL(page.url()).search, /job=\d+/, 'the job is in the address');
      const report = await downloaded(page, () => page.getByTestId('import-errors-download').click());
      assert.ok(report.name.endsWith('.csv'), report.name);
      assert.ok(/line/.test(report.text) && report.text.includes('price') && report.text.includes(`SCARF-${tag}-M`), `error report: ${report.text}`);
      await screenshot(page, 'ops-import-errors-en');
      const none = await shopAPI(context, SLUG, 'GET', `/products?q=${encodeURIComponent(tag)}`);
      assert.equal(none.status, 200);
      assert.equal((none.body.products ?? []).length, 0, 'a failed import writes nothing');

      // The corrected file.
      await page.getByTestId('import-another').click();
      await upload(page, 'scarves.csv', catalogCSV(tag, whCode));
      await page.locator('[data-testid="import-job"][data-status="succeeded"]').waitFor();
      const summary = await page.getByTestId('import-summary').innerText();
      assert.match(summary, /Products created\s*1/, summary);
      assert.match(summary, /SKUs created\s*2/, summary);
      await screenshot(page, 'ops-import-done-en');

      // The export has the product.
      const exported = await downloaded(page, () => page.getByTestId('export-csv').click());
      assert.ok(exported.text.includes(`scarf-${tag}`) && exported.text.includes(`SCARF-${tag}-M`), 'the export lists the imported SKUs');
      assert.ok(exported.text.includes('139.00'), 'prices are exported in yuan');

      // ——— A buyer pays an order of the imported product ———
      const products = await shopAPI(context, SLUG, 'GET', `/products?q=${encodeURIComponent(tag)}`);
      const product = (products.body.products ?? []).find((p) => p.content?.en?.title === `Merino scarf ${tag}`);
      assert.ok(product, `the imported product is listed: ${JSON.stringify(products.body)}`);
      const detail = await shopAPI(context, SLUG, 'GET', `/products/${product.id}`);
      const sku = detail.body.skus.find((s) => s.code === `SCARF-${tag}-S`);
      assert.ok(sku, `SKU SCARF-${tag}-S: ${JSON.stringify(detail.body.skus)}`);
      let order = null;
      let rejected = null;
      if (!sandbox) {
        t.diagnostic('the sandbox address is unknown (set MINISHOP_E2E_SANDBOX_URL): no paid order, no bill');
      } else {
        order = await buyAndPay(context, { slug: SLUG, sandbox, skuId: sku.id, quantity: 1, buyer: `ops-${tag}`, idSeq: 11 });
        // A second order, whose order declaration customs will reject: it lands in the needs-a-person queue.
        rejected = await buyAndPay(context, {
          slug: SLUG,
          sandbox,
          skuId: sku.id,
          quantity: 1,
          buyer: `ops-rej-${tag}`,
          idSeq: 12,
          beforePay: async (o) => {
            const f = await fetch(sandbox + '/sandbox/v1/customs/faults', {
              method: 'POST',
              headers: { 'Content-Type': 'application/json' },
              body: JSON.stringify({ order_no: o.out_trade_no, return_info: '商品备案信息不符 (e2e)' }),
            });
            assert.equal(f.status, 200, `customs fault: ${await f.text()}`);
          },
        });
      }

      // ——— Reconciliation ———
      const day = chinaToday();
      if (order) {
        // WeChat Pay's bill of the day says our order was paid ¥1 less.
        const creds = await shopAPI(context, SLUG, 'GET', '/credentials');
        const pub = creds.body?.credentials?.test?.wechatpay?.public ?? {};
        const fault = await fetch(sandbox + '/sandbox/v1/pay/bill-faults', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({
            mch_id: pub.mch_id,
            sub_mch_id: pub.sub_mch_id ?? '',
            date: day,
            faults: [{ kind: 'amount', out_trade_no: order.out_trade_no, amount: order.actural_paid - 100 }],
          }),
        });
        assert.equal(fault.status, 200, `bill fault: ${await fault.text()}`);
      }
      await page.goto(adminURL(`/s/${SLUG}/reconciliation`));
      await page.getByTestId('recon-days').waitFor();
      if ((await page.getByTestId('recon-empty').count()) > 0) await screenshot(page, 'ops-reconciliation-empty-en');
      const picker = page.getByTestId('recon-run-date');
      await picker.click();
      await page.keyboard.press('ControlOrMeta+a');
      await page.keyboard.type(day);
      await page.keyboard.press('Enter');
      const [ran] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith(`/tenants/${SLUG}/reconciliations`) && r.request().method() === 'POST'),
        page.getByTestId('recon-run').click(),
      ]);
      const ranBody = await ran.json();
      assert.equal(ran.status(), 200, `run: ${JSON.stringify(ranBody)}`);
      assert.equal(ranBody.reconciliation.date, day, 'the picked day was sent');
      await page.waitForURL(`**/reconciliation/${day}`);
      await page.getByTestId('recon-day').waitFor();
      if (order) {
        assert.equal(ranBody.reconciliation.status, 'discrepancies', JSON.stringify(ranBody));
        const row = page.locator('.discrepancy-row').filter({ hasText: order.out_trade_no });
        await row.waitFor();
        assert.ok((await row.innerText()).includes('Amount differs'), await row.innerText());
        // Its evidence, then resolved with a note.
        await row.locator('.ant-table-row-expand-icon').click();
        await page.getByTestId('discrepancy-evidence').first().waitFor();
        await screenshot(page, 'ops-reconciliation-day-en');
        await row.getByTestId('discrepancy-resolve').click();
        // A note is required: until one is written, Resolve is disabled and says so.
        await page.getByTestId('resolve-note-required').waitFor();
        assert.ok(await page.getByTestId('resolve-submit').isDisabled(), 'Resolve without a note');
        await page.getByTestId('resolve-note').fill('Bill corrected by WeChat Pay support, ticket E2E-1');
        await page.getByTestId('resolve-submit').click();
        await page.getByTestId('resolve-modal').waitFor({ state: 'hidden' });
        await page.getByTestId('discrepancy-filter').getByText(/^All/).click();
        const resolved = page.locator('.discrepancy-row').filter({ hasText: order.out_trade_no });
        await resolved.locator('[data-testid="discrepancy-state"][data-state="resolved"]').waitFor();
        assert.ok((await resolved.innerText()).includes('ticket E2E-1'));
        const csv = await downloaded(page, () => page.getByTestId('recon-csv').click());
        assert.ok(csv.text.includes(order.out_trade_no) && csv.text.includes('resolved'), `discrepancies CSV: ${csv.text}`);
        await screenshot(page, 'ops-reconciliation-resolved-en');
      } else {
        await screenshot(page, 'ops-reconciliation-day-en');
      }
      await page.getByText('All days').click();
      await page.getByTestId(`recon-day-${day}`).waitFor();
      await page.locator('[data-testid="recon-days"] .ant-spin-spinning').waitFor({ state: 'detached' });
      await screenshot(page, 'ops-reconciliation-en');

      // ——— The paid order: its 三单 panel, then (once customs released it) a parcel ———
      if (order) {
        await page.goto(adminURL(`/s/${SLUG}/orders/${order.id}`));
        await page.getByTestId('order-detail').waitFor();
        const customs = page.getByTestId('order-customs');
        for (const kind of ['order', 'payment', 'waybill', 'inventory']) await customs.getByTestId(`customs-doc-${kind}`).waitFor();
        assert.notEqual(await customs.getByTestId('customs-state').getAttribute('data-state'), 'not_started', 'the paid order is declared');
        await page.getByTestId('order-shipments').waitFor();
        await screenshot(page, 'ops-order-customs-en');
        const declared = await waitFor(
          'customs to release the order',
          async () => {
            const o = await shopAPI(context, SLUG, 'GET', `/orders/${order.id}`);
            return ['declared', 'customs_rejected'].includes(o.body?.status) ? o.body.status : null;
          },
          240_000,
        ).catch(() => null);
        if (declared === 'declared') {
          await page.reload();
          await page.getByTestId('add-shipment').click();
          await page.getByTestId('shipment-modal').waitFor();
          await page.getByTestId('shipment-carrier').click();
          await page.keyboard.type('yuantong');
          await page.keyboard.press('Enter');
          await page.getByTestId('shipment-tracking-input').fill(`YT${Date.now()}`);
          const [created] = await Promise.all([
            page.waitForResponse((r) => r.url().endsWith(`/orders/${order.id}/shipments`) && r.request().method() === 'POST'),
            page.getByTestId('shipment-submit').click(),
          ]);
          assert.equal(created.status(), 201, `shipment: ${await created.text()}`);
          await page.getByTestId('shipment-modal').waitFor({ state: 'hidden' });
          await page.getByTestId('order-shipments').getByTestId('shipment-tracking').waitFor();
          await page.locator('.page-header [data-testid="order-status"][data-status="shipped"]').waitFor();
          await page.getByTestId('wechat-shipping').waitFor();
          await screenshot(page, 'ops-order-shipped-en');
        } else {
          t.diagnostic(`the order is ${declared ?? 'still declaring'} after 4 minutes: no parcel recorded`);
          assert.equal(await page.getByTestId('add-shipment').count(), 0, 'no Add a parcel before customs released the order');
        }
        await screenshot(page, 'ops-order-detail-en');
      }

      // ——— Customs queue and failed tasks; logistics alerts and a tracking file with an unknown order ———
      await page.goto(adminURL(`/s/${SLUG}/customs`));
      await page.getByTestId('customs-queue').waitFor();
      await page.locator('[data-testid="customs-queue"] .ant-spin-spinning').waitFor({ state: 'detached' });
      if (rejected) {
        const queued = await waitFor(
          'the rejected order in the customs queue',
          async () => (await shopAPI(context, SLUG, 'GET', '/customs/queue')).body?.orders?.some((o) => o.order_id === rejected.id),
          180_000,
        ).catch(() => false);
        if (queued) {
          await page.reload();
          const row = page.getByTestId(`customs-queue-${rejected.id}`);
          await row.waitFor();
          assert.ok((await row.innerText()).includes('(e2e)'), `the queue gives customs' reason: ${await row.innerText()}`);
          await page.locator('[data-testid="customs-queue"] .ant-spin-spinning').waitFor({ state: 'detached' });
          await screenshot(page, 'ops-customs-queue-en');
          await row.click();
          await page.getByTestId('order-customs').getByTestId('customs-attention-order').waitFor();
          await screenshot(page, 'ops-order-rejected-en');
          // Customs refused the product's record: once it is corrected, the owner declares again.
          await page.getByTestId('customs-redeclare').waitFor();
          {
            const [re] = await Promise.all([
              page.waitForResponse((r) => r.url().endsWith(`/orders/${rejected.id}/customs/redeclare`)),
              page.getByTestId('customs-redeclare').click(),
            ]);
            assert.equal(re.status(), 202, `redeclare: ${await re.text()}`);
          }
          await page.goto(adminURL(`/s/${SLUG}/customs`));
          await page.getByTestId('customs-queue').waitFor();
          await page.locator('[data-testid="customs-queue"] .ant-spin-spinning').waitFor({ state: 'detached' });
        } else {
          t.diagnostic('the rejected order did not reach the customs queue in 3 minutes');
        }
      }
      await page.waitForTimeout(400); // the table's fade-in after loading
      await screenshot(page, 'ops-customs-en');
      await page.getByRole('tab', { name: 'Failed tasks' }).click();
      await page.getByTestId('failed-task-table').waitFor();
      await page.locator('[data-testid="failed-task-table"] .ant-spin-spinning').waitFor({ state: 'detached' });
      await screenshot(page, 'ops-failed-tasks-en');
      await page.goto(adminURL(`/s/${SLUG}/logistics`));
      await page.getByTestId('logistics-alerts').waitFor();
      await page.locator('[data-testid="logistics-alerts"] .ant-spin-spinning').waitFor({ state: 'detached' });
      await screenshot(page, 'ops-logistics-en');
      await page.getByRole('tab', { name: 'Import tracking numbers' }).click();
      await page.locator('[data-testid="tracking-dropzone"] input[type="file"]').setInputFiles({
        name: 'tracking.csv',
        mimeType: 'text/csv',
        buffer: Buffer.from(`order_no,carrier,tracking_no,lines\nMSNOSUCHORDER${tag},yuantong,YT0000${tag},\n`, 'utf8'),
      });
      await page.getByTestId('tracking-import-errors').waitFor();
      assert.match(await page.getByTestId('tracking-import-errors').innerText(), /\b2\b/, 'the unknown order is reported on line 2');
      await screenshot(page, 'ops-tracking-import-en');
      assert.deepEqual(errors, []);

      // ——— A viewer: the same screens, read-only (Chinese) ———
      const viewer = await invitedPage(browser, context, { slug: SLUG, email: `viewer+${tag.toLowerCase()}@alpine-kids.test`, role: 'viewer', locale: 'zh-CN' });
      try {
        const vp = viewer.page;
        await vp.goto(adminURL(`/s/${SLUG}/catalog/import`));
        await vp.getByTestId('import-read-only').waitFor();
        assert.equal(await vp.getByTestId('import-dropzone').count(), 0, 'no upload for a viewer');
        await vp.getByTestId('export-csv').waitFor();
        await screenshot(vp, 'ops-import-viewer-zh');
        await vp.goto(adminURL(`/s/${SLUG}/reconciliation/${day}`));
        await vp.getByTestId('recon-day').waitFor();
        assert.equal(await vp.getByTestId('recon-run').count(), 0, 'no Run for a viewer');
        assert.equal(await vp.getByTestId('discrepancy-resolve').count(), 0, 'no Resolve for a viewer');
        await screenshot(vp, 'ops-reconciliation-viewer-zh');
        if (order) {
          await vp.goto(adminURL(`/s/${SLUG}/orders/${order.id}`));
          await vp.getByTestId('order-customs').getByTestId('customs-doc-inventory').waitFor();
          await vp.getByTestId('order-shipments').waitFor();
          assert.equal(await vp.getByTestId('add-shipment').count(), 0, 'no Add a parcel for a viewer');
          assert.equal(await vp.getByTestId('customs-redeclare').count(), 0, 'no Declare again for a viewer');
          await screenshot(vp, 'ops-order-viewer-zh');
        }
        await vp.goto(adminURL(`/s/${SLUG}/logistics?tab=import`));
        await vp.getByTestId('logistics-alerts').waitFor();
        assert.equal(await vp.getByTestId('tracking-dropzone').count(), 0, 'no tracking import for a viewer');
        assert.deepEqual(viewer.errors, []);
      } finally {
        await viewer.context.close();
      }
    } finally {
      await context.close();
    }
  });
});
