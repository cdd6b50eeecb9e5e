package main

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/vault"
	"github.com/minishop/minishop/tenant"
)

func keysCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "keys",
		Short: "Rotate the master key that wraps the tenants' data keys",
	}
	var dryRun bool
	var batch int
	rotate := &cobra.Command{
		Use:   "rotate [--dry-run]",
		Short: "Move every data key and TOTP secret under the previous master key to the current one",
		Long: `Re-wrap every tenant's data key (tenant_keys), and re-seal every user's TOTP
secret (users.totp_sealed) and every platform key (platform_keys), still
under MINISHOP_MASTER_KEY_OLD with MINISHOP_MASTER_KEY. Credentials are not
re-encrypted: they are sealed with the data keys, which do not change. Runs
as the DATABASE_URL role (the schema's owner), like migrate.

Rotating the master key without downtime:

  1. Generate a new key:   openssl rand -hex 32
  2. Deploy every serve and work process with both keys:
       MINISHOP_MASTER_KEY=<new key>  MINISHOP_MASTER_KEY_OLD=<previous key>
     They open what either key wrapped and wrap anything new with the new key.
  3. With the same two variables, run:
       minishop keys rotate --dry-run   # counts what is still under the old key
       minishop keys rotate
     Each row is moved in its own short transaction while the servers keep
     running; progress is printed per batch. It is safe to stop and to run
     again: rows already moved are skipped, so a second run finishes an
     interrupted one, and a run with nothing left to do changes nothing.
  4. Deploy again without MINISHOP_MASTER_KEY_OLD, then destroy the old key.

Before changing anything, every row is checked: if one opens with neither
key (for instance MINISHOP_MASTER_KEY_OLD is not the previous key), the
command fails, names the rows, and changes nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg, _, err := loadConfig(false, true)
			if err != nil {
				return err
			}
			if cfg.MasterKeyOld != nil && bytes.Equal(cfg.MasterKeyOld, cfg.MasterKey) {
				return fmt.Errorf("MINISHOP_MASTER_KEY_OLD is the same key as MINISHOP_MASTER_KEY; set it to the previous key")
			}
			keys, err := vault.New(cfg.MasterKey, cfg.MasterKeyOld)
			if err != nil {
				return err
			}
			// As the schema's owner, like migrations: the app role may not
			// change platform_keys. tenant_keys stays under RLS (FORCE).
			g, err := db.Open(ctx, cfg.DatabaseURL, db.Options{MaxOpen: 2})
			if err != nil {
				return err
			}
			defer db.Close(g)

			out := cmd.OutOrStdout()
			old := "none (MINISHOP_MASTER_KEY_OLD is not set: only checking that everything is under the current key)"
			if ids := keys.PreviousIDs(); len(ids) > 0 {
				old = strings.Join(ids, ", ")
			}
			fmt.Fprintf(out, "current master key %s; previous master key %s\n", keys.MasterID(), old)
			rep, err := tenant.RotateMasterKey(ctx, g, keys, tenant.RotateOptions{DryRun: dryRun, Batch: batch,
				Progress: func(p tenant.RotateProgress) {
					if p.Total > 0 {
						fmt.Fprintf(out, "%s: %d/%d\n", p.Phase, p.Done, p.Total)
					} else {
						fmt.Fprintf(out, "%s: %d checked\n", p.Phase, p.Done)
					}
				}})
			var blocked *tenant.RotateBlocked
			if errors.As(err, &blocked) {
				hint := "MINISHOP_MASTER_KEY_OLD is probably not the previous master key"
				if cfg.MasterKeyOld == nil {
					hint = "set MINISHOP_MASTER_KEY_OLD to the previous master key"
				}
				return fmt.Errorf("%w; %s", err, hint)
			}
			if err != nil {
				if rep != nil {
					fmt.Fprintf(out, "stopped after re-wrapping %d tenant data key(s) and re-sealing %d TOTP secret(s) and %d platform key(s); run the command again to finish\n",
						rep.TenantKeys.Moved, rep.TOTPSecrets.Moved, rep.PlatformKeys.Moved)
				}
				return err
			}
			counts := fmt.Sprintf("%d tenant data key(s), %d TOTP secret(s) and %d platform key(s)", rep.TenantKeys.Moved, rep.TOTPSecrets.Moved, rep.PlatformKeys.Moved)
			already := fmt.Sprintf("%d, %d and %d", rep.TenantKeys.Current, rep.TOTPSecrets.Current, rep.PlatformKeys.Current)
			if dryRun {
				fmt.Fprintf(out, "dry run, nothing changed: %s to move to master key %s; %s already under it\n", counts, keys.MasterID(), already)
				return nil
			}
			fmt.Fprintf(out, "done: %s moved to master key %s; %s already were\n", counts, keys.MasterID(), already)
			return nil
		},
	}
	rotate.Flags().BoolVar(&dryRun, "dry-run", false, "count what is still under the previous key; change nothing")
	rotate.Flags().IntVar(&batch, "batch", 200, "rows per batch (progress is printed after each)")
	c.AddCommand(rotate)
	return c
}
