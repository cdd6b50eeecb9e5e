package tenant_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/tenant"
)

// BenchmarkPermissionCheck measures one permission check (Casbin, RBAC with
// domains) with 10, 1,000 and 50,000 tenants of 5 users each, for a user
// who holds the permission and for one who does not.
//
//	make bench   (or: go test -run '^$' -bench PermissionCheck ./tenant/)
func BenchmarkPermissionCheck(b *testing.B) {
	for _, n := range []int{10, 1_000, 50_000} {
		e := testenv.New(b)
		db := e.App.DB
		must := func(err error) {
			if err != nil {
				b.Fatal(err)
			}
		}
		must(db.Exec(`INSERT INTO tenants (slug, name) SELECT 'brand-' || i, 'Brand ' || i FROM generate_series(1, ?) i`, n).Error)
		must(db.Exec(`INSERT INTO users (email, password_hash) SELECT 'u' || i || '@bench.test', 'x' FROM generate_series(1, ?) i`, n*5).Error)
		// User k of tenant t (k = 0..4) has roles[k].
		must(db.Exec(`INSERT INTO memberships (tenant_id, user_id, role)
			SELECT t.id, u.id, (ARRAY['owner','admin','catalog_manager','order_manager','viewer'])[1 + (u.id - 1) % 5]
			FROM tenants t JOIN users u ON (u.id - 1) / 5 = t.id - (SELECT min(id) FROM tenants)`).Error)
		start := time.Now()
		az, err := tenant.NewAuthorizer(db, nil, e.App.Log)
		must(err)
		load := time.Since(start)
		var minT, minU int64
		must(db.Raw(`SELECT min(id) FROM tenants`).Scan(&minT).Error)
		must(db.Raw(`SELECT min(id) FROM users`).Scan(&minU).Error)
		type probe struct {
			tenant int64
			sub    string
		}
		probes := make([]probe, 4096)
		for i := range probes {
			t := rand.IntN(n)
			k := rand.IntN(5)
			probes[i] = probe{minT + int64(t), tenant.UserSubject(minU + int64(t*5+k))}
		}
		b.Run(fmt.Sprintf("tenants=%d/users=%d/allowed", n, n*5), func(b *testing.B) {
			b.ReportMetric(load.Seconds(), "load-s")
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				p := probes[i%len(probes)]
				if !az.Allowed(p.tenant, "shop:read", p.sub) {
					b.Fatalf("%s lacks shop:read in tenant %d", p.sub, p.tenant)
				}
			}
		})
		b.Run(fmt.Sprintf("tenants=%d/users=%d/denied", n, n*5), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				p := probes[i%len(probes)]
				// A member of one shop asking about the next one.
				if az.Allowed(p.tenant+1, "catalog:write", p.sub) {
					b.Fatal("cross-tenant permission")
				}
			}
		})
	}
}
