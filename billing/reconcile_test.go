package billing_test

import (
	"bytes"
	"context"
	"encoding/json"

	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/minishop/minishop/billing"
	"github.com/minishop/minishop/billing/wechatpay"
	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/shop"
	"github.com/minishop/minishop/tenant"
)

// reconShop is a provisioned shop whose test merchant holds every payment
// notification: payments reach our books only when the test says so.
type reconShop struct {
	e      *testenv.Env
	t      *tenant.Tenant
	mchID  string
	appID  string
	openID string
	cust   int64
}

func newReconShop(t *testing.T, e *testenv.Env, slug string) *reconShop {
	t.Helper()
	tn, err := e.App.Tenants.Create(context.Background(), tenant.CreateInput{Slug: slug, Name: slug})
	if err != nil {
		t.Fatal(err)
	}
	s := &reconShop{e: e, t: tn}
	if err := e.App.Tenants.Provision(s.ctx(), "test-provision-"+slug); err != nil {
		t.Fatal(err)
	}
	_, c, appID, _, err := e.App.Tenants.WeChatPayCredentials(s.ctx())
	if err != nil {
		t.Fatal(err)
	}
	s.mchID, s.appID = c.MchID, appID
	s.control(t, "/sandbox/v1/pay/notify-settings", map[string]any{"mchid": s.mchID, "hold": true, "time_scale": 0.001}, nil)
	var login struct {
		OpenID string `json:"openid"`
	}
	s.control(t, "/sandbox/v1/wx-login-code", map[string]any{"appid": appID, "user": "buyer"}, &login)
	s.openID = login.OpenID
	s.sql(t, func(tx *gorm.DB) error {
		return tx.Raw(`INSERT INTO customers (tenant_id, openid) VALUES (?, ?) RETURNING id`, tn.ID, s.openID).Scan(&s.cust).Error
	})
	return s
}

func (s *reconShop) ctx() context.Context { return scope.WithTenant(context.Background(), s.t.ID) }

func (s *reconShop) sql(t *testing.T, fn func(tx *gorm.DB) error) {
	t.Helper()
	if err := db.InTenant(s.ctx(), s.e.App.DB, fn); err != nil {
		t.Fatal(err)
	}
}

func (s *reconShop) control(t *testing.T, path string, in, out any) {
	t.Helper()
	b, _ := json.Marshal(in)
	resp, err := http.Post(s.e.Sandbox.URL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d %s", path, resp.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatal(err)
		}
	}
}

// order writes an order waiting for payment of amount fen.
func (s *reconShop) order(t *testing.T, no string, amount int64) *shop.Order {
	t.Helper()
	o := &shop.Order{OutTradeNo: no, Currency: "CNY", ActuralPaid: amount, ExpiresAt: time.Now().Add(30 * time.Minute)}
	s.sql(t, func(tx *gorm.DB) error {
		return tx.Raw(`INSERT INTO orders (tenant_id, out_trade_no, customer_id, goods_value, freight, tax_total, actural_paid, tax_mode, trade_mode,
			address, identity_id, buyer_name_masked, buyer_id_masked, buyer_id_hash, buyer_name_sealed, buyer_id_sealed, expires_at, prepay_at)
			VALUES (?, ?, ?, ?, 0, 0, ?, 'cbec', '1210', '{}', 1, '*', '*', 'x', '\x00', '\x00', ?, now()) RETURNING id`,
			s.t.ID, no, s.cust, amount, amount, o.ExpiresAt).Scan(&o.ID).Error
	})
	return o
}

// payAtSandbox is the buyer paying the order at the sandbox (prepay
// through the gateway, then wx.requestPayment confirmed); the notification
// is held. It returns the transaction id.
func (s *reconShop) payAtSandbox(t *testing.T, o *shop.Order) string {
	t.Helper()
	pp, err := s.e.App.Payments.Prepay(s.ctx(), o, s.openID)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		TransactionID string `json:"transaction_id"`
		TradeState    string `json:"trade_state"`
	}
	s.control(t, "/sandbox/v1/pay", map[string]any{"appId": s.appID, "timeStamp": pp.TimeStamp, "nonceStr": pp.NonceStr,
		"package": pp.Package, "signType": pp.SignType, "paySign": pp.PaySign}, &out)
	if out.TradeState != "SUCCESS" {
		t.Fatalf("sandbox pay: %+v", out)
	}
	return out.TransactionID
}

