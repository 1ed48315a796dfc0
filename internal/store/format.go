package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Timestamp formats t as UTC RFC 3339 with second precision (truncated).
func Timestamp(t time.Time) string { return t.UTC().Truncate(time.Second).Format(TimestampLayout) }

// JobRef is the {"id": …} object of meta.json.
type JobRef struct {
	ID string `json:"id"`
}

// OutputMatch is meta.notification.on_output_match.
type OutputMatch struct {
	Pattern   string `json:"pattern"`
	MatchType string `json:"match_type"`
	Stream    string `json:"stream"`
	Command   string `json:"command,omitempty"`
	File      string `json:"file,omitempty"`
}

// Notification is meta.notification.
type Notification struct {
	NotifyCommand string       `json:"notify_command,omitempty"`
	NotifyFile    string       `json:"notify_file,omitempty"`
	OnOutputMatch *OutputMatch `json:"on_output_match,omitempty"`
}

// Empty reports whether nothing is configured.
func (n *Notification) Empty() bool {
	return n == nil || n.NotifyCommand == "" && n.NotifyFile == "" && n.OnOutputMatch == nil
}

// Meta is meta.json (SPEC §2.3). Unknown top-level keys are kept in Extra and
// written back after the known ones, so rewrites never drop them.
type Meta struct {
	Job             JobRef        `json:"job"`
	SchemaVersion   string        `json:"schema_version"`
	Command         []string      `json:"command"`
	CreatedAt       string        `json:"created_at"`
	Root            string        `json:"root"`
	EnvKeys         []string      `json:"env_keys"`
	EnvVars         []string      `json:"env_vars,omitempty"`
	EnvVarsRuntime  []string      `json:"env_vars_runtime,omitempty"`
	Mask            []string      `json:"mask,omitempty"`
	Cwd             string        `json:"cwd,omitempty"`
	Notification    *Notification `json:"notification,omitempty"`
	Tags            []string      `json:"tags"`
	InheritEnv      bool          `json:"inherit_env"`
	EnvFiles        []string      `json:"env_files,omitempty"`
	TimeoutMS       int64         `json:"timeout_ms"`
	KillAfterMS     int64         `json:"kill_after_ms"`
	ProgressEveryMS int64         `json:"progress_every_ms"`
	ShellWrapper    []string      `json:"shell_wrapper"`
	StdinFile       string        `json:"stdin_file,omitempty"`
	// Name (added in v1.1) is the job's name (--name), addressed as "@name".
	Name string `json:"name,omitempty"`
	// AgentEnv (added in v1.1) adds the agent environment at launch.
	AgentEnv bool `json:"agent_env,omitempty"`
	// FullLog (added in v1.1) is false when the job was started without
	// full.log (--no-full-log); absent means on.
	FullLog *bool `json:"full_log,omitempty"`
	// Backend (added in v1.1) says where the job runs; absent means local.
	Backend *Backend `json:"backend,omitempty"`
	// Descendants is what happens to the rest of the tree when the direct
	// child exits (SPEC §11.4): "" or "leave", "kill", "wait".
	Descendants string `json:"descendants,omitempty"`
	// IdleTimeoutMS stops a job that wrote no output byte for this long.
	IdleTimeoutMS int64 `json:"idle_timeout_ms,omitempty"`
	// Interactive (added in v1.1, --interactive) gives the job a stdin pipe
	// the supervisor holds open for send (SPEC §11.5).
	Interactive bool `json:"interactive,omitempty"`
	// PTY (added in v1.1, --pty) runs the command on a pseudo-terminal of
	// PTYCols x PTYRows; it implies Interactive (SPEC §11.5).
	PTY     bool `json:"pty,omitempty"`
	PTYCols int  `json:"pty_cols,omitempty"`
	PTYRows int  `json:"pty_rows,omitempty"`

	Extra map[string]json.RawMessage `json:"-"`
}

