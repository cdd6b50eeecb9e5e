// Package app wires Minishop together: it opens Postgres and Redis, builds the
// services and the HTTP router, and is what every command and the end-to-end
// tests start from. Nothing here is global; main owns the App.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/minishop/minishop/billing"
	"github.com/minishop/minishop/internal/config"
	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/httpx"
	"github.com/minishop/minishop/internal/openapi"
	"github.com/minishop/minishop/internal/outbox"
	"github.com/minishop/minishop/internal/vault"
	"github.com/minishop/minishop/shop"
	"github.com/minishop/minishop/tenant"
	webadmin "github.com/minishop/minishop/web/admin"
	"github.com/minishop/minishop/worker"
)

// AppRole is the database role servers and workers run as.
const AppRole = "minishop_app"

// App is a running Minishop's dependencies.
type App struct {
	Cfg       *config.Config
	Log       *slog.Logger
	DB        *gorm.DB
	Redis     *redis.Client
	RedisOpt  asynq.RedisConnOpt
	Queue     *asynq.Client
	Inspector *asynq.Inspector
	Keys      *vault.Keyring
	Resolver  *tenant.Resolver
	Tenants   *tenant.Service
	Accounts  *tenant.Accounts
	Authz     *tenant.Authorizer
	Team      *tenant.Team
	Mailer    tenant.Mailer
	Shop      *shop.Service
	Payments  *billing.Gateway
	Reconcile *billing.Reconciler
	Registry  *prometheus.Registry
	metrics   *httpx.Metrics
	guard     *tenant.Guard
}

// NewLogger builds the process logger from the configuration.
func NewLogger(cfg *config.Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// New connects to Postgres (as AppRole) and Redis and builds the services.
// cfg.MasterKey must be set.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger) (*App, error) {
	keys, err := vault.New(cfg.MasterKey)
	if err != nil {
		return nil, fmt.Errorf("MINISHOP_MASTER_KEY: %w", err)
	}
	g, err := db.Open(ctx, cfg.DatabaseURL, db.Options{Role: AppRole})
	if err != nil {
		return nil, err
	}
	ropt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		db.Close(g)
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	redis.SetLogger(redisLogger{log}) // go-redis has one logger per process
	ropt.DialTimeout, ropt.ReadTimeout, ropt.WriteTimeout = 3*time.Second, 3*time.Second, 3*time.Second
	rdb := redis.NewClient(ropt)
	aopt, err := asynq.ParseRedisURI(cfg.RedisURL)
	if err != nil {
		db.Close(g)
		rdb.Close()
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	a := &App{Cfg: cfg, Log: log, DB: g, Redis: rdb, RedisOpt: aopt, Keys: keys,
		Queue: asynq.NewClient(aopt), Inspector: asynq.NewInspector(aopt), Registry: prometheus.NewRegistry()}
	a.Resolver = tenant.NewResolver(g, rdb, cfg.BaseDomain, cfg.TenantCacheTTL, 100_000, log)
	a.Tenants = tenant.NewService(g, keys, a.Resolver, cfg.SandboxURL, log)
	a.Accounts = tenant.NewAccounts(g, keys, rdb, log, cfg.PasswordParams)
	if a.Authz, err = tenant.NewAuthorizer(g, rdb, log); err != nil {
		a.Close()
		return nil, err
	}
	a.Mailer = &tenant.OutboxMailer{DB: g, Log: log, Print: cfg.Dev}
	a.Team = tenant.NewTeam(g, a.Accounts, a.Authz, a.Mailer, cfg.PublicURL)
	a.Team.SetResolver(a.Resolver)
	rates, err := shop.ParseTaxRates(cfg.TaxVAT, cfg.TaxFactor, cfg.TaxConsumption)
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("MINISHOP_TAX_*: %w", err)
	}
	payTimeout, err := shop.ParsePaymentTimeout(cfg.OrderPaymentTimeout)
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("MINISHOP_ORDER_PAYMENT_TIMEOUT: %w", err)
	}
	a.Shop = shop.New(shop.Deps{DB: g, Redis: rdb, Keys: keys, Platform: vault.NewPlatformKeys(keys, g), Tenants: a.Tenants, Rates: rates, Media: shop.Disk{Dir: cfg.MediaDir},
		Log: log, SandboxURL: cfg.SandboxURL, WeChatAPI: cfg.WeChatAPI, Checkout: shop.OrderConfig{PaymentTimeout: payTimeout},
		CustomsAgent: shop.CustomsAgent{URL: cfg.CustomsAgentURL, DxpID: cfg.CustomsAgentDxpID}})
	a.Shop.SetCatalogCacheLimit(int64(cfg.CatalogCacheMB) << 20)
	a.Payments = a.newPayments()
	a.Shop.Logistics = shop.LogisticsConfig{CallbackBase: cfg.PublicURL, AutoComplete: time.Duration(cfg.OrderAutoCompleteDays) * 24 * time.Hour}
	a.Shop.SetPaymentGateway(a.Payments)
	a.Shop.SetWeChatPayClients(a.Payments.Client)
	a.Reconcile = &billing.Reconciler{DB: g, Client: a.Payments.Client, Paid: a.Shop.MarkPaid, Log: log}
	a.metrics = httpx.NewMetrics(a.Registry)
	a.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		worker.NewQueueCollector(a.Inspector))
	return a, nil
}

