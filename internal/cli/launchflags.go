package cli

import (
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/agentexec/agentexec"
	"github.com/agentexec/agentexec/internal/config"
)

// defFlags are the definition flags of run and create (SPEC §4.0).
type defFlags struct {
	timeout, killAfter, progressEvery time.Duration
	cwd                               string
	env, envFiles, mask, tags         []string
	inheritEnv, noInheritEnv          bool
	notifyCommand, notifyFile         string
	outputPattern, outputMatchType    string
	outputStream                      string
	outputCommand, outputFile         string
	configPath                        string
	shellWrapper                      string
	stdin, stdinFile                  string
	stdinMaxBytes                     int64
	noStdin                           bool
	name                              string
	ensure                            bool
	agentEnv                          bool
	backendFlags
	descendants string
	idleTimeout time.Duration
	interactive bool
	pty         bool
	ptySize     string
}

func (d *defFlags) register(fs *pflag.FlagSet, withNoStdin bool) {
	addDuration(fs, &d.timeout, "timeout", 0, "runtime limit (ms or with unit); 0 = none")
	addDuration(fs, &d.killAfter, "kill-after", 0, "delay between SIGTERM and SIGKILL after a timeout")
	addDuration(fs, &d.progressEvery, "progress-every", 0, "refresh updated_at while running; 0 = off")
	fs.StringVar(&d.cwd, "cwd", "", "working directory (default: current directory)")
	fs.StringArrayVar(&d.env, "env", nil, "environment entry KEY=VALUE (repeatable)")
	fs.StringArrayVar(&d.envFiles, "env-file", nil, "env file read at each launch (repeatable)")
	fs.BoolVar(&d.inheritEnv, "inherit-env", false, "inherit the caller's environment (default)")
	fs.BoolVar(&d.noInheritEnv, "no-inherit-env", false, "start from an empty environment")
	fs.StringArrayVar(&d.mask, "mask", nil, "show KEY=*** in env_vars (repeatable)")
	fs.StringArrayVar(&d.tags, "tag", nil, "tag (repeatable)")
	fs.StringVar(&d.notifyCommand, "notify-command", "", "shell command run with the job.finished event on stdin")
	fs.StringVar(&d.notifyFile, "notify-file", "", "file the job.finished event is appended to (NDJSON)")
	fs.StringVar(&d.outputPattern, "output-pattern", "", "fire job.output.matched for output lines matching this")
	d.outputMatchType = "contains"
	fs.Var(enumValue{&d.outputMatchType, []string{"contains", "regex"}}, "output-match-type", "contains|regex")
	d.outputStream = "either"
	fs.Var(enumValue{&d.outputStream, []string{"stdout", "stderr", "either"}}, "output-stream", "stdout|stderr|either")
	fs.StringVar(&d.outputCommand, "output-command", "", "shell command run for each output match")
	fs.StringVar(&d.outputFile, "output-file", "", "file each output match is appended to (NDJSON)")
	fs.StringVar(&d.configPath, "config", "", "configuration file")
	fs.StringVar(&d.shellWrapper, "shell-wrapper", "", `wrapper program and arguments, e.g. "bash -c"`)
	fs.StringVar(&d.stdin, "stdin", "", "job input: the value itself, or - to read the caller's stdin")
	fs.StringVar(&d.stdinFile, "stdin-file", "", "job input copied from this file")
	addCount(fs, &d.stdinMaxBytes, "stdin-max-bytes", config.DefaultStdinMaxBytes, "job input limit in bytes")
	d.descendants = agentexec.DescendantsLeave
	fs.Var(enumValue{&d.descendants, []string{agentexec.DescendantsLeave, agentexec.DescendantsKill, agentexec.DescendantsWait}}, "descendants", "when the command exits while processes it started live: leave|kill|wait")
	addDuration(fs, &d.idleTimeout, "idle-timeout", 0, "stop the job when it writes no output for this long; 0 = off")
	if withNoStdin {
		fs.BoolVar(&d.noStdin, "no-stdin", false, "give the job /dev/null as stdin")
	}
	fs.StringVar(&d.name, "name", "", "name the job; @NAME then refers to the newest job called NAME")
	fs.BoolVar(&d.ensure, "ensure", false, "with --name: return the created or running job of that name instead of starting another")
	fs.BoolVar(&d.agentEnv, "agent-env", false, "add NO_COLOR=1, TERM=dumb, PAGER=cat, GIT_PAGER=cat, GIT_TERMINAL_PROMPT=0 unless --env or an env file sets them")
	fs.BoolVar(&d.interactive, "interactive", false, "keep the job's stdin open for send (until send --eof, the job's end or kill)")
	fs.BoolVar(&d.pty, "pty", false, "run the command on a pseudo-terminal (implies --interactive; screen shows it)")
	fs.StringVar(&d.ptySize, "pty-size", "120x40", "terminal size of --pty as COLSxROWS")
	d.backendFlags.register(fs)
}

