package shop_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/shop"
	"github.com/minishop/minishop/tenant"
)

// BenchmarkImport50kSKUs imports 10,000 published products of 5 SKUs each
// (a 50,000-row CSV) into an empty shop in one all-or-nothing transaction,
// then the same file again (nothing changes), then exports the catalog. It
// prints wall times and peak memory: the Go heap sampled during the import,
// and the process's VmHWM (which includes the test binary and its
// dependencies).
//
//	go test -run '^$' -bench Import50k -benchtime 1x ./shop/
func BenchmarkImport50kSKUs(b *testing.B) {
	e := testenv.New(b)
	tn, err := e.App.Tenants.Create(context.Background(), tenant.CreateInput{Slug: "bench-shop", Name: "Bench"})
	if err != nil {
		b.Fatal(err)
	}
	ctx := scope.WithTenant(context.Background(), tn.ID)
	file := bigCatalog(10_000, 5, "p")
	for i := 0; i < b.N; i++ {
		var peak atomic.Uint64
		stop := make(chan struct{})
		go func() {
			var m runtime.MemStats
			for {
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > peak.Load() {
					peak.Store(m.HeapAlloc)
				}
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
		runtime.GC()
		start := time.Now()
		job, err := e.App.Shop.StartImport(ctx, "bench.csv", file, shop.ImportOptions{Sync: true})
		first := time.Since(start)
		close(stop)
		if err != nil || job.Status != shop.ImportSucceeded || job.Summary.SKUsCreated != 50_000 {
			b.Fatalf("import: %v %+v", err, job)
		}
		start = time.Now()
		job, err = e.App.Shop.StartImport(ctx, "bench.csv", file, shop.ImportOptions{Sync: true})
		again := time.Since(start)
		if err != nil || job.Summary.SKUsUnchanged != 50_000 {
			b.Fatalf("re-import: %v %+v", err, job)
		}
		start = time.Now()
		var out bytes.Buffer
		if err := e.App.Shop.Export(ctx, shop.FormatCSV, &out); err != nil {
			b.Fatal(err)
		}
		export := time.Since(start)
		fmt.Printf("import of 50,000 SKUs (10,000 products, %.1f MiB CSV): %s (%.0f SKUs/s), peak Go heap %.0f MiB, VmHWM %s\n",
			float64(len(file))/(1<<20), first.Round(time.Millisecond), 50_000/first.Seconds(), float64(peak.Load())/(1<<20), vmHWM())
		fmt.Printf("same file again (no change): %s; export to CSV: %s (%.1f MiB)\n", again.Round(time.Millisecond), export.Round(time.Millisecond), float64(out.Len())/(1<<20))
		b.ReportMetric(first.Seconds(), "import-s")
		b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
	}
}

func vmHWM() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "n/a"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	return "n/a"
}
