// Fixture data of the operations screens (`npm run dev:fixtures`): orders
// (list, detail, refunds, the 三单 view, parcels), the customs queue, failed
// tasks, reconciliation days and logistics alerts, for every shop. Like the
// server, texts meant for people follow Accept-Language: a console in
// Chinese gets Chinese reasons, explanations and refusals; customs' own
// receipt texts are Chinese in both.
//   Order 1003 is being declared: a refund is refused (409), as the server does.
//   POST …/reconciliations answers the day again; resolving needs a note.
type Reply = { status: number; body?: unknown } | null;

const now = Date.now();
const ago = (minutes: number) => new Date(now - minutes * 60_000).toISOString();
const chinaDay = (daysAgo: number) => new Date(now + 8 * 3600_000 - daysAgo * 86_400_000).toISOString().slice(0, 10);

/** en or zh, as the request's Accept-Language prefers. */
function lang(acceptLanguage: string | undefined): 'en' | 'zh' {
  let zh = -1;
  let en = -1;
  (acceptLanguage ?? '').split(',').forEach((part, i) => {
    const [tag = '', ...params] = part.trim().toLowerCase().split(';');
    const qp = params.find((p) => p.trim().startsWith('q='));
    const q = (qp ? Number(qp.trim().slice(2)) : 1) - i * 1e-6;
    if (tag === 'zh' || tag.startsWith('zh-') || tag.startsWith('zh_')) zh = Math.max(zh, q);
    else if (tag === 'en' || tag.startsWith('en-')) en = Math.max(en, q);
  });
  return zh > 0 && zh > en ? 'zh' : 'en';
}

type L = { en: string; zh: string };
const say = (l: 'en' | 'zh', s: L) => s[l];

const address = {
  consignee: '李四', phone: '139****9000', province_code: '310000', city_code: '310100', district_code: '310115',
  province: '上海市', city: '上海市', district: '浦东新区', detail: '陆家嘴环路 100 号',
};

interface FxOrder {
  id: number;
  no: string;
  status: string;
  paid: number;
  minutesAgo: number;
  sku: string;
  title: L;
}

const ORDERS: FxOrder[] = [
  // Shipped from two warehouses: two customs orders (-1, -2); customs rejected -2.
  { id: 1006, no: 'MS20250520170106', status: 'customs_rejected', paid: 54_300, minutesAgo: 45, sku: 'CB-SERUM-30', title: { en: 'Cloudberry Serum 30 ml', zh: '云莓精华 30 毫升' } },
  { id: 1005, no: 'MS20250520160105', status: 'shipped', paid: 45_800, minutesAgo: 30, sku: 'CB-SERUM-30', title: { en: 'Cloudberry Serum 30 ml', zh: '云莓精华 30 毫升' } },
  { id: 1004, no: 'MS20250520150104', status: 'pending_payment', paid: 29_900, minutesAgo: 55, sku: 'BIRCH-TEA', title: { en: 'Nordic Birch Tea', zh: '北欧白桦茶' } },
  { id: 1003, no: 'MS20250520140103', status: 'declaring', paid: 36_795, minutesAgo: 190, sku: 'CB-SERUM-30', title: { en: 'Cloudberry Serum 30 ml', zh: '云莓精华 30 毫升' } },
  { id: 1002, no: 'MS20250520130102', status: 'customs_rejected', paid: 12_800, minutesAgo: 300, sku: 'LINGON-CREAM', title: { en: 'Lingonberry Hand Cream', zh: '越橘护手霜' } },
  { id: 1001, no: 'MS20250519120101', status: 'delivered', paid: 73_590, minutesAgo: 1500, sku: 'CB-SERUM-50', title: { en: 'Cloudberry Serum 50 ml', zh: '云莓精华 50 毫升' } },
];