// newPayments builds WeChat Pay behind the shop: one client per tenant,
// cached until its credentials change, against the sandbox in test mode and
// WeChat Pay (or WeChat Pay Global) in live mode; notifications come back
// to MINISHOP_PUBLIC_URL + billing.NotifyPath with the tenant's slug.
func (a *App) newPayments() *billing.Gateway {
	clients := &billing.Clients{Source: a.Tenants, SandboxURL: a.Cfg.SandboxURL, HTTP: billing.DefaultHTTP()}
	url := func(path string) func(ctx context.Context) (string, error) {
		return func(ctx context.Context) (string, error) {
			slug, err := a.Tenants.SlugOf(ctx)
			if err != nil {
				return "", err
			}
			return a.Cfg.PublicURL + strings.TrimSuffix(path, ":slug") + slug, nil
		}
	}
	return &billing.Gateway{Client: clients.Client, NotifyURL: url(billing.NotifyPath), RefundNotifyURL: url(billing.RefundNotifyPath),
		Paid: a.Shop.MarkPaid, Refunded: a.Shop.RefundNotified, MCC: "5977"}
}

// Close releases connections.
func (a *App) Close() {
	a.Queue.Close()
	a.Inspector.Close()
	a.Redis.Close()
	db.Close(a.DB)
}

// Relay returns an outbox relay feeding this app's queues.
func (a *App) Relay() *outbox.Relay {
	return &outbox.Relay{DB: a.DB, Enqueuer: a.Queue, Log: a.Log, ListenURL: a.Cfg.DatabaseURL, InFlight: a.Cfg.TaskInFlight}
}

// WorkerMux returns the task handlers.
func (a *App) WorkerMux() *asynq.ServeMux {
	return worker.Mux(worker.Deps{DB: a.DB, Tenants: a.Tenants, Shop: a.Shop, Log: a.Log, Reconcile: a.Reconcile})
}

