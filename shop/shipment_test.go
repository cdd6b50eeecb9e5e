package shop_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/kuaidi100"
	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/shop"
)

// These tests ship orders as a brand does (admin API, CSV, warehouse
// webhook) and follow the parcels through the sandbox of Kuaidi100 (signed
// pushes over HTTP to the callback, fallback queries) and of WeChat's
// shipping-information service (upload_shipping_info with the shop's
// access token), with the worker running the outbox tasks.

// logiShop is a provisioned shop with two sellable SKUs, its owner and a buyer.
type logiShop struct {
	*miniShop
	owner []string
	skus  []int64
	buyer *shopper
	n     int
}

func newLogiShop(t *testing.T, e *testenv.Env, slug string) *logiShop {
	t.Helper()
	m := newMiniShop(t, e, slug).provision(t)
	l := &logiShop{miniShop: m, owner: e.Member(t, m.t.ID, "owner@"+slug+".test", "owner")}
	l.skus = m.sellable(t, "Cream", cartSKU{9900, "general", []int64{100}}, cartSKU{5900, "general", []int64{100}})
	l.buyer = m.shopper(t, "buyer-"+slug, idNumber(len(slug)))
	return l
}

// paid places and pays an order of lines (sku index, quantity, …).
func (l *logiShop) paid(t *testing.T, lines ...int64) shop.Order {
	t.Helper()
	l.n++
	var body []int64
	for i := 0; i+1 < len(lines); i += 2 {
		body = append(body, l.skus[lines[i]], lines[i+1])
	}
	o := l.buyer.place(t, fmt.Sprintf("%s-%d", l.t.Slug, l.n), l.buyer.body(body...))
	txn := fmt.Sprintf("42%08d%06d", l.t.ID, l.n)
	if err := l.e.App.Shop.MarkPaid(context.Background(), l.t.ID, o.OutTradeNo, txn, o.ActuralPaid, time.Now()); err != nil {
		t.Fatal(err)
	}
	o.TransactionID = txn
	return o
}

// release plays customs releasing the order: paid → declaring → declared
// (the customs side's own moves, made here directly).
func (l *logiShop) release(t *testing.T, o shop.Order) {
	t.Helper()
	for _, step := range [][2]string{{"paid", "declaring"}, {"declaring", "declared"}} {
		l.sql(t, func(tx *gorm.DB) error {
			return tx.Exec(`UPDATE orders SET status = ? WHERE tenant_id = ? AND id = ? AND status = ?`, step[1], l.t.ID, o.ID, step[0]).Error
		})
	}
	if st := l.status(t, o.ID); st != shop.OrderDeclared {
		t.Fatalf("order %d is %s after release", o.ID, st)
	}
}

func (l *logiShop) declared(t *testing.T, lines ...int64) shop.Order {
	t.Helper()
	o := l.paid(t, lines...)
	l.release(t, o)
	return o
}

func (l *logiShop) status(t *testing.T, id int64) string {
	t.Helper()
	return (&payShop{miniShop: l.miniShop}).status(t, id)
}

func (l *logiShop) admin(t *testing.T, method, path string, body any) *testenv.Response {
	t.Helper()
	return l.e.Do(t, method, "", "/api/admin/v1/tenants/"+l.t.Slug+path, body, l.owner...)
}

func (l *logiShop) ship(t *testing.T, id int64, carrier, no string, lines ...int) (int, shop.Shipment, string) {
	t.Helper()
	body := map[string]any{"carrier": carrier, "tracking_no": no}
	if len(lines) > 0 {
		var ls []map[string]int
		for i := 0; i+1 < len(lines); i += 2 {
			ls = append(ls, map[string]int{"line_no": lines[i], "quantity": lines[i+1]})
		}
		body["lines"] = ls
	}
	r := l.admin(t, "POST", fmt.Sprintf("/orders/%d/shipments", id), body)
	var sh shop.Shipment
	if r.Status < 300 {
		r.JSON(t, &sh)
	}
	return r.Status, sh, r.ErrorCode()
}

func (l *logiShop) shipments(t *testing.T, id int64) shop.OrderShipments {
	t.Helper()
	r := l.admin(t, "GET", fmt.Sprintf("/orders/%d/shipments", id), nil)
	if r.Status != 200 {
		t.Fatalf("shipments: %d %s", r.Status, r.Body)
	}
	var v shop.OrderShipments
	r.JSON(t, &v)
	return v
}

