package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"
)

// Seeded ids are computed, not looked up: tenant t (1…n) is brand-t, its
// products are (t-1)·m+1 … t·m, product p's SKUs are 4p+1 … 4p+k (k = 2…4).
func productID(t, i, m int) int64 { return int64(t-1)*int64(m) + int64(i) }

// seedStatements fill tenants lo…hi (parameters $1, $2; $3 is products per
// tenant) with a warehouse, 4 categories, 3 images and m published products
// of 2 to 4 SKUs each, with stock. Ids are given explicitly (OVERRIDING
// SYSTEM VALUE) so that SKUs and prices follow from the product's number.
var seedStatements = []string{
	`INSERT INTO tenants (id, slug, name) OVERRIDING SYSTEM VALUE
	 SELECT t, 'brand-' || t, 'Brand ' || t FROM generate_series($1::bigint, $2::bigint) t`,
	`INSERT INTO shops (tenant_id) SELECT t FROM generate_series($1::bigint, $2::bigint) t`,
	`INSERT INTO warehouses (tenant_id, id, code, name, kind) OVERRIDING SYSTEM VALUE
	 SELECT t, t, 'HZ', 'Hangzhou bonded', 'bonded' FROM generate_series($1::bigint, $2::bigint) t`,
	`INSERT INTO categories (tenant_id, id, parent_id, name, sort) OVERRIDING SYSTEM VALUE
	 SELECT t, (t - 1) * 4 + c, CASE WHEN c > 2 THEN (t - 1) * 4 + c - 2 END,
	        jsonb_build_object('en', 'Category ' || c, 'zh-CN', '类别 ' || c), c
	 FROM generate_series($1::bigint, $2::bigint) t, generate_series(1, 4) c`,
	`INSERT INTO images (tenant_id, hash, content_type, size, width, height)
	 SELECT t, encode(sha256(convert_to(t || '/' || i, 'UTF8')), 'hex'), 'image/jpeg', 48000, 800, 800
	 FROM generate_series($1::bigint, $2::bigint) t, generate_series(1, 3) i`,
	`INSERT INTO products (tenant_id, id, status, category_id, brand, content, options, images, min_price, sales_count, published_at, created_at)
	 OVERRIDING SYSTEM VALUE
	 SELECT t, (t - 1) * $3 + i, 'published', (t - 1) * 4 + 1 + i % 4, 'Brand ' || t,
	   jsonb_build_object(
	     'en', jsonb_build_object('title', 'Cloudberry Serum No. ' || i, 'subtitle', 'Arctic skincare from Sweden',
	       'description', '<p>Cold-pressed <b>cloudberry</b> seed oil, 30 ml. Dermatologically tested. Product ' || i || '.</p>'),
	     'zh-CN', jsonb_build_object('title', '云莓精华 ' || i || ' 号', 'subtitle', '来自瑞典的北极护肤',
	       'description', '<p>冷榨<b>云莓</b>籽油，30 毫升。经皮肤科测试。商品 ' || i || '。</p>')),
	   jsonb_build_array(jsonb_build_object('name', jsonb_build_object('en', 'Size', 'zh-CN', '规格'),
	     'values', (SELECT jsonb_agg(jsonb_build_object('en', 'S' || j, 'zh-CN', '规格 ' || j)) FROM generate_series(1, 2 + i % 3) j))),
	   jsonb_build_array(
	     jsonb_build_object('hash', encode(sha256(convert_to(t || '/' || (1 + i % 3), 'UTF8')), 'hex'), 'alt', jsonb_build_object('en', 'Bottle')),
	     jsonb_build_object('hash', encode(sha256(convert_to(t || '/' || (1 + (i + 1) % 3), 'UTF8')), 'hex'))),
	   1000 + ((t * 7919 + i * 104729) % 500) * 100, (i * 37) % 1000,
	   now() - i * interval '1 minute', now() - i * interval '1 minute'
	 FROM generate_series($1::bigint, $2::bigint) t, generate_series(1, $3::int) i`,
	`INSERT INTO skus (tenant_id, id, product_id, code, option_values, price, compare_at_price, tax_category, sort,
	   hs_code, origin_country, gname, gmodel, unit, legal_unit1, legal_qty1, net_weight_g, gross_weight_g, item_record_no, positive_list)
	 OVERRIDING SYSTEM VALUE
	 SELECT t, ((t - 1) * $3 + i) * 4 + j, (t - 1) * $3 + i, 'P' || ((t - 1) * $3 + i) || '-' || j, jsonb_build_array('S' || j),
	   1000 + ((t * 7919 + i * 104729) % 500) * 100 + (j - 1) * 1000,
	   CASE WHEN j = 1 THEN 1000 + ((t * 7919 + i * 104729) % 500) * 100 + 2000 END,
	   CASE WHEN i % 2 = 0 THEN 'premium_cosmetics' ELSE 'general' END, j,
	   '3304990099', '330', '精华液', 'Brand|30ml', '007', '035', 0.05, 50, 120, 'ITEM' || i, true
	 FROM generate_series($1::bigint, $2::bigint) t, generate_series(1, $3::int) i, generate_series(1, 4) j
	 WHERE j <= 2 + i % 3`,
	`INSERT INTO stock_levels (tenant_id, sku_id, warehouse_id, on_hand)
	 SELECT t, ((t - 1) * $3 + i) * 4 + j, t, (i * 7 + j * 13) % 40
	 FROM generate_series($1::bigint, $2::bigint) t, generate_series(1, $3::int) i, generate_series(1, 4) j
	 WHERE j <= 2 + i % 3`,
}

