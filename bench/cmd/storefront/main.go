// Command storefront load-tests the storefront catalog reads: it creates a
// fresh database, seeds N tenants × M published products with SQL, starts
// the real HTTP handler (app.New(...).Handler()) and a bare gin handler that
// returns the same bytes from memory (the ceiling), and drives both with its
// own load generator over keep-alive connections. It prints throughput,
// latency quantiles, the ratio to the ceiling, and p99 at half of the
// measured peak (an open-loop, rate-limited run).
//
//	scripts/services.sh up && . .minishop/env
//	go run ./bench/cmd/storefront -tenants 10000 -products 100 -duration 10s
//
// make bench runs it at 10 and 10,000 tenants (bench/run.sh).
//
// With -orders R it also measures a mixed run: reads while R orders a second
// move stock on the -hot busiest shops (orders.go), printing the cache hit
// ratio; -mixed-only skips the other runs:
//
//	go run ./bench/cmd/storefront -tenants 100 -products 100 -dist zipf -orders 5 -mixed-only -duration 20s
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/minishop/minishop/bench/internal/benchdb"
	"github.com/minishop/minishop/internal/app"
	"github.com/minishop/minishop/internal/config"
)

type options struct {
	tenants, products int
	duration, warmup  time.Duration
	concurrency       int
	cacheMB           int
	seedWorkers       int
	redisDB           int
	dist              string
	prewarm           string
	gzip              bool
	keep, logRequests bool
	cpuProfile        string
	orders            float64 // orders a second during the mixed run (0: no mixed run)
	hot               int     // shops that take the orders
	mixedOnly         bool
}

