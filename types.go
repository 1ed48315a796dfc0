package agentexec

// State is a job's lifecycle state as reported.
type State string

// Job states. StateUnknown is only reported, never stored: state.json was
// unreadable.
const (
	StateCreated State = "created"
	StateRunning State = "running"
	StateExited  State = "exited"
	StateKilled  State = "killed"
	StateFailed  State = "failed"
	StateUnknown State = "unknown"
)

// Terminal reports whether s is exited, killed or failed.
func (s State) Terminal() bool { return s == StateExited || s == StateKilled || s == StateFailed }

// Encoding is the only tail encoding.
const Encoding = "utf-8-lossy"

// Snapshot is a bounded look at both output streams (SPEC §4.0).
type Snapshot struct {
	StdoutTail          string `json:"stdout_tail"`
	StderrTail          string `json:"stderr_tail"`
	Truncated           bool   `json:"truncated"`
	Encoding            string `json:"encoding"`
	StdoutObservedBytes int64  `json:"stdout_observed_bytes"`
	StderrObservedBytes int64  `json:"stderr_observed_bytes"`
	StdoutIncludedBytes int64  `json:"stdout_included_bytes"`
	StderrIncludedBytes int64  `json:"stderr_included_bytes"`
	// Cursor is the sizes of both logs when the excerpt was read ("<O>.<E>",
	// SPEC §11.1): tail --cursor with it returns exactly what came later.
	Cursor string `json:"cursor"`
}

// LaunchResult is the payload of run, start and restart.
type LaunchResult struct {
	JobID         string    `json:"job_id"`
	State         State     `json:"state"`
	Tags          []string  `json:"tags"`
	EnvVars       []string  `json:"env_vars,omitempty"`
	Snapshot      *Snapshot `json:"snapshot,omitempty"`
	StdoutLogPath string    `json:"stdout_log_path"`
	StderrLogPath string    `json:"stderr_log_path"`
	WaitedMS      int64     `json:"waited_ms"`
	ElapsedMS     int64     `json:"elapsed_ms"`
	ExitCode      *int      `json:"exit_code,omitempty"`
	FinishedAt    string    `json:"finished_at,omitempty"`
	FinalSnapshot *Snapshot `json:"final_snapshot,omitempty"`
	Signal        string    `json:"signal,omitempty"`
	DurationMS    *int64    `json:"duration_ms,omitempty"`
	TimedOut      bool      `json:"timed_out,omitempty"`
	Error         string    `json:"error,omitempty"`
	// Reused (added, SPEC §11.6) is present iff --ensure was asked: true
	// when an existing job was returned and nothing was started.
	Reused *bool `json:"reused,omitempty"`
	// CommandDiffers (added) is present iff Reused is true: whether the
	// returned job's command, cwd or environment keys differ from the
	// request.
	CommandDiffers *bool `json:"command_differs,omitempty"`
	// Added in v1.1 (SPEC §11.4).
	TimeoutKind string     `json:"timeout_kind,omitempty"`
	Resources   *Resources `json:"resources,omitempty"`
	OOMKilled   bool       `json:"oom_killed,omitempty"`
	// Matched and Match are present after a launch that waited for
	// readiness (--wait-for-output, SPEC §11.2).
	Matched *bool  `json:"matched,omitempty"`
	Match   *Match `json:"match,omitempty"`
}

// CreateResult is the payload of create.
type CreateResult struct {
	JobID         string `json:"job_id"`
	State         State  `json:"state"`
	StdoutLogPath string `json:"stdout_log_path"`
	StderrLogPath string `json:"stderr_log_path"`
	// Reused and CommandDiffers as in LaunchResult (create --ensure); a
	// reused job's State may be running.
	Reused         *bool `json:"reused,omitempty"`
	CommandDiffers *bool `json:"command_differs,omitempty"`
}