// Scheduler returns the scheduler of periodic tasks (every work process runs one).
func (a *App) Scheduler() (*asynq.Scheduler, error) {
	s, err := worker.NewScheduler(a.RedisOpt, a.Log, worker.EveryMinute())
	if err != nil {
		return nil, err
	}
	if err := worker.RegisterPaymentQuery(s, worker.EveryMinute()); err != nil {
		return nil, err
	}
	// Receipts of customs declarations, fetched from the declaration agents.
	if _, err := s.Register(worker.EveryMinute().Spec, asynq.NewTask(shop.TaskCustomsPoll, nil), asynq.TaskID(shop.TaskCustomsPoll),
		asynq.Queue(outbox.QueueDefault), asynq.MaxRetry(0), asynq.Timeout(50*time.Second), asynq.Retention(3*time.Minute)); err != nil {
		return nil, err
	}
	// WeChat Pay's outcome of payment declarations (支付报关).
	if _, err := s.Register(worker.EveryMinute().Spec, asynq.NewTask(shop.TaskCustomsPaymentPoll, nil), asynq.TaskID(shop.TaskCustomsPaymentPoll),
		asynq.Queue(outbox.QueueDefault), asynq.MaxRetry(0), asynq.Timeout(50*time.Second), asynq.Retention(3*time.Minute)); err != nil {
		return nil, err
	}
	// Tracking queries, subscriptions, shipping-upload retries and auto-completion.
	if _, err := s.Register(worker.EveryMinute().Spec, asynq.NewTask(shop.TaskLogisticsSweep, nil), asynq.TaskID(shop.TaskLogisticsSweep),
		asynq.Queue(outbox.QueueDefault), asynq.MaxRetry(0), asynq.Timeout(50*time.Second), asynq.Retention(3*time.Minute)); err != nil {
		return nil, err
	}
	// 03:00 UTC is 11:00 in China: the previous day's bills are out.
	if _, err := s.Register("0 3 * * *", asynq.NewTask(billing.TaskReconcileDaily, nil), asynq.TaskID(billing.TaskReconcileDaily),
		asynq.Queue(outbox.QueueLow), asynq.MaxRetry(3), asynq.Timeout(10*time.Minute), asynq.Retention(time.Hour)); err != nil {
		return nil, err
	}
	return s, nil
}

// Checks reports the reachability of each dependency ("ok" or the error).
func (a *App) Checks(ctx context.Context) (map[string]string, bool) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	out := map[string]string{"postgres": "ok", "redis": "ok"}
	ok := true
	if err := db.SQL(a.DB).PingContext(ctx); err != nil {
		out["postgres"], ok = "unreachable: "+err.Error(), false
	}
	if err := a.Redis.Ping(ctx).Err(); err != nil {
		out["redis"], ok = "unreachable: "+err.Error(), false
	}
	return out, ok
}

