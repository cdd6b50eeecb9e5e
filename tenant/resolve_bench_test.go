package tenant_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/tenant"
)

// BenchmarkResolve measures finding the tenant of a Host at 10 and 10,000
// tenants: from the per-process cache (the steady state) and from Postgres
// (a cold cache), and the whole GET /api/v1/shop request in process.
//
//	make bench   (or: go test -run '^$' -bench Resolve ./tenant/)
func BenchmarkResolve(b *testing.B) {
	for _, n := range []int{10, 10_000} {
		e := testenv.New(b)
		if err := e.App.DB.Exec(`INSERT INTO tenants (slug, name) SELECT 'brand-' || i, 'Brand ' || i FROM generate_series(1, ?) i`, n).Error; err != nil {
			b.Fatal(err)
		}
		// Shop profiles, one tenant at a time as RLS demands.
		if err := e.App.DB.Exec(`DO $$ DECLARE r record; BEGIN
			FOR r IN SELECT id FROM tenants LOOP
				PERFORM set_config('app.tenant_id', r.id::text, true);
				INSERT INTO shops (tenant_id) VALUES (r.id);
			END LOOP; END $$`).Error; err != nil {
			b.Fatal(err)
		}
		hosts := make([]string, 1024)
		for i := range hosts {
			hosts[i] = fmt.Sprintf("brand-%d.shop.test", 1+rand.IntN(n))
		}
		ctx := context.Background()
		b.Run(fmt.Sprintf("tenants=%d/cached", n), func(b *testing.B) {
			for _, h := range hosts { // warm
				if _, err := e.App.Resolver.Resolve(ctx, h); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if _, err := e.App.Resolver.Resolve(ctx, hosts[i%len(hosts)]); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("tenants=%d/uncached", n), func(b *testing.B) {
			// A one-entry cache over 1,024 random hosts: nearly every lookup goes to Postgres.
			cold := tenant.NewResolver(e.App.DB, nil, "shop.test", time.Minute, 1, e.App.Log)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := cold.Resolve(ctx, hosts[i%len(hosts)]); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("tenants=%d/unknown-host", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := e.App.Resolver.Resolve(ctx, "no-such-brand.shop.test"); err == nil {
					b.Fatal("resolved an unknown host")
				}
			}
		})
		router := e.App.Router()
		b.Run(fmt.Sprintf("tenants=%d/GET-shop-request", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				req := httptest.NewRequest("GET", "/api/v1/shop", nil)
				req.Host = hosts[i%len(hosts)]
				w := httptest.NewRecorder()
				router.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}
