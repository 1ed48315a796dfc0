package cli

import (
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentexec/agentexec"
	"github.com/agentexec/agentexec/internal/duration"
)

func init() { extraCommands = append(extraCommands, newGCCmd, newDeleteCmd) }

// defaultGCOlderThan is gc's default age, echoed as given.
const defaultGCOlderThan = "30d"

// parseGCOlderThan parses gc --older-than: surrounding whitespace is
// trimmed and a bare integer means seconds. A malformed value is a contract
// error rather than a usage error because the raw value is echoed.
func parseGCOlderThan(raw string) (string, time.Duration, error) {
	s := strings.TrimSpace(raw)
	d, err := duration.Parse(s, time.Second)
	if err != nil {
		return s, 0, &agentexec.Error{Code: agentexec.CodeInvalidArgument,
			Message: "invalid duration: " + s + "; expected formats: 30d, 24h, 60m, 3600s", Err: err}
	}
	return s, d, nil
}

func newGCCmd(a *app) *cobra.Command {
	var olderThan string
	var dryRun bool
	var maxJobs, maxBytes int64
	cmd := &cobra.Command{
		Use:   "gc [--older-than DUR] [--dry-run] [--max-jobs N] [--max-bytes N]",
		Short: "Remove old terminal jobs from the whole root (by age, count and size)",
		Args:  exactArgs(0, ""),
	}
	cmd.RunE = wrapRun(func(cmd *cobra.Command, args []string) error {
		raw, d, err := parseGCOlderThan(olderThan)
		if err != nil {
			return err
		}
		source := "default"
		if cmd.Flags().Changed("older-than") {
			source = "flag"
		}
		m, err := a.manager(nil)
		if err != nil {
			return err
		}
		defer m.Close()
		res, err := m.GC(cmd.Context(), agentexec.GCOptions{
			OlderThan: d, OlderThanRaw: raw, OlderThanSource: source,
			DryRun: dryRun, MaxJobs: maxJobs, MaxBytes: maxBytes,
		})
		if err != nil {
			return err
		}
		return a.respond("gc", res)
	})
	fs := cmd.Flags()
	fs.StringVar(&olderThan, "older-than", defaultGCOlderThan, "minimum age of terminal jobs (30d, 24h, 60m, 3600s; bare number = seconds)")
	fs.BoolVar(&dryRun, "dry-run", false, "report without deleting")
	addCount(fs, &maxJobs, "max-jobs", 0, "keep at most N terminal jobs; 0 = no cap")
	addCount(fs, &maxBytes, "max-bytes", 0, "keep the root at most N bytes; 0 = no cap")
	return cmd
}

func newDeleteCmd(a *app) *cobra.Command {
	var all, dryRun bool
	cmd := &cobra.Command{
		Use:     "delete <ID> | --all [--dry-run]",
		Aliases: []string{"rm"},
		Short:   "Remove one job, or every terminal job of the current directory (--all)",
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case all && len(args) > 0:
				return usagef("%s: --all conflicts with a job id", cmd.CommandPath())
			case !all && len(args) == 0:
				return usagef("%s: missing required argument <ID> (or --all)", cmd.CommandPath())
			case len(args) > 1:
				return usagef("%s: unexpected argument %q", cmd.CommandPath(), args[1])
			}
			return nil
		},
	}
	cmd.RunE = wrapRun(func(cmd *cobra.Command, args []string) error {
		o := agentexec.DeleteOptions{All: all, DryRun: dryRun}
		if !all {
			o.ID = args[0]
		}
		m, err := a.manager(nil)
		if err != nil {
			return err
		}
		defer m.Close()
		res, err := m.Delete(cmd.Context(), o)
		if err != nil {
			return err
		}
		return a.respond("delete", res)
	})
	cmd.Flags().BoolVar(&all, "all", false, "every terminal job whose working directory is the current directory")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "report without deleting")
	return cmd
}