func (l *logiShop) events(t *testing.T, id int64, kind string) int64 {
	t.Helper()
	return (&payShop{miniShop: l.miniShop}).events(t, id, kind)
}

// sandboxAny calls a sandbox control endpoint and returns its status and body.
func sandboxAny(t *testing.T, e *testenv.Env, path string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(e.Sandbox.URL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// wxShipping is the sandbox's view of the order's shipping information.
func (l *logiShop) wxShipping(t *testing.T, txn string) map[string]any {
	t.Helper()
	st, out := sandboxAny(t, l.e, "/sandbox/v1/shipping/order", map[string]any{"transaction_id": txn})
	if st != 200 {
		return nil
	}
	return out
}

func (l *logiShop) waybill(t *testing.T, carrier, no string) map[string]any {
	t.Helper()
	return l.sandbox(t, "/sandbox/v1/kuaidi100/waybill", map[string]any{"company": carrier, "number": no})
}

func (l *logiShop) advance(t *testing.T, carrier, no string, steps int, opts ...string) []int {
	t.Helper()
	body := map[string]any{"company": carrier, "number": no, "steps": steps}
	for _, o := range opts {
		body[o] = true
	}
	out := l.sandbox(t, "/sandbox/v1/kuaidi100/advance", body)
	var codes []int
	for _, c := range out["pushes"].([]any) {
		codes = append(codes, int(c.(float64)))
	}
	return codes
}

func (l *logiShop) waitSubscribed(t *testing.T, orderID, shipmentID int64) {
	t.Helper()
	testenv.Eventually(t, 20*time.Second, "subscription active", func() bool {
		for _, s := range l.shipments(t, orderID).Shipments {
			if s.ID == shipmentID {
				return s.Subscription == "active"
			}
		}
		return false
	})
}

func (l *logiShop) waitUpload(t *testing.T, orderID int64, state string, uploads int) shop.OrderShipments {
	t.Helper()
	var v shop.OrderShipments
	testenv.Eventually(t, 20*time.Second, "upload "+state, func() bool {
		v = l.shipments(t, orderID)
		return v.WeChat != nil && v.WeChat.State == state && v.WeChat.Uploads == uploads
	})
	return v
}

func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}

// An order ships only once customs released it; its first parcel moves it
// to shipped; WeChat gets the shipping information once, however often the
// upload task is delivered; Kuaidi100's pushes move the parcel (refused
// when the sign is wrong, harmless when repeated or stale), customs states
// go on the timeline, signed for delivers the order, which completes by
// itself 7 days later.
func TestShipTrackDeliverComplete(t *testing.T) {
	e := payEnv(t)
	l := newLogiShop(t, e, "nordic-skin")
	waiting := l.paid(t, 0, 1)
	o := l.declared(t, 0, 2)

	if st, _, code := l.ship(t, waiting.ID, "yuantong", "YT1000000001"); st != 409 || code != "customs_not_released" {
		t.Fatalf("shipping a paid order: %d %s", st, code)
	}
	for _, bad := range []struct{ carrier, no, code string }{{"nosuch", "YT1", "invalid_carrier"}, {"yuantong", "Y T", "invalid_tracking_no"}} {
		if st, _, code := l.ship(t, o.ID, bad.carrier, bad.no); st != 400 || code != bad.code {
			t.Errorf("%+v: %d %s", bad, st, code)
		}
	}
	if st, _, code := l.ship(t, o.ID, "yuantong", "YT1000000001", 1, 3); st != 422 || code != "over_shipped" {
		t.Errorf("over-shipping: %d %s", st, code)
	}
	st, sh, _ := l.ship(t, o.ID, "yuantong", "YT1000000001")
	if st != 201 || len(sh.Lines) != 1 || sh.Lines[0] != (shop.ShipmentLine{LineNo: 1, Quantity: 2}) || sh.Source != "admin" {
		t.Fatalf("shipment: %d %+v", st, sh)
	}
	if got := l.status(t, o.ID); got != shop.OrderShipped || l.events(t, o.ID, "shipped") != 1 {
		t.Fatalf("order after shipping: %s, %d shipped events", got, l.events(t, o.ID, "shipped"))
	}
	if st, again, _ := l.ship(t, o.ID, "yuantong", "YT1000000001"); st != 200 || again.ID != sh.ID {
		t.Errorf("the same parcel again: %d %+v", st, again)
	}
	if st, _, code := l.ship(t, waiting.ID, "yuantong", "YT1000000001"); st != 409 || code != "customs_not_released" && code != "tracking_in_use" {
		t.Errorf("the parcel on another order: %d %s", st, code)
	}

	e.StartWorker(t)
	l.waitUpload(t, o.ID, shop.UploadUploaded, 1)
	l.waitSubscribed(t, o.ID, sh.ID)
	wx := l.wxShipping(t, o.TransactionID)
	if num(wx["calls"]) != 1 || num(wx["uploads"]) != 1 || num(wx["state"]) != 2 || num(wx["delivery_mode"]) != 1 {
		t.Fatalf("WeChat's view after the upload: %v", wx)
	}

	// The upload task delivered again (same task id), twice at once, and
	// queued anew: WeChat is not called again.
	var taskID string
	l.sql(t, func(tx *gorm.DB) error {
		var id int64
		err := tx.Raw(`SELECT id FROM outbox WHERE tenant_id = ? AND kind = ? ORDER BY id LIMIT 1`, l.t.ID, shop.TaskShippingUpload).Scan(&id).Error
		taskID = "outbox:" + strconv.FormatInt(id, 10)
		return err
	})
	data, _ := json.Marshal(map[string]int64{"order_id": o.ID})
	ctx := scope.WithTenant(context.Background(), l.t.ID)
	var wg sync.WaitGroup
	for _, id := range []string{taskID, taskID, "outbox:999999999"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.App.Shop.UploadShipping(ctx, id, data); err != nil {
				t.Errorf("upload task again: %v", err)
			}
		}()
	}
	wg.Wait()
	if wx := l.wxShipping(t, o.TransactionID); num(wx["calls"]) != 1 {
		t.Errorf("WeChat was called again: %v", wx)
	}

	// A push with a wrong sign is refused and changes nothing.
	if codes := l.advance(t, "yuantong", "YT1000000001", 1, "tamper"); len(codes) != 1 || codes[0] != 401 {
		t.Fatalf("tampered push: %v", codes)
	}
	if s := l.shipments(t, o.ID).Shipments[0]; s.State != shop.ShipCreated || s.LastTraceAt != nil {
		t.Fatalf("after a tampered push: %+v", s)
	}
	// Genuine pushes (with the history so far), each sent twice: in
	// transit, then customs 10 and 11.
	if codes := l.advance(t, "yuantong", "YT1000000001", 3, "duplicate"); len(codes) != 6 || codes[0] != 200 || codes[5] != 200 {
		t.Fatalf("pushes: %v", codes)
	}
	s := l.shipments(t, o.ID).Shipments[0]
	if s.State != shop.ShipCustoms || s.CarrierState == nil || *s.CarrierState != kuaidi100.StateCustomsClearing {
		t.Fatalf("after customs pushes: %+v", s)
	}
	if n := l.events(t, o.ID, "customs_clearance"); n != 2 {
		t.Errorf("customs clearance events: %d, want 2 (10 and 11, each once)", n)
	}
	// 12 cleared, then the previous push again (out of order): still 12.
	if codes := l.advance(t, "yuantong", "YT1000000001", 1, "stale"); len(codes) != 2 || codes[1] != 200 {
		t.Fatalf("stale push: %v", codes)
	}
	if s := l.shipments(t, o.ID).Shipments[0]; *s.CarrierState != kuaidi100.StateCustomsCleared {
		t.Fatalf("a stale push moved the parcel back: %+v", s)
	}
	// Out for delivery, signed for: delivered.
	l.advance(t, "yuantong", "YT1000000001", 2)
	if got := l.status(t, o.ID); got != shop.OrderDelivered {
		t.Fatalf("order after 签收: %s", got)
	}
	if s := l.shipments(t, o.ID).Shipments[0]; s.State != shop.ShipDelivered || s.DeliveredAt == nil || s.Subscription != "done" {
		t.Errorf("delivered parcel: %+v", s)
	}

	if _, err := e.App.Shop.SweepLogistics(context.Background(), time.Now().Add(6*24*time.Hour), 100); err != nil {
		t.Fatal(err)
	}
	if got := l.status(t, o.ID); got != shop.OrderDelivered {
		t.Fatalf("completed before 7 days: %s", got)
	}
	if _, err := e.App.Shop.SweepLogistics(context.Background(), time.Now().Add(7*24*time.Hour+time.Minute), 100); err != nil {
		t.Fatal(err)
	}
	if got := l.status(t, o.ID); got != shop.OrderCompleted || l.events(t, o.ID, "auto_completed") != 1 {
		t.Fatalf("after 7 days: %s", got)
	}
}

