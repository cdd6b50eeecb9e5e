package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/minishop/minishop/internal/app"
	"github.com/minishop/minishop/tenant"
)

func tenantCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "tenant",
		Short: "Create, list, suspend and resume tenants (brands)",
	}
	c.PersistentFlags().BoolVar(&asJSON, "json", false, "print JSON instead of text")
	print := func(w io.Writer, ts ...tenant.Tenant) error {
		if asJSON {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			if len(ts) == 1 {
				return enc.Encode(ts[0])
			}
			return enc.Encode(ts)
		}
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSLUG\tNAME\tSTATUS\tPROVISIONED\tCREATED")
		for _, t := range ts {
			prov := "pending"
			if t.ProvisionedAt != nil {
				prov = t.ProvisionedAt.UTC().Format(time.DateTime)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Slug, t.Name, t.Status, prov, t.CreatedAt.UTC().Format(time.DateTime))
		}
		return tw.Flush()
	}

	var slug, name string
	create := &cobra.Command{
		Use:   "create --slug SLUG --name NAME",
		Short: "Create a tenant; its storefront is then at SLUG.<base domain>",
		Long: `Create a tenant and print it. The slug is 3-40 lowercase letters, digits and
hyphens (reserved words such as www, admin, api, sandbox are refused). The
tenant starts in test mode, with sandbox credentials set up in the background
by the worker.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withApp(cmd.Context(), false, func(a *app.App) error {
				t, err := a.Tenants.Create(cmd.Context(), tenant.CreateInput{Slug: slug, Name: name})
				if err != nil {
					return err
				}
				return print(cmd.OutOrStdout(), *t)
			})
		},
	}
	create.Flags().StringVar(&slug, "slug", "", "subdomain of the shop, e.g. nordic-skin (required)")
	create.Flags().StringVar(&name, "name", "", "display name of the brand, e.g. \"Nordic Skin\" (required)")
	_ = create.MarkFlagRequired("slug")
	_ = create.MarkFlagRequired("name")

	var limit int
	var after int64
	list := &cobra.Command{
		Use:   "list",
		Short: "List tenants by id",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withApp(cmd.Context(), false, func(a *app.App) error {
				ts, next, err := a.Tenants.List(cmd.Context(), tenant.ListInput{After: after, Limit: limit})
				if err != nil {
					return err
				}
				if err := print(cmd.OutOrStdout(), ts...); err != nil {
					return err
				}
				if next > 0 && !asJSON {
					fmt.Fprintf(cmd.ErrOrStderr(), "more: minishop tenant list --after %d\n", next)
				}
				return nil
			})
		},
	}
	list.Flags().IntVar(&limit, "limit", 200, "tenants per page (1-200)")
	list.Flags().Int64Var(&after, "after", 0, "list tenants with an id above this (the cursor printed at the end of a page)")

	status := func(use, short string, st tenant.Status) *cobra.Command {
		return &cobra.Command{
			Use: use + " SLUG", Short: short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return withApp(cmd.Context(), false, func(a *app.App) error {
					t, err := a.Tenants.SetStatus(cmd.Context(), args[0], st)
					if err != nil {
						return err
					}
					return print(cmd.OutOrStdout(), *t)
				})
			},
		}
	}

	var verified bool
	domain := &cobra.Command{
		Use:   "add-domain SLUG DOMAIN",
		Short: "Attach a custom domain to a tenant (routes once verified)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withApp(cmd.Context(), false, func(a *app.App) error {
				d, err := a.Tenants.AddDomain(cmd.Context(), args[0], args[1], verified)
				if err != nil {
					return err
				}
				state := "unverified: publish TXT record " + d.VerificationToken
				if d.VerifiedAt != nil {
					state = "verified"
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s\t%s\n", d.Domain, state)
				return nil
			})
		},
	}
	domain.Flags().BoolVar(&verified, "verified", false, "mark the domain verified (ownership checked out of band)")

	c.AddCommand(create, list,
		status("suspend", "Suspend a tenant: its storefront answers 403 at once on every server", tenant.Suspended),
		status("resume", "Resume a suspended tenant", tenant.Active),
		domain, addMemberCmd())
	return c
}
