package main

import (
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/hibiken/asynq"
	"github.com/spf13/cobra"

	"github.com/minishop/minishop/internal/config"
	"github.com/minishop/minishop/worker"
)

func inspector() (*asynq.Inspector, error) {
	cfg, err := config.FromEnv()
	if err != nil {
		return nil, err
	}
	opt, err := asynq.ParseRedisURI(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	return asynq.NewInspector(opt), nil
}

func queuesOf(q string) []string {
	if q != "" {
		return []string{q}
	}
	var out []string
	for name := range worker.Queues {
		out = append(out, name)
	}
	return out
}

func tasksCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "tasks",
		Short: "Inspect background tasks and re-run failed ones",
		Long: `Inspect the task queues (critical, default, low). A task that failed all its
retries is archived: it stays visible here and can be re-run with
"minishop tasks retry".`,
	}
	var queue, state string
	var limit int
	list := &cobra.Command{
		Use:   "list",
		Short: "List tasks of a state (default: archived, i.e. failed for good)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in, err := inspector()
			if err != nil {
				return err
			}
			defer in.Close()
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "QUEUE\tID\tTYPE\tRETRIED\tLAST FAILED\tERROR")
			for _, q := range queuesOf(queue) {
				var ts []*asynq.TaskInfo
				opt := asynq.PageSize(limit)
				switch state {
				case "archived":
					ts, err = in.ListArchivedTasks(q, opt)
				case "retry":
					ts, err = in.ListRetryTasks(q, opt)
				case "pending":
					ts, err = in.ListPendingTasks(q, opt)
				case "active":
					ts, err = in.ListActiveTasks(q, opt)
				case "scheduled":
					ts, err = in.ListScheduledTasks(q, opt)
				case "completed":
					ts, err = in.ListCompletedTasks(q, opt)
				default:
					return fmt.Errorf("--state must be archived, retry, pending, active, scheduled or completed")
				}
				if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
					return err
				}
				for _, t := range ts {
					failed := ""
					if !t.LastFailedAt.IsZero() {
						failed = t.LastFailedAt.UTC().Format(time.DateTime)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%.120s\n", t.Queue, t.ID, t.Type, t.Retried, failed, t.LastErr)
				}
			}
			return tw.Flush()
		},
	}
	list.Flags().StringVar(&queue, "queue", "", "only this queue (critical, default, low); default all")
	list.Flags().StringVar(&state, "state", "archived", "archived, retry, pending, active, scheduled or completed")
	list.Flags().IntVar(&limit, "limit", 100, "tasks per queue")

	var all bool
	retry := &cobra.Command{
		Use:   "retry [--queue Q] (TASK_ID... | --all)",
		Short: "Re-run archived (or retry-scheduled) tasks now",
		Long: `Re-run failed tasks now. Give task ids (as printed by "tasks list") with the
queue they are in, or --all to re-run every archived task (of --queue, or of
all queues). Handlers are idempotent, so re-running a task that did in fact
succeed changes nothing.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if all == (len(args) > 0) {
				return fmt.Errorf("give task ids or --all, not both and not neither")
			}
			in, err := inspector()
			if err != nil {
				return err
			}
			defer in.Close()
			if all {
				total := 0
				for _, q := range queuesOf(queue) {
					n, err := in.RunAllArchivedTasks(q)
					if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
						return err
					}
					total += n
				}
				fmt.Fprintf(cmd.OutOrStdout(), "re-queued %d archived task(s)\n", total)
				return nil
			}
			if queue == "" {
				return fmt.Errorf("--queue is required with task ids")
			}
			for _, id := range args {
				if err := in.RunTask(queue, id); err != nil {
					return fmt.Errorf("task %s: %w", id, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "re-queued %s\n", id)
			}
			return nil
		},
	}
	retry.Flags().StringVar(&queue, "queue", "", "queue of the tasks (critical, default, low)")
	retry.Flags().BoolVar(&all, "all", false, "re-run every archived task")
	c.AddCommand(list, retry)
	return c
}