// Split delivery: parcels carry parts of lines, WeChat gets a split upload
// that is complete only with the last parcel, and the order is delivered
// only when every parcel is.
func TestSplitDelivery(t *testing.T) {
	e := payEnv(t)
	l := newLogiShop(t, e, "split-shop")
	o := l.declared(t, 0, 2, 1, 1)
	e.StartWorker(t)

	if st, _, code := l.ship(t, o.ID, "zhongtong", "ZT2000000001", 9, 1); st != 422 || code != "unknown_line" {
		t.Fatalf("unknown line: %d %s", st, code)
	}
	st, a, _ := l.ship(t, o.ID, "zhongtong", "ZT2000000001", 1, 1)
	if st != 201 {
		t.Fatalf("first parcel: %d", st)
	}
	v := l.waitUpload(t, o.ID, shop.UploadUploaded, 1)
	if len(v.Unshipped) != 2 || v.OrderStatus != shop.OrderShipped {
		t.Fatalf("after the first parcel: %+v", v)
	}
	if wx := l.wxShipping(t, o.TransactionID); num(wx["delivery_mode"]) != 2 || wx["finished"] != false || num(wx["state"]) != 1 {
		t.Fatalf("WeChat after a partial parcel: %v", wx)
	}
	st, b, _ := l.ship(t, o.ID, "shunfeng", "SF2000000002", 1, 1, 2, 1)
	if st != 201 {
		t.Fatalf("second parcel: %d", st)
	}
	v = l.waitUpload(t, o.ID, shop.UploadUploaded, 2)
	if len(v.Unshipped) != 0 || len(v.Shipments) != 2 {
		t.Fatalf("after the second parcel: %+v", v)
	}
	wx := l.wxShipping(t, o.TransactionID)
	if num(wx["delivery_mode"]) != 2 || wx["finished"] != true || num(wx["state"]) != 2 || len(wx["shipping_list"].([]any)) != 2 {
		t.Fatalf("WeChat after the last parcel: %v", wx)
	}
	if st, _, code := l.ship(t, o.ID, "yuantong", "YT2000000003"); st != 422 || code != "nothing_to_ship" {
		t.Errorf("a third parcel with nothing left: %d %s", st, code)
	}

	l.waitSubscribed(t, o.ID, a.ID)
	l.waitSubscribed(t, o.ID, b.ID)
	l.advance(t, "zhongtong", "ZT2000000001", 7)
	if got := l.status(t, o.ID); got != shop.OrderShipped {
		t.Fatalf("one parcel of two delivered: order %s", got)
	}
	l.advance(t, "shunfeng", "SF2000000002", 7)
	if got := l.status(t, o.ID); got != shop.OrderDelivered {
		t.Fatalf("both delivered: order %s", got)
	}
}