// check applies the declared conflicts and the tag grammar (usage errors).
func (d *defFlags) check(cmd *cobra.Command) error {
	fs := cmd.Flags()
	if fs.Changed("inherit-env") && fs.Changed("no-inherit-env") {
		return usagef("--inherit-env and --no-inherit-env are mutually exclusive")
	}
	n := 0
	for _, f := range []string{"stdin", "stdin-file", "no-stdin"} {
		if fs.Changed(f) {
			n++
		}
	}
	if n > 1 {
		return usagef("--stdin, --stdin-file and --no-stdin are mutually exclusive")
	}
	if fs.Changed("pty-size") && !d.pty {
		return usagef("--pty-size requires --pty")
	}
	if d.pty {
		if _, _, err := agentexec.ParsePTYSize(d.ptySize); err != nil {
			return usagef("--pty-size: %v", err)
		}
		if n > 0 {
			return usagef("--pty conflicts with --stdin, --stdin-file and --no-stdin: a terminal job takes its input through send")
		}
		d.interactive = true
	}
	if n > 0 && d.interactive {
		return usagef("--interactive conflicts with --stdin, --stdin-file and --no-stdin: an interactive job takes its input through send")
	}
	for _, t := range d.tags {
		if err := agentexec.ValidateTag(t); err != nil {
			return usagef("invalid tag %q: %v", t, err)
		}
	}
	if fs.Changed("name") {
		if err := agentexec.ValidateName(d.name); err != nil {
			return usagef("%v", err)
		}
	}
	if d.ensure && d.name == "" {
		return usagef("--ensure requires --name")
	}
	return nil
}

// spec builds the job definition; cfg supplies the default wrapper.
func (d *defFlags) spec(cmd *cobra.Command, command []string, cfg config.Config) (agentexec.JobSpec, error) {
	s := agentexec.JobSpec{
		Command: command, Cwd: d.cwd, Env: d.env, EnvFiles: d.envFiles, NoInheritEnv: d.noInheritEnv,
		Mask: d.mask, Tags: d.tags, Timeout: d.timeout, KillAfter: d.killAfter, ProgressEvery: d.progressEvery,
		ShellWrapper: cfg.Shell(), StdinMaxBytes: agentexec.StdinLimit(d.stdinMaxBytes), Name: d.name,
		AgentEnv:    d.agentEnv,
		Descendants: d.descendants, IdleTimeout: d.idleTimeout, Interactive: d.interactive,
	}
	if d.pty {
		s.PTY = true
		s.PTYCols, s.PTYRows, _ = agentexec.ParsePTYSize(d.ptySize) // checked in check
	}
	if cmd.Flags().Changed("shell-wrapper") {
		s.ShellWrapper = strings.Fields(d.shellWrapper)
		if len(s.ShellWrapper) == 0 {
			return s, &agentexec.Error{Code: agentexec.CodeInvalidArgument, Message: "shell wrapper must not be blank"}
		}
	}
	n := &agentexec.Notification{NotifyCommand: d.notifyCommand, NotifyFile: d.notifyFile}
	if d.outputPattern != "" {
		n.OnOutputMatch = &agentexec.OutputMatch{Pattern: d.outputPattern, MatchType: d.outputMatchType,
			Stream: d.outputStream, Command: d.outputCommand, File: d.outputFile}
	}
	if !n.Empty() {
		s.Notification = n
	}
	d.backendFlags.apply(&s)
	return s, nil
}

// prepare validates the definition flags, loads the configuration and
// reads the job input: everything run and create do before touching the
// store. auto enables run's automatic stdin forwarding.
func (d *defFlags) prepare(a *app, cmd *cobra.Command, command []string, auto bool) (agentexec.JobSpec, config.Config, error) {
	if err := d.check(cmd); err != nil {
		return agentexec.JobSpec{}, config.Config{}, err
	}
	cfg, err := a.loadConfig(d.configPath)
	if err != nil {
		return agentexec.JobSpec{}, cfg, err
	}
	spec, err := d.spec(cmd, command, cfg)
	if err != nil {
		return spec, cfg, err
	}
	if n := spec.Notification; n != nil && n.OnOutputMatch != nil {
		if err := agentexec.ValidateOutputMatch(n.OnOutputMatch); err != nil {
			return spec, cfg, err
		}
	}
	for _, e := range spec.Env {
		if err := agentexec.ValidateEnvEntry(e); err != nil {
			return spec, cfg, &agentexec.Error{Code: agentexec.CodeInvalidArgument, Message: err.Error()}
		}
	}
	if !cmd.Flags().Changed("stdin-max-bytes") {
		d.stdinMaxBytes = cfg.StdinMaxBytes
	}
	spec.StdinMaxBytes = agentexec.StdinLimit(d.stdinMaxBytes)
	if d.interactive {
		return spec, cfg, nil // the input comes through send, never from the caller's stdin
	}
	spec.Stdin, spec.HasStdin, err = a.readInput(d, cmd.Flags().Changed("stdin"), auto, cfg.StdinGrace)
	return spec, cfg, err
}