func main() {
	var o options
	flag.IntVar(&o.tenants, "tenants", 10, "tenants (N)")
	flag.IntVar(&o.products, "products", 100, "published products per tenant (M)")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of each measured run")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured load before each peak run")
	flag.IntVar(&o.concurrency, "concurrency", 32, "concurrent connections (C)")
	flag.IntVar(&o.cacheMB, "cache-mb", 0, "catalog cache budget in MiB (0: the server's default)")
	flag.IntVar(&o.seedWorkers, "seed-workers", 2, "connections seeding at once")
	flag.IntVar(&o.redisDB, "redis-db", -1, "Redis database for the server (-1: the last one)")
	flag.StringVar(&o.dist, "dist", "uniform", "how tenants and products are picked: uniform, or zipf (a few popular ones)")
	flag.StringVar(&o.prewarm, "prewarm", "auto", "what to render into the cache before the runs: lists, all (every list and product), or auto (all up to 100,000 products)")
	flag.BoolVar(&o.gzip, "gzip", true, "send Accept-Encoding: gzip, as a Mini Program does (the ceiling then serves the same compressed bytes)")
	flag.BoolVar(&o.keep, "keep", false, "keep the database afterwards")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the measured runs of the real server (load generator included) to this file")
	flag.Float64Var(&o.orders, "orders", 0, "orders a second moving stock on the hot shops during a mixed read run (0: no mixed run)")
	flag.IntVar(&o.hot, "hot", 10, "how many of the first (with -dist zipf, the most read) shops take the orders")
	flag.BoolVar(&o.mixedOnly, "mixed-only", false, "run only the mixed run (needs -orders)")
	flag.BoolVar(&o.logRequests, "log", false, "write the server's access log to stderr (default: formatted and discarded)")
	flag.Parse()
	if o.tenants < 1 || o.products < 1 || o.concurrency < 1 || (o.dist != "uniform" && o.dist != "zipf") ||
		(o.prewarm != "auto" && o.prewarm != "lists" && o.prewarm != "all") || o.orders < 0 || o.hot < 1 || (o.mixedOnly && o.orders == 0) {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	pgURL, redisURL := os.Getenv("DATABASE_URL"), os.Getenv("REDIS_URL")
	if pgURL == "" || redisURL == "" {
		return errors.New("set DATABASE_URL and REDIS_URL (scripts/services.sh up, then . .minishop/env)")
	}
	fmt.Printf("Storefront catalog load test: %d tenants × %d products\n", o.tenants, o.products)
	fmt.Printf("  command: %s\n", strings.Join(os.Args, " "))

	t0 := time.Now()
	dbURL, drop, err := benchdb.Create(ctx, pgURL, "minishop_bench_")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Printf("  database kept: %s\n", dbURL)
	} else {
		defer drop()
	}
	migrated := time.Since(t0)
	t0 = time.Now()
	skus, err := seed(ctx, dbURL, o.tenants, o.products, o.seedWorkers)
	if err != nil {
		return err
	}
	fmt.Printf("  database: migrated in %s, seeded in %s (%d products, %d SKUs with stock)\n",
		migrated.Round(time.Millisecond), time.Since(t0).Round(time.Millisecond), o.tenants*o.products, skus)

	// The real server, as `minishop serve` runs it.
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	cfg.DatabaseURL = dbURL
	if cfg.RedisURL, err = redisDB(ctx, redisURL, o.redisDB); err != nil {
		return err
	}
	cfg.BaseDomain = "shop.bench"
	cfg.Dev = false
	cfg.MasterKey = make([]byte, 32)
	_, _ = rand.Read(cfg.MasterKey)
	cfg.DataDir, err = os.MkdirTemp("", "minishop-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(cfg.DataDir)
	cfg.MediaDir = cfg.DataDir
	var logOut io.Writer = io.Discard
	if o.logRequests {
		logOut = os.Stderr
	}
	log := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelInfo}))
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	defer forgetVersions(a.Redis, o.tenants)
	if o.cacheMB > 0 {
		a.Shop.SetCatalogCacheLimit(int64(o.cacheMB) << 20)
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go a.Resolver.Listen(lctx)
	go a.Authz.Listen(lctx, 10*time.Minute)
	appURL, stopApp, err := serve(app.HTTPServer("", a.Handler()))
	if err != nil {
		return err
	}
	defer stopApp()

	client := newClient(o.concurrency)
	pick := picker(o)
	host := func(t int) string { return "brand-" + strconv.Itoa(t) + ".shop.bench" }
	listPath := "/api/v1/products"
	detailPath := func(t, i int) string { return "/api/v1/products/" + strconv.FormatInt(productID(t, i, o.products), 10) }
	enc := ""
	if o.gzip {
		enc = "gzip"
	}
	list := target{name: "list (20 items)", url: appURL, encoding: enc, next: func(r *mrand.Rand) (string, string) {
		t, _ := pick(r)
		return host(t), listPath
	}}
	detail := target{name: "detail", url: appURL, encoding: enc, next: func(r *mrand.Rand) (string, string) {
		t, i := pick(r)
		return host(t), detailPath(t, i)
	}}

	// The ceilings: the same bytes from memory through bare gin.
	listBody, listEnc, err := fetch(ctx, client, appURL, host(1), listPath, enc)
	if err != nil {
		return err
	}
	detailBody, detailEnc, err := fetch(ctx, client, appURL, host(1), detailPath(1, 1), enc)
	if err != nil {
		return err
	}
	gin.SetMode(gin.ReleaseMode)
	bare := gin.New()
	bare.GET("/api/v1/products", func(c *gin.Context) {
		if listEnc != "" {
			c.Header("Content-Encoding", listEnc)
		}
		c.Data(http.StatusOK, "application/json; charset=utf-8", listBody)
	})
	bare.GET("/api/v1/products/:id", func(c *gin.Context) {
		if detailEnc != "" {
			c.Header("Content-Encoding", detailEnc)
		}
		c.Data(http.StatusOK, "application/json; charset=utf-8", detailBody)
	})
	ceilURL, stopCeil, err := serve(app.HTTPServer("", bare))
	if err != nil {
		return err
	}
	defer stopCeil()
	ceilList := target{name: "ceiling: list bytes", url: ceilURL, encoding: enc, next: list.next}
	ceilDetail := target{name: "ceiling: detail bytes", url: ceilURL, encoding: enc, next: detail.next}

	// Fill the cache with every list page and, when there are not too many,
	// every product, so that the runs measure the cached path.
	t0 = time.Now()
	n := prewarm(ctx, client, appURL, o, host, detailPath, o.prewarm == "all" || (o.prewarm == "auto" && o.tenants*o.products <= 100_000))
	st := a.Shop.CatalogCacheStats()
	fmt.Printf("  cache: prewarmed %d responses in %s; %d entries, %.1f MiB of %.0f MiB\n", n, time.Since(t0).Round(time.Millisecond),
		st.Entries, float64(st.Bytes)/(1<<20), float64(st.Limit)/(1<<20))
	fmt.Printf("  bodies as sent: list %d bytes, detail %d bytes (Content-Encoding %q, %q)\n", len(listBody), len(detailBody), listEnc, detailEnc)
	fmt.Printf("  load: %d connections, %s warm-up then %s per run; %s tenants and products\n", o.concurrency, o.warmup, o.duration, o.dist)
	fmt.Printf("  machine: %d CPUs (GOMAXPROCS %d) shared by the load generator, the server, Postgres and Redis; %s\n\n",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version())

	fmt.Printf("%-22s %10s %9s %9s %9s %10s %14s %9s\n", "", "req/s", "p50", "p99", "max", "vs ceiling", "p99 @ 50% peak", "cache hit")
	var ceiling float64
	runs := []target{ceilList, list, ceilDetail, detail}
	if o.mixedOnly {
		runs = nil
	}
	for _, tg := range runs {
		isCeiling := strings.HasPrefix(tg.name, "ceiling")
		_ = load(ctx, client, tg, o.concurrency, o.warmup, 0, false)
		before := a.Shop.CatalogCacheStats()
		if o.cpuProfile != "" && !isCeiling {
			if err := startProfile(o.cpuProfile, tg.name); err != nil {
				return err
			}
		}
		peak := load(ctx, client, tg, o.concurrency, o.duration, 0, true)
		pprof.StopCPUProfile()
		after := a.Shop.CatalogCacheStats()
		half := load(ctx, client, tg, o.concurrency, o.duration, peak.rate()/2, true)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		for _, r := range []result{peak, half} {
			if r.errors > 0 {
				return fmt.Errorf("%s: %d of %d requests failed, first: %s", tg.name, r.errors, r.requests, r.firstErr)
			}
		}
		vs, hit := "", ""
		if isCeiling {
			ceiling = peak.rate()
		} else {
			vs = fmt.Sprintf("%.0f%%", 100*peak.rate()/ceiling)
			if looked := (after.Hits - before.Hits) + (after.Misses - before.Misses); looked > 0 {
				hit = fmt.Sprintf("%.1f%%", 100*float64(after.Hits-before.Hits)/float64(looked))
			}
		}
		fmt.Printf("%-22s %10.0f %9s %9s %9s %10s %14s %9s\n", tg.name, peak.rate(), ms(peak.lat.quantile(0.5)), ms(peak.lat.quantile(0.99)),
			ms(peak.lat.max), vs, fmt.Sprintf("%s @ %.0f/s", ms(half.lat.quantile(0.99)), half.rate()), hit)
	}
	if o.orders > 0 {
		tg := mixedTarget(appURL, enc, pick, host, o)
		if err := mixedRun(ctx, a, tg, o, pick, func(d time.Duration) result { return load(ctx, client, tg, o.concurrency, d, 0, true) }); err != nil {
			return err
		}
	}
	fmt.Println()
	return nil
}

