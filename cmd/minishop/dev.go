package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/minishop/minishop/internal/app"
	"github.com/minishop/minishop/internal/config"
	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/demo"
	"github.com/minishop/minishop/internal/sandbox"
	"github.com/minishop/minishop/tenant"
)

func devCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "dev",
		Short: "Run everything for local use: migrations, demo data, sandbox, server and worker",
		Long: `Run Minishop for local development in one process: apply migrations, load the
demo data (idempotent), start the WeChat sandbox on MINISHOP_SANDBOX_ADDR, the
HTTP server on MINISHOP_HTTP_ADDR and the worker. Dev mode generates a master
key and a sandbox seed under MINISHOP_DATA_DIR on first run and reuses them.
Ctrl-C stops everything cleanly. "make run" starts Postgres and Redis and then
runs this.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDev(cmd.Context(), cmd.OutOrStdout()) },
	}
}

func migrateUp(ctx context.Context, url string, w io.Writer) error {
	g, err := db.Open(ctx, url, db.Options{MaxOpen: 2})
	if err != nil {
		return err
	}
	defer db.Close(g)
	m, err := db.NewMigrator(db.SQL(g))
	if err != nil {
		return err
	}
	return m.Up(ctx, w)
}

func runDev(ctx context.Context, out io.Writer) error {
	cfg, log, err := loadConfig(true, true)
	if err != nil {
		return err
	}
	if err := migrateUp(ctx, cfg.DatabaseURL, io.Discard); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	sbLn, err := listen(cfg.SandboxAddr, "MINISHOP_SANDBOX_ADDR")
	if err != nil {
		return err
	}
	httpLn, err := listen(cfg.HTTPAddr, "MINISHOP_HTTP_ADDR")
	if err != nil {
		sbLn.Close()
		return err
	}
	sb, err := sandbox.New(sandbox.Options{Seed: cfg.SandboxSeed, Logger: log.With("component", "sandbox")})
	if err != nil {
		return err
	}
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	brands, err := demo.Seed(ctx, demo.Deps{Tenants: a.Tenants, Accounts: a.Accounts, Team: a.Team})
	if err != nil {
		return fmt.Errorf("demo data: %w", err)
	}

	// The banner goes out before anything is served (the listeners are open
	// and queue connections meanwhile): whoever sees /readyz answer has the
	// banner too. Deriving the sandbox merchants it names takes a moment.
	printBanner(out, cfg, httpLn.Addr(), brands, sb)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return serveSandbox(gctx, sb.Handler(), sbLn) })
	g.Go(func() error { return serveHTTP(gctx, a, httpLn) })
	g.Go(func() error { return runWorker(gctx, a) })
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// serveSandbox runs the sandbox HTTP server on ln until ctx ends.
func serveSandbox(ctx context.Context, h http.Handler, ln net.Listener) error {
	srv := app.HTTPServer(ln.Addr().String(), h)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); errors.Is(err, context.DeadlineExceeded) {
		// A connection opened but not yet used counts as busy for its
		// first five seconds, so Shutdown can time out with nothing in
		// flight. The sandbox keeps no state worth waiting for: close.
		_ = srv.Close()
	} else if err != nil {
		return err
	}
	return nil
}

func printBanner(w io.Writer, cfg *config.Config, addr net.Addr, brands []tenant.Tenant, sb *sandbox.Server) {
	port := "80"
	if _, p, err := net.SplitHostPort(addr.String()); err == nil {
		port = p
	}
	base := "http://" + cfg.BaseDomain + ":" + port
	var b strings.Builder
	fmt.Fprintf(&b, "\nMinishop is running in dev mode. Ctrl-C stops everything.\n\n")
	fmt.Fprintf(&b, "  Health           %s/readyz   (metrics: %s/metrics)\n", base, base)
	fmt.Fprintf(&b, "  Admin console    %s/admin/\n", cfg.PublicURL)
	fmt.Fprintf(&b, "  Admin API        %s/api/admin/v1   (sign in: POST /api/admin/v1/session)\n", base)
	fmt.Fprintf(&b, "  Queue monitor    %s/platform/queues\n", base)
	fmt.Fprintf(&b, "  WeChat sandbox   %s   (wx.login: POST /sandbox/v1/wx-login-code {\"appid\":\"...\"})\n\n", cfg.SandboxURL)
	fmt.Fprintf(&b, "  Demo sign-in (password %q for every demo account):\n", demo.Password)
	fmt.Fprintf(&b, "    %-28s platform operator (queue monitor, all tenants)\n", demo.Operator)
	fmt.Fprintf(&b, "    %-28s %s: manages Dutch Cocoa's catalog; asked Alpine Kids for access\n", demo.AgencyUser, demo.AgencyName)
	for _, br := range demo.Brands {
		fmt.Fprintf(&b, "    %-28s owner of %s\n", br.Owner, br.Name)
	}
	fmt.Fprintf(&b, "  Dev mail outbox   %s/api/admin/v1/dev/mail\n\n", base)
	fmt.Fprintf(&b, "  Demo brands (test mode, sandbox Mini Program credentials):\n")
	for _, t := range brands {
		appID, _ := sandbox.AppFor(cfg.SandboxSeed, fmt.Sprintf("tenant:%d", t.ID))
		fmt.Fprintf(&b, "    %-12s %-22s AppID %s\n", t.Slug, t.Name, appID)
		// The sandbox WeChat Pay merchant provisioning gives the brand (same derivation).
		if m, err := sb.PayMerchant(fmt.Sprintf("tenant:%d", t.ID), sandbox.PayModeDirect); err == nil {
			fmt.Fprintf(&b, "                 WeChat Pay sandbox merchant %s (notify: %s/api/v1/wechatpay/notify/%s)\n", m.MchID, cfg.PublicURL, t.Slug)
		}
		fmt.Fprintf(&b, "                 curl -H 'Host: %s.%s' http://127.0.0.1:%s/api/v1/shop\n", t.Slug, cfg.BaseDomain, port)
	}
	fmt.Fprintln(&b)
	io.WriteString(w, b.String())
}
