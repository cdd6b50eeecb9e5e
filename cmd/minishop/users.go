package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/minishop/minishop/internal/app"
	"github.com/minishop/minishop/internal/scope"
)

// readPassword reads the first line of r (stdin), so scripts can pipe it:
// printf '%s\n' "$PASSWORD" | minishop user create --email ...
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("give the password on standard input, e.g. printf '%%s\\n' \"$PASSWORD\" | minishop user create --email ...")
	}
	return line, nil
}

func userCmd() *cobra.Command {
	c := &cobra.Command{Use: "user", Short: "Create users of the admin console"}
	var email, name string
	create := &cobra.Command{
		Use:   "create --email EMAIL [--name NAME] < password",
		Short: "Create a user; the password is read from standard input",
		Long: `Create a user who can sign in to the admin console. The password (at least 10
characters) is the first line of standard input, so it never appears in the
process list or shell history. Give the user a role in a shop with
"minishop tenant add-member", or platform rights with "minishop operator grant".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pw, err := readPassword(cmd.InOrStdin())
			if err != nil {
				return err
			}
			return withApp(cmd.Context(), false, func(a *app.App) error {
				u, err := a.Accounts.CreateUser(cmd.Context(), email, name, pw)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "created user %d %s\n", u.ID, u.Email)
				return nil
			})
		},
	}
	create.Flags().StringVar(&email, "email", "", "email address, the user's login (required)")
	create.Flags().StringVar(&name, "name", "", "display name")
	_ = create.MarkFlagRequired("email")
	c.AddCommand(create)
	return c
}

func operatorCmd() *cobra.Command {
	c := &cobra.Command{Use: "operator", Short: "Grant or revoke platform operator rights"}
	set := func(use, short string, on bool) *cobra.Command {
		var email string
		cmd := &cobra.Command{
			Use: use + " --email EMAIL", Short: short, Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return withApp(cmd.Context(), false, func(a *app.App) error {
					u, err := a.Accounts.UserByEmail(cmd.Context(), email)
					if err != nil {
						return err
					}
					if err := a.Accounts.SetOperator(cmd.Context(), u.ID, on); err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%s is %s\n", u.Email, map[bool]string{true: "now a platform operator", false: "no longer a platform operator"}[on])
					return nil
				})
			},
		}
		cmd.Flags().StringVar(&email, "email", "", "the user's email (required)")
		_ = cmd.MarkFlagRequired("email")
		return cmd
	}
	c.AddCommand(set("grant", "Make a user a platform operator (manages tenants and agencies, sees the queues)", true),
		set("revoke", "Take platform operator rights away", false))
	return c
}

func addMemberCmd() *cobra.Command {
	var slug, email, role string
	cmd := &cobra.Command{
		Use:   "add-member --tenant SLUG --email EMAIL --role ROLE",
		Short: "Give an existing user a role in a tenant",
		Long: `Give an existing user a role in a tenant: owner, admin, catalog_manager,
order_manager, finance or viewer. A member who already has a role gets the new
one. A tenant's first member must be its owner.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withApp(cmd.Context(), false, func(a *app.App) error {
				ctx := cmd.Context()
				t, err := a.Tenants.Get(ctx, slug)
				if err != nil {
					return err
				}
				u, err := a.Accounts.UserByEmail(ctx, email)
				if err != nil {
					return err
				}
				if err := a.Team.AddMember(scope.WithTenant(ctx, t.ID), u.ID, role); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s is %s of %s\n", u.Email, role, t.Slug)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&slug, "tenant", "", "the tenant's slug (required)")
	cmd.Flags().StringVar(&email, "email", "", "the user's email (required)")
	cmd.Flags().StringVar(&role, "role", "", "owner, admin, catalog_manager, order_manager, finance or viewer (required)")
	for _, f := range []string{"tenant", "email", "role"} {
		_ = cmd.MarkFlagRequired(f)
	}
	return cmd
}
