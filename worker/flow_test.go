package worker_test

// The whole life of cross-border orders, with the real worker (asynq on the
// test Redis, the outbox relay) and the sandbox of every outside service
// over HTTP: a buyer pays in the Mini Program; WeChat Pay's notification
// comes back; the worker declares the order (CEB311) to the customs agent
// and the payment to WeChat Pay's customs API; customs accepts them, the
// agent's waybill and inventory list follow and the inventory list is
// released, so the order is declared; the brand ships it, the parcel is
// followed to delivery through Kuaidi100's pushes; the next day's
// reconciliation of WeChat Pay's trade bill matches. Then faults are
// injected (a payment whose notification is lost, a refund nobody made, a
// declaration customs rejects) and each is found and explained.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"gorm.io/gorm"

	"github.com/minishop/minishop/billing"
	"github.com/minishop/minishop/internal/config"
	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/outbox"
	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/shop"
	"github.com/minishop/minishop/tenant"
)

// flow is one shop, its owner and a buyer, driven through the public
// surface.
type flow struct {
	e      *testenv.Env
	t      *tenant.Tenant
	host   string
	appID  string
	mchID  string
	owner  []string
	sku    int64
	token  string
	addr   int64
	ident  int64
	polls  *asynq.Client
	orders int
}

// flowEnv starts an Env whose public URL (the base of WeChat Pay's
// notify_url and of Kuaidi100's callback) reaches its own API.
func flowEnv(t *testing.T) *testenv.Env {
	t.Helper()
	var ep atomic.Pointer[testenv.Env]
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e := ep.Load()
		if e == nil {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		e.API.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	e := testenv.New(t, func(c *config.Config) { c.PublicURL = front.URL })
	ep.Store(e)
	return e
}

func (f *flow) ctx() context.Context { return scope.WithTenant(context.Background(), f.t.ID) }

func (f *flow) sql(t *testing.T, fn func(tx *gorm.DB) error) {
	t.Helper()
	if err := db.InTenant(f.ctx(), f.e.App.DB, fn); err != nil {
		t.Fatal(err)
	}
}

func (f *flow) sandbox(t *testing.T, path string, body any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(f.e.Sandbox.URL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	if resp.StatusCode != 200 {
		t.Fatalf("sandbox %s: %d %s", path, resp.StatusCode, raw)
	}
	return out
}

func (f *flow) admin(t *testing.T, method, path string, body any) *testenv.Response {
	t.Helper()
	return f.e.Do(t, method, "", "/api/admin/v1/tenants/"+f.t.Slug+path, body, f.owner...)
}

func (f *flow) buyer(t *testing.T, method, path string, body any, headers ...string) *testenv.Response {
	t.Helper()
	return f.e.Do(t, method, f.host, path, body, append([]string{"Authorization", "Bearer " + f.token}, headers...)...)
}

// idNumber is a valid resident ID number (GB 11643 check digit).
func flowIDNumber(n int) string {
	base := fmt.Sprintf("11010519900101%03d", n%1000)
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 17 {
		sum += int(base[i]-'0') * w[i]
	}
	return base + string("10X98765432"[sum%11])
}

// newFlow creates and provisions a shop with one sellable bonded product,
// its owner, and a signed-in buyer with an address and a buyer identity.
func newFlow(t *testing.T, e *testenv.Env, slug string) *flow {
	t.Helper()
	tn, err := e.App.Tenants.Create(context.Background(), tenant.CreateInput{Slug: slug, Name: slug})
	if err != nil {
		t.Fatal(err)
	}
	f := &flow{e: e, t: tn, host: slug + ".shop.test", owner: e.Member(t, tn.ID, "owner@"+slug+".test", "owner")}
	if err := e.App.Tenants.Provision(f.ctx(), "test-provision-"+slug); err != nil {
		t.Fatal(err)
	}
	_, c, appID, _, err := e.App.Tenants.WeChatPayCredentials(f.ctx())
	if err != nil {
		t.Fatal(err)
	}
	f.mchID, f.appID = c.MchID, appID
	f.sql(t, func(tx *gorm.DB) error {
		var pid, wid int64
		if err := tx.Raw(`INSERT INTO products (tenant_id, status, content, images, published_at)
			VALUES (?, 'published', '{"en":{"title":"Night cream"},"zh-CN":{"title":"晚霜"}}',
			'[{"hash":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}]', now()) RETURNING id`, tn.ID).Scan(&pid).Error; err != nil {
			return err
		}
		if err := tx.Raw(`INSERT INTO skus (tenant_id, product_id, code, option_values, price, tax_category, hs_code, origin_country, gname, gmodel,
			unit, legal_unit1, legal_qty1, net_weight_g, gross_weight_g, item_record_no, positive_list)
			VALUES (?, ?, 'NC-50', '["50ml"]', 12900, 'general', '3304990099', '330', '面霜', 'Brand 50ml', '007', '035', 0.05, 50, 400, 'REC0001', true)
			RETURNING id`, tn.ID, pid).Scan(&f.sku).Error; err != nil {
			return err
		}
		if err := tx.Raw(`INSERT INTO warehouses (tenant_id, code, name, kind) VALUES (?, 'HZ1', 'Hangzhou bonded', 'bonded') RETURNING id`, tn.ID).
			Scan(&wid).Error; err != nil {
			return err
		}
		return tx.Exec(`INSERT INTO stock_levels (tenant_id, sku_id, warehouse_id, on_hand) VALUES (?, ?, ?, 100)`, tn.ID, f.sku, wid).Error
	})
	code := f.sandbox(t, "/sandbox/v1/wx-login-code", map[string]any{"appid": appID, "user": "buyer-" + slug})["code"].(string)
	var login struct{ Token string }
	if r := e.Do(t, "POST", f.host, "/api/v1/auth/wechat", map[string]string{"code": code}); r.Status != 200 {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	} else {
		r.JSON(t, &login)
	}
	f.token = login.Token
	var a, id struct{ ID int64 }
	r := f.buyer(t, "POST", "/api/v1/me/addresses", map[string]any{"consignee": "张三", "phone": "13800138000",
		"province_code": "310000", "city_code": "310100", "district_code": "310115",
		"province": "上海市", "city": "上海市", "district": "浦东新区", "detail": "漕溪北路 1 号"})
	if r.Status != 201 {
		t.Fatalf("address: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &a)
	if r = f.buyer(t, "POST", "/api/v1/me/identities", map[string]string{"name": "张三", "id_number": flowIDNumber(7)}); r.Status != 201 {
		t.Fatalf("identity: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &id)
	f.addr, f.ident = a.ID, id.ID
	f.sandbox(t, "/sandbox/v1/pay/notify-settings", map[string]any{"mchid": f.mchID, "time_scale": 0.001})
	f.sandbox(t, "/sandbox/v1/customs/faults", map[string]any{"step_ms": 0})
	f.sandbox(t, "/sandbox/v1/pay/customs-faults", map[string]any{"mchid": f.mchID, "step_ms": 0})
	f.polls = asynq.NewClient(e.App.RedisOpt)
	t.Cleanup(func() { f.polls.Close() })
	return f
}

// buy places an order of qty and pays it at the sandbox (the payer
// confirming wx.requestPayment); notify, if given, replaces the
// merchant's notification settings for this payment. It returns the
// order and WeChat Pay's transaction id.
func (f *flow) buy(t *testing.T, qty int, notify map[string]any) (shop.Order, string) {
	t.Helper()
	return f.buyLines(t, []map[string]int64{{"sku_id": f.sku, "quantity": int64(qty)}}, notify)
}

// buyLines is buy with the order's lines.
func (f *flow) buyLines(t *testing.T, lines []map[string]int64, notify map[string]any) (shop.Order, string) {
	t.Helper()
	f.orders++
	r := f.buyer(t, "POST", "/api/v1/orders", map[string]any{"lines": lines,
		"address_id": f.addr, "identity_id": f.ident}, "Idempotency-Key", fmt.Sprintf("flow-%d", f.orders))
	if r.Status != 201 {
		t.Fatalf("order: %d %s", r.Status, r.Body)
	}
	var o shop.Order
	r.JSON(t, &o)
	var pay struct{ Params shop.PayParams }
	if r = f.buyer(t, "POST", fmt.Sprintf("/api/v1/orders/%d/pay", o.ID), nil); r.Status != 200 {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &pay)
	pp := pay.Params
	body := map[string]any{"appId": f.appID, "timeStamp": pp.TimeStamp, "nonceStr": pp.NonceStr, "package": pp.Package,
		"signType": pp.SignType, "paySign": pp.PaySign}
	if notify != nil {
		notify["time_scale"] = 0.001
		body["notify"] = notify
	}
	out := f.sandbox(t, "/sandbox/v1/pay", body)
	if out["trade_state"] != "SUCCESS" {
		t.Fatalf("sandbox pay: %v", out)
	}
	return o, out["transaction_id"].(string)
}

func (f *flow) status(t *testing.T, id int64) string {
	t.Helper()
	var s string
	f.sql(t, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT status FROM orders WHERE tenant_id = ? AND id = ?`, f.t.ID, id).Scan(&s).Error
	})
	return s
}

// poll enqueues the periodic tasks that fetch customs answers (the order
// and its agent's documents; WeChat Pay's payment declarations), as the
// scheduler does every minute, for the worker to run.
func (f *flow) poll(t *testing.T) {
	t.Helper()
	for _, kind := range []string{shop.TaskCustomsPoll, shop.TaskCustomsPaymentPoll} {
		if _, err := f.polls.Enqueue(asynq.NewTask(kind, nil), asynq.Queue(outbox.QueueDefault), asynq.MaxRetry(0)); err != nil {
			t.Fatal(err)
		}
	}
}

// waitStatus polls customs through the worker until order id is in want.
func (f *flow) waitStatus(t *testing.T, id int64, want string) {
	t.Helper()
	testenv.Eventually(t, 60*time.Second, fmt.Sprintf("order %d %s", id, want), func() bool {
		if f.status(t, id) == want {
			return true
		}
		f.poll(t)
		time.Sleep(150 * time.Millisecond)
		return false
	})
}

func (f *flow) customs(t *testing.T, id int64) shop.CustomsView {
	t.Helper()
	r := f.admin(t, "GET", fmt.Sprintf("/orders/%d/customs", id), nil)
	if r.Status != 200 {
		t.Fatalf("customs view: %d %s", r.Status, r.Body)
	}
	var v shop.CustomsView
	r.JSON(t, &v)
	return v
}

func states(v shop.CustomsView) string {
	var s []string
	for _, d := range v.Documents {
		s = append(s, d.Kind+"="+d.State)
	}
	return strings.Join(s, " ")
}

// reconcile runs the next day's reconciliation of day through the worker:
// the daily fan-out as it runs the day after, then the shop's day task.
func (f *flow) reconcile(t *testing.T, day time.Time) (*billing.Run, map[string]billing.Discrepancy) {
	t.Helper()
	before := 0
	if run, _, err := f.e.App.Reconcile.Day(f.ctx(), day); err == nil {
		before = run.Runs
	}
	if n, err := f.e.App.Reconcile.FanOut(context.Background(), day.Add(36*time.Hour)); err != nil || n < 1 {
		// A day already queued once is not queued again: run it directly.
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.e.App.Reconcile.Reconcile(f.ctx(), day); err != nil {
			t.Fatalf("reconcile again: %v", err)
		}
	}
	var run *billing.Run
	var ds []billing.Discrepancy
	testenv.Eventually(t, 60*time.Second, "the day reconciled", func() bool {
		var err error
		run, ds, err = f.e.App.Reconcile.Day(f.ctx(), day)
		return err == nil && run.Runs > before && run.Status != "running"
	})
	byKey := map[string]billing.Discrepancy{}
	for _, d := range ds {
		byKey[d.Kind+" "+d.Reference] = d
	}
	return run, byKey
}

func TestFullFlow(t *testing.T) {
	e := flowEnv(t)
	f := newFlow(t, e, "nordic-flow")
	e.StartWorker(t)
	day, err := billing.ParseDay(time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01-02"))
	if err != nil {
		t.Fatal(err)
	}

	// Paid: WeChat Pay's notification reaches the notify route.
	o, txn := f.buy(t, 2, nil)
	testenv.Eventually(t, 30*time.Second, "order paid", func() bool { return f.status(t, o.ID) != shop.OrderPendingPayment })

	// Customs: the worker declares the order and the payment; customs
	// accepts both, the agent's waybill and inventory list follow, the
	// inventory list is released: declared.
	f.waitStatus(t, o.ID, shop.OrderDeclared)
	v := f.customs(t, o.ID)
	if got := states(v); got != "order=accepted payment=accepted waybill=accepted inventory=accepted" {
		t.Fatalf("三单 after release: %s", got)
	}
	for _, d := range v.Documents {
		if d.LastReceipt == nil || d.Attention != nil || len(d.Receipts) == 0 {
			t.Errorf("document %s: %+v", d.Kind, d)
		}
	}
	if inv := v.Documents[3]; inv.LastReceipt.Status != shop.InvtReleased {
		t.Errorf("inventory list: %+v", inv.LastReceipt)
	}

	// Shipped, and followed to delivery through Kuaidi100's pushes.
	r := f.admin(t, "POST", fmt.Sprintf("/orders/%d/shipments", o.ID), map[string]any{"carrier": "yuantong", "tracking_no": "YT9000000001"})
	if r.Status != 201 {
		t.Fatalf("ship: %d %s", r.Status, r.Body)
	}
	if st := f.status(t, o.ID); st != shop.OrderShipped {
		t.Fatalf("after shipping: %s", st)
	}
	testenv.Eventually(t, 30*time.Second, "tracking subscribed", func() bool {
		var sh shop.OrderShipments
		f.admin(t, "GET", fmt.Sprintf("/orders/%d/shipments", o.ID), nil).JSON(t, &sh)
		return len(sh.Shipments) == 1 && sh.Shipments[0].Subscription == "active"
	})
	for i := 0; i < 10 && f.status(t, o.ID) != shop.OrderDelivered; i++ {
		f.sandbox(t, "/sandbox/v1/kuaidi100/advance", map[string]any{"company": "yuantong", "number": "YT9000000001", "steps": 1})
	}
	if st := f.status(t, o.ID); st != shop.OrderDelivered {
		t.Fatalf("after the parcel was signed for: %s", st)
	}

	// The next day: the trade bill matches our books.
	run, ds := f.reconcile(t, day)
	if run.Status != "matched" || len(ds) != 0 || run.BillPayments != o.ActuralPaid || run.OurPayments != o.ActuralPaid {
		t.Fatalf("reconciliation of a clean day: %+v %v", run, ds)
	}

	// Faults. (1) A payment whose notification never comes.
	lost, lostTxn := f.buy(t, 1, map[string]any{"hold": true})
	// (2) A refund the bill carries that nobody made, and one staff made.
	f.sandbox(t, "/sandbox/v1/pay/bill-faults", map[string]any{"mch_id": f.mchID, "date": day.Format("2006-01-02"), "faults": []map[string]any{
		{"kind": "refund", "out_trade_no": o.OutTradeNo, "out_refund_no": o.OutTradeNo + "R9", "amount": 500, "total": o.ActuralPaid, "transaction_id": txn},
	}})
	if r := f.admin(t, "POST", fmt.Sprintf("/orders/%d/refunds", o.ID), map[string]any{"amount_fen": 1000, "reason": "damaged box"}); r.Status >= 300 {
		t.Fatalf("staff refund: %d %s", r.Status, r.Body)
	}
	testenv.Eventually(t, 30*time.Second, "staff refund done", func() bool {
		var n int64
		f.sql(t, func(tx *gorm.DB) error {
			return tx.Raw(`SELECT count(*) FROM order_refunds WHERE tenant_id = ? AND order_id = ? AND status = 'succeeded'`, f.t.ID, o.ID).Scan(&n).Error
		})
		return n == 1
	})
	// (3) A declaration customs rejects: the buyer is not the payer.
	rej, _ := f.buy(t, 1, nil)
	f.sandbox(t, "/sandbox/v1/customs/faults", map[string]any{"order_no": rej.OutTradeNo, "document": "inventory", "return_info": "订购人与支付人不一致"})
	f.waitStatus(t, rej.ID, shop.OrderCustomsRejected)

	run, ds = f.reconcile(t, day)
	want := map[string]string{
		"missing_with_us " + lost.OutTradeNo:     "auto_resolved",
		"refund_mismatch " + o.OutTradeNo + "R9": "open",
	}
	for k, st := range want {
		d, ok := ds[k]
		if !ok || d.State != st || d.Explanation == "" {
			t.Errorf("discrepancy %s: %+v (want %s, explained)", k, d, st)
		}
	}
	if len(ds) != len(want) || run.Status != "discrepancies" {
		t.Errorf("reconciliation with faults: %s, %d discrepancies %v", run.Status, len(ds), ds)
	}
	// The lost payment was healed: paid with WeChat Pay's transaction, and
	// declared to customs like any other.
	var healedTxn string
	f.sql(t, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT coalesce(transaction_id, '') FROM orders WHERE tenant_id = ? AND id = ?`, f.t.ID, lost.ID).Scan(&healedTxn).Error
	})
	if healedTxn != lostTxn {
		t.Errorf("healed payment: %q, want %q", healedTxn, lostTxn)
	}
	f.waitStatus(t, lost.ID, shop.OrderDeclared)

	// The rejected declaration is in the queue of what needs a person,
	// with the reason and the action.
	var q struct {
		Orders []shop.CustomsQueueItem `json:"orders"`
	}
	if r := f.admin(t, "GET", "/customs/queue", nil); r.Status != 200 {
		t.Fatalf("queue: %d %s", r.Status, r.Body)
	} else {
		r.JSON(t, &q)
	}
	if len(q.Orders) != 1 || q.Orders[0].OrderID != rej.ID || len(q.Orders[0].Documents) != 1 ||
		q.Orders[0].Documents[0].Action != "ask_buyer_or_refund" || !strings.Contains(q.Orders[0].Documents[0].Reason, "not the payer") {
		t.Fatalf("customs queue: %+v", q)
	}
}

// An order shipped from two warehouses, through the real worker: two
// customs orders, each declared, answered and compared with its payment
// sub-order by the sandbox's customs; one rejected makes the order
// customs_rejected while the other stays accepted; declared again alone,
// it is accepted and the order is declared, then ships.
func TestSplitOrderFlow(t *testing.T) {
	e := flowEnv(t)
	f := newFlow(t, e, "nordic-split")
	var serum int64
	f.sql(t, func(tx *gorm.DB) error {
		var wid int64
		if err := tx.Raw(`INSERT INTO skus (tenant_id, product_id, code, option_values, price, tax_category, hs_code, origin_country, gname, gmodel,
			unit, legal_unit1, legal_qty1, net_weight_g, gross_weight_g, item_record_no, positive_list)
			SELECT tenant_id, product_id, 'NC-30', '["30ml"]', 8900, 'premium_cosmetics', hs_code, origin_country, gname, gmodel,
			unit, legal_unit1, legal_qty1, net_weight_g, gross_weight_g, 'REC0002', true FROM skus WHERE tenant_id = ? AND id = ? RETURNING id`,
			f.t.ID, f.sku).Scan(&serum).Error; err != nil {
			return err
		}
		if err := tx.Raw(`INSERT INTO warehouses (tenant_id, code, name, kind) VALUES (?, 'NB1', 'Ningbo bonded', 'bonded') RETURNING id`, f.t.ID).
			Scan(&wid).Error; err != nil {
			return err
		}
		return tx.Exec(`INSERT INTO stock_levels (tenant_id, sku_id, warehouse_id, on_hand) VALUES (?, ?, ?, 100)`, f.t.ID, serum, wid).Error
	})
	if r := f.admin(t, "POST", "/shipping-templates", map[string]any{"name": "Standard", "kind": "flat", "rule": map[string]int64{"fee": 1001}}); r.Status != 201 {
		t.Fatalf("template: %d %s", r.Status, r.Body)
	}
	e.StartWorker(t)
	lines := []map[string]int64{{"sku_id": f.sku, "quantity": 1}, {"sku_id": serum, "quantity": 3}}

	o, _ := f.buyLines(t, lines, nil)
	f.waitStatus(t, o.ID, shop.OrderDeclared)
	v := f.customs(t, o.ID)
	all := "order=accepted payment=accepted waybill=accepted inventory=accepted"
	if len(v.SubOrders) != 2 || states(v) != all {
		t.Fatalf("split order declared: %s %+v", states(v), v.SubOrders)
	}
	var paid int64
	for i, sub := range v.SubOrders {
		paid += sub.ActuralPaid
		if sub.OrderNo != fmt.Sprintf("%s-%d", o.OutTradeNo, i+1) || states(shop.CustomsView{Documents: sub.Documents}) != all ||
			sub.Documents[3].LastReceipt == nil || sub.Documents[3].LastReceipt.Status != shop.InvtReleased {
			t.Errorf("customs order %d: %+v", i, sub)
		}
	}
	if paid != o.ActuralPaid {
		t.Errorf("customs orders pay %d, the order %d", paid, o.ActuralPaid)
	}

	// Customs rejects the second customs order's order declaration only.
	rej, _ := f.buyLines(t, lines, nil)
	second := rej.OutTradeNo + "-2"
	f.sandbox(t, "/sandbox/v1/customs/faults", map[string]any{"order_no": second, "return_info": "订购人身份信息校验不通过"})
	f.waitStatus(t, rej.ID, shop.OrderCustomsRejected)
	testenv.Eventually(t, 60*time.Second, "the other customs order through", func() bool {
		v = f.customs(t, rej.ID)
		if states(shop.CustomsView{Documents: v.SubOrders[0].Documents}) == all {
			return true
		}
		f.poll(t)
		time.Sleep(150 * time.Millisecond)
		return false
	})
	if d := v.SubOrders[1].Documents[0]; d.State != shop.DeclRejected || d.Attention == nil || d.Attention.Action != "fix_identity" || f.status(t, rej.ID) != shop.OrderCustomsRejected {
		t.Fatalf("rejected customs order: %+v %+v", d, d.Attention)
	}
	if r := f.admin(t, "POST", fmt.Sprintf("/orders/%d/customs/redeclare?order_no=%s", rej.ID, second), nil); r.Status != 202 {
		t.Fatalf("redeclare: %d %s", r.Status, r.Body)
	}
	f.waitStatus(t, rej.ID, shop.OrderDeclared)
	v = f.customs(t, rej.ID)
	if states(v) != all || v.SubOrders[0].Documents[0].Attempt != 1 || v.SubOrders[1].Documents[0].Attempt != 2 {
		t.Errorf("declared again: %s %+v", states(v), v.SubOrders)
	}
	if r := f.admin(t, "POST", fmt.Sprintf("/orders/%d/shipments", rej.ID), map[string]any{"carrier": "yuantong", "tracking_no": "YT9000000002"}); r.Status != 201 {
		t.Fatalf("ship: %d %s", r.Status, r.Body)
	}
}
