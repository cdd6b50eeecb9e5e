// Command reconcile measures the reconciliation of a large WeChat Pay trade
// bill: the sandbox generates a bill of N payment rows (streamed, never
// held), the WeChat Pay client asks for it and downloads it over HTTP
// (signed request, gzip, SHA-1 over the uncompressed stream), and
// billing.Matcher reads and matches it row by row. Our side is a book
// that knows every generated payment (as the database would, looked up in
// batches of 500), so the run exercises the matching path without
// discrepancies. It prints the wall time, rows per second and peak memory
// (Go heap sampled every 5 ms, and VmHWM, the process's peak resident
// set), to show that memory does not grow with the bill.
//
//	go run ./bench/cmd/reconcile -rows 100000
//	go run ./bench/cmd/reconcile -rows 1000000
//
// The sandbox runs in the same process (it streams too). The database side
// (lookups and discrepancy writes) is not part of this figure.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/minishop/minishop/billing"
	"github.com/minishop/minishop/billing/wechatpay"
	"github.com/minishop/minishop/internal/sandbox"
)

func main() {
	rows := flag.Int("rows", 1_000_000, "payment rows in the generated bill")
	flag.Parse()
	if err := run(*rows); err != nil {
		fmt.Fprintln(os.Stderr, "reconcile bench:", err)
		os.Exit(1)
	}
}

// genBook knows the generated payments: transaction 4200 + i (24 digits)
// of 100 + i%50000 fen, out_trade_no GEN + i (10 digits).
type genBook struct{}

func (genBook) Day(context.Context, time.Time) (map[string]billing.OurPayment, map[string]billing.OurRefund, error) {
	return map[string]billing.OurPayment{}, map[string]billing.OurRefund{}, nil
}

func (genBook) Find(_ context.Context, txns, _ []string) (map[string]billing.OurPayment, map[string]billing.OurRefund, error) {
	out := make(map[string]billing.OurPayment, len(txns))
	for _, t := range txns {
		i, err := strconv.Atoi(strings.TrimLeft(strings.TrimPrefix(t, "4200"), "0") + "0")
		if err != nil {
			continue
		}
		i /= 10
		out[t] = billing.OurPayment{TransactionID: t, OutTradeNo: fmt.Sprintf("GEN%010d", i), Amount: int64(100 + i%50000), Disposition: "applied"}
	}
	return out, nil, nil
}

func run(n int) error {
	seed := []byte("reconcile-bench-seed-0123456789ab")
	sb, err := sandbox.New(sandbox.Options{Seed: seed})
	if err != nil {
		return err
	}
	srv := httptest.NewServer(sb.Handler())
	defer srv.Close()
	defer sb.StopPay()
	m, err := sb.PayMerchant("bench", sandbox.PayModeDirect)
	if err != nil {
		return err
	}
	appID, _ := sandbox.AppFor(seed, "bench")
	cst := time.FixedZone("CST", 8*3600)
	day, _ := time.ParseInLocation("2006-01-02", time.Now().In(cst).AddDate(0, 0, -1).Format("2006-01-02"), cst)
	body, _ := json.Marshal(map[string]any{"mch_id": m.MchID, "date": day.Format("2006-01-02"), "generate": n})
	resp, err := http.Post(srv.URL+"/sandbox/v1/pay/bill-faults", "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("bill-faults: %s", resp.Status)
	}
	raw, _ := json.Marshal(m)
	var creds wechatpay.Credentials
	if err := json.Unmarshal(raw, &creds); err != nil {
		return err
	}
	cfg, err := creds.Config(srv.URL, appID)
	if err != nil {
		return err
	}
	client, err := wechatpay.New(cfg)
	if err != nil {
		return err
	}

	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
			}
		}
	}()
	ctx := context.Background()
	start := time.Now()
	info, err := client.TradeBill(ctx, day, wechatpay.BillAll)
	if err != nil {
		return err
	}
	billReady := time.Since(start) // the sandbox hashes the whole bill before answering
	f, err := client.DownloadBill(ctx, info)
	if err != nil {
		return err
	}
	var discrepancies int
	matcher := &billing.Matcher{Book: genBook{}, Emit: func(context.Context, billing.Discrepancy) error { discrepancies++; return nil }}
	totals, problems, err := matcher.Match(ctx, day, f)
	f.Close()
	if err != nil {
		return err
	}
	wall := time.Since(start)
	close(stop)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("rows %d: wall %s (bill ready after %s; download+parse+match %s), %.0f rows/s\n",
		totals.BillRows, wall.Round(time.Millisecond), billReady.Round(time.Millisecond), (wall - billReady).Round(time.Millisecond),
		float64(totals.BillRows)/(wall-billReady).Seconds())
	fmt.Printf("  payments %s yuan, fee %s yuan, net %s yuan; discrepancies %d\n",
		billing.FormatDecimal(totals.BillPayments, 2), billing.FormatDecimal(totals.BillFee, 2), billing.FormatDecimal(totals.NetSettlement, 2), discrepancies)
	for _, p := range problems {
		// The book has no day total (it answers lookups only), so the
		// comparison with our totals is expected to differ here.
		fmt.Println("  note:", p)
	}
	fmt.Printf("  peak Go heap in use %.1f MiB, total allocated %.0f MiB, GC cycles %d, VmHWM %s\n",
		float64(peak.Load())/(1<<20), float64(ms.TotalAlloc)/(1<<20), ms.NumGC, vmHWM())
	if int(totals.BillRows) != n || discrepancies != 0 {
		return fmt.Errorf("expected %d rows and no discrepancy", n)
	}
	return nil
}

// vmHWM is the peak resident set of the process (Linux), or "n/a".
func vmHWM() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "n/a"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "n/a"
}
