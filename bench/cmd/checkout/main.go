// Command checkout measures checkout and WeChat Pay prepay against the real
// HTTP handler (app.New(...).Handler()) and the WeChat Pay sandbox over
// real HTTP, with real signatures: buyers sign in with sandbox wx.login
// codes, then
//
//  1. steady load: each of C connections places an order (POST
//     /api/v1/orders) and starts its payment (POST /api/v1/orders/:id/pay,
//     which signs a JSAPI prepay to the sandbox and signs the
//     wx.requestPayment parameters), for -duration; it prints pairs/s and
//     p50/p99 of each step;
//  2. a flash sale: -buyers buyers at once on a SKU with -units units; it
//     prints the time to sell out, the answers and whether anything was
//     oversold (reserved and ordered units against stock, from SQL);
//  3. the ceiling: pgbench running a comparable write transaction (lock a
//     stock row, insert an order and an event) on the same Postgres.
//
// It needs DATABASE_URL and REDIS_URL (scripts/services.sh up; . .minishop/env),
// and creates and drops a database of its own.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/minishop/minishop/bench/internal/benchdb"
	"github.com/minishop/minishop/internal/app"
	"github.com/minishop/minishop/internal/config"
	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/sandbox"
	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/tenant"
)

type options struct {
	duration    time.Duration
	concurrency int
	buyers      int
	units       int
	pgbench     bool
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of the steady checkout + prepay run (and of pgbench)")
	flag.IntVar(&o.concurrency, "concurrency", 16, "concurrent buyers in the steady run (and pgbench clients)")
	flag.IntVar(&o.buyers, "buyers", 1000, "buyers in the flash sale")
	flag.IntVar(&o.units, "units", 100, "units on sale in the flash sale")
	flag.BoolVar(&o.pgbench, "pgbench", true, "run pgbench as the ceiling")
	flag.Parse()
	ctx := context.Background()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "checkout bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	pgURL, redisURL := os.Getenv("DATABASE_URL"), os.Getenv("REDIS_URL")
	if pgURL == "" || redisURL == "" {
		return errors.New("set DATABASE_URL and REDIS_URL (scripts/services.sh up, then . .minishop/env)")
	}
	fmt.Printf("Checkout + WeChat Pay prepay load test\n  command: %s\n", strings.Join(os.Args, " "))
	fmt.Printf("  machine: %d CPUs (GOMAXPROCS %d) shared by the load generator, the server, the sandbox, Postgres and Redis; %s\n",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version())
	dbURL, drop, err := benchdb.Create(ctx, pgURL, "minishop_bench_checkout_")
	if err != nil {
		return err
	}
	defer drop()

	seed := make([]byte, 32)
	_, _ = rand.Read(seed)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sb, err := sandbox.New(sandbox.Options{Seed: seed, Logger: log})
	if err != nil {
		return err
	}
	sbURL, stopSB, err := serve(sb.Handler())
	if err != nil {
		return err
	}
	defer stopSB()
	defer sb.StopPay()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	appURL := "http://" + ln.Addr().String()
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	cfg.DatabaseURL, cfg.RedisURL, cfg.BaseDomain, cfg.Dev = dbURL, redisURL, "shop.bench", false
	cfg.SandboxURL, cfg.SandboxSeed, cfg.PublicURL = sbURL, seed, appURL
	cfg.MasterKey = make([]byte, 32)
	_, _ = rand.Read(cfg.MasterKey)
	if cfg.DataDir, err = os.MkdirTemp("", "minishop-bench-"); err != nil {
		return err
	}
	defer os.RemoveAll(cfg.DataDir)
	cfg.MediaDir = cfg.DataDir
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go a.Resolver.Listen(lctx)
	srv := app.HTTPServer("", a.Handler())
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	// One shop, provisioned (sandbox Mini Program and direct merchant), with
	// a cheap SKU in ample stock and a flash-sale SKU.
	tn, err := a.Tenants.Create(ctx, tenant.CreateInput{Slug: "bench-brand", Name: "Bench Brand"})
	if err != nil {
		return err
	}
	tctx := scope.WithTenant(ctx, tn.ID)
	if err := a.Tenants.Provision(tctx, "bench-provision"); err != nil {
		return err
	}
	mp, err := a.Tenants.MiniProgramCredentials(tctx)
	if err != nil {
		return err
	}
	var steadySKU, saleSKU int64
	if err := db.InTenant(tctx, a.DB, func(tx *gorm.DB) error {
		if steadySKU, err = seedSKU(tx, tn.ID, "Soap", 100, 1_000_000_000); err != nil {
			return err
		}
		saleSKU, err = seedSKU(tx, tn.ID, "Limited cream", 9900, int64(o.units))
		return err
	}); err != nil {
		return err
	}
	c := &client{http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}},
		app: appURL, sb: sbURL, host: "bench-brand.shop.bench", appID: mp.AppID}

	n := max(o.buyers, o.concurrency)
	t0 := time.Now()
	buyers, err := c.signUp(ctx, n)
	if err != nil {
		return err
	}
	fmt.Printf("  setup: %d buyers signed in (wx.login code, address, buyer identity) in %s\n\n", n, time.Since(t0).Round(time.Millisecond))

	// 1. Steady checkout + prepay.
	var mu sync.Mutex
	var lat struct{ order, pay, pair []time.Duration }
	var fails atomic.Int64
	var seq atomic.Int64
	deadline := time.Now().Add(o.duration)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range o.concurrency {
		wg.Add(1)
		go func(b buyer) {
			defer wg.Done()
			for time.Now().Before(deadline) {
				t1 := time.Now()
				id, st, err := c.order(ctx, b, steadySKU, "s"+strconv.FormatInt(seq.Add(1), 10))
				t2 := time.Now()
				if err != nil || st != 201 {
					fails.Add(1)
					continue
				}
				st, err = c.pay(ctx, b, id)
				t3 := time.Now()
				if err != nil || st != 200 {
					fails.Add(1)
					continue
				}
				mu.Lock()
				lat.order, lat.pay, lat.pair = append(lat.order, t2.Sub(t1)), append(lat.pay, t3.Sub(t2)), append(lat.pair, t3.Sub(t1))
				mu.Unlock()
			}
		}(buyers[i])
	}
	wg.Wait()
	el := time.Since(start)
	fmt.Printf("1. steady load: %d buyers, %s\n", o.concurrency, o.duration)
	fmt.Printf("   %-30s %9s %9s %9s %9s\n", "", "per s", "p50", "p99", "max")
	for _, r := range []struct {
		name string
		d    []time.Duration
	}{{"order (POST /orders)", lat.order}, {"prepay (POST /orders/:id/pay)", lat.pay}, {"order + prepay", lat.pair}} {
		fmt.Printf("   %-30s %9.1f %9s %9s %9s\n", r.name, float64(len(r.d))/el.Seconds(), pct(r.d, 50), pct(r.d, 99), pct(r.d, 100))
	}
	fmt.Printf("   failed pairs: %d\n\n", fails.Load())

	// 2. Flash sale: every buyer at once, one unit each.
	var sold, soldOut, other atomic.Int64
	var lastSale atomic.Int64
	codes := sync.Map{}
	gate := make(chan struct{})
	start = time.Now()
	for i := range o.buyers {
		wg.Add(1)
		go func(b buyer) {
			defer wg.Done()
			<-gate
			_, st, err := c.order(ctx, b, saleSKU, "flash")
			switch {
			case err == nil && st == 201:
				sold.Add(1)
				lastSale.Store(int64(time.Since(start)))
			case err == nil && (st == 409 || st == 422):
				soldOut.Add(1)
			default:
				other.Add(1)
				k := fmt.Sprint(st, err)
				v, _ := codes.LoadOrStore(k, new(atomic.Int64))
				v.(*atomic.Int64).Add(1)
			}
		}(buyers[i])
	}
	start = time.Now()
	close(gate)
	wg.Wait()
	total := time.Since(start)
	var stock struct{ OnHand, Reserved, Ordered int64 }
	if err := db.InTenant(tctx, a.DB, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT (SELECT sum(on_hand) FROM stock_levels WHERE tenant_id = ? AND sku_id = ?) AS on_hand,
			(SELECT sum(reserved) FROM stock_levels WHERE tenant_id = ? AND sku_id = ?) AS reserved,
			(SELECT coalesce(sum(l.quantity), 0) FROM order_lines l JOIN orders o ON o.tenant_id = l.tenant_id AND o.id = l.order_id
			  WHERE l.tenant_id = ? AND l.sku_id = ? AND o.status NOT IN ('cancelled', 'closed')) AS ordered`,
			tn.ID, saleSKU, tn.ID, saleSKU, tn.ID, saleSKU).Scan(&stock).Error
	}); err != nil {
		return err
	}
	oversold := max(stock.Ordered-int64(o.units), 0)
	fmt.Printf("2. flash sale: %d buyers at once on %d units\n", o.buyers, o.units)
	fmt.Printf("   sold %d, refused as sold out %d, other answers %d; sold out after %s (last answer after %s)\n",
		sold.Load(), soldOut.Load(), other.Load(), time.Duration(lastSale.Load()).Round(time.Millisecond), total.Round(time.Millisecond))
	codes.Range(func(k, v any) bool { fmt.Printf("   other: %v ×%d\n", k, v.(*atomic.Int64).Load()); return true })
	fmt.Printf("   stock: on hand %d, reserved %d, ordered %d; oversold = %d\n\n", stock.OnHand, stock.Reserved, stock.Ordered, oversold)

	// 3. The ceiling.
	if o.pgbench {
		if err := pgbench(ctx, dbURL, o); err != nil {
			fmt.Printf("3. pgbench: %v\n", err)
		}
	}
	if oversold > 0 {
		return fmt.Errorf("oversold %d units", oversold)
	}
	return nil
}

// seedSKU inserts a published, customs-complete product with one SKU and
// its stock, as the catalog admin leaves them.
func seedSKU(tx *gorm.DB, tid int64, title string, price, stock int64) (int64, error) {
	var pid, sku, wid int64
	if err := tx.Raw(`INSERT INTO products (tenant_id, status, content, images, published_at)
		VALUES (?, 'published', ?, '[{"hash":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}]', now()) RETURNING id`,
		tid, fmt.Sprintf(`{"en":{"title":%q}}`, title)).Scan(&pid).Error; err != nil {
		return 0, err
	}
	if err := tx.Raw(`INSERT INTO skus (tenant_id, product_id, code, option_values, price, tax_category, hs_code, origin_country, gname, gmodel,
		unit, legal_unit1, legal_qty1, net_weight_g, gross_weight_g, item_record_no, positive_list)
		VALUES (?, ?, ?, '["50ml"]', ?, 'general', '3304990099', '330', '面霜', 'Brand 50ml', '007', '035', 0.05, 50, 400, 'REC0001', true) RETURNING id`,
		tid, pid, fmt.Sprintf("P%d", pid), price).Scan(&sku).Error; err != nil {
		return 0, err
	}
	if err := tx.Raw(`INSERT INTO warehouses (tenant_id, code, name, kind) VALUES (?, 'W0', 'Bonded', 'bonded')
		ON CONFLICT (tenant_id, code) DO UPDATE SET name = EXCLUDED.name RETURNING id`, tid).Scan(&wid).Error; err != nil {
		return 0, err
	}
	return sku, tx.Exec(`INSERT INTO stock_levels (tenant_id, sku_id, warehouse_id, on_hand) VALUES (?, ?, ?, ?)`, tid, sku, wid, stock).Error
}

type client struct {
	http          *http.Client
	app, sb, host string
	appID         string
}

type buyer struct {
	token             string
	address, identity int64
}

// do sends a JSON request and decodes a JSON answer into out (if not nil).
func (c *client) do(ctx context.Context, base, host, method, path, token string, in, out any, hdr ...string) (int, error) {
	b, _ := json.Marshal(in)
	req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Host = host
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %w: %.200s", method, path, err, raw)
		}
	}
	return resp.StatusCode, nil
}

// signUp signs n buyers in, each with an address and a buyer identity.
func (c *client) signUp(ctx context.Context, n int) ([]buyer, error) {
	out := make([]buyer, n)
	errc := make(chan error, n)
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var code struct{ Code string }
			if _, err := c.do(ctx, c.sb, "", "POST", "/sandbox/v1/wx-login-code", "", map[string]string{"appid": c.appID, "user": "buyer-" + strconv.Itoa(i)}, &code); err != nil {
				errc <- err
				return
			}
			var login struct{ Token string }
			if st, err := c.do(ctx, c.app, c.host, "POST", "/api/v1/auth/wechat", "", map[string]string{"code": code.Code}, &login); err != nil || st != 200 {
				errc <- fmt.Errorf("login: %d %v", st, err)
				return
			}
			var addr, id struct{ ID int64 }
			if st, err := c.do(ctx, c.app, c.host, "POST", "/api/v1/me/addresses", login.Token, map[string]any{"consignee": "张三", "phone": "13800138000",
				"province_code": "310000", "city_code": "310100", "district_code": "310115", "province": "上海市", "city": "上海市",
				"district": "浦东新区", "detail": "漕溪北路 1 号"}, &addr); err != nil || st != 201 {
				errc <- fmt.Errorf("address: %d %v", st, err)
				return
			}
			if st, err := c.do(ctx, c.app, c.host, "POST", "/api/v1/me/identities", login.Token, map[string]string{"name": "张三", "id_number": idNumber(i)}, &id); err != nil || st != 201 {
				errc <- fmt.Errorf("identity: %d %v", st, err)
				return
			}
			out[i] = buyer{token: login.Token, address: addr.ID, identity: id.ID}
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return nil, err
	}
	return out, nil
}

func (c *client) order(ctx context.Context, b buyer, sku int64, key string) (int64, int, error) {
	var o struct{ ID int64 }
	st, err := c.do(ctx, c.app, c.host, "POST", "/api/v1/orders", b.token, map[string]any{"lines": []map[string]int64{{"sku_id": sku, "quantity": 1}},
		"address_id": b.address, "identity_id": b.identity}, &o, "Idempotency-Key", key)
	return o.ID, st, err
}

func (c *client) pay(ctx context.Context, b buyer, id int64) (int, error) {
	var p struct {
		Params struct{ PaySign string } `json:"params"`
	}
	st, err := c.do(ctx, c.app, c.host, "POST", "/api/v1/orders/"+strconv.FormatInt(id, 10)+"/pay", b.token, nil, &p)
	if err == nil && st == 200 && p.Params.PaySign == "" {
		err = errors.New("pay: no paySign")
	}
	return st, err
}

// idNumber is a valid resident ID number for n (check digit per GB 11643);
// n below 1000 gives distinct people.
func idNumber(n int) string {
	base := fmt.Sprintf("1101051990%02d%02d%03d", 1+n/28%12, 1+n%28, n%1000)
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 17 {
		sum += int(base[i]-'0') * w[i]
	}
	return base + string("10X98765432"[sum%11])
}

func pct(d []time.Duration, p int) string {
	if len(d) == 0 {
		return "-"
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100
	i = min(max(i-1, 0), len(s)-1)
	return fmt.Sprintf("%.1fms", float64(s[i].Microseconds())/1000)
}

func serve(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// pgbench runs a write transaction like checkout's core (lock a stock row,
// reserve, insert an order and its event) on the same Postgres, as the
// ceiling of what the database alone does on this machine.
func pgbench(ctx context.Context, dbURL string, o options) error {
	c, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	_, err = c.Exec(ctx, `CREATE TABLE pgb_stock (id int PRIMARY KEY, on_hand bigint, reserved bigint);
		INSERT INTO pgb_stock SELECT g, 1000000000, 0 FROM generate_series(1, 100) g;
		CREATE TABLE pgb_orders (id bigserial PRIMARY KEY, sku int, amount bigint, address jsonb, created_at timestamptz DEFAULT now());
		CREATE TABLE pgb_events (id bigserial PRIMARY KEY, order_id bigint, kind text, data jsonb, created_at timestamptz DEFAULT now());`)
	c.Close(ctx)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "pgbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "checkout.sql")
	if err := os.WriteFile(script, []byte(`\set sku random(1, 100)
BEGIN;
UPDATE pgb_stock SET reserved = reserved + 1 WHERE id = :sku AND on_hand - reserved >= 1;
INSERT INTO pgb_orders (sku, amount, address) VALUES (:sku, 110, '{"consignee":"张三","detail":"漕溪北路 1 号"}') RETURNING id \gset
INSERT INTO pgb_events (order_id, kind, data) VALUES (:id, 'created', '{"lines":1}');
COMMIT;
`), 0o600); err != nil {
		return err
	}
	u, _ := url.Parse(dbURL)
	cmd := exec.CommandContext(ctx, "pgbench", "-n", "-r", "-c", strconv.Itoa(o.concurrency), "-j", "2", "-T", strconv.Itoa(int(max(o.duration.Seconds(), 1))),
		"-f", script, u.String())
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s (install with scripts/ensure-tools.sh pgbench)", err, out)
	}
	fmt.Printf("3. ceiling: pgbench, %d clients, %s, transaction = lock+reserve stock, insert order, insert event\n", o.concurrency, o.duration)
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "tps") || strings.HasPrefix(l, "latency average") || strings.HasPrefix(l, "number of transactions actually") {
			fmt.Println("   " + strings.TrimSpace(l))
		}
	}
	return nil
}