// A waybill without pushes is queried, never twice within 30 minutes; an
// aborted subscription is renewed 30 minutes later.
func TestTrackingFallback(t *testing.T) {
	e := payEnv(t)
	l := newLogiShop(t, e, "quiet-shop")
	o := l.declared(t, 0, 1)
	e.StartWorker(t)
	_, sh, _ := l.ship(t, o.ID, "yuantong", "YT3000000001")
	l.waitSubscribed(t, o.ID, sh.ID)
	l.advance(t, "yuantong", "YT3000000001", 2)
	sweep := func(after time.Duration) {
		t.Helper()
		if _, err := e.App.Shop.SweepLogistics(context.Background(), time.Now().Add(after), 100); err != nil {
			t.Fatal(err)
		}
	}
	clock := func(d time.Duration) {
		l.sandbox(t, "/sandbox/v1/kuaidi100/clock", map[string]any{"advance_ms": d.Milliseconds()})
	}
	sweep(time.Hour) // pushes came recently: no query
	if w := l.waybill(t, "yuantong", "YT3000000001"); num(w["queries"]) != 0 {
		t.Fatalf("queried a waybill that pushes: %v", w)
	}
	sweep(3 * time.Hour)
	clock(10 * time.Minute)
	sweep(3*time.Hour + 10*time.Minute)
	if w := l.waybill(t, "yuantong", "YT3000000001"); num(w["queries"]) != 1 || num(w["throttled"]) != 0 {
		t.Fatalf("after two sweeps 10 minutes apart: %v", w)
	}
	clock(31 * time.Minute)
	sweep(3*time.Hour + 41*time.Minute)
	if w := l.waybill(t, "yuantong", "YT3000000001"); num(w["queries"]) != 2 || num(w["throttled"]) != 0 {
		t.Fatalf("41 minutes later: %v", w)
	}

	l.sandbox(t, "/sandbox/v1/kuaidi100/abort", map[string]any{"company": "yuantong", "number": "YT3000000001"})
	if s := l.shipments(t, o.ID).Shipments[0]; s.Subscription != "aborted" {
		t.Fatalf("after abort: %+v", s)
	}
	sweep(10 * time.Minute)
	if w := l.waybill(t, "yuantong", "YT3000000001"); num(w["subscriptions"]) != 1 {
		t.Fatalf("resubscribed within 30 minutes: %v", w)
	}
	clock(31 * time.Minute)
	sweep(31 * time.Minute)
	if w := l.waybill(t, "yuantong", "YT3000000001"); num(w["subscriptions"]) != 2 || w["subscription"] != "polling" {
		t.Fatalf("not resubscribed 31 minutes after abort: %v", w)
	}
	if s := l.shipments(t, o.ID).Shipments[0]; s.Subscription != "active" {
		t.Errorf("after resubscribing: %+v", s)
	}
}