var metaKeys = map[string]bool{
	"job": true, "schema_version": true, "command": true, "created_at": true, "root": true,
	"env_keys": true, "env_vars": true, "env_vars_runtime": true, "mask": true, "cwd": true,
	"notification": true, "tags": true, "inherit_env": true, "env_files": true, "timeout_ms": true,
	"kill_after_ms": true, "progress_every_ms": true, "shell_wrapper": true, "stdin_file": true, "name": true,
	"agent_env": true, "backend": true, "full_log": true,
	"descendants": true, "idle_timeout_ms": true, "interactive": true,
	"pty": true, "pty_cols": true, "pty_rows": true,
}

// DefaultShellWrapper is the built-in wrapper (SPEC §8).
var DefaultShellWrapper = []string{"sh", "-lc"}

type metaAlias Meta

// DecodeMeta parses meta.json. dir is the job directory, used for the
// documented defaults of missing optional keys. Unknown keys are not kept;
// use DecodeMetaForUpdate before rewriting the file.
func DecodeMeta(data []byte, dir string) (*Meta, error) {
	m := metaAlias{InheritEnv: true} // an absent inherit_env reads as true
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	switch {
	case m.Job.ID == "":
		return nil, errors.New("missing job.id")
	case m.SchemaVersion == "":
		return nil, errors.New(`missing "schema_version"`)
	case len(m.Command) == 0:
		return nil, errors.New(`missing "command"`)
	case m.CreatedAt == "":
		return nil, errors.New(`missing "created_at"`)
	}
	meta := Meta(m)
	if meta.Root == "" {
		meta.Root = filepath.Dir(dir)
	}
	if meta.EnvKeys == nil {
		meta.EnvKeys = []string{}
	}
	if meta.Tags == nil {
		meta.Tags = []string{}
	}
	// json leaves a slice nil only when the key is absent (or null); an
	// explicit [] stays empty and fails at launch.
	if meta.ShellWrapper == nil {
		meta.ShellWrapper = append([]string(nil), DefaultShellWrapper...)
	}
	return &meta, nil
}

