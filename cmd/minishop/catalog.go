package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/minishop/minishop/internal/app"
	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/shop"
)

func catalogCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "catalog",
		Short: "Import and export a shop's catalog as CSV or XLSX",
	}
	var slug string
	c.PersistentFlags().StringVar(&slug, "tenant", "", "the shop's slug (required)")
	_ = c.MarkPersistentFlagRequired("tenant")

	var quiet bool
	imp := &cobra.Command{
		Use:   "import --tenant SLUG FILE",
		Short: "Import a catalog file (CSV or XLSX in the template's layout), all or nothing",
		Long: `Import a catalog file into a shop, in this process, with a progress bar.
The file has the layout of the template (GET .../catalog/import/template or
minishop catalog export on an empty shop): one row per SKU, rows grouped
into products by handle. Products and SKUs are matched by handle and SKU
code: existing ones are updated, new ones created. If any row is bad,
nothing is written and every bad row is listed with its line, column and
reason; the command then exits with status 1. Importing the same file twice
changes nothing the second time.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			return withApp(cmd.Context(), false, func(a *app.App) error {
				ctx, err := tenantContext(cmd.Context(), a, slug)
				if err != nil {
					return err
				}
				var bar *progressbar.ProgressBar
				progress := func(done, total int) {
					if quiet {
						return
					}
					if bar == nil {
						bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(cmd.ErrOrStderr()), progressbar.OptionSetDescription("importing"),
							progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100_000_000),
							progressbar.OptionOnCompletion(func() { fmt.Fprintln(cmd.ErrOrStderr()) }))
					}
					_ = bar.Set(done)
				}
				job, err := a.Shop.StartImport(ctx, filepath.Base(args[0]), data, shop.ImportOptions{Sync: true, Progress: progress})
				if err != nil {
					return err
				}
				if bar != nil {
					_ = bar.Finish()
				}
				return printImport(cmd.OutOrStdout(), job)
			})
		},
	}
	imp.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress bar")

	var format, out string
	exp := &cobra.Command{
		Use:   "export --tenant SLUG [--format csv|xlsx] [-o FILE]",
		Short: "Write the shop's catalog in the template's layout (to stdout without -o)",
		Long: `Write the shop's whole catalog, one row per active SKU with stock per
warehouse, as CSV (UTF-8 with a byte-order mark, for Excel) or XLSX. The
format follows the extension of -o unless --format is given. Importing the
file unchanged changes nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format == "" {
				format = shop.FormatCSV
				if strings.HasSuffix(strings.ToLower(out), ".xlsx") {
					format = shop.FormatXLSX
				}
			}
			if err := shop.CheckFormat(format); err != nil {
				return err
			}
			return withApp(cmd.Context(), false, func(a *app.App) error {
				ctx, err := tenantContext(cmd.Context(), a, slug)
				if err != nil {
					return err
				}
				var w io.Writer = cmd.OutOrStdout()
				if out != "" && out != "-" {
					f, err := os.Create(out)
					if err != nil {
						return err
					}
					defer f.Close()
					w = f
				}
				if err := a.Shop.Export(ctx, format, w); err != nil {
					return err
				}
				if f, ok := w.(*os.File); ok && out != "" {
					return f.Sync()
				}
				return nil
			})
		},
	}
	exp.Flags().StringVar(&format, "format", "", "csv or xlsx (default: from the -o extension, else csv)")
	exp.Flags().StringVarP(&out, "output", "o", "", "file to write (default stdout)")
	c.AddCommand(imp, exp)
	return c
}

// tenantContext scopes ctx to the shop slug.
func tenantContext(ctx context.Context, a *app.App, slug string) (context.Context, error) {
	t, err := a.Tenants.Get(ctx, slug)
	if err != nil {
		return nil, err
	}
	return scope.WithTenant(ctx, t.ID), nil
}

func printImport(w io.Writer, j *shop.Import) error {
	s := j.Summary
	if j.Status == shop.ImportSucceeded {
		fmt.Fprintf(w, "import %d succeeded: %d rows; products %d created, %d updated, %d unchanged; SKUs %d created, %d updated, %d unchanged, %d archived; %d stock adjustments\n",
			j.ID, j.RowsDone, s.ProductsCreated, s.ProductsUpdated, s.ProductsUnchanged, s.SKUsCreated, s.SKUsUpdated, s.SKUsUnchanged, s.SKUsArchived, s.StockAdjusted)
		return nil
	}
	fmt.Fprintf(w, "import %d failed: %d problems, nothing was written\n", j.ID, j.ErrorCount)
	for _, e := range j.Errors {
		fmt.Fprintln(w, "  "+e.String())
	}
	if j.ErrorCount > len(j.Errors) {
		fmt.Fprintf(w, "  … and %d more (GET /api/admin/v1/tenants/<slug>/catalog/imports/%d/errors lists up to 1000)\n", j.ErrorCount-len(j.Errors), j.ID)
	}
	return fmt.Errorf("the file has %d problems", j.ErrorCount)
}
