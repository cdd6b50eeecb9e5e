package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/minishop/minishop/billing"
	"github.com/minishop/minishop/internal/app"
)

func reconcileCmd() *cobra.Command {
	var slug, date string
	c := &cobra.Command{
		Use:   "reconcile --tenant SLUG [--date YYYY-MM-DD]",
		Short: "Reconcile a shop's day with its WeChat Pay trade bill",
		Long: `Download the shop's WeChat Pay trade bill of a day (China time; default
yesterday), match it against our payments and refunds, heal payments whose
notification was lost, store the run and print its totals and
discrepancies. Running a day again is safe: it finds the same
discrepancies, never copies.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if date == "" {
				date = time.Now().In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, -1).Format("2006-01-02")
			}
			day, err := billing.ParseDay(date)
			if err != nil {
				return err
			}
			return withApp(cmd.Context(), false, func(a *app.App) error {
				ctx, err := tenantContext(cmd.Context(), a, slug)
				if err != nil {
					return err
				}
				run, err := a.Reconcile.Reconcile(ctx, day)
				if err != nil {
					return err
				}
				_, ds, err := a.Reconcile.Day(ctx, day)
				if err != nil {
					return err
				}
				printRun(cmd.OutOrStdout(), run, ds)
				return nil
			})
		},
	}
	c.Flags().StringVar(&slug, "tenant", "", "the shop's slug (required)")
	c.Flags().StringVar(&date, "date", "", "the day, YYYY-MM-DD in China time (default: yesterday)")
	_ = c.MarkFlagRequired("tenant")
	return c
}

func printRun(w io.Writer, run *billing.Run, ds []billing.Discrepancy) {
	y := func(f int64) string { return billing.FormatDecimal(f, 2) }
	fmt.Fprintf(w, "%s: %s (run %d)\n", run.Date, run.Status, run.Runs)
	fmt.Fprintf(w, "  bill: %d rows, payments %s, refunds %s, fee %s, net settlement %s yuan\n",
		run.BillRows, y(run.BillPayments), y(run.BillRefunds), y(run.BillFee), y(run.NetSettlement))
	fmt.Fprintf(w, "  ours: payments %s, refunds %s yuan\n", y(run.OurPayments), y(run.OurRefunds))
	for _, p := range run.SummaryProblems {
		fmt.Fprintln(w, "  summary: "+p)
	}
	if len(ds) == 0 {
		fmt.Fprintln(w, "  no discrepancies")
		return
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  ID\tKIND\tREFERENCE\tSTATE\tEXPLANATION")
	for _, d := range ds {
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\n", d.ID, d.Kind, d.Reference, d.State, d.Explanation)
	}
	tw.Flush()
}
