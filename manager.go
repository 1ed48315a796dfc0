package agentexec

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/agentexec/agentexec/internal/store"
)

// Notification is a job's notification configuration (meta.notification).
type Notification = store.Notification

// OutputMatch is the output-match part of a Notification.
type OutputMatch = store.OutputMatch

// Options configure a Manager.
type Options struct {
	// SupervisorExe is the executable started as "<exe> _supervise …".
	// Empty means os.Executable(): the program must then call
	// [SuperviseMain] first thing in main.
	SupervisorExe string
	// Env is the environment handed to supervisors (and so to jobs that
	// inherit it). Nil means os.Environ().
	Env []string
	// Cwd is the directory relative paths are resolved against and the
	// default job working directory. Empty means the process cwd.
	Cwd string
	// ShellWrapper is the wrapper for new jobs when a request names none
	// (from the configuration file). Nil means sh -lc.
	ShellWrapper []string
	// StdinMaxBytes is the default job-input limit. 0 means 64 MiB; a
	// negative value allows no input at all (see StdinLimit).
	StdinMaxBytes int64
	// Logger receives diagnostics. Nil discards them.
	Logger *slog.Logger
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time
	// NotifyTimeout is the command-sink timeout handed to supervisors
	// (configuration [notify] timeout_ms). 0 lets the supervisor read the
	// default configuration file.
	NotifyTimeout time.Duration
	// NoFullLog starts jobs without full.log (configuration [logs]
	// full_log = false); stdout.log and stderr.log are unaffected.
	NoFullLog bool
	// Backend is where jobs run whose definition names no backend: ""
	// or "local", or "slurm" (configuration [backend] default, SPEC §11.7).
	Backend string
	// Slurm holds the Slurm submission defaults (configuration [slurm]);
	// a job's own non-zero options override them field by field, and its
	// Args are appended.
	Slurm SlurmSpec
	// LongLived is set by servers (serve, mcp): supervisors are reaped by a
	// goroutine instead of being left to re-parenting.
	LongLived bool
}

// DefaultStdinMaxBytes is the default job-input limit (64 MiB).
const DefaultStdinMaxBytes = 64 << 20

// StdinLimit converts a configured byte limit (where 0 means "no input")
// into the StdinMaxBytes fields, whose zero value means the default.
func StdinLimit(n int64) int64 {
	if n == 0 {
		return -1
	}
	return n
}

func effectiveLimit(n, fallback int64) int64 {
	switch {
	case n == 0:
		return fallback
	case n < 0:
		return 0
	}
	return n
}

// Manager operates the jobs under one root. It is safe for concurrent use.
type Manager struct {
	root string
	opts Options
	log  *slog.Logger

	watchMu sync.Mutex
	watcher *watcher
}

// Open returns a Manager for root, which must be absolute (see ResolveRoot).
// The root is not created until a job is.
//
// In a process that was started as a supervisor but did not dispatch to
// [SuperviseMain], Open refuses with launch_failed: such a process must
// never create or launch jobs (it would start another copy of itself).
func Open(root string, opts Options) (*Manager, error) {
	if err := refuseInSupervisor(); err != nil {
		return nil, err
	}
	if !filepath.IsAbs(root) {
		return nil, newError(CodeInternal, "root must be absolute: %s", root)
	}
	if opts.Env == nil {
		opts.Env = os.Environ()
	}
	if opts.Cwd == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, internalError(err)
		}
		opts.Cwd = wd
	}
	if opts.ShellWrapper == nil {
		opts.ShellWrapper = defaultWrapper()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Manager{root: filepath.Clean(root), opts: opts, log: log}, nil
}

func defaultWrapper() []string {
	if runtime.GOOS == "windows" {
		return []string{"cmd", "/C"}
	}
	return []string{"sh", "-lc"}
}

// Root returns the absolute jobs root.
func (m *Manager) Root() string { return m.root }

// Close releases the shared file watcher.
func (m *Manager) Close() error {
	m.watchMu.Lock()
	defer m.watchMu.Unlock()
	if m.watcher != nil {
		m.watcher.close()
		m.watcher = nil
	}
	return nil
}