// DecodeMetaForUpdate is DecodeMeta that also keeps unknown top-level keys
// in Extra, so a rewrite preserves them.
func DecodeMetaForUpdate(data []byte, dir string) (*Meta, error) {
	meta, err := DecodeMeta(data, dir)
	if err != nil {
		return nil, err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	for k, v := range raw {
		if !metaKeys[k] {
			if meta.Extra == nil {
				meta.Extra = map[string]json.RawMessage{}
			}
			meta.Extra[k] = v
		}
	}
	return meta, nil
}

// Encode renders meta.json: 2-space indentation, documented key order,
// unknown keys appended, no trailing newline.
func (m *Meta) Encode() ([]byte, error) {
	a := metaAlias(*m)
	if a.EnvKeys == nil {
		a.EnvKeys = []string{}
	}
	if a.Tags == nil {
		a.Tags = []string{}
	}
	if a.ShellWrapper == nil {
		a.ShellWrapper = []string{}
	}
	b, err := marshalNoEscape(a)
	if err != nil {
		return nil, err
	}
	if len(m.Extra) > 0 {
		keys := make([]string, 0, len(m.Extra))
		for k := range m.Extra {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = b[:len(b)-1] // drop '}'
		for _, k := range keys {
			kb, _ := json.Marshal(k)
			b = append(b, ',')
			b = append(b, kb...)
			b = append(b, ':')
			b = append(b, m.Extra[k]...)
		}
		b = append(b, '}')
	}
	return indent(b)
}

// StateJob is state.json's "job" object.
type StateJob struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	StartedAt string `json:"started_at,omitempty"`
}

// Result is state.json's "result" object. Pointers distinguish null.
type Result struct {
	ExitCode   *int    `json:"exit_code"`
	Signal     *string `json:"signal"`
	DurationMS *int64  `json:"duration_ms"`
	TimedOut   bool    `json:"timed_out"`
	Error      *string `json:"error"`
	// TimeoutKind says which timer fired when TimedOut: "total" or "idle".
	TimeoutKind string `json:"timeout_kind,omitempty"`
}

// Resources is the rusage of the direct child and of everything the
// supervisor reaped before the terminal state (SPEC §11.4).
type Resources struct {
	MaxRSSKB  int64 `json:"max_rss_kb"`
	UserCPUMS int64 `json:"user_cpu_ms"`
	SysCPUMS  int64 `json:"sys_cpu_ms"`
}

// Process identifies a process for liveness checks and signalling.
type Process struct {
	PID       int    `json:"pid"`
	PGID      int    `json:"pgid"`
	StartTime string `json:"start_time"`
}

// State is state.json (SPEC §2.4).
type State struct {
	Job            StateJob `json:"job"`
	Result         Result   `json:"result"`
	PID            int      `json:"pid,omitempty"`
	FinishedAt     string   `json:"finished_at,omitempty"`
	UpdatedAt      string   `json:"updated_at"`
	WindowsJobName string   `json:"windows_job_name,omitempty"`
	BootID         string   `json:"boot_id,omitempty"`
	Supervisor     *Process `json:"supervisor,omitempty"`
	Child          *Process `json:"child,omitempty"`
	// Backend (added in v1.1) records the cluster submission of a job that
	// does not run under a local supervisor (SPEC §11.7).
	Backend *Backend `json:"backend,omitempty"`
	// Resources (added in v1.1) is the rusage of a finished job (§11.4).
	Resources *Resources `json:"resources,omitempty"`
	// OOMKilled is set only when the platform attributes the kill to the
	// OOM killer for this job; never guessed.
	OOMKilled bool `json:"oom_killed,omitempty"`
	// DescendantsLeft (added in v1.1) is how many processes of the job's
	// tree were alive when the supervisor wrote the terminal state; absent
	// when none: nothing can be left of the tree then (§11.4).
	DescendantsLeft int `json:"descendants_left,omitempty"`
	// Launching (added in v1.1) is the launch lease of a created state
	// written as the first step of a launch (run, restart): the launcher
	// that wrote it. The launch holds the job lock until its supervisor has
	// recorded the outcome, so a created state with a lease and a free lock
	// belongs to a launch that died: readers reconcile it to failed.
	Launching *Process `json:"launching,omitempty"`
}

// Backend kinds.
const (
	BackendLocal = "local"
	BackendSlurm = "slurm"
)

// Backend is the "backend" object of meta.json and state.json (SPEC §11.7):
// the kind, the cluster's id of the latest submission, and (meta.json only)
// the submission options.
type Backend struct {
	Kind       string        `json:"kind"`
	SlurmJobID string        `json:"slurm_job_id,omitempty"`
	Slurm      *SlurmOptions `json:"slurm,omitempty"`
}

// SlurmOptions are a Slurm job's submission options.
type SlurmOptions struct {
	Partition string   `json:"partition,omitempty"`
	TimeMS    int64    `json:"time_ms,omitempty"`
	CPUs      int      `json:"cpus,omitempty"`
	MemMB     int64    `json:"mem_mb,omitempty"`
	Args      []string `json:"args,omitempty"`
}

// IsSlurm reports whether b names the Slurm backend.
func (b *Backend) IsSlurm() bool { return b != nil && b.Kind == BackendSlurm }

// Statuses known to state.json; any other value makes the file unreadable.
var validStatus = map[string]bool{"created": true, "running": true, "exited": true, "killed": true, "failed": true}

// Terminal reports whether status is exited, killed or failed.
func Terminal(status string) bool {
	return status == "exited" || status == "killed" || status == "failed"
}

// DecodeState parses state.json. A numeric legacy signal is left as read;
// callers normalise it to a name.
func DecodeState(data []byte) (*State, error) {
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, err
	}
	if s.Job.ID == "" {
		return nil, errors.New("missing job.id")
	}
	if !validStatus[s.Job.Status] {
		return nil, fmt.Errorf("invalid job.status %q", s.Job.Status)
	}
	return &s, nil
}