// StatusResult is the payload of status.
type StatusResult struct {
	JobID      string `json:"job_id"`
	State      State  `json:"state"`
	ExitCode   *int   `json:"exit_code,omitempty"`
	CreatedAt  string `json:"created_at"`
	StartedAt  string `json:"started_at,omitempty"`
	FinishedAt string `json:"finished_at,omitempty"`
	UpdatedAt  string `json:"updated_at"`
	Signal     string `json:"signal,omitempty"`
	DurationMS *int64 `json:"duration_ms,omitempty"`
	TimedOut   bool   `json:"timed_out,omitempty"`
	Error      string `json:"error,omitempty"`
	// Name (added, SPEC §11.6) is the job's name, if it has one.
	Name string `json:"name,omitempty"`
	// Command, Cwd, Tags and the log paths (added, issue #14) say what the
	// job is, so that one status call is enough for a caller returning to
	// a job it lost track of. Cwd is omitted when meta.json has none
	// (legacy jobs).
	Command       []string `json:"command"`
	Cwd           string   `json:"cwd,omitempty"`
	Tags          []string `json:"tags"`
	StdoutLogPath string   `json:"stdout_log_path"`
	StderrLogPath string   `json:"stderr_log_path"`
	// Backend and BackendState (added, SPEC §11.7) describe a cluster job:
	// its submission, and what the cluster says while it is not terminal
	// (e.g. PENDING).
	Backend      *BackendInfo `json:"backend,omitempty"`
	BackendState string       `json:"backend_state,omitempty"`
	// Added in v1.1 (SPEC §11.4).
	TimeoutKind string     `json:"timeout_kind,omitempty"`
	Resources   *Resources `json:"resources,omitempty"`
	OOMKilled   bool       `json:"oom_killed,omitempty"`
	// Live is present while the job's tree lives (Linux).
	Live *LiveInfo `json:"live,omitempty"`
}

// TailResult is the payload of tail.
type TailResult struct {
	JobID               string `json:"job_id"`
	StdoutTail          string `json:"stdout_tail"`
	StderrTail          string `json:"stderr_tail"`
	Truncated           bool   `json:"truncated"`
	Encoding            string `json:"encoding"`
	StdoutLogPath       string `json:"stdout_log_path"`
	StderrLogPath       string `json:"stderr_log_path"`
	StdoutObservedBytes int64  `json:"stdout_observed_bytes"`
	StderrObservedBytes int64  `json:"stderr_observed_bytes"`
	StdoutIncludedBytes int64  `json:"stdout_included_bytes"`
	StderrIncludedBytes int64  `json:"stderr_included_bytes"`
	Cursor              string `json:"cursor"`
}

// TailCursorResult is the payload of tail --cursor (SPEC §11.1): what each
// log holds from the cursor on, at most max_bytes per stream.
type TailCursorResult struct {
	JobID                string `json:"job_id"`
	State                State  `json:"state"`
	Stdout               string `json:"stdout"`
	Stderr               string `json:"stderr"`
	StdoutFrom           int64  `json:"stdout_from"`
	StderrFrom           int64  `json:"stderr_from"`
	StdoutNextOffset     int64  `json:"stdout_next_offset"`
	StderrNextOffset     int64  `json:"stderr_next_offset"`
	StdoutRemainingBytes int64  `json:"stdout_remaining_bytes"`
	StderrRemainingBytes int64  `json:"stderr_remaining_bytes"`
	More                 bool   `json:"more"`
	Cursor               string `json:"cursor"`
	Encoding             string `json:"encoding"`
	StdoutLogPath        string `json:"stdout_log_path"`
	StderrLogPath        string `json:"stderr_log_path"`
}

// WaitResult is the payload of wait.
type WaitResult struct {
	JobID      string `json:"job_id"`
	State      State  `json:"state"`
	ExitCode   *int   `json:"exit_code,omitempty"`
	FinishedAt string `json:"finished_at,omitempty"`
	Signal     string `json:"signal,omitempty"`
	DurationMS *int64 `json:"duration_ms,omitempty"`
	TimedOut   bool   `json:"timed_out,omitempty"`
	Error      string `json:"error,omitempty"`
	// The output fields follow, flattened in the Snapshot's key order.
	Snapshot
	// Added in v1.1 (SPEC §11.4).
	TimeoutKind string     `json:"timeout_kind,omitempty"`
	Resources   *Resources `json:"resources,omitempty"`
	OOMKilled   bool       `json:"oom_killed,omitempty"`
	// Matched and Match are present for a readiness wait (SPEC §11.2).
	Matched *bool  `json:"matched,omitempty"`
	Match   *Match `json:"match,omitempty"`
	// Cursor (always present, last) is the excerpt's cursor, or after a
	// match the position just past the matched line. It hides the
	// embedded Snapshot's own cursor, which would otherwise appear twice.
	Cursor string `json:"cursor"`
}