// pay is a payment that reached us (what the notification would do).
func (s *reconShop) pay(t *testing.T, no string, amount int64) string {
	t.Helper()
	o := s.order(t, no, amount)
	txn := s.payAtSandbox(t, o)
	if err := s.e.App.Shop.MarkPaid(context.Background(), s.t.ID, no, txn, amount, time.Now()); err != nil {
		t.Fatal(err)
	}
	return txn
}

func today() time.Time {
	d, err := billing.ParseDay(time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01-02"))
	if err != nil {
		panic(err)
	}
	return d
}

func (s *reconShop) reconcile(t *testing.T) (*billing.Run, map[string]billing.Discrepancy) {
	t.Helper()
	run, err := s.e.App.Reconcile.Reconcile(s.ctx(), today())
	if err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	_, ds, err := s.e.App.Reconcile.Day(s.ctx(), today())
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]billing.Discrepancy{}
	for _, d := range ds {
		k := d.Kind + " " + d.Reference
		if _, dup := byKey[k]; dup {
			t.Fatalf("duplicate discrepancy %s", k)
		}
		byKey[k] = d
	}
	return run, byKey
}

func TestReconcileMatchingDay(t *testing.T) {
	e := testenv.New(t)
	s := newReconShop(t, e, "recon-match")
	// A day with payments of ours and no bill at WeChat Pay yet: not
	// reconciled as empty.
	s.pay(t, "RCM000001", 12_345)
	if _, err := s.withoutBill(t).Reconcile(s.ctx(), today()); !errs.Is(err, errs.Unavailable) || !strings.Contains(err.Error(), "bill_not_ready") {
		t.Errorf("day without its bill: %v", err)
	}
	s.pay(t, "RCM000002", 99)
	run, ds := s.reconcile(t)
	if run.Status != "matched" || len(ds) != 0 || run.Open != 0 || len(run.SummaryProblems) != 0 {
		t.Fatalf("run %+v, discrepancies %v", run, ds)
	}
	if run.BillRows != 2 || run.BillPayments != 12_444 || run.OurPayments != 12_444 {
		t.Errorf("totals %+v", run.Totals)
	}
	// 0.60 % of 124.44 yuan is 0.74664 yuan: 75 fen once rounded.
	if run.BillFee != 75 || run.NetSettlement != 12_444-75 {
		t.Errorf("fee %d, net %d", run.BillFee, run.NetSettlement)
	}
}

