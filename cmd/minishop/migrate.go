package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/minishop/minishop/internal/config"
	"github.com/minishop/minishop/internal/db"
)

func migrateCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "migrate",
		Short: "Apply or inspect database migrations (runs as the DATABASE_URL owner role)",
		Long: `Manage the schema. Migrations are embedded in the binary. They run as the
login role of DATABASE_URL, which owns the tables; servers then switch to the
minishop_app role, which owns nothing and is subject to row-level security.
Concurrent runs are safe (advisory lock).`,
	}
	run := func(use, short string, fn func(*db.Migrator, *cobra.Command) error) *cobra.Command {
		return &cobra.Command{Use: use, Short: short, Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.FromEnv()
			if err != nil {
				return err
			}
			g, err := db.Open(cmd.Context(), cfg.DatabaseURL, db.Options{MaxOpen: 2})
			if err != nil {
				return err
			}
			defer db.Close(g)
			m, err := db.NewMigrator(db.SQL(g))
			if err != nil {
				return err
			}
			return fn(m, cmd)
		}}
	}
	c.AddCommand(
		run("up", "Apply every pending migration", func(m *db.Migrator, cmd *cobra.Command) error {
			if err := m.Up(cmd.Context(), cmd.OutOrStdout()); err != nil {
				return fmt.Errorf("migrate up: %w", err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), "schema is up to date")
			return nil
		}),
		run("down", "Roll back the most recent migration", func(m *db.Migrator, cmd *cobra.Command) error {
			return m.Down(cmd.Context(), cmd.OutOrStdout())
		}),
		run("status", "List migrations and whether each is applied", func(m *db.Migrator, cmd *cobra.Command) error {
			return m.Status(cmd.Context(), cmd.OutOrStdout())
		}),
	)
	return c
}
