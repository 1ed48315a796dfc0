package agentexec

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/agentexec/agentexec/internal/store"
)

// JobSpec defines a job: what run and create persist in meta.json.
type JobSpec struct {
	// Command is COMMAND: one element runs through the shell wrapper as a
	// shell string; several are exec'd as argv (SPEC §3.3).
	Command []string
	// Cwd is the working directory; relative to Options.Cwd; empty means
	// Options.Cwd. It is not checked until launch.
	Cwd string
	// Env holds KEY=VALUE entries (no '=' sets an empty value).
	Env []string
	// EnvFiles are read at every launch, in order.
	EnvFiles []string
	// NoInheritEnv starts the job with an empty environment.
	NoInheritEnv bool
	// Mask lists keys whose values are shown as *** in env_vars.
	Mask []string
	// Tags are stored tags (validated, de-duplicated).
	Tags []string
	// Timeout, KillAfter and ProgressEvery are the job timers; 0 = off.
	Timeout, KillAfter, ProgressEvery time.Duration
	// ShellWrapper is the wrapper argv; nil means Options.ShellWrapper.
	ShellWrapper []string
	// Notification configures completion and output-match events.
	Notification *Notification
	// Stdin is the job input when HasStdin is set (stored as stdin.bin).
	Stdin    []byte
	HasStdin bool
	// AgentEnv adds the agent environment (NO_COLOR=1, TERM=dumb,
	// PAGER=cat, GIT_PAGER=cat, GIT_TERMINAL_PROMPT=0) unless Env or an
	// env file sets the key (SPEC §11.8). Stored with the job.
	AgentEnv bool
	// StdinMaxBytes overrides Options.StdinMaxBytes when non-zero
	// (negative: no input allowed).
	StdinMaxBytes int64
	// Name names the job (SPEC §11.6): "@Name" then refers to the newest
	// job called Name. Empty means unnamed.
	Name string
	// Backend is where the job runs (SPEC §11.7): "" or "local" for a local
	// supervisor, "slurm" for a Slurm batch job with the Slurm options.
	Backend string
	Slurm   SlurmSpec
	// NoFullLog turns full.log off for this job (issue #12: it more than
	// doubled disk use); false keeps Options.NoFullLog's choice.
	NoFullLog bool
	// Descendants is what happens to the rest of the job's process tree
	// when the direct child exits: "" or "leave" (default), "kill", "wait"
	// (SPEC §11.4).
	Descendants string
	// IdleTimeout stops a job that wrote no output byte for this long;
	// 0 = off.
	IdleTimeout time.Duration
	// Interactive gives the job a stdin pipe its supervisor holds open
	// for Send until EOF, the job's end or a kill (SPEC §11.5). It
	// excludes HasStdin.
	Interactive bool
	// PTY runs the command on a pseudo-terminal as its controlling
	// terminal (SPEC §11.5); it implies Interactive. PTYCols and PTYRows
	// are its size, 0 for the default 120x40.
	PTY              bool
	PTYCols, PTYRows int
}

// CanonicalDir makes dir absolute against base, cleans it and resolves
// symlinks; if resolution fails (e.g. it does not exist) the cleaned
// absolute path is returned (SPEC §2.3 cwd).
func CanonicalDir(dir, base string) string {
	if dir == "" {
		dir = base
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(base, dir)
	}
	dir = filepath.Clean(dir)
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		return real
	}
	return dir
}

// ValidateEnvEntry checks a KEY=VALUE entry: the key must be non-empty and
// without NUL, the value without NUL.
func ValidateEnvEntry(e string) error {
	k, v, _ := strings.Cut(e, "=")
	switch {
	case k == "": // the value may be a secret: never echo it
		return fmt.Errorf("invalid env entry: empty key")
	case strings.IndexByte(k, 0) >= 0:
		return fmt.Errorf("invalid env entry %q: key contains NUL", k)
	case strings.IndexByte(v, 0) >= 0:
		return fmt.Errorf("invalid env entry for %s: value contains NUL", k)
	}
	return nil
}

// ValidateOutputMatch checks an output-match configuration.
func ValidateOutputMatch(om *OutputMatch) error {
	if om == nil {
		return nil
	}
	switch om.MatchType {
	case "contains":
	case "regex":
		if _, err := regexp.Compile(om.Pattern); err != nil {
			return newError(CodeInvalidArgument, "invalid output-match regex %q: %v", om.Pattern, err)
		}
	default:
		return newError(CodeInvalidArgument, "invalid output match type %q: use contains or regex", om.MatchType)
	}
	switch om.Stream {
	case "stdout", "stderr", "either":
	default:
		return newError(CodeInvalidArgument, "invalid output stream %q: use stdout, stderr or either", om.Stream)
	}
	return nil
}

