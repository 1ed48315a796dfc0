// Package cli is the command-line adapter: it parses arguments with cobra,
// calls the agentexec package and prints one JSON (or YAML) envelope. It
// holds no job logic.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/agentexec/agentexec"
	"github.com/agentexec/agentexec/internal/config"
)

// Version is set at build time (-ldflags "-X …/internal/cli.Version=…").
var Version = "0.0.0-dev"

// System describes the process the CLI runs in; tests substitute parts.
type System struct {
	Stdin   *os.File
	Stdout  io.Writer
	Stderr  io.Writer
	Getenv  func(string) string
	Environ func() []string
	Cwd     string
	Home    string
	// SupervisorExe overrides the executable used for supervisors.
	SupervisorExe string
}

// OSSystem returns the real process environment.
func OSSystem() System {
	cwd, _ := os.Getwd()
	home, _ := os.UserHomeDir()
	return System{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Environ: os.Environ, Cwd: cwd, Home: home}
}

// usageError is a command-line usage problem: exit 2, nothing on stdout.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// app carries the global flags and lazily built dependencies.
type app struct {
	sys     System
	root    string
	yaml    bool
	verbose int
	log     *slog.Logger
	// after runs once the response has been written (automatic GC).
	after func()
	// rootLogged: the root resolution was logged (once per process).
	rootLogged bool
	// exitStatus, when non-zero, replaces exit 0 after a success envelope
	// was printed (wait --exit-code, SPEC §11.6).
	exitStatus int
}

func (a *app) logger() *slog.Logger {
	if a.log != nil {
		return a.log
	}
	level := slog.LevelWarn
	switch {
	case a.verbose == 1:
		level = slog.LevelInfo
	case a.verbose >= 2:
		level = slog.LevelDebug
	}
	switch strings.ToLower(a.sys.Getenv("AGENT_EXEC_LOG")) {
	case "error":
		level = slog.LevelError
	case "warn":
		level = slog.LevelWarn
	case "info":
		level = slog.LevelInfo
	case "debug", "trace":
		level = slog.LevelDebug
	}
	a.log = slog.New(slog.NewTextHandler(a.sys.Stderr, &slog.HandlerOptions{Level: level}))
	return a.log
}

func (a *app) rootPath() string {
	root, source := agentexec.ResolveRootSource(a.root, a.sys.Getenv, a.sys.Home, a.sys.Cwd)
	if !a.rootLogged {
		a.rootLogged = true
		a.logger().Debug("jobs root", "path", root, "from", source)
	}
	return root
}

// loadConfig loads the configuration file (explicit path or default).
func (a *app) loadConfig(explicit string) (config.Config, error) {
	if explicit != "" && !filepath.IsAbs(explicit) {
		explicit = filepath.Join(a.sys.Cwd, explicit)
	}
	c, err := config.Load(explicit, a.sys.Getenv, a.sys.Home)
	if err != nil {
		return c, &agentexec.Error{Code: agentexec.CodeInvalidConfig, Message: err.Error(), Err: err}
	}
	if c.Path != "" {
		a.logger().Info("config file loaded", "path", c.Path)
	} else {
		a.logger().Debug("no config file; using defaults", "looked_at", config.DefaultPath(a.sys.Getenv, a.sys.Home))
	}
	return c, nil
}

// manager opens the job store with the given configuration.
func (a *app) manager(c *config.Config) (*agentexec.Manager, error) {
	return agentexec.Open(a.rootPath(), a.managerOptions(c))
}

// managerOptions are the store options every command uses; servers adjust
// the environment and lifetime.
func (a *app) managerOptions(c *config.Config) agentexec.Options {
	opts := agentexec.Options{
		SupervisorExe: a.sys.SupervisorExe,
		Env:           a.sys.Environ(),
		Cwd:           a.sys.Cwd,
		Logger:        a.logger(),
	}
	if c != nil {
		opts.ShellWrapper = c.Shell()
		opts.StdinMaxBytes = agentexec.StdinLimit(c.StdinMaxBytes)
		opts.NotifyTimeout = c.NotifyTimeout
		opts.Backend = c.Backend
		opts.NoFullLog = !c.FullLog
		d := c.Slurm
		opts.Slurm = agentexec.SlurmSpec{Partition: d.Partition, Time: d.Time, CPUs: d.CPUs, MemMB: d.MemMB, Args: d.Args}
	}
	return opts
}

// call opens the store, runs one operation and prints its result as the
// typ envelope: the whole body of most commands.
func (a *app) call(typ string, c *config.Config, op func(m *agentexec.Manager) (any, error)) error {
	m, err := a.manager(c)
	if err != nil {
		return err
	}
	defer m.Close()
	res, err := op(m)
	if err != nil {
		return err
	}
	return a.respond(typ, res)
}