// 10060001 (not indexed yet) is retried until WeChat takes the upload and
// shows as a delayed upload meanwhile; another refusal fails the upload,
// shows as an alert with WeChat's errcode and can be retried by staff.
func TestShippingUploadRetriesAndAlerts(t *testing.T) {
	e := payEnv(t)
	l := newLogiShop(t, e, "retry-shop")
	e.StartWorker(t)
	alerts := func() []shop.LogisticsAlert {
		r := l.admin(t, "GET", "/logistics/alerts", nil)
		var out struct{ Alerts []shop.LogisticsAlert }
		r.JSON(t, &out)
		if r.Status != 200 {
			t.Fatalf("alerts: %d %s", r.Status, r.Body)
		}
		return out.Alerts
	}
	if len(alerts()) != 0 {
		t.Fatal("alerts before anything shipped")
	}

	l.sandbox(t, "/sandbox/v1/shipping/faults", map[string]any{"appid": l.appID, "errcode": 10060001, "count": 2})
	o := l.declared(t, 0, 1)
	l.ship(t, o.ID, "yuantong", "YT4000000001")
	var v shop.OrderShipments
	testenv.Eventually(t, 20*time.Second, "first try refused", func() bool {
		v = l.shipments(t, o.ID)
		return v.WeChat != nil && v.WeChat.Attempts == 1
	})
	if v.WeChat.State != shop.UploadPending || v.WeChat.LastErrcode == nil || *v.WeChat.LastErrcode != 10060001 || v.WeChat.NextAttemptAt == nil {
		t.Fatalf("after 10060001: %+v", v.WeChat)
	}
	if as := alerts(); len(as) != 1 || as[0].Kind != shop.AlertUploadDelayed || as[0].Code != "10060001" || as[0].OrderID != o.ID {
		t.Fatalf("alerts after 10060001: %+v", as)
	}
	for i := 1; i <= 3; i++ {
		if _, err := e.App.Shop.SweepLogistics(context.Background(), time.Now().Add(time.Duration(i)*10*time.Minute), 100); err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, 20*time.Second, "retry ran", func() bool {
			v = l.shipments(t, o.ID)
			return v.WeChat.Attempts > i || v.WeChat.State == shop.UploadUploaded
		})
		if v.WeChat.State == shop.UploadUploaded {
			break
		}
	}
	if v.WeChat.State != shop.UploadUploaded || v.WeChat.Uploads != 1 {
		t.Fatalf("after retries: %+v", v.WeChat)
	}
	if wx := l.wxShipping(t, o.TransactionID); num(wx["calls"]) != 3 || num(wx["state"]) != 2 {
		t.Errorf("WeChat saw %v, want 3 calls (2 refused)", wx)
	}
	if len(alerts()) != 0 {
		t.Error("an alert stays after the upload")
	}

	l.sandbox(t, "/sandbox/v1/shipping/faults", map[string]any{"appid": l.appID, "errcode": 10060014})
	o2 := l.declared(t, 1, 1)
	l.ship(t, o2.ID, "yuantong", "YT4000000002")
	l.waitUpload(t, o2.ID, shop.UploadFailed, 0)
	as := alerts()
	if len(as) != 1 || as[0].Kind != shop.AlertUploadFailed || as[0].Code != "10060014" || as[0].Message == "" {
		t.Fatalf("alerts after a refusal: %+v", as)
	}
	if r := l.admin(t, "POST", fmt.Sprintf("/orders/%d/shipments/retry-upload", o.ID), nil); r.Status != 409 || r.ErrorCode() != "upload_not_failed" {
		t.Errorf("retrying an uploaded order: %d %s", r.Status, r.Body)
	}
	if r := l.admin(t, "POST", fmt.Sprintf("/orders/%d/shipments/retry-upload", o2.ID), nil); r.Status != 202 {
		t.Fatalf("retry: %d %s", r.Status, r.Body)
	}
	l.waitUpload(t, o2.ID, shop.UploadUploaded, 1)
	if len(alerts()) != 0 {
		t.Error("the alert stays after the retry")
	}
}

