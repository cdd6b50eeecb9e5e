package shop_test

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minishop/minishop/internal/kuaidi100"
	"github.com/minishop/minishop/internal/testenv"
)

// TestKuaidi100PushRate measures pushes through the HTTP callback:
// signature check, every trace of the history stored once, the parcel's
// state moved and the order's timeline written. Each push carries one more
// trace than the one before, as Kuaidi100's do (the whole history every
// time), capped at 30 traces. It prints the rate and asserts nothing about
// it; it runs only when asked (the shop helpers take a *testing.T, so this
// is a test rather than a benchmark):
//
//	MINISHOP_BENCH_PUSHES=2000 go test -run TestKuaidi100PushRate -v ./shop/
func TestKuaidi100PushRate(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("MINISHOP_BENCH_PUSHES"))
	if n <= 0 {
		t.Skip("set MINISHOP_BENCH_PUSHES to the number of pushes to send")
	}
	e := testenv.New(t)
	l := newLogiShop(t, e, "push-rate")
	o := l.declared(t, 0, 1)
	_, sh, _ := l.ship(t, o.ID, "yuantong", "YT9000000001")
	acct := l.sandbox(t, "/sandbox/v1/kuaidi100/accounts", map[string]any{"key": fmt.Sprintf("tenant:%d", l.t.ID)})
	salt := acct["salt"].(string)
	cb := fmt.Sprintf("%s/api/v1/logistics/kuaidi100/%s?shipment=%d", e.API.URL, l.t.Slug, sh.ID)
	start := time.Date(2026, 11, 30, 8, 0, 0, 0, time.FixedZone("CST", 8*3600))
	var traces []string
	began := time.Now()
	for i := range n {
		at := start.Add(time.Duration(i) * time.Minute).Format("2006-01-02 15:04:05")
		state := []string{"1", "0", "10", "11", "12", "5"}[i%6]
		traces = append([]string{fmt.Sprintf(`{"time":%q,"ftime":%q,"context":"trace %d","statusCode":%q}`, at, at, i, state)}, traces...)
		if len(traces) > 30 {
			traces = traces[:30]
		}
		param := fmt.Sprintf(`{"status":"polling","lastResult":{"state":%q,"nu":"YT9000000001","com":"yuantong","data":[%s]}}`, state, strings.Join(traces, ","))
		form := url.Values{"param": {param}, "sign": {kuaidi100.Sign(param, salt)}}
		resp, err := http.Post(cb, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("push %d: %d", i, resp.StatusCode)
		}
	}
	d := time.Since(began)
	t.Logf("%d pushes in %s: %.0f pushes/s, %.2f ms each (histories of up to 30 traces)", n, d.Round(time.Millisecond),
		float64(n)/d.Seconds(), float64(d.Microseconds())/float64(n)/1000)
	if got := l.shipments(t, o.ID).Shipments[0]; got.LastTraceAt == nil {
		t.Errorf("no trace applied: %+v", got)
	}
}
