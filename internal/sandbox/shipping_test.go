package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/minishop/minishop/internal/kuaidi100"
	"github.com/minishop/minishop/internal/wechat"
)

func wxCode(err error) int {
	var we *wechat.Error
	if errors.As(err, &we) {
		return we.Code
	}
	return 0
}

// The shipping-information service answers like WeChat: its format rules,
// the split-delivery and re-ship state machine, and faults on demand.
func TestShippingInfoRules(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := wechat.New(e.ts.URL)
	tok, err := c.StableToken(ctx, e.appID, e.secret, false)
	if err != nil {
		t.Fatal(err)
	}
	at := start
	info := func(txn string, mode int, all *bool, nos ...string) wechat.ShippingInfo {
		at = at.Add(time.Second)
		in := wechat.ShippingInfo{OrderKey: wechat.ShippingOrderKey{OrderNumberType: 2, TransactionID: txn}, LogisticsType: 1,
			DeliveryMode: mode, IsAllDelivered: all, UploadTime: at.Format(time.RFC3339)}
		in.Payer.OpenID = "o-buyer"
		for _, no := range nos {
			in.ShippingList = append(in.ShippingList, wechat.ShippingItem{TrackingNo: no, ExpressCompany: "YTO", ItemDesc: "面霜*1"})
		}
		return in
	}
	upload := func(in wechat.ShippingInfo) int {
		return wxCode(c.UploadShippingInfo(ctx, tok.AccessToken, in))
	}
	yes, no := true, false

	if code := wxCode(c.UploadShippingInfo(ctx, "not-a-token-at-all-0123", info("T1", 1, nil, "YT1"))); code != 40001 {
		t.Errorf("unknown token: %d", code)
	}
	for name, c := range map[string]struct {
		in   wechat.ShippingInfo
		want int
	}{
		"unified with two parcels": {info("T1", 1, nil, "YT1", "YT2"), 268485228},
		"split without is_all":     {info("T1", 2, nil, "YT1"), 10060007},
		"bad delivery mode":        {info("T1", 3, nil, "YT1"), 268485224},
		"no transaction":           {info("", 1, nil, "YT1"), 268485195},
	} {
		if got := upload(c.in); got != c.want {
			t.Errorf("%s: %d, want %d", name, got, c.want)
		}
	}
	sf := info("T1", 1, nil, "SF1")
	sf.ShippingList[0].ExpressCompany = "SF"
	if got := upload(sf); got != 10060014 {
		t.Errorf("SF without contact: %d", got)
	}

	// Split delivery: a partial upload keeps the order 待发货, the last one ships it.
	if got := upload(info("T2", 2, &no, "YT1")); got != 0 {
		t.Fatalf("partial: %d", got)
	}
	o, err := c.ShippingOrderOf(ctx, tok.AccessToken, "T2")
	if err != nil || o.OrderState != 1 || o.Shipping.FinishShipping {
		t.Fatalf("after a partial upload: %+v %v", o, err)
	}
	if got := upload(info("T2", 2, &yes, "YT1", "YT2")); got != 0 {
		t.Fatalf("complete: %d", got)
	}
	if o, _ = c.ShippingOrderOf(ctx, tok.AccessToken, "T2"); o.OrderState != 2 || !o.Shipping.FinishShipping || len(o.Shipping.ShippingList) != 2 {
		t.Fatalf("after the last parcel: %+v", o)
	}
	if got := upload(info("T2", 2, &yes, "YT1", "YT2")); got != wechat.ErrShipNothingNew {
		t.Errorf("the same again: %d", got)
	}
	stale := info("T2", 2, &yes, "YT1", "YT3")
	stale.UploadTime = start.Format(time.RFC3339)
	if got := upload(stale); got != 268485216 {
		t.Errorf("an older upload_time: %d", got)
	}
	if got := upload(info("T2", 2, &yes, "YT1", "YT3")); got != 0 {
		t.Errorf("the one re-ship: %d", got)
	}
	if got := upload(info("T2", 2, &yes, "YT1", "YT4")); got != wechat.ErrShipReshipUsed {
		t.Errorf("a second re-ship: %d", got)
	}

	// 10060001 on demand, then the upload passes.
	body, _ := json.Marshal(map[string]any{"appid": e.appID, "errcode": 10060001})
	resp, err := http.Post(e.ts.URL+"/sandbox/v1/shipping/faults", "application/json", bytes.NewReader(body))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("fault: %v %v", resp, err)
	}
	resp.Body.Close()
	if err := c.UploadShippingInfo(ctx, tok.AccessToken, info("T3", 1, nil, "YT9")); wxCode(err) != wechat.ErrShipOrderNotFound || !wechat.IsShippingRetryLater(err) {
		t.Errorf("fault: %v", err)
	}
	if got := upload(info("T3", 1, nil, "YT9")); got != 0 {
		t.Errorf("after the fault: %d", got)
	}
}