// A CSV of tracking numbers is imported all or nothing; bad rows are
// reported with their line numbers; importing it twice changes nothing.
func TestShipmentImport(t *testing.T) {
	e := payEnv(t)
	l := newLogiShop(t, e, "csv-shop")
	a := l.declared(t, 0, 2)
	b := l.declared(t, 1, 1)
	notYet := l.paid(t, 0, 1)
	post := func(csv string) *testenv.Response {
		return l.e.Do(t, "POST", "", "/api/admin/v1/tenants/csv-shop/shipments/import", csv, append([]string{"Content-Type", "text/csv"}, l.owner...)...)
	}
	bad := "order_no,carrier,tracking_no,lines\n" +
		a.OutTradeNo + ",yuantong,YT5000000001,1:1\n" + // 2: fine
		"NOSUCHORDER1,yuantong,YT5000000002,\n" + // 3: no order
		b.OutTradeNo + ",pigeon,YT5000000003,\n" + // 4: carrier
		a.OutTradeNo + ",yuantong,YT5000000004,1:2\n" + // 5: only 1 left after line 2
		notYet.OutTradeNo + ",yuantong,YT5000000005,\n" + // 6: not released
		b.OutTradeNo + ",yuantong,YT5000000001,\n" + // 7: tracking number of line 2's order
		b.OutTradeNo + ",yuantong,YT5000000006,x\n" // 8: lines
	r := post(bad)
	if r.Status != 422 || r.ErrorCode() != "import_invalid" {
		t.Fatalf("bad file: %d %s", r.Status, r.Body)
	}
	var body struct {
		Error struct {
			Details struct {
				Errors []shop.ImportRowError
			}
		}
	}
	r.JSON(t, &body)
	var lines []string
	for _, e := range body.Error.Details.Errors {
		lines = append(lines, fmt.Sprintf("%d:%s:%s", e.Line, e.Column, e.Code))
	}
	want := "3:order_no:order_not_found 4:carrier:invalid_carrier 5:lines:over_shipped 6:order_no:customs_not_released 7:tracking_no:tracking_in_use 8:lines:invalid_lines"
	if strings.Join(lines, " ") != want {
		t.Fatalf("row errors:\n got %s\nwant %s", strings.Join(lines, " "), want)
	}
	if n := l.count(t, `SELECT count(*) FROM shipments WHERE tenant_id = ?`, l.t.ID); n != 0 {
		t.Fatalf("%d shipments after a refused file", n)
	}
	if l.status(t, a.ID) != shop.OrderDeclared || l.count(t, `SELECT count(*) FROM outbox WHERE tenant_id = ? AND kind LIKE 'logistics.%'`, l.t.ID) != 0 {
		t.Fatal("a refused file changed an order or queued work")
	}

	good := "\xef\xbb\xbfOrder_No,Carrier,Tracking_No,Lines\n" +
		a.OutTradeNo + ",yuantong,YT5000000001,1:1\n" +
		a.OutTradeNo + ",yuantong,YT5000000004,1:1\n" +
		b.OutTradeNo + ",shunfeng,SF5000000001,\n"
	var res shop.ShipmentImport
	if r := post(good); r.Status != 201 {
		t.Fatalf("good file: %d %s", r.Status, r.Body)
	} else {
		r.JSON(t, &res)
	}
	if res.Imported != 3 || res.Unchanged != 0 || l.status(t, a.ID) != shop.OrderShipped || l.status(t, b.ID) != shop.OrderShipped {
		t.Fatalf("imported: %+v", res)
	}
	if r := post(good); r.Status != 201 || !strings.Contains(string(r.Body), `"unchanged":3`) {
		t.Errorf("the same file again: %d %s", r.Status, r.Body)
	}
	if r := post("order_no,carrier\nX,yuantong\n"); r.Status != 400 || r.ErrorCode() != "invalid_file" {
		t.Errorf("missing column: %d %s", r.Status, r.Body)
	}
	if r := l.e.Do(t, "POST", "", "/api/admin/v1/tenants/csv-shop/shipments/import", "a,b", l.owner...); r.Status != 400 {
		t.Errorf("JSON content type: %d %s", r.Status, r.Body)
	}
}

