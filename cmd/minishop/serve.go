package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/minishop/minishop/internal/app"
	"github.com/minishop/minishop/worker"
)

func serveCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the HTTP server (storefront and admin APIs)",
		Long: `Run the HTTP server on MINISHOP_HTTP_ADDR until SIGINT/SIGTERM, then finish
in-flight requests (up to MINISHOP_SHUTDOWN_TIMEOUT) and exit. Requires
MINISHOP_MASTER_KEY unless MINISHOP_DEV=true. Any number of serve processes may
run against one Postgres and one Redis.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withApp(cmd.Context(), false, func(a *app.App) error {
				ln, err := listen(a.Cfg.HTTPAddr, "MINISHOP_HTTP_ADDR")
				if err != nil {
					return err
				}
				return serveHTTP(cmd.Context(), a, ln)
			})
		},
	}
}

// listen binds addr, explaining which variable moves it when it is taken.
func listen(addr, variable string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s (set %s to another address): %w", addr, variable, err)
	}
	return ln, nil
}

// serveHTTP serves a's router on ln until ctx ends, then drains gracefully.
func serveHTTP(ctx context.Context, a *app.App, ln net.Listener) error {
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go a.Resolver.Listen(lctx)
	go a.Authz.Listen(lctx, 10*time.Minute)
	srv := app.HTTPServer(a.Cfg.HTTPAddr, a.Handler())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	a.Log.Info("serving", "addr", a.Cfg.HTTPAddr, "base_domain", a.Cfg.BaseDomain, "dev", a.Cfg.Dev)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, scancel := context.WithTimeout(context.Background(), a.Cfg.ShutdownTimeout)
	defer scancel()
	a.Log.Info("shutting down: finishing in-flight requests")
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func workCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "work",
		Short: "Run the background worker (asynq) and the outbox relay",
		Long: `Run the task worker and the outbox relay until SIGINT/SIGTERM. On shutdown,
running tasks get MINISHOP_SHUTDOWN_TIMEOUT to finish; the rest go back to the
queue. Any number of work processes may run at once. MINISHOP_WORKER_CONCURRENCY
sets the number of tasks run at a time (default 10).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withApp(cmd.Context(), false, func(a *app.App) error {
				return runWorker(cmd.Context(), a)
			})
		},
	}
}

func runWorker(ctx context.Context, a *app.App) error {
	srv := worker.Server(a.RedisOpt, a.Cfg.WorkerConcurrency, a.Cfg.ShutdownTimeout, a.Log)
	a.Log.Info("worker started", "concurrency", a.Cfg.WorkerConcurrency)
	start := time.Now()
	sched, err := a.Scheduler()
	if err != nil {
		return err
	}
	err = worker.Run(ctx, srv, a.WorkerMux(), a.Relay(), sched)
	a.Log.Info("worker stopped", "uptime", time.Since(start).Round(time.Second))
	return err
}