// Kuaidi100's sandbox: signed queries throttled to one per 30 minutes,
// subscriptions with their refusals, and signed pushes to the callback.
func TestKuaidi100Sandbox(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acct := Kuaidi100AccountFor(testSeed, "tenant:42")
	c := &kuaidi100.Client{BaseURL: e.ts.URL}
	var mu sync.Mutex
	var pushes []*kuaidi100.Push
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		p, err := kuaidi100.ParsePush(r.PostForm.Get("param"), r.PostForm.Get("sign"), acct.Salt)
		if err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		pushes = append(pushes, p)
		mu.Unlock()
		_, _ = w.Write(kuaidi100.PushReply(true, "成功"))
	}))
	defer cb.Close()

	bad := acct
	bad.Key = acct.Key[:31] + "0"
	if err := c.Subscribe(ctx, bad, kuaidi100.SubscribeRequest{Company: "yuantong", Number: "YT1", CallbackURL: cb.URL, Salt: acct.Salt}); err == nil || err.(*kuaidi100.Error).Code != "600" {
		t.Errorf("bad key: %v", err)
	}
	req := kuaidi100.SubscribeRequest{Company: "yuantong", Number: "YT1", CallbackURL: cb.URL, Salt: acct.Salt}
	if err := c.Subscribe(ctx, acct, req); err != nil {
		t.Fatal(err)
	}
	if err := c.Subscribe(ctx, acct, req); !kuaidi100.IsDuplicate(err) {
		t.Errorf("second subscription: %v", err)
	}
	if _, err := c.Query(ctx, bad, "yuantong", "YT1", ""); err == nil || err.(*kuaidi100.Error).Code != "503" {
		t.Errorf("query with a bad key: %v", err)
	}

	body, _ := json.Marshal(map[string]any{"company": "yuantong", "number": "YT1", "steps": 7})
	resp, err := http.Post(e.ts.URL+"/sandbox/v1/kuaidi100/advance", "application/json", bytes.NewReader(body))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("advance: %v %v", resp, err)
	}
	resp.Body.Close()
	mu.Lock()
	defer mu.Unlock()
	if len(pushes) != 7 || pushes[2].LastResult.StateCode() != kuaidi100.StateCustomsWaiting || pushes[6].Status != "shutdown" ||
		pushes[6].LastResult.StateCode() != kuaidi100.StateSigned || len(pushes[6].LastResult.Data) != 7 {
		t.Fatalf("pushes: %d, last %+v", len(pushes), pushes[len(pushes)-1])
	}

	r, err := c.Query(ctx, acct, "yuantong", "YT1", "")
	if err != nil || r.StateCode() != kuaidi100.StateSigned || len(r.Data) != 7 {
		t.Fatalf("query: %+v %v", r, err)
	}
	e.clock.Advance(29 * time.Minute)
	if _, err := c.Query(ctx, acct, "yuantong", "YT1", ""); !kuaidi100.IsTooFrequent(err) {
		t.Errorf("a query 29 minutes later: %v", err)
	}
	e.clock.Advance(time.Minute)
	if _, err := c.Query(ctx, acct, "yuantong", "YT1", ""); err != nil {
		t.Errorf("a query 30 minutes later: %v", err)
	}
	if _, err := c.Query(ctx, acct, "shunfeng", "SF1", ""); err == nil || err.(*kuaidi100.Error).Code != "408" {
		t.Errorf("SF without the phone: %v", err)
	}
}
