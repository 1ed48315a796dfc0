package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentexec/agentexec"
)

// Following (SPEC §11.3) is the documented exception to one JSON object
// per call: errors before the first byte is written still print the error
// envelope (exit 1); once streaming, SIGINT, SIGTERM or a closed stdout end
// it with exit 0, and any other failure is reported on stderr with exit 1.

// errStreamFailed ends a stream that failed after it began: the message
// went to stderr, no envelope follows.
var errStreamFailed = errWriteStdout

// streamContext is cmd's context, ended by SIGINT and SIGTERM.
func streamContext(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
}

// endStream maps how a stream ended to the exit: interrupted or a reader
// gone is success; an error before anything was written is an envelope.
func (a *app) endStream(ctx context.Context, started bool, writeFailed bool, err error) error {
	if err == nil || writeFailed || ctx.Err() != nil {
		return nil
	}
	if !started {
		return err
	}
	fmt.Fprintf(a.sys.Stderr, "agent-exec: %v\n", err)
	return errStreamFailed
}

// tailFollow is tail --follow: raw log bytes, stdout.log to stdout and
// stderr.log to stderr, until the job is terminal and drained.
func (a *app) tailFollow(cmd *cobra.Command, id string, o agentexec.FollowLogsOptions) error {
	m, err := a.manager(nil)
	if err != nil {
		return err
	}
	defer m.Close()
	ctx, stop := streamContext(cmd)
	defer stop()
	started, writeFailed := false, false
	_, err = m.FollowLogs(ctx, id, o, func(c agentexec.LogChunk) error {
		started = true
		w := a.sys.Stdout
		if c.Stream == "stderr" {
			w = a.sys.Stderr
		}
		if _, err := w.Write(c.Data); err != nil {
			writeFailed = true
			return err
		}
		return nil
	})
	return a.endStream(ctx, started, writeFailed, err)
}

func newFollowCmd(a *app) *cobra.Command {
	var tags []string
	var all, noOutput bool
	var cursor string
	var rate int64
	var match readyFlags
	cmd := &cobra.Command{
		Use:   "follow [ID...] [--tag PATTERN]... [--all] [--cursor C] [--match P [--match-type T]] [--no-output] [--max-lines-per-second N]",
		Short: "Stream jobs' output lines and state changes as NDJSON, one event per line",
		Long: `Stream events as NDJSON on stdout, one JSON object per line, flushed per line:
  {"type":"output","job_id","stream","offset","line"}   an output line (cut to 4 KiB, "cut":true)
  {"type":"state","job_id","state",...}                  the current state, then every change
  {"type":"dropped","job_id","stream","lines","bytes"}   lines over --max-lines-per-second
  {"type":"end"}                                         every followed job is terminal and drained
With ids those jobs are followed (output from --cursor, default the start) and
the stream ends with "end". With --tag or --all, the jobs of the current
directory (every job with --all) that match are followed from now on,
including jobs created later, until interrupted. Usable as the command of an
agent host's "monitor" tool: one line, one event.`,
	}
	cmd.RunE = wrapRun(func(cmd *cobra.Command, args []string) error {
		fs := cmd.Flags()
		if len(args) == 0 && len(tags) == 0 && !all {
			return usagef("give job ids, --tag or --all")
		}
		if len(args) > 0 && (len(tags) > 0 || all) {
			return usagef("job ids conflict with --tag and --all")
		}
		if fs.Changed("cursor") && len(args) != 1 {
			return usagef("--cursor applies to exactly one job id")
		}
		if err := match.check(cmd); err != nil {
			return err
		}
		if noOutput && match.given(cmd) {
			return usagef("--no-output conflicts with --match")
		}
		for _, p := range tags {
			if err := agentexec.ValidateTagPattern(p); err != nil {
				return usagef("invalid tag pattern %q: %v", p, err)
			}
		}
		if fs.Changed("cursor") { // an explicit empty cursor is malformed, not "0.0"
			if _, err := agentexec.ParseCursor(cursor); err != nil {
				return err
			}
		}
		m, err := a.manager(nil)
		if err != nil {
			return err
		}
		defer m.Close()
		ctx, stop := streamContext(cmd)
		defer stop()
		started, writeFailed := false, false
		err = m.Follow(ctx, agentexec.FollowOptions{IDs: args, Tags: tags, All: all, Cursor: cursor,
			Match: match.condition(cmd), NoOutput: noOutput, MaxLinesPerSecond: int(min(rate, 1<<30)), Poll: 200 * time.Millisecond},
			func(e *agentexec.FollowEvent) error {
				js, err := agentexec.EventJSON(e)
				if err != nil {
					return err
				}
				started = true
				if _, err := a.sys.Stdout.Write(append(js, '\n')); err != nil {
					writeFailed = true
					return err
				}
				return nil
			})
		return a.endStream(ctx, started, writeFailed, err)
	})
	fs := cmd.Flags()
	fs.StringArrayVar(&tags, "tag", nil, "follow jobs with a matching tag, e.g. ci or ci.* (repeatable, ANDed), also those created later")
	fs.BoolVar(&all, "all", false, "follow jobs of every directory, also those created later")
	fs.StringVar(&cursor, "cursor", "", `with one id: where its output starts ("<stdout>.<stderr>" byte offsets; default "0.0")`)
	match.register(fs, "match")
	fs.Lookup("match").Usage = "only output lines matching this pattern"
	fs.BoolVar(&noOutput, "no-output", false, "state changes only, no output lines")
	addCount(fs, &rate, "max-lines-per-second", 50, "output lines per job and second; the excess is counted in dropped events")
	return cmd
}