// KillResult is the payload of kill.
type KillResult struct {
	JobID    string `json:"job_id"`
	Signal   string `json:"signal"`
	State    State  `json:"state"`
	ExitCode *int   `json:"exit_code,omitempty"`
	// DescendantsSignalled is present when the job was terminal and its
	// tree still lived: how many of its processes were signalled.
	DescendantsSignalled *int `json:"descendants_signalled,omitempty"`
}

// JobSummary is one entry of list.
type JobSummary struct {
	JobID      string   `json:"job_id"`
	State      State    `json:"state"`
	ExitCode   *int     `json:"exit_code,omitempty"`
	CreatedAt  string   `json:"created_at"`
	StartedAt  string   `json:"started_at,omitempty"`
	FinishedAt string   `json:"finished_at,omitempty"`
	UpdatedAt  string   `json:"updated_at,omitempty"`
	Tags       []string `json:"tags"`
	Command    []string `json:"command"`
	// Name (added, SPEC §11.6) is the job's name, if it has one.
	Name string `json:"name,omitempty"`
	// DescendantsAlive counts the live processes of a terminal job's tree.
	DescendantsAlive int `json:"descendants_alive,omitempty"`
}

// ListResult is the payload of list and ps.
type ListResult struct {
	Root      string       `json:"root"`
	Jobs      []JobSummary `json:"jobs"`
	Truncated bool         `json:"truncated"`
	Skipped   int          `json:"skipped"`
	// Leftovers counts abandoned staging directories and unfinished
	// removals in the root, which gc reclaims (reported like skipped).
	Leftovers int `json:"leftovers,omitempty"`
}

// TagSetResult is the payload of tag set.
type TagSetResult struct {
	JobID string   `json:"job_id"`
	Tags  []string `json:"tags"`
}

// NotifySetResult is the payload of notify set.
type NotifySetResult struct {
	JobID        string        `json:"job_id"`
	Notification *Notification `json:"notification"`
}

// GCEntry is one job examined by gc.
type GCEntry struct {
	JobID  string `json:"job_id"`
	State  State  `json:"state"`
	Action string `json:"action"`
	Reason string `json:"reason"`
	Bytes  int64  `json:"bytes"`
}

// GCResult is the payload of gc.
type GCResult struct {
	Root            string    `json:"root"`
	DryRun          bool      `json:"dry_run"`
	OlderThan       string    `json:"older_than"`
	OlderThanSource string    `json:"older_than_source"`
	Deleted         int       `json:"deleted"`
	Skipped         int       `json:"skipped"`
	FreedBytes      int64     `json:"freed_bytes"`
	Jobs            []GCEntry `json:"jobs"`
	MaxJobs         int64     `json:"max_jobs,omitempty"`
	MaxBytes        int64     `json:"max_bytes,omitempty"`
	// Leftovers are the abandoned staging directories, unfinished
	// removals and temporary files gc reclaimed (or would, in a dry run).
	Leftovers []Leftover `json:"leftovers,omitempty"`
}

// DeleteEntry is one job examined by delete.
type DeleteEntry struct {
	JobID  string `json:"job_id"`
	State  State  `json:"state"`
	Action string `json:"action"`
	Reason string `json:"reason"`
}

// DeleteResult is the payload of delete.
type DeleteResult struct {
	Root    string        `json:"root"`
	DryRun  bool          `json:"dry_run"`
	Deleted int           `json:"deleted"`
	Skipped int           `json:"skipped"`
	Jobs    []DeleteEntry `json:"jobs"`
}