function order(o: FxOrder, detail: boolean) {
  const tax = Math.round(o.paid * 0.1876);
  const goods = o.paid - tax;
  const base = {
    id: o.id, out_trade_no: o.no, customer_id: 7, status: o.status, currency: 'CNY', goods_value: goods, freight: 0, discount: 0,
    tax_total: tax, actural_paid: o.paid, tax_mode: 'cbec', trade_mode: '1210', weight_g: 320, address,
    buyer: { identity_id: 3, name_masked: '李*', id_number_masked: '3101**********1234' }, note: '',
    expires_at: ago(o.minutesAgo - 30), paid_at: o.status === 'pending_payment' ? null : ago(o.minutesAgo - 1), needs_refund: false,
    created_at: ago(o.minutesAgo), updated_at: ago(Math.max(o.minutesAgo - 5, 1)),
  };
  if (!detail) return base;
  if (o.id === 1006) return { ...base, lines: splitLines(), events: [] };
  return {
    ...base,
    lines: [{
      line_no: 1, sku_id: 11, product_id: 5, warehouse_id: 1, sku_code: o.sku, title: { en: o.title.en, 'zh-CN': o.title.zh }, option_values: [], quantity: 1,
      unit_price: goods, goods, freight_share: 0, discount_share: 0, tax_category: 'premium_cosmetics', tax_rate: '23.06%', tax,
      total: o.paid, hs_code: '3304990099', gname: '精华液', item_record_no: 'ITEM0001', origin_country: '330', unit: '007', trade_mode: '1210',
    }],
    events: [
      { id: 1, kind: 'created', from_status: null, to_status: 'pending_payment', actor: 'customer:7', data: {}, created_at: ago(o.minutesAgo) },
      ...(o.status === 'pending_payment'
        ? []
        : [{ id: 2, kind: 'paid', from_status: 'pending_payment', to_status: 'paid', actor: 'system', data: {}, created_at: ago(o.minutesAgo - 1) }]),
    ],
  };
}

/** The lines of the split order 1006: the serum from warehouse 1, the hand cream from warehouse 2. */
function splitLines() {
  return SPLIT.map((p, i) => ({
    line_no: i + 1, sku_id: 11 + i, product_id: 5 + i, warehouse_id: p.warehouse, sku_code: p.sku, title: { en: p.title.en, 'zh-CN': p.title.zh }, option_values: [],
    quantity: 1, unit_price: p.goods, goods: p.goods, freight_share: p.freight, discount_share: 0, tax_category: 'premium_cosmetics', tax_rate: '23.06%',
    tax: p.tax, total: p.goods + p.freight + p.tax, hs_code: '3304990099', gname: '护肤品', item_record_no: `ITEM000${i + 1}`, origin_country: '246', unit: '007',
    trade_mode: '1210',
  }));
}

const SPLIT = [
  { warehouse: 1, sku: 'CB-SERUM-30', goods: 29_900, freight: 600, tax: 7_033, title: { en: 'Cloudberry Serum 30 ml', zh: '云莓精华 30 毫升' } },
  { warehouse: 2, sku: 'LINGON-CREAM', goods: 12_800, freight: 400, tax: 3_567, title: { en: 'Lingonberry Hand Cream', zh: '越橘护手霜' } },
];

// ---------------------------------------------------------------- customs

const DOCS = ['order', 'payment', 'waybill', 'inventory'] as const;