// ResolveRoot applies the root resolution order of SPEC §1.3: flag, then
// AGENT_EXEC_ROOT, then $XDG_DATA_HOME/agent-exec/jobs (absolute only), then
// <home>/.local/share/agent-exec/jobs, then ./.agent-exec/jobs. The result
// is absolute and lexically clean; symlinks are not resolved.
func ResolveRoot(flag string, getenv func(string) string, home, cwd string) string {
	p, _ := ResolveRootSource(flag, getenv, home, cwd)
	return p
}

// ResolveRootSource is ResolveRoot that also names the rule that matched:
// "--root", "AGENT_EXEC_ROOT", "XDG_DATA_HOME", "LOCALAPPDATA", "home" or
// "cwd" (no home directory), for diagnostics.
func ResolveRootSource(flag string, getenv func(string) string, home, cwd string) (root, source string) {
	var p string
	switch {
	case flag != "":
		p, source = flag, "--root"
	case getenv("AGENT_EXEC_ROOT") != "":
		p, source = getenv("AGENT_EXEC_ROOT"), "AGENT_EXEC_ROOT"
	case getenv("XDG_DATA_HOME") != "" && filepath.IsAbs(getenv("XDG_DATA_HOME")):
		p, source = filepath.Join(getenv("XDG_DATA_HOME"), "agent-exec", "jobs"), "XDG_DATA_HOME"
	case runtime.GOOS == "windows" && getenv("LOCALAPPDATA") != "":
		p, source = filepath.Join(getenv("LOCALAPPDATA"), "agent-exec", "jobs"), "LOCALAPPDATA"
	case home != "":
		p, source = filepath.Join(home, ".local", "share", "agent-exec", "jobs"), "home"
	default:
		p, source = filepath.Join(".agent-exec", "jobs"), "cwd"
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(cwd, p)
	}
	return filepath.Clean(p), source
}

// jobRef is a resolved job: its id and directory.
type jobRef struct {
	id  string
	dir string
	// lock, set by a launching operation that holds the job lock, is
	// handed to the supervisor it starts (see launchLocal).
	lock *store.Lock
}

func (j jobRef) stdoutPath() string { return filepath.Join(j.dir, store.StdoutLog) }
func (j jobRef) stderrPath() string { return filepath.Join(j.dir, store.StderrLog) }

// resolve validates and looks up an id, a unique prefix or "@name" (the
// newest job called name). Every operation that takes an id resolves it
// here, so every adapter accepts the same references.
func (m *Manager) resolve(given string) (jobRef, error) {
	if strings.HasPrefix(given, NamePrefix) {
		return m.resolveName(given)
	}
	if !store.ValidID(given) {
		return jobRef{}, invalidIDError(given)
	}
	id, err := store.Resolve(m.root, given)
	if err != nil {
		var amb *store.AmbiguousError
		switch {
		case errors.As(err, &amb):
			return jobRef{}, ambiguousError(given, amb.Candidates)
		case errors.Is(err, store.ErrNotFound), errors.Is(err, fs.ErrNotExist):
			return jobRef{}, notFoundError(given)
		}
		return jobRef{}, internalError(err)
	}
	return jobRef{id: id, dir: store.Dir(m.root, id)}, nil
}

func (m *Manager) now() time.Time { return m.opts.Now() }

// readMeta reads meta.json; failures are internal_error naming the file.
func readMeta(j jobRef) (*store.Meta, error) { return readMetaWith(j, store.ReadMeta) }

// readMetaWith reads meta.json with the given reader (ReadMetaForUpdate
// before a rewrite).
func readMetaWith(j jobRef, read func(dir string) (*store.Meta, error)) (*store.Meta, error) {
	meta, err := read(j.dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if _, serr := os.Stat(j.dir); serr != nil {
				return nil, notFoundError(j.id)
			}
		}
		return nil, newError(CodeInternal, "read meta.json of job %s: %v", j.id, err)
	}
	return meta, nil
}

// readState reads state.json; failures are internal_error naming the file.
func readState(j jobRef) (*store.State, error) {
	st, err := store.ReadState(j.dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if _, serr := os.Stat(j.dir); serr != nil {
				return nil, notFoundError(j.id)
			}
		}
		return nil, newError(CodeInternal, "read state.json of job %s: %v", j.id, err)
	}
	return st, nil
}