// Encode renders state.json.
func (s *State) Encode() ([]byte, error) {
	b, err := marshalNoEscape(s)
	if err != nil {
		return nil, err
	}
	return indent(b)
}

func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

func indent(b []byte) ([]byte, error) {
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// MaxJSONFile bounds meta.json and state.json; real ones are a few KiB.
// Readers refuse larger files, so writers refuse to produce them.
const MaxJSONFile = 4 << 20

const maxJSONFile = MaxJSONFile

// ErrTooLarge is returned (wrapped) by WriteMeta for a definition whose
// meta.json would exceed MaxJSONFile: it would be written, then be
// unreadable forever.
var ErrTooLarge = errors.New("too large")

// ReadJSONFile reads a job's JSON file defensively: only a regular file
// that is not a symbolic link, opened without blocking (a FIFO put in its
// place must not hang a reader) and at most 4 MiB.
func ReadJSONFile(path string) ([]byte, error) {
	return retryExhausted(func() ([]byte, error) { return readJSONFile(path) })
}

func readJSONFile(path string) ([]byte, error) {
	f, err := OpenJobFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() > maxJSONFile {
		return nil, fmt.Errorf("%s is larger than %d bytes", filepath.Base(path), maxJSONFile)
	}
	return io.ReadAll(io.LimitReader(f, maxJSONFile))
}

// ReadMeta reads and parses <dir>/meta.json.
func ReadMeta(dir string) (*Meta, error) {
	data, err := ReadJSONFile(filepath.Join(dir, MetaFile))
	if err != nil {
		return nil, err
	}
	return DecodeMeta(data, dir)
}

// ReadMetaForUpdate reads meta.json keeping unknown keys (see
// DecodeMetaForUpdate).
func ReadMetaForUpdate(dir string) (*Meta, error) {
	data, err := ReadJSONFile(filepath.Join(dir, MetaFile))
	if err != nil {
		return nil, err
	}
	return DecodeMetaForUpdate(data, dir)
}

// ReadState reads and parses <dir>/state.json.
func ReadState(dir string) (*State, error) {
	data, err := ReadJSONFile(filepath.Join(dir, StateFile))
	if err != nil {
		return nil, err
	}
	return DecodeState(data)
}

// WriteMeta atomically replaces <dir>/meta.json.
func WriteMeta(dir string, m *Meta) error {
	b, err := m.Encode()
	if err != nil {
		return err
	}
	if len(b) > MaxJSONFile {
		return &MetaSizeError{Size: len(b)}
	}
	return WriteFileAtomic(filepath.Join(dir, MetaFile), b)
}

// WriteState atomically replaces <dir>/state.json.
func WriteState(dir string, s *State) error {
	b, err := s.Encode()
	if err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(dir, StateFile), b)
}

// WriteStateUnsynced replaces state.json atomically without making it
// durable first (see WriteFileAtomicUnsynced): for S1, which the terminal
// state (written durably) always follows.
func WriteStateUnsynced(dir string, s *State) error {
	b, err := s.Encode()
	if err != nil {
		return err
	}
	return WriteFileAtomicUnsynced(filepath.Join(dir, StateFile), b)
}

// MetaSizeError is a meta.json that would exceed MaxJSONFile. It matches
// ErrTooLarge.
type MetaSizeError struct{ Size int }

func (e *MetaSizeError) Error() string {
	return fmt.Sprintf("meta.json would be %d bytes, over the limit of %d bytes", e.Size, MaxJSONFile)
}

func (e *MetaSizeError) Is(target error) bool { return target == ErrTooLarge }