// Router builds the HTTP handler of `serve`.
func (a *App) Router() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	_ = r.SetTrustedProxies(nil) // client IPs come from the socket unless configured otherwise
	r.Use(httpx.RequestID(), httpx.Recover(a.Log), httpx.AccessLog(a.Log), a.metrics.Handler(),
		httpx.BodyLimit(a.Cfg.BodyLimit, map[string]int64{
			"/api/admin/v1/tenants/:slug/images": shop.MaxImageBytes + 64<<10,
			shop.ImportPath:                      shop.MaxImportBytes + 64<<10,
		}), httpx.Timeout(a.Cfg.RequestTimeout))
	r.NoRoute(httpx.NoRoute)
	r.NoMethod(httpx.NoMethod)

	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", func(c *gin.Context) {
		checks, ok := a.Checks(c.Request.Context())
		if !ok {
			httpx.Error(c, errs.E(errs.Unavailable, "not_ready", "a dependency is unreachable").WithDetails(checks))
			return
		}
		c.JSON(http.StatusOK, gin.H{"status": "ready", "checks": checks})
	})
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(a.Registry, promhttp.HandlerOpts{})))
	console := gin.WrapH(webadmin.Handler())
	r.GET("/admin", console)
	r.GET("/admin/*path", console)
	r.HEAD("/admin/*path", console)
	ref := gin.WrapH(openapi.Handler())
	r.GET(openapi.JSONPath, ref)
	r.GET(openapi.DocsPath, ref)

	th := &tenant.Handler{Tenants: a.Tenants, Accounts: a.Accounts, Team: a.Team, Authz: a.Authz, SecureCookies: !a.Cfg.Dev}
	sh := &shop.Handler{S: a.Shop}
	storefront := r.Group("/api/v1", a.Resolver.Storefront())
	th.RegisterStorefront(storefront)
	sh.RegisterStorefront(storefront)
	// WeChat Pay's notifications: tenant from the path, no Host to go by.
	notify := a.Payments.NotifyHandler(func(ctx context.Context, slug string) (int64, error) {
		t, err := a.Resolver.BySlug(ctx, slug)
		if err != nil {
			return 0, err
		}
		return t.ID, nil
	}, a.Log)
	r.POST(billing.NotifyPath, notify)
	r.POST(billing.RefundNotifyPath, notify)
	// Kuaidi100's tracking pushes and the warehouses' webhook: tenant from the path.
	sh.RegisterLogisticsCallbacks(r, func(ctx context.Context, slug string) (int64, error) {
		t, err := a.Resolver.BySlug(ctx, slug)
		if err != nil {
			return 0, err
		}
		return t.ID, nil
	})

	a.guard = tenant.NewGuard(a.Accounts, a.Tenants, a.Authz, a.Resolver)
	admin := a.guard.Router(r.Group("/api/admin/v1", a.guard.Authenticate()))
	th.RegisterSession(admin)
	th.RegisterPasswordReset(admin)
	th.RegisterPlatform(admin.Group("/platform"))
	th.RegisterAdmin(admin.Group("/tenants/:slug"))
	th.RegisterHome(admin.Group("/tenants/:slug"))
	sh.RegisterAdmin(admin.Group("/tenants/:slug"))
	billing.RegisterReconciliation(admin.Group("/tenants/:slug"), a.Reconcile)
	tenant.RegisterTasks(admin.Group("/tenants/:slug"), &tenant.Tasks{DB: a.DB, Queue: a.Inspector, Authz: a.Authz})
	if a.Cfg.Dev {
		// The dev mail outbox: invitations and resets land here instead of an inbox.
		admin.GET("/dev/mail", tenant.PermPublic, func(c *gin.Context) {
			ms, err := tenant.DevMail(c.Request.Context(), a.DB, c.Query("to"), 50)
			if err != nil {
				httpx.Error(c, err)
				return
			}
			c.JSON(http.StatusOK, gin.H{"mail": ms})
		})
	}

	// The queue monitor, read-only, for platform operators.
	mon := asynqmon.New(asynqmon.Options{RootPath: "/platform/queues", RedisConnOpt: a.RedisOpt, ReadOnly: true})
	queues := a.guard.Router(r.Group("/platform", a.guard.Authenticate()))
	queues.GET("/queues", tenant.PermPlatform, gin.WrapH(mon))
	queues.Handle(http.MethodGet, "/queues/*any", tenant.PermPlatform, gin.WrapH(mon))
	return r
}

// Guard is the admin API's guard of the last Router built (for tests that
// enumerate routes and their permissions).
func (a *App) Guard() *tenant.Guard { return a.guard }

// Handler is the whole HTTP handler: the router behind cross-origin
// protection, which refuses state-changing requests a browser sends from
// another origin (CSRF). Requests without browser headers (Mini Programs,
// API tokens, WeChat Pay notifications) pass.
func (a *App) Handler() http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"error":{"code":"cross_origin","message":"cross-origin requests are refused; use the console at its own address"}}`))
	}))
	return cop.Handler(a.Router())
}

// HTTPServer wraps h with the server-side timeouts.
func HTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
		WriteTimeout: 90 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
}

// redisLogger routes go-redis's own messages (dial retries while Redis is
// down, for instance) to the debug level: outages are reported once, by
// /readyz and the callers that fail, not once per retry.
type redisLogger struct{ l *slog.Logger }

func (r redisLogger) Printf(ctx context.Context, format string, v ...any) {
	r.l.DebugContext(ctx, fmt.Sprintf(format, v...), "component", "redis")
}