function attention(l: 'en' | 'zh', id: number, kind: string) {
  if (id === 1006 && kind === 'order') {
    return {
      problem: 'rejected', action: 'fix_identity',
      reason: say(l, { en: "Customs could not verify the buyer's identity (name and ID number).", zh: '海关未能核验订购人身份（姓名与身份证号）。' }),
      action_text: say(l, { en: "Ask the buyer to correct their real name and ID number, then declare again.", zh: '请买家更正真实姓名和身份证号，然后重新申报。' }),
    };
  }
  if (id === 1002 && kind === 'order') {
    return {
      problem: 'rejected', action: 'fix_product',
      reason: say(l, { en: 'A product is not registered for cross-border import, or not on the positive list.', zh: '有商品未做跨境进口备案，或不在正面清单内。' }),
      action_text: say(l, { en: "Correct the product's customs data (item record number, HS code), then declare again.", zh: '请更正商品的报关资料（备案号、HS 编码），然后重新申报。' }),
    };
  }
  if (id === 1003 && kind === 'payment') {
    return {
      problem: 'rejected', action: 'ask_buyer_or_refund',
      reason: say(l, { en: 'The buyer is not the payer: customs requires the person who pays to be the buyer named on the order.', zh: '订购人与支付人不一致：海关要求支付人必须是订单上的订购人。' }),
      action_text: say(l, { en: 'Ask the buyer to pay with their own WeChat account, or refund the order.', zh: '请买家用本人的微信账户支付，或为订单退款。' }),
    };
  }
  if (id === 1003 && kind === 'order') {
    return {
      problem: 'stuck', action: 'wait',
      reason: say(l, { en: `No answer from customs about the order declaration since ${ago(185).slice(0, 16).replace('T', ' ')} UTC.`, zh: `自 ${ago(185).slice(0, 16).replace('T', ' ')} UTC 起海关没有订单申报的回执。` }),
      action_text: say(l, { en: 'Wait: customs answers are fetched every minute. If nothing comes within a day, ask your declaration agent.', zh: '请等待：系统每分钟获取一次海关回执。如一天内仍无回执，请联系报关代理。' }),
    };
  }
  return null;
}

function receiptOf(id: number, kind: string): { status: number; info: string } | null {
  if (id === 1002 && kind === 'order') return { status: 100, info: '[Code:1312;Desc:商品备案信息不存在]' };
  if (id === 1003 && kind === 'payment') return { status: 100, info: '订购人与支付人不一致' };
  if (id === 1003 && kind === 'order') return null;
  if (id === 1001 || id === 1005) return { status: kind === 'inventory' ? 800 : 120, info: kind === 'inventory' ? '放行' : '入库成功' };
  return null;
}

function customsDocs(l: 'en' | 'zh', o: FxOrder) {
  const started = o.status !== 'pending_payment';
  return DOCS.map((kind) => {
    const r = started ? receiptOf(o.id, kind) : null;
    const waiting = o.id === 1002 && kind !== 'order' && kind !== 'payment';
    const state = !started || waiting ? 'not_started' : r ? (r.status === 100 ? 'rejected' : 'accepted') : 'sent';
    return {
      kind, state, attempt: started ? 1 : 0, guid: started ? `GUID-${o.id}-${kind}` : '', sends: started ? 1 : 0,
      last_receipt: r ? { status: r.status, info: r.info, time: ago(o.minutesAgo - 20) } : null,
      last_error: '', sent_at: started ? ago(o.minutesAgo - 2) : null, updated_at: started ? ago(o.minutesAgo - 5) : null,
      receipts: r ? [{ guid: `GUID-${o.id}-${kind}`, return_status: r.status, return_time: ago(o.minutesAgo - 20), return_info: r.info }] : [],
      attention: started ? attention(l, o.id, kind) : null,
    };
  });
}

/** The customs orders of the split order 1006: -1 went through, customs rejected the order declaration of -2. */
function splitSubOrders(l: 'en' | 'zh', o: FxOrder) {
  return SPLIT.map((p, i) => {
    const no = `${o.no}-${i + 1}`;
    const documents = DOCS.map((kind) => {
      const rejected = i === 1 && kind === 'order';
      const waiting = i === 1 && (kind === 'waybill' || kind === 'inventory');
      const r = rejected ? { status: 100, info: '订购人身份信息校验不通过' } : waiting ? null : { status: kind === 'inventory' ? 800 : 120, info: kind === 'inventory' ? '放行' : '入库成功' };
      return {
        kind, order_no: no, state: waiting ? 'not_started' : rejected ? 'rejected' : 'accepted', attempt: waiting ? 0 : 1, guid: waiting ? '' : `GUID-${no}-${kind}`,
        sends: waiting ? 0 : 1, last_receipt: r ? { status: r.status, info: r.info, time: ago(o.minutesAgo - 20) } : null, last_error: '',
        sent_at: waiting ? null : ago(o.minutesAgo - 2), updated_at: waiting ? null : ago(o.minutesAgo - 5),
        receipts: r ? [{ guid: `GUID-${no}-${kind}`, return_status: r.status, return_time: ago(o.minutesAgo - 20), return_info: r.info }] : [],
        attention: rejected ? attention(l, o.id, kind) : null,
      };
    });
    return {
      order_no: no, warehouse_id: p.warehouse, line_nos: [i + 1], goods_value: p.goods, freight: p.freight, discount: 0, tax_total: p.tax,
      actural_paid: p.goods + p.freight + p.tax, documents,
    };
  });
}

