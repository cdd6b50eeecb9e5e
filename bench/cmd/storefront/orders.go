package main

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/minishop/minishop/internal/app"
	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/shop"
)

// The mixed run: storefront reads (half first list pages, half product
// details) while stock moves on the hot shops, as checkouts move it.
//
// Each "order" takes 1 unit of a SKU of one of the -hot first tenants
// (products picked as the reads pick them, so popular products sell more)
// through Shop.RecordMovement (an adjustment of −1): the same committed
// stock change and the same cache invalidation as a checkout's reservation
// (before the precise invalidation, both invalidated the whole shop; after
// it, both invalidate only a band that changed), without the Mini Program
// sign-in, addresses and buyer identities a real checkout needs, which
// these seeded shops do not have. A SKU with nothing left is restocked (+30,
// a receipt), as a brand would.

// stockMover places the orders of the mixed run.
type stockMover struct {
	a                         *app.App
	o                         options
	pick                      func(r *mrand.Rand) (int, int)
	orders, restocks, refused atomic.Int64
}

// run moves stock at o.orders per second until ctx ends.
func (m *stockMover) run(ctx context.Context) {
	r := mrand.New(mrand.NewPCG(7, 11))
	tick := time.NewTicker(time.Duration(float64(time.Second) / m.o.orders))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		t := 1 + r.IntN(min(m.o.hot, m.o.tenants))
		_, i := m.pick(r)
		p := productID(t, i, m.o.products)
		sku := p*4 + 1 + int64(r.IntN(2+i%3)) // the product's SKUs are 4p+1 … 4p+k (seed.go)
		tctx := scope.WithActor(scope.WithTenant(ctx, int64(t)), scope.Actor{Kind: "system", ID: "bench-orders"})
		in := shop.MoveInput{SKUID: sku, WarehouseID: int64(t), Kind: shop.MoveAdjusted, Quantity: -1, Reason: "bench order"}
		if _, err := m.a.Shop.RecordMovement(tctx, in); err == nil {
			m.orders.Add(1)
			continue
		} else if ctx.Err() != nil {
			return
		}
		in.Kind, in.Quantity, in.Reason = shop.MoveReceived, 30, "bench restock"
		if _, err := m.a.Shop.RecordMovement(tctx, in); err == nil {
			m.restocks.Add(1)
		} else {
			m.refused.Add(1)
		}
	}
}

// mixedRun measures the reads while stock moves, and prints one line.
func mixedRun(ctx context.Context, a *app.App, tg target, o options, pick func(r *mrand.Rand) (int, int), runLoad func(time.Duration) result) error {
	m := &stockMover{a: a, o: o, pick: pick}
	mctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); m.run(mctx) }()
	_ = runLoad(o.warmup)
	before := a.Shop.CatalogCacheStats()
	orders0 := m.orders.Load()
	peak := runLoad(o.duration)
	after := a.Shop.CatalogCacheStats()
	orders := m.orders.Load() - orders0
	stop()
	<-done
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if peak.errors > 0 {
		return fmt.Errorf("%s: %d of %d requests failed, first: %s", tg.name, peak.errors, peak.requests, peak.firstErr)
	}
	hits, misses := after.Hits-before.Hits, after.Misses-before.Misses
	hit := ""
	if hits+misses > 0 {
		hit = fmt.Sprintf("%.1f%%", 100*float64(hits)/float64(hits+misses))
	}
	fmt.Printf("%-22s %10.0f %9s %9s %9s %10s %14s %9s\n", tg.name, peak.rate(), ms(peak.lat.quantile(0.5)), ms(peak.lat.quantile(0.99)),
		ms(peak.lat.max), "", "", hit)
	fmt.Printf("  stock moved during the run: %d orders (%.1f/s) on the %d hottest shops, %d restocks, %d refused; cache: %d hits, %d misses, %d bypassed\n",
		orders, float64(orders)/peak.elapsed.Seconds(), min(o.hot, o.tenants), m.restocks.Load(), m.refused.Load(), hits, misses, after.Bypassed-before.Bypassed)
	return nil
}

// mixedTarget reads first list pages and product details, half and half.
func mixedTarget(url, enc string, pick func(r *mrand.Rand) (int, int), host func(int) string, o options) target {
	return target{name: "mixed + orders", url: url, encoding: enc, next: func(r *mrand.Rand) (string, string) {
		t, i := pick(r)
		if r.IntN(2) == 0 {
			return host(t), "/api/v1/products"
		}
		return host(t), "/api/v1/products/" + strconv.FormatInt(productID(t, i, o.products), 10)
	}}
}
