// Command minishop is the whole of Minishop in one binary: the HTTP server,
// the worker, migrations, the local sandbox of WeChat's services, a
// development mode that runs everything, and operator commands.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/minishop/minishop/internal/app"
	"github.com/minishop/minishop/internal/config"
	"github.com/minishop/minishop/internal/scope"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Operator commands act as the CLI operator in audit logs; servers and
	// workers set the actor per request and per task.
	ctx = scope.WithActor(ctx, scope.Actor{Kind: "operator", ID: "cli"})
	root := &cobra.Command{
		Use:   "minishop",
		Short: "Minishop: cross-border WeChat Mini Program shops for foreign brands",
		Long: `Minishop runs brands' WeChat Mini Program shops in China.

Configuration comes from environment variables only (see the README's
configuration table): DATABASE_URL, REDIS_URL, MINISHOP_HTTP_ADDR,
MINISHOP_BASE_DOMAIN, MINISHOP_MASTER_KEY, MINISHOP_DEV, MINISHOP_LOG_LEVEL, ...`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(serveCmd(), workCmd(), migrateCmd(), devCmd(), sandboxCmd(), tenantCmd(), tasksCmd(), userCmd(), operatorCmd(), keysCmd(), catalogCmd(), reconcileCmd())
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "minishop:", err)
		os.Exit(1)
	}
}

// loadConfig reads the environment. forceDev turns dev mode on (the `dev`
// command). In dev mode a missing master key or sandbox seed is generated once
// and kept in the data folder; outside it, needKey makes the master key
// mandatory.
func loadConfig(forceDev, needKey bool) (*config.Config, *slog.Logger, error) {
	cfg, err := config.FromEnv()
	if err != nil {
		return nil, nil, err
	}
	if forceDev {
		cfg.Dev = true
	}
	if cfg.Dev {
		if cfg.MasterKey == nil {
			if cfg.MasterKey, err = config.LoadOrCreateSecret(cfg.DataDir, "master.key"); err != nil {
				return nil, nil, fmt.Errorf("dev master key: %w", err)
			}
		}
		if cfg.SandboxSeed == nil {
			if cfg.SandboxSeed, err = config.LoadOrCreateSecret(cfg.DataDir, "sandbox.seed"); err != nil {
				return nil, nil, fmt.Errorf("dev sandbox seed: %w", err)
			}
		}
	}
	if needKey && cfg.MasterKey == nil {
		return nil, nil, fmt.Errorf("MINISHOP_MASTER_KEY is required outside dev mode (32 bytes, hex or base64; e.g. openssl rand -hex 32)")
	}
	return cfg, app.NewLogger(cfg), nil
}

// withApp loads the configuration, builds the App and runs fn with it.
func withApp(ctx context.Context, forceDev bool, fn func(*app.App) error) error {
	cfg, log, err := loadConfig(forceDev, true)
	if err != nil {
		return err
	}
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	return fn(a)
}