// respond writes a success envelope.
func (a *app) respond(typ string, payload any) error {
	js, err := envelopeJSON(typ, payload)
	if err != nil {
		return err
	}
	if err := write(a.sys.Stdout, js, a.yaml); err != nil {
		return errWriteStdout
	}
	return nil
}

var errWriteStdout = errors.New("stdout unwritable")

// Main runs the CLI with args (without the program name) and returns the
// process exit code: 0 success, 1 error envelope, 2 usage error; wait
// --exit-code passes a job's status through after its success envelope.
func Main(ctx context.Context, args []string, sys System) (code int) {
	a := &app{sys: sys}
	// A closed stdout must end the process with exit 1, not with SIGPIPE:
	// with a handler installed, writes return EPIPE instead.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	defer func() {
		if r := recover(); r != nil {
			a.logger().Error("internal panic", "panic", r, "stack", string(debug.Stack()))
			e := &agentexec.Error{Code: agentexec.CodeInternal, Message: fmt.Sprintf("internal error: %v", r)}
			write(sys.Stdout, ErrorJSON(e), a.yaml)
			code = 1
		}
	}()
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetIn(sys.Stdin)
	root.SetOut(sys.Stdout)
	root.SetErr(sys.Stderr)
	cmd, err := root.ExecuteContextC(ctx)
	code = a.exitCode(err, cmd)
	if code == 0 && a.after != nil {
		a.after()
	}
	if code == 0 && a.exitStatus != 0 {
		code = a.exitStatus
	}
	return code
}

// exitCode is the single error → exit-code table. cmd is the command that
// ran (or failed to parse), whose help a usage error points at.
func (a *app) exitCode(err error, cmd *cobra.Command) int {
	if err == nil {
		return 0
	}
	if errors.Is(err, errWriteStdout) {
		return 1
	}
	var ae *agentexec.Error
	if errors.As(err, &ae) {
		if werr := write(a.sys.Stdout, ErrorJSON(ae), a.yaml); werr != nil {
			return 1
		}
		return 1
	}
	fmt.Fprintf(a.sys.Stderr, "error: %v\nRun '%s --help' for usage.\n", err, helpPath(cmd))
	return 2
}

// helpPath is the command line whose --help explains cmd: "agent-exec
// run", "agent-exec tag set", or "agent-exec" for the root and unknown
// commands.
func helpPath(cmd *cobra.Command) string {
	if cmd == nil {
		return "agent-exec"
	}
	return cmd.CommandPath()
}

// wrapRun converts errors from a command body: usage errors stay usage
// errors, everything else becomes a contract error.
func wrapRun(f func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		err := f(cmd, args)
		if err == nil || errors.Is(err, errWriteStdout) {
			return err
		}
		var ue *usageError
		if errors.As(err, &ue) {
			return err
		}
		return agentexec.AsError(err)
	}
}

func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usagef("%s: missing required argument %s", cmd.CommandPath(), what)
		}
		if len(args) > n {
			return usagef("%s: unexpected argument %q", cmd.CommandPath(), args[n])
		}
		return nil
	}
}

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:           "agent-exec",
		Short:         "Run commands as detached, persistent jobs for agents; every call prints one JSON object",
		Version:       Version,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return usagef("missing command")
		},
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetVersionTemplate("agent-exec {{.Version}}\n")
	root.Flags().BoolP("version", "V", false, "print the version")
	pf := root.PersistentFlags()
	pf.StringVar(&a.root, "root", "", "jobs root (overrides AGENT_EXEC_ROOT and XDG defaults)")
	pf.BoolVar(&a.yaml, "yaml", false, "print the response as YAML")
	pf.CountVarP(&a.verbose, "verbose", "v", "diagnostics on stderr (repeat for more)")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &usageError{err.Error()}
	})
	root.AddCommand(
		newRunCmd(a), newCreateCmd(a), newRelaunchCmd(a, false), newRelaunchCmd(a, true), newStatusCmd(a), newTailCmd(a),
		newWaitCmd(a), newFollowCmd(a), newKillCmd(a), newListCmd(a, false), newListCmd(a, true),
		newSuperviseCmd(a),
	)
	for _, c := range extraCommands {
		root.AddCommand(c(a))
	}
	attachCompletions(root, a)
	return root
}

// extraCommands are registered by other files of this package.
var extraCommands []func(*app) *cobra.Command

func addCount(fs *pflag.FlagSet, p *int64, name string, def int64, usage string) {
	fs.Var(newCount(p, def), name, usage)
}

func addDuration(fs *pflag.FlagSet, p *time.Duration, name string, def time.Duration, usage string) {
	*p = def
	fs.Var(durationValue{p}, name, usage)
}