// buildMeta validates spec and builds the meta.json of a new job (without
// id and timestamps, which creation fills in).
func (m *Manager) buildMeta(spec *JobSpec) (*store.Meta, error) {
	if len(spec.Command) == 0 {
		return nil, newError(CodeInvalidArgument, "command must not be empty")
	}
	for _, c := range spec.Command {
		if strings.IndexByte(c, 0) >= 0 {
			return nil, newError(CodeInvalidArgument, "command arguments must not contain NUL bytes")
		}
	}
	wrapper := spec.ShellWrapper
	if wrapper == nil {
		wrapper = m.opts.ShellWrapper
	}
	if len(wrapper) == 0 || strings.TrimSpace(strings.Join(wrapper, "")) == "" {
		return nil, newError(CodeInvalidArgument, "shell wrapper must not be blank")
	}
	tags, err := normalizeTags(spec.Tags)
	if err != nil {
		return nil, err
	}
	if spec.Name != "" {
		if err := ValidateName(spec.Name); err != nil {
			return nil, err
		}
	}
	if err := ValidateDescendants(spec.Descendants); err != nil {
		return nil, err
	}
	if spec.PTY {
		spec.Interactive = true
		spec.PTYCols, spec.PTYRows = cmp.Or(spec.PTYCols, DefaultPTYCols), cmp.Or(spec.PTYRows, DefaultPTYRows)
		if err := ValidatePTYSize(spec.PTYCols, spec.PTYRows); err != nil {
			return nil, err
		}
	}
	if spec.Interactive && spec.HasStdin {
		return nil, newError(CodeInvalidArgument, "an interactive job takes its input through send, not stdin")
	}
	if spec.IdleTimeout < 0 {
		return nil, newError(CodeInvalidArgument, "idle timeout must not be negative")
	}
	meta := &store.Meta{
		Command:         append([]string(nil), spec.Command...),
		Root:            m.root,
		EnvKeys:         []string{},
		Cwd:             CanonicalDir(spec.Cwd, m.opts.Cwd),
		Tags:            tags,
		InheritEnv:      !spec.NoInheritEnv,
		TimeoutMS:       spec.Timeout.Milliseconds(),
		KillAfterMS:     spec.KillAfter.Milliseconds(),
		ProgressEveryMS: spec.ProgressEvery.Milliseconds(),
		ShellWrapper:    append([]string(nil), wrapper...),
		Name:            spec.Name,
		AgentEnv:        spec.AgentEnv,
		IdleTimeoutMS:   spec.IdleTimeout.Milliseconds(),
		Interactive:     spec.Interactive,
	}
	if spec.PTY {
		meta.PTY, meta.PTYCols, meta.PTYRows = true, spec.PTYCols, spec.PTYRows
	}
	if spec.NoFullLog || m.opts.NoFullLog {
		off := false
		meta.FullLog = &off
	}
	if meta.Backend, err = buildBackend(spec, m.opts); err != nil {
		return nil, err
	}
	if spec.Interactive && meta.Backend.IsSlurm() {
		// The control socket lives with the supervisor, on a compute node.
		return nil, newError(CodeInvalidArgument, "an interactive job runs on the local backend only")
	}
	if spec.Descendants != DescendantsLeave {
		meta.Descendants = spec.Descendants
	}
	masked := map[string]bool{}
	for _, k := range spec.Mask {
		masked[k] = true
	}
	for _, e := range spec.Env {
		if err := ValidateEnvEntry(e); err != nil {
			return nil, newError(CodeInvalidArgument, "%v", err)
		}
		k, _, _ := strings.Cut(e, "=")
		meta.EnvKeys = append(meta.EnvKeys, k)
		meta.EnvVarsRuntime = append(meta.EnvVarsRuntime, e)
		if masked[k] {
			meta.EnvVars = append(meta.EnvVars, k+"=***")
		} else {
			meta.EnvVars = append(meta.EnvVars, e)
		}
	}
	if len(spec.Mask) > 0 {
		meta.Mask = append([]string(nil), spec.Mask...)
	}
	for _, f := range spec.EnvFiles {
		if !filepath.IsAbs(f) {
			f = filepath.Join(m.opts.Cwd, f)
		}
		meta.EnvFiles = append(meta.EnvFiles, filepath.Clean(f))
	}
	if n := spec.Notification; n != nil && !n.Empty() {
		nc := *n
		if n.OnOutputMatch != nil {
			om := *n.OnOutputMatch
			if om.MatchType == "" {
				om.MatchType = "contains"
			}
			if om.Stream == "" {
				om.Stream = "either"
			}
			if err := ValidateOutputMatch(&om); err != nil {
				return nil, err
			}
			if om.Pattern == "" {
				nc.OnOutputMatch = nil
			} else {
				nc.OnOutputMatch = &om
			}
		}
		if nc.NotifyFile != "" && !filepath.IsAbs(nc.NotifyFile) {
			nc.NotifyFile = filepath.Join(m.opts.Cwd, nc.NotifyFile)
		}
		if nc.OnOutputMatch != nil && nc.OnOutputMatch.File != "" && !filepath.IsAbs(nc.OnOutputMatch.File) {
			nc.OnOutputMatch.File = filepath.Join(m.opts.Cwd, nc.OnOutputMatch.File)
		}
		if !nc.Empty() {
			meta.Notification = &nc
		}
	}
	if spec.HasStdin {
		limit := effectiveLimit(spec.StdinMaxBytes, effectiveLimit(m.opts.StdinMaxBytes, DefaultStdinMaxBytes))
		if int64(len(spec.Stdin)) > limit {
			return nil, newError(CodeStdinTooLarge, "stdin exceeds %d bytes", limit)
		}
	}
	return meta, nil
}