// obsFlags are the observation flags of run, start and restart.
type obsFlags struct {
	snapshotAfter time.Duration
	noWait        bool
	tailLines     int64
	maxBytes      int64
	wait          bool
	poll          time.Duration
	until         time.Duration
	forever       bool
	noAutoGC      bool
	settle        time.Duration
	render        string
	ready         readyFlags
}

func (o *obsFlags) register(fs *pflag.FlagSet, defaultUntil time.Duration) {
	addDuration(fs, &o.snapshotAfter, "snapshot-after", 10*time.Second, "observe up to this long (max 10s) and include a snapshot; 0 = none")
	fs.BoolVar(&o.noWait, "no-wait", false, "return right after the launch (no snapshot)")
	addCount(fs, &o.tailLines, "tail-lines", 50, "lines per stream in snapshots; 0 = no limit")
	addCount(fs, &o.maxBytes, "max-bytes", 65536, "bytes per stream in snapshots")
	fs.BoolVar(&o.wait, "wait", false, "block until the job is terminal or --until passes")
	addDuration(fs, &o.poll, "wait-poll-ms", 200*time.Millisecond, "fallback re-check interval (min 10ms)")
	addDuration(fs, &o.until, "until", defaultUntil, "deadline for --wait")
	fs.BoolVar(&o.forever, "forever", false, "with --wait: no deadline")
	fs.BoolVar(&o.noAutoGC, "no-auto-gc", false, "skip the automatic cleanup after the launch")
	addDuration(fs, &o.settle, "settle", agentexec.DefaultSettle, "end the snapshot wait once output has been quiet this long; 0 = wait the whole --snapshot-after")
	addRender(fs, &o.render)
	o.ready.register(fs, "wait-for-output")
}

// renderModes are the values of --render.
var renderModes = []string{string(agentexec.RenderRaw), string(agentexec.RenderTerminal)}

// addRender registers --render on every command that returns excerpts
// (send too, when it exists).
func addRender(fs *pflag.FlagSet, r *string) {
	*r = string(agentexec.RenderRaw)
	fs.Var(enumValue{r, renderModes}, "render",
		"raw|terminal: terminal removes ANSI escapes, keeps the last \\r redraw of a line and cuts lines over 2000 bytes")
}

func (o *obsFlags) check(cmd *cobra.Command) error {
	fs := cmd.Flags()
	switch {
	case o.noWait && o.wait:
		return usagef("--no-wait conflicts with --wait")
	case o.noWait && fs.Changed("snapshot-after"):
		return usagef("--no-wait conflicts with --snapshot-after")
	case o.noWait && o.ready.given(cmd):
		return usagef("--no-wait conflicts with --wait-for-output and --wait-for-port")
	case fs.Changed("until") && !o.wait && !o.ready.given(cmd):
		return usagef("--until requires --wait, --wait-for-output or --wait-for-port")
	case o.forever && !o.wait && !o.ready.given(cmd):
		return usagef("--forever requires --wait, --wait-for-output or --wait-for-port")
	case o.forever && fs.Changed("until"):
		return usagef("--until conflicts with --forever")
	}
	return o.ready.check(cmd)
}

// options converts the flags; untilDefaultForever is start/restart's "no
// deadline unless --until".
func (o *obsFlags) options(cmd *cobra.Command, untilDefaultForever bool) agentexec.ObserveOptions {
	forOutput, forPort := o.ready.condition(cmd), o.ready.portCondition(cmd)
	if forOutput != nil || forPort != 0 {
		// A readiness wait has run's deadline on start and restart too.
		untilDefaultForever = false
		if !cmd.Flags().Changed("until") {
			o.until = 30 * time.Second
		}
	}
	return agentexec.ObserveOptions{
		ForOutput:     forOutput,
		ForPort:       forPort,
		SnapshotAfter: min(o.snapshotAfter, 10*time.Second),
		NoWait:        o.noWait,
		Wait:          o.wait,
		Until:         o.until,
		Forever:       o.forever || untilDefaultForever && !cmd.Flags().Changed("until"),
		Poll:          o.poll,
		TailLines:     int(o.tailLines),
		MaxBytes:      o.maxBytes,
		Settle:        o.settle,
		Render:        agentexec.Render(o.render),
	}
}