// The warehouse webhook takes HMAC-signed parcels; a bad or replayed
// signature is refused. Another shop sees none of A's parcels: not through
// the admin API, not through its webhook, not through its push callback.
func TestWarehouseWebhookAndIsolation(t *testing.T) {
	e := payEnv(t)
	a := newLogiShop(t, e, "shop-a")
	b := newLogiShop(t, e, "shop-b")
	o := a.declared(t, 0, 1)
	r := a.admin(t, "POST", "/logistics/warehouse-webhook/secret", nil)
	var wh shop.WarehouseWebhook
	r.JSON(t, &wh)
	if r.Status != 201 || !strings.HasPrefix(wh.Secret, "whsec_") || !strings.HasSuffix(wh.URL, "/api/v1/logistics/warehouse/shop-a") {
		t.Fatalf("secret: %d %s", r.Status, r.Body)
	}
	if r := a.admin(t, "GET", "/logistics/warehouse-webhook", nil); r.Status != 200 || strings.Contains(string(r.Body), wh.Secret) {
		t.Fatalf("webhook view: %d %s", r.Status, r.Body)
	}
	send := func(slug, secret string, ts time.Time, body string) *testenv.Response {
		t.Helper()
		stamp := strconv.FormatInt(ts.Unix(), 10)
		return e.Do(t, "POST", "", "/api/v1/logistics/warehouse/"+slug, body,
			shop.HeaderTimestamp, stamp, shop.HeaderSignature, shop.SignWarehouse(secret, stamp, []byte(body)))
	}
	parcel := fmt.Sprintf(`{"order_no":%q,"carrier":"jd","tracking_no":"JD0000000001"}`, o.OutTradeNo)
	if r := send("shop-a", "whsec_wrong", time.Now(), parcel); r.Status != 401 || r.ErrorCode() != "bad_signature" {
		t.Fatalf("wrong secret: %d %s", r.Status, r.Body)
	}
	if r := send("shop-a", wh.Secret, time.Now().Add(-10*time.Minute), parcel); r.Status != 401 {
		t.Fatalf("old timestamp: %d %s", r.Status, r.Body)
	}
	if r := send("shop-b", wh.Secret, time.Now(), parcel); r.Status != 401 {
		t.Fatalf("A's secret at B: %d %s", r.Status, r.Body)
	}
	r = send("shop-a", wh.Secret, time.Now(), parcel)
	var sh shop.Shipment
	r.JSON(t, &sh)
	if r.Status != 201 || sh.Source != "warehouse" || a.status(t, o.ID) != shop.OrderShipped {
		t.Fatalf("webhook parcel: %d %s", r.Status, r.Body)
	}
	if r := send("shop-a", wh.Secret, time.Now(), parcel); r.Status != 200 {
		t.Errorf("the same parcel again: %d %s", r.Status, r.Body)
	}

	// B's staff and A's staff at B's address: not found.
	path := fmt.Sprintf("/api/admin/v1/tenants/shop-b/orders/%d/shipments", o.ID)
	for _, who := range [][]string{b.owner, a.owner} {
		if r := e.Do(t, "GET", "", path, nil, who...); r.Status != 404 {
			t.Errorf("A's shipments at B: %d %s", r.Status, r.Body)
		}
		if r := e.Do(t, "POST", "", path, map[string]string{"carrier": "jd", "tracking_no": "JD0000000009"}, who...); r.Status != 404 {
			t.Errorf("shipping A's order at B: %d %s", r.Status, r.Body)
		}
	}
	// A push for A's parcel, signed with B's salt, at B's callback: B has no such parcel.
	acct := b.sandbox(t, "/sandbox/v1/kuaidi100/accounts", map[string]any{"key": fmt.Sprintf("tenant:%d", b.t.ID)})
	param := `{"status":"polling","lastResult":{"state":"3","nu":"JD0000000001","com":"jd","data":[{"time":"2026-11-30 10:00:00","ftime":"2026-11-30 10:00:00","context":"已签收","statusCode":"3"}]}}`
	form := url.Values{"param": {param}, "sign": {kuaidi100.Sign(param, acct["salt"].(string))}}
	resp, err := http.Post(fmt.Sprintf("%s/api/v1/logistics/kuaidi100/shop-b?shipment=%d", e.API.URL, sh.ID), "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || a.status(t, o.ID) != shop.OrderShipped {
		t.Fatalf("A's parcel pushed at B: %d %s", resp.StatusCode, raw)
	}
	// The same push at A's callback with B's salt: refused.
	resp, err = http.Post(fmt.Sprintf("%s/api/v1/logistics/kuaidi100/shop-a?shipment=%d", e.API.URL, sh.ID), "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || a.status(t, o.ID) != shop.OrderShipped {
		t.Fatalf("B's salt at A: %d", resp.StatusCode)
	}
	if n := b.count(t, `SELECT count(*) FROM shipments WHERE tenant_id = ?`, b.t.ID); n != 0 {
		t.Errorf("B has %d shipments", n)
	}
}

