package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/minishop/minishop/internal/sandbox"
)

func sandboxCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "sandbox",
		Short: "Run the local sandbox of WeChat's APIs on its own",
		Long: `Run the sandbox that stands in for api.weixin.qq.com (Mini Program login,
access tokens) on MINISHOP_SANDBOX_ADDR. Sandbox apps are derived from
MINISHOP_SANDBOX_SEED (required outside dev mode), so keep the seed stable.
Servers reach it at MINISHOP_SANDBOX_URL. "minishop dev" runs it for you.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := loadConfig(false, false)
			if err != nil {
				return err
			}
			if cfg.SandboxSeed == nil {
				return fmt.Errorf("MINISHOP_SANDBOX_SEED is required outside dev mode (at least 16 characters)")
			}
			sb, err := sandbox.New(sandbox.Options{Seed: cfg.SandboxSeed, Logger: log})
			if err != nil {
				return err
			}
			ln, err := listen(cfg.SandboxAddr, "MINISHOP_SANDBOX_ADDR")
			if err != nil {
				return err
			}
			log.Info("sandbox listening", "addr", ln.Addr().String())
			return serveSandbox(cmd.Context(), sb.Handler(), ln)
		},
	}
}