function customsView(l: 'en' | 'zh', o: FxOrder) {
  if (o.id === 1006) {
    const subs = splitSubOrders(l, o);
    // Per kind, the customs order furthest from done; the payment declaration is the whole order's.
    const documents = DOCS.map((_, k) => (k === 1 ? { ...subs[0].documents[1], order_no: undefined } : subs[1].documents[k]));
    const d = documents[0];
    return {
      order_id: o.id, order_no: o.no, order_status: o.status, documents, sub_orders: subs,
      order_declaration: { kind: 'order', order_no: d.order_no, state: d.state, attempt: d.attempt, guid: d.guid, sends: d.sends, last_status: 100,
        last_info: d.last_receipt?.info ?? '', last_receipt_at: d.last_receipt?.time ?? null, last_error: '', sent_at: d.sent_at, updated_at: d.updated_at, receipts: d.receipts },
    };
  }
  const documents = customsDocs(l, o);
  const d = documents[0];
  return {
    order_id: o.id, order_no: o.no, order_status: o.status, documents,
    order_declaration: d && d.state !== 'not_started'
      ? { kind: 'order', order_no: o.no, state: d.state, attempt: d.attempt, guid: d.guid, sends: d.sends, last_status: d.last_receipt?.status ?? null,
        last_info: d.last_receipt?.info ?? '', last_receipt_at: d.last_receipt?.time ?? null, last_error: '', sent_at: d.sent_at,
        updated_at: d.updated_at, receipts: d.receipts }
      : null,
  };
}

function customsQueue(l: 'en' | 'zh') {
  return ORDERS.filter((o) => o.id === 1002 || o.id === 1003 || o.id === 1006).map((o) => ({
    order_id: o.id, order_no: o.no, order_status: o.status,
    documents: (o.id === 1006 ? splitSubOrders(l, o).flatMap((s) => s.documents) : customsDocs(l, o)).filter((d) => d.attention).map((d) => ({
      kind: d.kind, ...('order_no' in d ? { order_no: d.order_no } : {}), state: d.state, since: d.updated_at, last_receipt: d.last_receipt, last_error: d.last_error, ...d.attention,
    })),
  }));
}

// ----------------------------------------------------------- parcels, alerts

function shipments(l: 'en' | 'zh', o: FxOrder) {
  const shipped = o.status === 'shipped' || o.status === 'delivered';
  const failed = o.id === 1005;
  return {
    order_id: o.id, order_status: o.status, unshipped: shipped ? [] : [{ line_no: 1, quantity: 1 }],
    shipments: shipped
      ? [{
        id: o.id * 10, order_id: o.id, carrier: 'yuantong', carrier_name: l === 'zh' ? '圆通速递' : 'YTO Express', tracking_no: `YT${o.id}8800321`,
        source: 'admin', lines: [{ line_no: 1, quantity: 1 }], state: o.status === 'delivered' ? 'delivered' : 'in_transit', carrier_state: o.status === 'delivered' ? 3 : 0,
        last_trace: o.status === 'delivered' ? '【上海市】已签收，签收人：本人' : '【杭州市】快件已从杭州转运中心发出', last_trace_at: ago(60),
        delivered_at: o.status === 'delivered' ? ago(60) : null, subscription: 'active', tracking_error: '', created_at: ago(o.minutesAgo - 10),
      }]
      : [],
    wechat_shipping: shipped
      ? {
        state: failed ? 'failed' : 'uploaded', uploads: failed ? 0 : 1, attempts: failed ? 5 : 1, last_errcode: failed ? 10060001 : null,
        last_error: failed ? '支付单不存在' : '', next_attempt_at: null, uploaded_at: failed ? null : ago(o.minutesAgo - 12),
      }
      : null,
  };
}