func TestReconcileFindsAndExplainsFaults(t *testing.T) {
	e := testenv.New(t)
	s := newReconShop(t, e, "recon-faults")
	day := today().Format("2006-01-02")
	s.pay(t, "RCF000001", 5_000) // the bill will say another amount
	s.pay(t, "RCF000002", 7_000) // the bill will carry a refund we never made
	dropped := s.pay(t, "RCF000003", 3_000)
	lost := s.order(t, "RCF000004", 4_200) // paid, notification lost
	lostTxn := s.payAtSandbox(t, lost)
	s.control(t, "/sandbox/v1/pay/bill-faults", map[string]any{"mch_id": s.mchID, "date": day, "faults": []map[string]any{
		{"kind": "amount", "out_trade_no": "RCF000001", "amount": 5_100},
		{"kind": "refund", "out_trade_no": "RCF000002", "out_refund_no": "RCF000002R9", "amount": 700, "total": 7_000},
		{"kind": "drop", "out_trade_no": "RCF000003"},
		{"kind": "payment", "out_trade_no": "STRANGER01", "amount": 888},
	}}, nil)

	run, ds := s.reconcile(t)
	if run.Status != "discrepancies" {
		t.Fatalf("status %s", run.Status)
	}
	want := map[string]string{
		"amount_mismatch RCF000001":   "open",
		"refund_mismatch RCF000002R9": "open",
		"missing_in_bill RCF000003":   "open",
		"missing_with_us RCF000004":   "auto_resolved",
		"missing_with_us STRANGER01":  "open",
	}
	for k, st := range want {
		d, ok := ds[k]
		if !ok {
			t.Errorf("missing discrepancy %s (have %v)", k, keys(ds))
			continue
		}
		if d.State != st || d.Explanation == "" {
			t.Errorf("%s: state %s, explanation %q", k, d.State, d.Explanation)
		}
	}
	if len(ds) != len(want) {
		t.Errorf("discrepancies %v", keys(ds))
	}
	if d := ds["amount_mismatch RCF000001"]; !strings.Contains(d.Explanation, "51.00") || !strings.Contains(d.Explanation, "50.00") {
		t.Errorf("amount explanation %q", d.Explanation)
	}
	if d := ds["missing_in_bill RCF000003"]; !strings.Contains(string(d.Evidence), dropped) {
		t.Errorf("evidence %s", d.Evidence)
	}
	// The lost notification was healed: the order is paid with WeChat Pay's transaction.
	var st, txn string
	s.sql(t, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT status, coalesce(transaction_id, '') FROM orders WHERE tenant_id = ? AND id = ?`, s.t.ID, lost.ID).Row().Scan(&st, &txn)
	})
	if st != shop.OrderPaid || txn != lostTxn {
		t.Errorf("lost payment: order %s %s, want paid %s", st, txn, lostTxn)
	}
	if run.Open != 4 || len(run.SummaryProblems) == 0 {
		t.Errorf("open %d, problems %v", run.Open, run.SummaryProblems)
	}

	// Running the day again finds the same discrepancies, no copies; the
	// healed payment now matches.
	run2, ds2 := s.reconcile(t)
	if len(ds2) != len(ds) || run2.Runs != 2 || run2.Open != 4 {
		t.Errorf("second run: %d discrepancies (first %d), runs %d, open %d", len(ds2), len(ds), run2.Runs, run2.Open)
	}
	if ds2["missing_with_us RCF000004"].State != "auto_resolved" {
		t.Errorf("healed discrepancy became %s", ds2["missing_with_us RCF000004"].State)
	}

	// A run of the day under way refuses a second one.
	s.sql(t, func(tx *gorm.DB) error {
		return tx.Exec(`UPDATE reconciliation_runs SET status = 'running' WHERE tenant_id = ?`, s.t.ID).Error
	})
	if _, err := e.App.Reconcile.Reconcile(s.ctx(), today()); !errs.Is(err, errs.Conflict) {
		t.Errorf("concurrent run: %v", err)
	}
	// One that started an hour ago is taken to have died.
	s.sql(t, func(tx *gorm.DB) error {
		return tx.Exec(`UPDATE reconciliation_runs SET updated_at = now() - interval '1 hour' WHERE tenant_id = ?`, s.t.ID).Error
	})
	if run, _ := s.reconcile(t); run.Runs != 3 || run.Status != "discrepancies" {
		t.Errorf("run after a dead one: %+v", run)
	}

	// Staff resolve one with a note; a further run keeps it resolved.
	id := ds2["missing_with_us STRANGER01"].ID
	ctx := scope.WithActor(s.ctx(), scope.Actor{Kind: "user", ID: "42"})
	if _, err := e.App.Reconcile.Resolve(ctx, today(), id, ""); !errs.Is(err, errs.Invalid) {
		t.Errorf("empty note: %v", err)
	}
	d, err := e.App.Reconcile.Resolve(ctx, today(), id, "test payment of the acquirer, refunded by phone")
	if err != nil || d.State != "resolved" || d.ResolvedBy != "user:42" || d.ResolvedAt == nil {
		t.Fatalf("resolve: %+v %v", d, err)
	}
	if _, err := e.App.Reconcile.Resolve(ctx, today(), id, "again"); !errs.Is(err, errs.Conflict) {
		t.Errorf("second resolve: %v", err)
	}
	run3, ds3 := s.reconcile(t)
	if ds3["missing_with_us STRANGER01"].State != "resolved" || run3.Open != 3 || run3.Runs != 4 {
		t.Errorf("after resolve and re-run: %s, open %d", ds3["missing_with_us STRANGER01"].State, run3.Open)
	}

	// Another tenant sees none of it.
	other := newReconShop(t, e, "recon-other")
	if _, _, err := e.App.Reconcile.Day(other.ctx(), today()); !errs.Is(err, errs.NotFound) {
		t.Errorf("other tenant's day: %v", err)
	}
	if _, err := e.App.Reconcile.Resolve(other.ctx(), today(), ds3["amount_mismatch RCF000001"].ID, "not mine"); !errs.Is(err, errs.NotFound) {
		t.Errorf("other tenant resolving: %v", err)
	}
	runs, err := e.App.Reconcile.Runs(other.ctx(), 10)
	if err != nil || len(runs) != 0 {
		t.Errorf("other tenant's runs: %v %v", runs, err)
	}
	orun, ods := other.reconcile(t)
	if orun.Status != "matched" || len(ods) != 0 || orun.BillRows != 0 {
		t.Errorf("other tenant's empty day: %+v %v", orun, ods)
	}
}

func keys(m map[string]billing.Discrepancy) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestReconciliationAPI(t *testing.T) {
	e := testenv.New(t)
	s := newReconShop(t, e, "recon-api")
	s.pay(t, "RCA000001", 2_500)
	day := today().Format("2006-01-02")
	s.control(t, "/sandbox/v1/pay/bill-faults", map[string]any{"mch_id": s.mchID, "date": day, "faults": []map[string]any{
		{"kind": "payment", "out_trade_no": "-CALC0001", "amount": 1},
	}}, nil)
	base := "/api/admin/v1/tenants/" + s.t.Slug + "/reconciliations"
	owner := e.Member(t, s.t.ID, "owner@recon-api.test", "owner")
	viewer := e.Member(t, s.t.ID, "viewer@recon-api.test", "viewer")

	for _, c := range []struct {
		body string
		code string
	}{{`{"date":"2026-13-01"}`, "invalid_date"}, {`{"date":"2999-01-01"}`, "invalid_date"}, {`{}`, "invalid_field"}, {`{"date":"` + day + `","x":1}`, "unknown_field"}} {
		if r := e.Do(t, "POST", "", base, c.body, owner...); r.Status != 400 || !strings.Contains(string(r.Body), c.code) {
			t.Errorf("%s: %d %s", c.body, r.Status, r.Body)
		}
	}
	if r := e.Do(t, "POST", "", base, map[string]string{"date": day}, viewer...); r.Status != 403 {
		t.Errorf("viewer reconciling: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "GET", "", base+"/"+day, nil, owner...); r.Status != 404 {
		t.Errorf("day before any run: %d %s", r.Status, r.Body)
	}
	r := e.Do(t, "POST", "", base, map[string]string{"date": day}, owner...)
	if r.Status != 200 {
		t.Fatalf("reconcile: %d %s", r.Status, r.Body)
	}
	var got struct {
		Reconciliation billing.Run
		Discrepancies  []billing.Discrepancy
	}
	r.JSON(t, &got)
	if got.Reconciliation.Status != "discrepancies" || got.Reconciliation.BillRows != 2 || got.Reconciliation.Open != 1 {
		t.Errorf("run %+v", got.Reconciliation)
	}
	r = e.Do(t, "GET", "", base, nil, viewer...)
	var list struct{ Reconciliations []billing.Run }
	if r.Status != 200 {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &list)
	if len(list.Reconciliations) != 1 || list.Reconciliations[0].Date != day || list.Reconciliations[0].BillPayments != 2_501 {
		t.Errorf("list %+v", list)
	}
	r = e.Do(t, "GET", "", base+"/"+day, nil, viewer...)
	r.JSON(t, &got)
	if r.Status != 200 || len(got.Discrepancies) != 1 || got.Discrepancies[0].Kind != billing.MissingWithUs {
		t.Fatalf("day: %d %s", r.Status, r.Body)
	}
	id := got.Discrepancies[0].ID
	csvr := e.Do(t, "GET", "", base+"/"+day+"/discrepancies.csv", nil, viewer...)
	if csvr.Status != 200 || !strings.HasPrefix(csvr.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(string(csvr.Body), "'-CALC0001") || strings.Count(string(csvr.Body), "\n") != 2 {
		t.Errorf("csv: %d %s", csvr.Status, csvr.Body)
	}
	resolve := base + "/" + day + "/discrepancies/" + strconv.FormatInt(id, 10) + "/resolve"
	if r := e.Do(t, "POST", "", resolve, map[string]string{"note": "x"}, viewer...); r.Status != 403 {
		t.Errorf("viewer resolving: %d", r.Status)
	}
	if r := e.Do(t, "POST", "", base+"/"+day+"/discrepancies/999999/resolve", map[string]string{"note": "x"}, owner...); r.Status != 404 {
		t.Errorf("unknown id: %d %s", r.Status, r.Body)
	}
	r = e.Do(t, "POST", "", resolve, map[string]string{"note": "acquirer test charge"}, owner...)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"state":"resolved"`) {
		t.Errorf("resolve: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "POST", "", resolve, map[string]string{"note": "again"}, owner...); r.Status != 409 {
		t.Errorf("second resolve: %d %s", r.Status, r.Body)
	}
	// A shop without WeChat Pay credentials is told so.
	bare, err := e.App.Tenants.Create(context.Background(), tenant.CreateInput{Slug: "recon-bare", Name: "Bare"})
	if err != nil {
		t.Fatal(err)
	}
	bareOwner := e.Member(t, bare.ID, "owner@recon-bare.test", "owner")
	if r := e.Do(t, "POST", "", "/api/admin/v1/tenants/recon-bare/reconciliations", map[string]string{"date": day}, bareOwner...); r.Status != 409 || !strings.Contains(string(r.Body), "payments_not_configured") {
		t.Errorf("shop without credentials: %d %s", r.Status, r.Body)
	}
	// Another shop's owner cannot see this shop's days.
	other := newReconShop(t, e, "recon-api-other")
	otherOwner := e.Member(t, other.t.ID, "owner@recon-api-other.test", "owner")
	if r := e.Do(t, "GET", "", base+"/"+day, nil, otherOwner...); r.Status != 404 {
		t.Errorf("other shop's owner: %d %s", r.Status, r.Body)
	}
}

func TestDailyReconciliationRunsOncePerShopAndDay(t *testing.T) {
	e := testenv.New(t)
	a := newReconShop(t, e, "recon-daily-a")
	b := newReconShop(t, e, "recon-daily-b")
	ctx := context.Background()
	n, err := e.App.Reconcile.FanOut(ctx, time.Now())
	if err != nil || n != 2 {
		t.Fatalf("fan-out: %d %v", n, err)
	}
	if n, err := e.App.Reconcile.FanOut(ctx, time.Now()); err != nil || n != 0 {
		t.Fatalf("second fan-out the same day: %d %v", n, err)
	}
	e.StartWorker(t)
	yesterday := time.Now().In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, -1).Format("2006-01-02")
	for _, s := range []*reconShop{a, b} {
		testenv.Eventually(t, 60*time.Second, s.t.Slug+" reconciled", func() bool {
			runs, err := e.App.Reconcile.Runs(s.ctx(), 10)
			return err == nil && len(runs) == 1 && runs[0].Date == yesterday && runs[0].Status == "matched" && runs[0].Runs == 1
		})
	}
}

// withoutBill is a Reconciler whose WeChat Pay answers the trade bill
// request as it does before the bill is published; every other request
// goes to the sandbox.
func (s *reconShop) withoutBill(t *testing.T) *billing.Reconciler {
	t.Helper()
	target, _ := url.Parse(s.e.Sandbox.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v3/bill/tradebill" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"code":"NO_STATEMENT_EXIST","message":"账单文件不存在"}`)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	_, creds, appID, _, err := s.e.App.Tenants.WeChatPayCredentials(s.ctx())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := creds.Config(srv.URL, appID)
	if err != nil {
		t.Fatal(err)
	}
	c, err := wechatpay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &billing.Reconciler{DB: s.e.App.DB, Client: func(context.Context) (*wechatpay.Client, error) { return c, nil }, Log: slog.Default()}
}
