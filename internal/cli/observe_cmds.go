package cli

import (
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentexec/agentexec"
)

func absPath(base, p string) string {
	if !filepath.IsAbs(p) {
		p = filepath.Join(base, p)
	}
	return filepath.Clean(p)
}

func newStatusCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status <ID>",
		Short: "Show the current state of one job",
		Args:  exactArgs(1, "<ID>"),
	}
	cmd.RunE = wrapRun(func(cmd *cobra.Command, args []string) error {
		return a.call("status", nil, func(m *agentexec.Manager) (any, error) {
			return m.Status(cmd.Context(), args[0])
		})
	})
	return cmd
}

func newTailCmd(a *app) *cobra.Command {
	var lines, maxBytes int64
	var render string
	var cursor string
	var follow bool
	cmd := &cobra.Command{
		Use:   "tail [--tail-lines N] [--max-bytes N] [--cursor C] [--follow] <ID>",
		Short: "Show the last lines of a job's stdout and stderr, or what came after a cursor",
		Args:  exactArgs(1, "<ID>"),
	}
	cmd.RunE = wrapRun(func(cmd *cobra.Command, args []string) error {
		if follow {
			if cmd.Flags().Changed("cursor") { // an explicit empty cursor is malformed
				if _, err := agentexec.ParseCursor(cursor); err != nil {
					return err
				}
			}
			return a.tailFollow(cmd, args[0], agentexec.FollowLogsOptions{Cursor: cursor, TailLines: int(lines), MaxBytes: maxBytes})
		}
		if cmd.Flags().Changed("cursor") {
			return a.call("tail", nil, func(m *agentexec.Manager) (any, error) {
				return m.TailFrom(cmd.Context(), args[0], cursor, agentexec.TailOptions{MaxBytes: maxBytes, Render: agentexec.Render(render)})
			})
		}
		return a.call("tail", nil, func(m *agentexec.Manager) (any, error) {
			return m.Tail(cmd.Context(), args[0], agentexec.TailOptions{TailLines: int(lines), MaxBytes: maxBytes, Render: agentexec.Render(render)})
		})
	})
	addCount(cmd.Flags(), &lines, "tail-lines", 50, "lines per stream; 0 = no limit")
	addCount(cmd.Flags(), &maxBytes, "max-bytes", 65536, "bytes read per stream (from the end, or forward from --cursor)")
	addRender(cmd.Flags(), &render)
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "write the raw output as it is written (stdout.log to stdout, stderr.log to stderr) from --cursor, or from the last --tail-lines lines, until the job is terminal; exit 0")
	cmd.Flags().StringVar(&cursor, "cursor", "", `read forward from this cursor ("<stdout>.<stderr>" byte offsets, e.g. a response's cursor); --tail-lines is ignored`)
	return cmd
}