function alerts(l: 'en' | 'zh') {
  return [
    {
      kind: 'wechat_upload_failed', severity: 'error', order_id: 1005, out_trade_no: 'MS20250520160105', shipment_id: 10050, tracking_no: 'YT10058800321',
      code: '10060001', message: '支付单不存在', since: ago(25),
    },
    {
      kind: 'wechat_upload_delayed', severity: 'warning', order_id: 1001, out_trade_no: 'MS20250519120101', shipment_id: null, tracking_no: '', code: '',
      message: say(l, { en: 'not uploaded yet (2 tries): WeChat is not reachable; the upload will be retried', zh: '尚未上传（已尝试 2 次）：无法连接微信，将自动重试上传' }), since: ago(40),
    },
    {
      kind: 'tracking_exception', severity: 'error', order_id: 1001, out_trade_no: 'MS20250519120101', shipment_id: 10010, tracking_no: 'YT10018800321', code: '2',
      message: '【上海市】收件人电话无人接听，快件滞留', since: ago(90),
    },
  ];
}

// ------------------------------------------------------------ failed tasks

function tasks(l: 'en' | 'zh', state: string) {
  if (state === 'retrying') return [];
  return [
    {
      id: 88, kind: 'customs.declare_order', label: say(l, { en: 'customs declaration', zh: '海关申报' }), state: 'failed', failures: 8, order_id: 1002,
      error: say(l, { en: 'the customs declaration agent refused the declaration: 报文结构错误', zh: '报关代理拒绝了申报：报文结构错误' }),
      message: say(l, { en: 'customs declaration failed: the customs declaration agent refused the declaration: 报文结构错误', zh: '海关申报失败：报关代理拒绝了申报：报文结构错误' }),
      created_at: ago(320), failed_at: ago(200),
    },
    {
      id: 87, kind: 'logistics.upload_shipping', label: say(l, { en: 'shipping-info upload', zh: '发货信息上传' }), state: 'failed', failures: 5, order_id: 1005,
      error: say(l, { en: 'the order has no WeChat Pay transaction to attach shipping information to', zh: '订单没有可关联发货信息的微信支付交易' }),
      message: say(l, { en: 'shipping-info upload failed: the order has no WeChat Pay transaction to attach shipping information to', zh: '发货信息上传失败：订单没有可关联发货信息的微信支付交易' }),
      created_at: ago(30), failed_at: ago(25),
    },
  ];
}

// ----------------------------------------------------------- reconciliation

const resolved = new Map<number, string>(); // discrepancy id -> note

function days(l: 'en' | 'zh') {
  const run = (date: string, status: string, open: number, extra: Record<string, unknown> = {}) => ({
    date, status, bill_rows: 3, bill_payments: 158_185, bill_refunds: 0, bill_fee: 95, net_settlement: 158_090, our_payments: 158_285, our_refunds: 0,
    summary_problems: [] as string[], open, error: '', runs: 1, updated_at: ago(60), ...extra,
  });
  return [
    run(chinaDay(1), 'discrepancies', [1, 2].filter((id) => !resolved.has(id)).length, {
      summary_problems: [say(l, { en: "the bill's payments are 1581.85 yuan, ours 1582.85 yuan", zh: '账单支付合计 1581.85 元，我方 1582.85 元' })],
    }),
    run(chinaDay(2), 'matched', 0, { bill_payments: 73_590, our_payments: 73_590, net_settlement: 73_546, bill_fee: 44, bill_rows: 1 }),
    run(chinaDay(3), 'failed', 0, {
      bill_rows: 0, bill_payments: 0, bill_fee: 0, net_settlement: 0, our_payments: 12_800,
      error: say(l, {
        en: 'WeChat Pay has no bill for this day yet, though we recorded payments or refunds on it; bills are published around 10:00 China time the next day',
        zh: '微信支付还没有当天的账单，但我们记录了当天的支付或退款；账单一般在次日北京时间 10:00 左右发布',
      }),
    }),
  ];
}