// The buyer tracks their order in the Mini Program; another buyer cannot.
func TestBuyerTracking(t *testing.T) {
	e := payEnv(t)
	l := newLogiShop(t, e, "track-shop")
	o := l.declared(t, 0, 1)
	other := l.shopper(t, "someone-else", idNumber(77))
	path := fmt.Sprintf("/api/v1/orders/%d/shipments", o.ID)
	var got struct{ Shipments []shop.BuyerShipment }
	if r := l.buyer.do(t, "GET", path, nil); r.Status != 200 {
		t.Fatalf("before shipping: %d %s", r.Status, r.Body)
	} else if r.JSON(t, &got); len(got.Shipments) != 0 {
		t.Fatalf("parcels before shipping: %+v", got)
	}
	e.StartWorker(t)
	_, sh, _ := l.ship(t, o.ID, "ems", "EM1000000001CN")
	l.waitSubscribed(t, o.ID, sh.ID)
	l.advance(t, "ems", "EM1000000001CN", 3)
	r := l.buyer.do(t, "GET", path, nil)
	r.JSON(t, &got)
	if r.Status != 200 || len(got.Shipments) != 1 || len(got.Shipments[0].Traces) != 3 || got.Shipments[0].State != shop.ShipCustoms ||
		!strings.Contains(got.Shipments[0].Traces[0].Context, "待清关") {
		t.Fatalf("tracking: %d %s", r.Status, r.Body)
	}
	if r := other.do(t, "GET", path, nil); r.Status != 404 {
		t.Errorf("another buyer: %d %s", r.Status, r.Body)
	}
}