func newWaitCmd(a *app) *cobra.Command {
	var until, poll time.Duration
	var forever, anyJob, allJobs, exitCode bool
	var lines, maxBytes int64
	var tags []string
	var name string
	var render, cursor string
	var ready readyFlags
	cmd := &cobra.Command{
		Use:   "wait [OPTIONS] <ID>... | --tag PATTERN | --name NAME",
		Short: "Block until a job (or several) is terminal or a deadline passes",
		Long: `Block until a job is terminal or a deadline passes. With several ids, --tag or
--name the response is type wait_many: --all (default) returns when every job is
terminal, --any when one is. With --exit-code the process exits with the job's
exit code (128+n for signal n, 125 for failed, 124 when the deadline passed; with
several jobs the first non-zero in argument order).

With --for-output P it also returns as soon as an output line after --cursor
matches P (readiness: "wait until the server listens"): matched, match
({stream, line, offset}) and cursor (just past the matched line, so the same call
with that cursor finds the next match) are added. It returns with matched false
when the job ends without a match or the deadline passes.

With --for-port N it returns as soon as a process of the job's tree (the command
and everything it started, even in the background) listens on TCP port N: match
is {port, address, pid}. A finished job whose background processes still run is
waited on until they are gone.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && len(tags) == 0 && !cmd.Flags().Changed("name") {
				return usagef("%s: missing required argument <ID>", cmd.CommandPath())
			}
			return nil
		},
	}
	cmd.RunE = wrapRun(func(cmd *cobra.Command, args []string) error {
		fs := cmd.Flags()
		if forever && (fs.Changed("until") || fs.Changed("timeout-ms")) {
			return usagef("--until conflicts with --forever")
		}
		if anyJob && allJobs {
			return usagef("--any conflicts with --all")
		}
		if err := ready.check(cmd); err != nil {
			return err
		}
		if fs.Changed("cursor") && !fs.Changed("for-output") {
			return usagef("--cursor requires --for-output")
		}
		if fs.Changed("cursor") { // an explicit empty cursor is malformed, not "0.0"
			if _, err := agentexec.ParseCursor(cursor); err != nil {
				return err
			}
		}
		if ready.given(cmd) && (len(args) != 1 || len(tags) > 0 || fs.Changed("name")) {
			return usagef("--for-output and --for-port wait for one job: give exactly one <ID>")
		}
		for _, p := range tags {
			if err := agentexec.ValidateTagPattern(p); err != nil {
				return usagef("invalid tag pattern %q: %v", p, err)
			}
		}
		if fs.Changed("name") {
			if err := agentexec.ValidateName(name); err != nil {
				return usagef("%v", err)
			}
		}
		m, err := a.manager(nil)
		if err != nil {
			return err
		}
		defer m.Close()
		if len(args) == 1 && len(tags) == 0 && name == "" {
			res, err := m.Wait(cmd.Context(), args[0], agentexec.WaitOptions{Until: until, Forever: forever, Poll: poll, TailLines: int(lines), MaxBytes: maxBytes, Render: agentexec.Render(render),
				ForOutput: ready.condition(cmd), Cursor: cursor, ForPort: ready.portCondition(cmd)})
			if err != nil {
				return err
			}
			if exitCode {
				a.exitStatus = res.ExitStatus()
			}
			return a.respond("wait", res)
		}
		res, err := m.WaitMany(cmd.Context(), agentexec.WaitManyOptions{IDs: args, Tags: tags, Name: name, Any: anyJob,
			Until: until, Forever: forever, Poll: poll, TailLines: int(lines), MaxBytes: maxBytes, Render: agentexec.Render(render)})
		if err != nil {
			return err
		}
		if exitCode {
			a.exitStatus = res.ExitStatus()
		}
		return a.respond("wait_many", res)
	})
	fs := cmd.Flags()
	addDuration(fs, &until, "until", 30*time.Second, "deadline (ms or with unit)")
	fs.Var(durationValue{&until}, "timeout-ms", "deprecated alias of --until")
	fs.MarkHidden("timeout-ms")
	fs.BoolVar(&forever, "forever", false, "no deadline")
	addDuration(fs, &poll, "poll-ms", 200*time.Millisecond, "fallback re-check interval (min 10ms)")
	addCount(fs, &lines, "tail-lines", 50, "lines per stream; 0 = no limit")
	addCount(fs, &maxBytes, "max-bytes", 65536, "bytes per stream")
	fs.BoolVar(&anyJob, "any", false, "with several jobs: return when one is terminal")
	fs.BoolVar(&allJobs, "all", false, "with several jobs: return when every one is terminal (default)")
	fs.StringArrayVar(&tags, "tag", nil, "wait for every job with a matching tag, e.g. ci or ci.* (repeatable, ANDed)")
	fs.StringVar(&name, "name", "", "wait for every job called NAME")
	fs.BoolVar(&exitCode, "exit-code", false, "exit with the job's exit code (128+n for signal n, 125 failed, 124 deadline)")
	addRender(fs, &render)
	ready.register(fs, "for-output")
	fs.StringVar(&cursor, "cursor", "", `with --for-output: where the search starts ("<stdout>.<stderr>" byte offsets, default "0.0": output before the call counts)`)
	return cmd
}

func newKillCmd(a *app) *cobra.Command {
	var sig string
	var noWait bool
	cmd := &cobra.Command{
		Use:   "kill [--signal SIG] [--no-wait] <ID>",
		Short: "Signal a running job's process group",
		Args:  exactArgs(1, "<ID>"),
	}
	cmd.RunE = wrapRun(func(cmd *cobra.Command, args []string) error {
		if _, _, err := agentexec.ParseSignal(sig); err != nil {
			return err // an explicit --signal "" is not TERM
		}
		return a.call("kill", nil, func(m *agentexec.Manager) (any, error) {
			return m.Kill(cmd.Context(), args[0], agentexec.KillOptions{Signal: sig, NoWait: noWait})
		})
	})
	cmd.Flags().StringVar(&sig, "signal", "TERM", "TERM, INT, KILL, HUP, QUIT, USR1 or USR2")
	cmd.Flags().BoolVar(&noWait, "no-wait", false, "return right after signalling")
	return cmd
}

func newListCmd(a *app, ps bool) *cobra.Command {
	var limit int64
	var state, cwd string
	var all bool
	var tags []string
	use, short := "list", "List jobs of the current directory (or --all)"
	if ps {
		use, short = "ps", "List running jobs (list --state running)"
	}
	cmd := &cobra.Command{Use: use, Short: short, Args: exactArgs(0, "")}
	cmd.RunE = wrapRun(func(cmd *cobra.Command, args []string) error {
		if all && cmd.Flags().Changed("cwd") {
			return usagef("--all conflicts with --cwd")
		}
		for _, p := range tags {
			if err := agentexec.ValidateTagPattern(p); err != nil {
				return usagef("invalid tag pattern %q: %v", p, err)
			}
		}
		if ps {
			state = string(agentexec.StateRunning)
		}
		return a.call("list", nil, func(m *agentexec.Manager) (any, error) {
			return m.List(cmd.Context(), agentexec.ListOptions{Limit: int(limit), State: agentexec.State(state), Cwd: cwd, All: all, Tags: tags, WithLiveTrees: ps})
		})
	})
	fs := cmd.Flags()
	addCount(fs, &limit, "limit", 0, "maximum jobs returned; 0 = unlimited")
	if !ps {
		fs.Var(enumValue{&state, []string{"created", "running", "exited", "killed", "failed", "unknown"}}, "state", "only jobs in this state")
	}
	fs.StringVar(&cwd, "cwd", "", "only jobs whose working directory is DIR (default: current directory)")
	fs.BoolVar(&all, "all", false, "jobs of every directory")
	fs.StringArrayVar(&tags, "tag", nil, "tag filter pattern, e.g. ci or ci.* (repeatable, ANDed)")
	return cmd
}

func newSuperviseCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:    agentexec.SuperviseArg,
		Hidden: true,
		// The real entry point is dispatched in main before cobra runs;
		// reaching this means the invocation was not valid.
		RunE:               func(cmd *cobra.Command, args []string) error { return usagef("_supervise is internal") },
		DisableFlagParsing: true,
	}
}