function discrepancies(l: 'en' | 'zh', date: string) {
  if (date !== chinaDay(1)) return [];
  const d = (id: number, kind: string, reference: string, explanation: L, evidence: Record<string, unknown>, auto = false) => ({
    id, date, kind, reference, evidence, explanation: say(l, explanation),
    state: resolved.has(id) ? 'resolved' : auto ? 'auto_resolved' : 'open', note: resolved.get(id) ?? '',
    resolved_by: resolved.has(id) ? 'user:1' : '', resolved_at: resolved.has(id) ? ago(1) : null,
  });
  return [
    d(1, 'amount_mismatch', 'MS20250520140103', { en: 'the bill says 366.95 yuan, we recorded 367.95 yuan', zh: '账单金额为 366.95 元，我方记录为 367.95 元' },
      { bill_line: 2, transaction_id: '4200001234202505201234567890', out_trade_no: 'MS20250520140103', trade_state: 'SUCCESS', bill_amount: 36_695, our_amount: 36_795 }),
    d(2, 'missing_in_bill', 'MS20250520130102', { en: 'we recorded this payment; the bill of the day does not have it', zh: '我方记录了这笔支付，但当天的账单中没有' },
      { out_trade_no: 'MS20250520130102', our_amount: 12_800 }),
    d(3, 'missing_with_us', 'MS20250520120099', {
      en: "the payment's notification never reached us; WeChat Pay confirmed it and the order was marked paid",
      zh: '支付通知未送达我方；经微信支付确认后，订单已标记为已支付',
    }, { bill_line: 3, out_trade_no: 'MS20250520120099', bill_amount: 8_800, heal: { queried: true, trade_state: 'SUCCESS' } }, true),
  ];
}

// ------------------------------------------------------------------ router

/**
 * Answers the operations endpoints of shop slug, or null for any other
 * path. acceptLanguage is the request's header.
 */