// startProfile profiles the next run into file, suffixed with the target.
func startProfile(file, target string) error {
	name := strings.Fields(target)[0]
	f, err := os.Create(strings.TrimSuffix(file, ".pprof") + "-" + name + ".pprof")
	if err != nil {
		return err
	}
	return pprof.StartCPUProfile(f)
}

func ms(d time.Duration) string {
	if d < time.Millisecond {
		return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
	}
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}

// picker returns how a request picks a tenant (1…N) and a product (1…M).
func picker(o options) func(r *mrand.Rand) (int, int) {
	if o.dist == "uniform" {
		return func(r *mrand.Rand) (int, int) { return 1 + r.IntN(o.tenants), 1 + r.IntN(o.products) }
	}
	// Zipf (s = 1.1): rank k is chosen in proportion to 1/k^s.
	zt, zp := zipf(o.tenants), zipf(o.products)
	return func(r *mrand.Rand) (int, int) { return zt(r), zp(r) }
}

func zipf(n int) func(r *mrand.Rand) int {
	cdf := make([]float64, n)
	sum := 0.0
	for k := 1; k <= n; k++ {
		sum += 1 / math.Pow(float64(k), 1.1)
		cdf[k-1] = sum
	}
	return func(r *mrand.Rand) int {
		x := r.Float64() * sum
		lo, hi := 0, n-1
		for lo < hi {
			mid := (lo + hi) / 2
			if cdf[mid] < x {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		return lo + 1
	}
}

// serve serves h on a loopback port.
func serve(srv *http.Server) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// fetch returns a response's bytes as sent, and its Content-Encoding.
func fetch(ctx context.Context, client *http.Client, base, host, path, encoding string) ([]byte, string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	req.Host = host
	if encoding != "" {
		req.Header.Set("Accept-Encoding", encoding)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s at %s: %s: %s", path, host, resp.Status, b)
	}
	return b, resp.Header.Get("Content-Encoding"), err
}

// prewarm requests every tenant's first list page (and every product when
// details is set) with as many connections as the load runs.
func prewarm(ctx context.Context, client *http.Client, base string, o options, host func(int) string, detail func(t, i int) string, details bool) int {
	type req struct{ host, path string }
	reqs := make(chan req)
	done := make(chan int)
	for range o.concurrency {
		go func() {
			n := 0
			for r := range reqs {
				if _, _, err := fetch(ctx, client, base, r.host, r.path, "gzip"); err == nil {
					n++
				}
			}
			done <- n
		}()
	}
	for t := 1; t <= o.tenants && ctx.Err() == nil; t++ {
		reqs <- req{host(t), "/api/v1/products"}
		for i := 1; details && i <= o.products; i++ {
			reqs <- req{host(t), detail(t, i)}
		}
	}
	close(reqs)
	n := 0
	for range o.concurrency {
		n += <-done
	}
	return n
}

// redisDB returns REDIS_URL pointing at database n (-1: the server's last),
// so that the benchmark's keys stay away from a dev server's.
func redisDB(ctx context.Context, redisURL string, n int) (string, error) {
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		return "", fmt.Errorf("REDIS_URL: %w", err)
	}
	if n < 0 {
		c := redis.NewClient(opt)
		defer c.Close()
		v, err := c.ConfigGet(ctx, "databases").Result()
		if err != nil {
			return "", fmt.Errorf("Redis at REDIS_URL: %w", err)
		}
		if n, err = strconv.Atoi(v["databases"]); err != nil || n < 1 {
			n = 16
		}
		n--
	}
	u, err := url.Parse(redisURL)
	if err != nil {
		return "", fmt.Errorf("REDIS_URL: %w", err)
	}
	u.Path = "/" + strconv.Itoa(n)
	return u.String(), nil
}

// forgetVersions deletes the catalog versions the run left in Redis.
func forgetVersions(rdb *redis.Client, tenants int) {
	ctx := context.Background()
	p := rdb.Pipeline()
	for t := 1; t <= tenants; t++ {
		p.Del(ctx, "minishop:catalog:v:"+strconv.Itoa(t), "minishop:catalog:h:"+strconv.Itoa(t))
		if t%1000 == 0 {
			_, _ = p.Exec(ctx)
		}
	}
	_, _ = p.Exec(ctx)
}
