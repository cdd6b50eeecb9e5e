// A new brand signs up, goes through the onboarding wizard in test mode,
// builds a product with two options and four SKUs in English and Chinese,
// fills the cross-border data, publishes it, and finds it in the storefront
// API of its own subdomain. Screenshots of each main screen, in English and
// Chinese, go to e2e/artifacts/.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { API, adminURL, baseURL, launch, newPage, screenshot as save, sessionAPIMissing } from './helpers.mjs';

let browser;

/** A full-page screenshot from the top (a scrolled page would show its sticky header mid-way). */
async function screenshot(page, name) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(150);
  await save(page, name);
}
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

// ——— a real PNG, made here (no binary fixtures) ———
const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
/** A size×size PNG: a soft diagonal gradient between two colours, with a disc. */
function png(size, [r1, g1, b1], [r2, g2, b2]) {
  const raw = Buffer.alloc((size * 3 + 1) * size);
  for (let y = 0; y < size; y++) {
    raw[y * (size * 3 + 1)] = 0;
    for (let x = 0; x < size; x++) {
      const t = (x + y) / (2 * size);
      const d = Math.hypot(x - size / 2, y - size / 2) < size / 4;
      const o = y * (size * 3 + 1) + 1 + x * 3;
      raw[o] = d ? 255 : Math.round(r1 + (r2 - r1) * t);
      raw[o + 1] = d ? 255 : Math.round(g1 + (g2 - g1) * t);
      raw[o + 2] = d ? 255 : Math.round(b1 + (b2 - b1) * t);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** GET on the Minishop server with a given Host header (fetch cannot set it). */
function getWithHost(path, host) {
  const u = new URL(baseURL() + path);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname: u.hostname, port: u.port, path: u.pathname + u.search, method: 'GET', headers: { Host: host, Accept: 'application/json' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Picks an option of an Ant Design select by typing into it. */
async function choose(page, selector, text) {
  await page.locator(selector).click();
  await page.locator(selector).fill(text);
  await page.locator('.ant-select-dropdown:visible .ant-select-item-option').first().click();
}

async function setLanguage(page, label) {
  await page.getByTestId('language-switch').click();
  await page.getByRole('menuitem', { name: label }).click();
}

describe('a foreign brand', () => {
  test('signs up, onboards in test mode, builds and publishes a bilingual product, and the storefront serves it', async (t) => {
    const { context, page, errors } = await newPage(browser, { locale: 'en-US', viewport: { width: 1440, height: 900 } });
    const consoleErrors = [];
    // The machine may be busy: a long flow gets more patience per step.
    context.setDefaultTimeout(30_000);
    try {
      page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
      const missing = await sessionAPIMissing(context);
      if (missing) {
        t.skip(missing);
        return;
      }
      const run = Date.now().toString(36);
      const slug = `fjord-tea-${run}`;
      const email = `anna+${run}@fjordtea.test`;

      // ——— Sign-up, linked from sign-in ———
      await page.goto(adminURL('/login'));
      await page.getByTestId('signup-link').click();
      await page.waitForURL(/\/admin\/signup$/);
      await page.locator('#sign-up_name').fill('Anna Lindqvist');
      await page.locator('#sign-up_email').fill(email);
      await page.locator('#sign-up_password').fill('a long enough password');
      await page.locator('#sign-up_company').fill('Fjord Tea');
      // The address follows the brand name until edited; a taken one is refused live.
      assert.equal(await page.locator('#sign-up_slug').inputValue(), 'fjord-tea');
      await page.locator('#sign-up_slug').fill('nordic-skin');
      await page.locator('[data-testid="slug-status"][data-available="false"]').waitFor();
      assert.match(await page.getByTestId('slug-status').innerText(), /already taken/);
      await page.locator('#sign-up_slug').fill('admin');
      await page.locator('[data-testid="slug-status"][data-available="false"]').getByText(/reserved/).waitFor();
      await page.locator('#sign-up_slug').fill(slug);
      await page.locator('[data-testid="slug-status"][data-available="true"]').waitFor();
      await screenshot(page, 'signup-en');
      const [signup] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith(API + '/signup')),
        page.locator('form[id="sign-up"] button[type="submit"]').click(),
      ]);
      assert.equal(signup.status(), 201, await signup.text());

      // ——— Wizard: company details ———
      await page.waitForURL(new RegExp(`/admin/s/${slug}/onboarding$`));
      await page.getByTestId('wizard-step-company').waitFor();
      assert.match(await page.getByTestId('test-mode-banner').innerText(), /Test mode/);
      await page.locator('#company_legal_name').fill('Fjord Tea AB');
      await choose(page, '#company_country', 'Sweden');
      await page.locator('#company_contact_name').fill('Anna Lindqvist');
      await page.locator('#company_contact_email').fill('anna@fjordtea.test');
      await page.locator('#company_contact_phone').fill('+46 8 555 010');
      await screenshot(page, 'wizard-company-en');
      await page.getByTestId('wizard-next').click();

      // ——— Shop profile: logo dropped in, languages ———
      await page.getByTestId('wizard-step-shop').waitFor();
      assert.equal(await page.getByTestId('storefront-host').innerText(), `${slug}.localhost`);
      await page.locator('[data-testid="wizard-step-shop"] input[type="file"]').setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: png(256, [16, 94, 82], [120, 180, 150]) });
      await page.locator('.logo-preview img').waitFor();
      await page.locator('#shop-profile_locales input[value="en"]').check();
      await screenshot(page, 'wizard-shop-en');
      await page.getByTestId('wizard-next').click();

      // ——— Optional steps: the Mini Program is skipped ———
      await page.getByTestId('wizard-step-miniProgram').waitFor();
      await page.getByTestId('wizard-skip').click();

      // WeChat Pay: the API's validation shows at the field it names, then skipped.
      await page.getByTestId('wizard-step-wechatPay').waitFor();
      await page.locator('#wechatpay_mch_id').fill('1900000109');
      await page.locator('#wechatpay_apiv3_key').fill('0123456789abcdef0123456789abcdef');
      await page.locator('[data-testid="private-key-file"] input[type="file"]').setInputFiles({ name: 'apiclient_key.pem', mimeType: 'application/x-pem-file', buffer: Buffer.from('-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n') });
      await page.locator('[data-testid="merchant-cert-file"] input[type="file"]').setInputFiles({ name: 'apiclient_cert.pem', mimeType: 'application/x-pem-file', buffer: Buffer.from('-----BEGIN CERTIFICATE-----\nnot a cert\n-----END CERTIFICATE-----\n') });
      await page.locator('[data-testid="platform-certs-file"] input[type="file"]').setInputFiles({ name: 'platform.pem', mimeType: 'application/x-pem-file', buffer: Buffer.from('-----BEGIN CERTIFICATE-----\nnot a cert\n-----END CERTIFICATE-----\n') });
      const [pay] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/credentials/live/wechatpay') && r.request().method() === 'PUT'),
        page.getByTestId('wizard-save').click(),
      ]);
      assert.equal(pay.status(), 400, 'a key that is not a key is refused');
      const field = (await pay.json()).error.details.field;
      assert.ok(['private_key_pem', 'merchant_cert_pem', 'platform_certs_pem'].includes(field), `refused field ${field}`);
      await page.locator('#wechatpay .ant-form-item-explain-error').first().waitFor();
      await screenshot(page, 'wizard-wechatpay-refused-en');
      await page.getByTestId('wizard-skip').click();

      await page.getByTestId('wizard-step-customs').waitFor();
      await page.getByTestId('wizard-skip').click();

      // Warehouse: one bonded warehouse.
      await page.getByTestId('wizard-step-warehouse').waitFor();
      await page.locator('#warehouse_code').fill('HZ-01');
      await page.locator('#warehouse_name').fill('Hangzhou bonded zone');
      await page.getByRole('button', { name: 'Add warehouse' }).click();
      await page.getByRole('cell', { name: 'HZ-01' }).waitFor();
      await page.getByTestId('wizard-skip').click();

      await page.getByTestId('wizard-finish').waitFor();
      await screenshot(page, 'wizard-done-en');
      await page.getByTestId('wizard-finish').click();

      // ——— Home: the checklist is what the API says ———
      await page.waitForURL(new RegExp(`/admin/s/${slug}$`));
      await page.getByTestId('onboarding-checklist').waitFor();
      const done = async (k) => page.getByTestId(`checklist-${k}`).getAttribute('data-done');
      assert.equal(await done('company'), 'true');
      assert.equal(await done('warehouse'), 'true');
      assert.equal(await done('mini_program'), 'false', 'skipped steps stay on the checklist');
      assert.equal(await done('wechat_pay'), 'false');
      assert.equal(await done('product'), 'false');
      assert.ok(await page.getByTestId('test-mode-banner').isVisible(), 'test mode until live credentials exist');
      assert.equal(await page.getByTestId('continue-setup').count(), 0, 'the wizard is finished');
      await screenshot(page, 'home-new-brand-en');

      // ——— Catalog: empty, then a product in two languages ———
      await page.getByRole('menuitem', { name: 'Catalog' }).click();
      await page.getByText('No products yet').waitFor();
      await screenshot(page, 'catalog-empty-en');
      await page.getByTestId('new-product').click();
      await page.waitForURL(/\/catalog\/new$/);
      await page.getByTestId('title-en').fill('Nordic Birch Face Cream');
      await page.getByTestId('title-zh-CN').fill('北欧白桦面霜');
      await page.getByTestId('subtitle-en').fill('Hydrating cream with birch sap from Lapland');
      await page.getByTestId('subtitle-zh-CN').fill('拉普兰白桦树汁保湿面霜');
      await page.getByTestId('description-en').fill('A light daily cream for dry skin. Made in Sweden without perfume.');
      await page.getByTestId('description-zh-CN').fill('适合干性肌肤的轻盈日霜。瑞典制造，不含香精。');
      await page.getByTestId('product-brand').fill('Fjord Tea');
      await page.getByTestId('add-option').click();
      await page.getByTestId('option-0-name-en').fill('Size');
      await page.getByTestId('option-0-name-zh-CN').fill('容量');
      await page.getByTestId('option-0-value-0-en').fill('50 ml');
      await page.getByTestId('option-0-value-0-zh-CN').fill('50毫升');
      await page.getByTestId('option-0-add-value').click();
      await page.getByTestId('option-0-value-1-en').fill('100 ml');
      await page.getByTestId('option-0-value-1-zh-CN').fill('100毫升');
      await page.getByTestId('add-option').click();
      await page.getByTestId('option-1-name-en').fill('Scent');
      await page.getByTestId('option-1-name-zh-CN').fill('香型');
      await page.getByTestId('option-1-value-0-en').fill('Birch');
      await page.getByTestId('option-1-value-0-zh-CN').fill('白桦');
      await page.getByTestId('option-1-add-value').click();
      await page.getByTestId('option-1-value-1-en').fill('Sea salt');
      await page.getByTestId('option-1-value-1-zh-CN').fill('海盐');
      // Images by drag and drop: a real drop event on the drop zone.
      const dropped = await page.evaluateHandle(async (bytes) => {
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(bytes)], 'cream.png', { type: 'image/png' }));
        return dt;
      }, [...png(480, [230, 220, 200], [170, 150, 120])]);
      await page.locator('.image-drop .ant-upload-btn').first().dispatchEvent('drop', { dataTransfer: dropped });
      await page.getByTestId('product-images').locator('img').first().waitFor();
      await page.getByTestId('save-product').click();

      // ——— SKU matrix: 2 × 2 ———
      await page.waitForURL(/\/catalog\/\d+$/);
      const productId = Number(page.url().split('/').pop());
      const rows = page.getByTestId('sku-table').locator('tbody tr.ant-table-row');
      await rows.nth(3).waitFor();
      assert.equal(await rows.count(), 4);
      // The server's checklist says what is missing before publishing.
      await page.getByTestId('publish-checklist').getByText('The HS code (10 digits) is missing.').first().waitFor();
      await screenshot(page, 'product-checklist-en');

      // Inline validation: a short HS code is marked at once.
      await page.getByTestId('sku-0-hs_code').fill('3304');
      await page.getByTestId('sku-0-hs_code-error').waitFor();
      assert.ok(await page.getByTestId('save-product').isDisabled(), 'cannot save with an invalid cell');
      await page.getByTestId('sku-0-hs_code').fill('3304990099');
      await page.getByTestId('sku-0-origin_country').fill('330');
      await page.getByTestId('sku-0-gname').fill('面霜');
      await page.getByTestId('sku-0-gmodel').fill('Fjord Tea|面霜|白桦树汁');
      await page.getByTestId('sku-0-unit').fill('142');
      await page.getByTestId('sku-0-legal_unit1').fill('035');
      await page.getByTestId('sku-0-legal_qty1').fill('0.05');
      await page.getByTestId('sku-0-net_weight_g').fill('50');
      await page.getByTestId('sku-0-gross_weight_g').fill('80');
      await page.getByTestId('sku-0-item_record_no').fill('SE2026FT0001');
      await page.getByTestId('sku-0-positive_list').check();
      await page.getByTestId('copy-customs').click();
      const prices = ['128', '138', '198', '208'];
      for (let i = 0; i < 4; i++) await page.getByTestId(`sku-${i}-price`).fill(prices[i]);
      await page.getByTestId('sku-3-legal_qty1').fill('0.1');
      await page.getByTestId('sku-3-net_weight_g').fill('100');
      await page.getByTestId('sku-3-gross_weight_g').fill('140');
      const [saved] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith(`/products/${productId}/skus`)),
        page.getByTestId('save-product').click(),
      ]);
      assert.equal(saved.status(), 200, await saved.text());
      // Prices are stored in fen; the landed price comes from the API.
      const body = await saved.json();
      assert.deepEqual(body.skus.filter((k) => !k.archived_at).map((k) => k.price).sort((a, b) => a - b), [12800, 13800, 19800, 20800]);
      const landed0 = body.skus.find((k) => k.price === 12800).landed;
      assert.ok(landed0.total > 12800, 'the landed price includes the CBEC tax');
      await page.getByTestId('sku-landed').first().waitFor();
      assert.match(await page.getByTestId('sku-table').innerText(), /¥139\.65|¥1\d\d\.\d\d/);
      await page.getByText('Everything needed to publish is there.').waitFor();
      await page.locator('.sku-table .ant-table-content, .sku-table .ant-table-body').first().evaluate((el) => (el.scrollLeft = 0));
      await screenshot(page, 'product-editor-en');

      // ——— Publish ———
      await page.getByTestId('publish-product').click();
      await page.locator('[data-testid="product-status"][data-status="published"]').waitFor();

      // ——— The storefront of its subdomain serves it ———
      const host = `${slug}.localhost`;
      let found = null;
      for (let i = 0; i < 50 && !found; i++) {
        const r = await getWithHost('/api/v1/products?locale=zh-CN', host);
        assert.equal(r.status, 200, r.body);
        found = JSON.parse(r.body).products.find((p) => p.id === productId) ?? null;
        if (!found) await new Promise((ok) => setTimeout(ok, 200));
      }
      assert.ok(found, 'the storefront lists the published product');
      assert.equal(found.title, '北欧白桦面霜');
      const en = JSON.parse((await getWithHost('/api/v1/products?locale=en', host)).body).products.find((p) => p.id === productId);
      assert.equal(en.title, 'Nordic Birch Face Cream');
      const detail = JSON.parse((await getWithHost(`/api/v1/products/${productId}?locale=zh-CN`, host)).body);
      assert.equal(detail.skus.length, 4);

      // ——— A viewer of the shop sees the same screens, read-only ———
      const viewerEmail = `viewer+${run}@fjordtea.test`;
      const inv = await context.request.post(`${API}/tenants/${slug}/invitations`, { data: { email: viewerEmail, role: 'viewer' } });
      assert.equal(inv.status(), 201, await inv.text());
      const mail = await (await context.request.get(`${API}/dev/mail?to=${encodeURIComponent(viewerEmail)}`)).json();
      const token = /\/admin\/invite\/([A-Za-z0-9_-]+)/.exec(mail.mail[0].body)?.[1];
      assert.ok(token, 'the invitation mail carries its link');
      const viewer = await newPage(browser, { locale: 'en-US', viewport: { width: 1440, height: 900 } });
      try {
        viewer.context.setDefaultTimeout(30_000);
        const acc = await viewer.context.request.post(`${API}/invitations/accept`, { data: { token, name: 'Vera Viewer', password: 'a long enough password' } });
        assert.equal(acc.status(), 200, await acc.text());
        const vp = viewer.page;
        await vp.goto(adminURL(`/s/${slug}/catalog/${productId}`));
        await vp.getByText('your role does not allow changing it').waitFor();
        assert.equal(await vp.getByTestId('save-product').count(), 0, 'no Save for a viewer');
        assert.equal(await vp.getByTestId('publish-product').count(), 0);
        assert.ok(await vp.getByTestId('title-en').isDisabled());
        assert.ok(await vp.getByTestId('sku-0-price').isDisabled());
        await screenshot(vp, 'product-viewer-en');
        await vp.goto(adminURL(`/s/${slug}/catalog`));
        await vp.getByTestId('product-table').getByText('Nordic Birch Face Cream').waitFor();
        assert.equal(await vp.getByTestId('new-product').count(), 0, 'no New product for a viewer');
        await vp.goto(adminURL(`/s/${slug}/settings?tab=company`));
        await vp.locator('#company_legal_name').waitFor();
        assert.ok(await vp.locator('#company_legal_name').isDisabled());
        assert.equal(await vp.locator('.form-footer').count(), 0, 'no Save in settings for a viewer');
        await vp.goto(adminURL(`/s/${slug}/onboarding`));
        await vp.getByText('You do not have permission').waitFor();
        assert.deepEqual(viewer.errors, []);
      } finally {
        await viewer.context.close();
      }

      // ——— The list: search and filter ———
      await page.getByRole('menuitem', { name: 'Catalog' }).click();
      await page.getByTestId('product-table').getByText('Nordic Birch Face Cream').waitFor();
      await screenshot(page, 'catalog-list-en');

      // Bulk publishing refuses what is incomplete, with the server's reason.
      const draft = await context.request.post(`${API}/tenants/${slug}/products`, { data: { content: { en: { title: 'Cloudberry Lip Balm' } } } });
      assert.equal(draft.status(), 201, await draft.text());
      await page.reload();
      const draftRow = page.getByTestId('product-table').locator('tr', { hasText: 'Cloudberry Lip Balm' });
      await draftRow.locator('input[type="checkbox"]').check();
      await page.getByTestId('bulk-publish').click();
      const dialog = page.locator('.ant-modal-confirm');
      await dialog.locator('.ant-modal-confirm-title', { hasText: '0 updated, 1 could not be' }).waitFor();
      assert.match(await dialog.innerText(), /The Chinese title is missing/);
      await screenshot(page, 'catalog-bulk-refused-en');
      await dialog.getByRole('button').last().click();
      // Search and the status filter.
      await page.getByPlaceholder('Search by title, brand or SKU code').fill('cloudberry');
      await page.getByPlaceholder('Search by title, brand or SKU code').press('Enter');
      await page.getByTestId('product-table').getByText('Nordic Birch Face Cream').waitFor({ state: 'detached' });
      await page.getByPlaceholder('Search by title, brand or SKU code').fill('');
      await page.getByPlaceholder('Search by title, brand or SKU code').press('Enter');
      await page.getByText('Published', { exact: true }).first().click();
      await page.getByTestId('product-table').getByText('Cloudberry Lip Balm').waitFor({ state: 'detached' });
      await page.getByTestId('product-table').getByText('Nordic Birch Face Cream').waitFor();
      await page.locator('.ant-segmented-item', { hasText: 'All' }).click();

      // Categories, in both languages.
      await page.getByRole('button', { name: 'Categories' }).click();
      await page.getByTestId('new-category').click();
      await page.locator('#category_en').fill('Face care');
      await page.locator('#category_zh').fill('面部护理');
      await page.locator('.ant-modal-footer .ant-btn-primary').click();
      await page.getByTestId('category-table').getByText('面部护理').waitFor();
      await screenshot(page, 'categories-en');
      await page.getByRole('button', { name: 'All products' }).click();
      await page.getByTestId('product-table').getByText('Cloudberry Lip Balm').waitFor();

      // ——— The same screens in Chinese ———
      await setLanguage(page, '简体中文');
      await page.getByTestId('product-table').getByText('北欧白桦面霜').waitFor();
      await screenshot(page, 'catalog-list-zh');
      await page.getByTestId('product-table').getByText('北欧白桦面霜').click();
      await page.getByText('发布所需信息已齐全。').or(page.getByText('已发布，信息完整。')).first().waitFor();
      await screenshot(page, 'product-editor-zh');
      await page.goto(adminURL(`/s/${slug}`));
      await page.getByTestId('onboarding-checklist').waitFor();
      assert.equal(await page.getByTestId('checklist-published').getAttribute('data-done'), 'true');
      await screenshot(page, 'home-new-brand-zh');
      await page.goto(adminURL(`/s/${slug}/onboarding`));
      await page.getByTestId('wizard-step-company').waitFor();
      await screenshot(page, 'wizard-company-zh');
      await page.goto(adminURL(`/s/${slug}/settings?tab=wechat-pay`));
      await page.locator('#wechatpay_mch_id').waitFor();
      await screenshot(page, 'settings-wechatpay-zh');
      await context.clearCookies();
      await page.goto(adminURL('/signup'));
      await page.locator('#sign-up_name').waitFor();
      await screenshot(page, 'signup-zh');
      await setLanguage(page, 'English');

      assert.deepEqual(errors, []);
    } catch (e) {
      await save(page, 'onboarding-failure').catch(() => {});
      console.error('page errors:', errors, consoleErrors, 'url:', page.url());
      throw e;
    } finally {
      await context.close();
    }
  });
});