export function opsFixture(method: string, path: string, query: URLSearchParams, body: Record<string, unknown>, acceptLanguage?: string): Reply {
  const m = /^\/tenants\/([a-z0-9-]+)(\/.*)$/.exec(path);
  if (!m) return null;
  const rest = m[2] ?? '';
  const l = lang(acceptLanguage);
  const err = (status: number, code: string, msg: L) => ({ status, body: { error: { code, message: say(l, msg), request_id: 'fx-ops' } } });
  const byId = (id: string | undefined) => ORDERS.find((o) => String(o.id) === id);

  if (method === 'GET' && rest === '/warehouses') {
    return { status: 200, body: { warehouses: [
      { id: 1, code: 'HZ-B1', name: say(l, { en: 'Hangzhou bonded', zh: '杭州保税仓' }), kind: 'bonded', created_at: ago(90_000) },
      { id: 2, code: 'NB-B2', name: say(l, { en: 'Ningbo bonded', zh: '宁波保税仓' }), kind: 'bonded', created_at: ago(80_000) },
    ] } };
  }
  if (method === 'GET' && rest === '/orders') {
    const status = query.get('status');
    return { status: 200, body: { orders: ORDERS.filter((o) => !status || o.status === status).map((o) => order(o, false)), next_cursor: null } };
  }
  const om = /^\/orders\/(\d+)(\/.*)?$/.exec(rest);
  if (om) {
    const o = byId(om[1]);
    if (!o) return err(404, 'order_not_found', { en: 'no such order', zh: '订单不存在' });
    const sub = om[2] ?? '';
    if (method === 'GET' && sub === '') return { status: 200, body: order(o, true) };
    if (method === 'GET' && sub === '/refunds') return { status: 200, body: { refunds: [] } };
    if (method === 'POST' && sub === '/refunds') {
      if (o.status === 'declaring') {
        return err(409, 'refund_not_allowed', {
          en: 'this order is being declared to customs; refund it once customs has answered (the order is then declared or customs_rejected)',
          zh: '该订单正在向海关申报；请在海关回执后（订单变为“已申报”或“海关退单”）再退款',
        });
      }
      const amount = Number(body.amount_fen ?? 0);
      return {
        status: 201,
        body: { out_refund_no: `R${o.no}`, order_id: o.id, kind: 'staff', amount, reason: String(body.reason ?? ''), status: 'processing', refund_id: '', actor: 'user:1', created_at: ago(0), updated_at: ago(0) },
      };
    }
    if (method === 'GET' && sub === '/customs') return { status: 200, body: customsView(l, o) };
    if (method === 'POST' && (sub === '/customs/redeclare' || sub === '/customs/payment/redeclare')) return { status: 202, body: customsView(l, o) };
    if (method === 'GET' && sub === '/shipments') return { status: 200, body: shipments(l, o) };
    if (method === 'POST' && sub === '/shipments/retry-upload') return { status: 200, body: shipments(l, o) };
  }
  if (method === 'GET' && rest === '/customs/queue') return { status: 200, body: { orders: customsQueue(l), next_cursor: null } };
  if (method === 'GET' && rest === '/tasks') return { status: 200, body: { tasks: tasks(l, query.get('state') ?? 'failed'), next_before: null } };
  const tm = /^\/tasks\/(\d+)\/retry$/.exec(rest);
  if (method === 'POST' && tm) {
    const task = tasks(l, 'failed').find((x) => String(x.id) === tm[1]);
    return task ? { status: 202, body: { ...task, state: 'queued' } } : err(404, 'task_not_found', { en: 'no such task', zh: '任务不存在' });
  }
  if (method === 'GET' && rest === '/logistics/alerts') return { status: 200, body: { alerts: alerts(l) } };
  if (method === 'GET' && rest === '/logistics/carriers') {
    return { status: 200, body: { carriers: [{ code: 'yuantong', wechat_id: 'YTO', name: 'YTO Express', name_zh: '圆通速递' }, { code: 'shunfeng', wechat_id: 'SF', name: 'SF Express', name_zh: '顺丰速运' }] } };
  }
  if (rest === '/reconciliations') {
    if (method === 'GET') return { status: 200, body: { reconciliations: days(l) } };
    if (method === 'POST') {
      const run = days(l).find((d) => d.date === body.date);
      return run ? { status: 200, body: { reconciliation: run } } : err(400, 'invalid_date', { en: 'date is in the future', zh: '日期在将来' });
    }
  }
  const rm = /^\/reconciliations\/(\d{4}-\d{2}-\d{2})(\/discrepancies\/(\d+)\/resolve)?$/.exec(rest);
  if (rm) {
    const run = days(l).find((d) => d.date === rm[1]);
    if (!run) return err(404, 'reconciliation_not_found', { en: 'this day has not been reconciled', zh: '当天尚未对账' });
    if (method === 'GET' && !rm[2]) return { status: 200, body: { reconciliation: run, discrepancies: discrepancies(l, rm[1] ?? '') } };
    if (method === 'POST' && rm[2]) {
      const id = Number(rm[3]);
      const note = String(body.note ?? '').trim();
      if (!note) return err(400, 'invalid_field', { en: 'field "note" is required', zh: '字段 "note" 为必填' });
      if (resolved.has(id)) return err(409, 'already_resolved', { en: 'this discrepancy is already resolved', zh: '该差异已处理' });
      resolved.set(id, note);
      const d = discrepancies(l, rm[1] ?? '').find((x) => x.id === id);
      return d ? { status: 200, body: { discrepancy: d } } : err(404, 'discrepancy_not_found', { en: 'no such discrepancy on this day', zh: '当天没有该差异' });
    }
  }
  return null;
}