// definitionTooLarge is the invalid_argument of a job definition whose
// meta.json would exceed what readers accept: one limit for every path
// (CLI, HTTP, MCP, library), enforced where the file is written.
func definitionTooLarge(se *store.MetaSizeError) *Error {
	return newError(CodeInvalidArgument, "job definition too large: its meta.json would be %d bytes, over the limit of %d bytes (command, env values, tags and notification settings count, as escaped JSON)", se.Size, store.MaxJSONFile)
}

// createJob validates spec and creates the job directory, returning it with
// its lock held. A named job is entered in the name index before it
// appears; the caller holds the name lock (claimName).
// launching says the job is created to be launched at once (run): its
// created state then carries the launch lease (State.Launching).
func (m *Manager) createJob(ctx context.Context, spec *JobSpec, launching bool) (jobRef, *store.Meta, *store.Lock, error) {
	if err := refuseInSupervisor(); err != nil {
		return jobRef{}, nil, nil, err
	}
	meta, err := m.buildMeta(spec)
	if err != nil {
		return jobRef{}, nil, nil, err
	}
	nj := store.NewJob{Meta: meta, Now: m.opts.Now}
	if launching && !meta.Backend.IsSlurm() {
		nj.Launching = launcherLease()
	}
	if name := meta.Name; name != "" {
		nj.BeforeCommit = func(id string) error {
			if err := store.AddNameID(m.root, name, id); err != nil {
				return fmt.Errorf("record job name %s: %w", name, err)
			}
			return nil
		}
	}
	if spec.HasStdin {
		nj.Stdin = spec.Stdin
		if nj.Stdin == nil {
			nj.Stdin = []byte{}
		}
	}
	id, lock, err := store.Create(m.root, nj)
	if err != nil {
		if se := (*store.MetaSizeError)(nil); errors.As(err, &se) {
			return jobRef{}, nil, nil, definitionTooLarge(se)
		}
		return jobRef{}, nil, nil, internalError(err)
	}
	return jobRef{id: id, dir: store.Dir(m.root, id)}, meta, lock, nil
}

// Create persists a job definition without launching it.
func (m *Manager) Create(ctx context.Context, spec JobSpec) (*CreateResult, error) {
	return m.create(ctx, spec, false)
}

// Ensure is create --name N --ensure (SPEC §11.6): if a job called
// spec.Name is created or running it is returned with Reused set (and
// CommandDiffers telling whether its command, cwd or environment keys
// differ from spec) and nothing is created; otherwise the job is created
// as by Create. Concurrent calls for one name create at most one job.
func (m *Manager) Ensure(ctx context.Context, spec JobSpec) (*CreateResult, error) {
	return m.create(ctx, spec, true)
}

func (m *Manager) create(ctx context.Context, spec JobSpec, ensure bool) (*CreateResult, error) {
	unlockName, reuse, err := m.claimName(ctx, &spec, ensure)
	if err != nil {
		return nil, err
	}
	if reuse != nil {
		return &CreateResult{JobID: reuse.j.id, State: State(reuse.state.Job.Status), StdoutLogPath: reuse.j.stdoutPath(),
			StderrLogPath: reuse.j.stderrPath(), Reused: boolPtr(true), CommandDiffers: boolPtr(reuse.differs)}, nil
	}
	j, _, lock, err := m.createJob(ctx, &spec, false)
	unlockName()
	if err != nil {
		return nil, err
	}
	lock.Unlock()
	res := &CreateResult{JobID: j.id, State: StateCreated, StdoutLogPath: j.stdoutPath(), StderrLogPath: j.stderrPath()}
	if ensure {
		res.Reused = boolPtr(false)
	}
	return res, nil
}