// seed fills the database with n tenants of m products, in chunks of
// tenants on workers connections. A superuser (the dev cluster's owner role)
// bypasses row-level security and inserts many tenants per statement;
// another role inserts one tenant at a time with app.tenant_id set, as RLS
// demands.
func seed(ctx context.Context, dbURL string, n, m, workers int) (skus int64, err error) {
	c, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return 0, err
	}
	var super bool
	if err := c.QueryRow(ctx, `SELECT rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&super); err != nil {
		c.Close(ctx)
		return 0, err
	}
	// The trigram index is built once at the end: much faster than row by row.
	if _, err := c.Exec(ctx, `DROP INDEX products_title_search`); err != nil {
		c.Close(ctx)
		return 0, err
	}
	c.Close(ctx)
	chunk := 250
	if !super {
		chunk = 1
	}
	next := make(chan [2]int)
	g, gctx := errgroup.WithContext(ctx)
	go func() {
		defer close(next)
		for lo := 1; lo <= n; lo += chunk {
			select {
			case next <- [2]int{lo, min(lo+chunk-1, n)}:
			case <-gctx.Done():
				return
			}
		}
	}()
	for range workers {
		g.Go(func() error {
			c, err := pgx.Connect(gctx, dbURL)
			if err != nil {
				return err
			}
			defer c.Close(context.Background())
			if _, err := c.Exec(gctx, `SET synchronous_commit = off`); err != nil {
				return err
			}
			for r := range next {
				err := pgx.BeginFunc(gctx, c, func(tx pgx.Tx) error {
					if !super {
						if _, err := tx.Exec(gctx, `SELECT set_config('app.tenant_id', $1, true)`, fmt.Sprint(r[0])); err != nil {
							return err
						}
					}
					for _, q := range seedStatements {
						args := []any{r[0], r[1]}
						if strings.Contains(q, "$3") {
							args = append(args, m)
						}
						if _, err := tx.Exec(gctx, q, args...); err != nil {
							return fmt.Errorf("seeding tenants %d…%d: %w", r[0], r[1], err)
						}
					}
					return nil
				})
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	c, err = pgx.Connect(ctx, dbURL)
	if err != nil {
		return 0, err
	}
	defer c.Close(ctx)
	for _, q := range []string{
		`SET maintenance_work_mem = '512MB'`,
		`CREATE INDEX products_title_search ON products USING gin (title_search gin_trgm_ops)`,
		// Later inserts (none in the benchmark) must not collide with the given ids.
		`SELECT setval(pg_get_serial_sequence('tenants', 'id'), (SELECT max(id) FROM tenants))`,
		`SELECT setval(pg_get_serial_sequence('products', 'id'), (SELECT max(id) FROM products))`,
		`SELECT setval(pg_get_serial_sequence('skus', 'id'), (SELECT max(id) FROM skus))`,
		`SELECT setval(pg_get_serial_sequence('categories', 'id'), (SELECT max(id) FROM categories))`,
		`SELECT setval(pg_get_serial_sequence('warehouses', 'id'), (SELECT max(id) FROM warehouses))`,
		`ANALYZE`,
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			return 0, fmt.Errorf("%s: %w", q, err)
		}
	}
	err = c.QueryRow(ctx, `SELECT count(*) FROM skus`).Scan(&skus)
	return skus, err
}
