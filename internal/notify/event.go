// Package notify implements job notifications (SPEC §7): the job.finished
// and job.output.matched events with their documented key order, the
// command and file sinks, delivery results, the per-job output-match queue
// and the records kept in the job directory (completion_event.json and
// notification_events.ndjson).
//
// It is a leaf: it knows the store's file names and formats but no
// lifecycle rules; the supervisor decides when to dispatch.
package notify

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"time"

	"github.com/agentexec/agentexec/internal/store"
)

// Event types.
const (
	TypeFinished      = "job.finished"
	TypeOutputMatched = "job.output.matched"
)

// Sink types of a delivery result.
const (
	SinkCommand = "command"
	SinkFile    = "file"
)

// Finished is the job.finished event (SPEC §7.2). Field order is the
// documented key order.
type Finished struct {
	SchemaVersion string   `json:"schema_version"`
	EventType     string   `json:"event_type"`
	JobID         string   `json:"job_id"`
	State         string   `json:"state"`
	Command       []string `json:"command"`
	Cwd           string   `json:"cwd,omitempty"`
	StartedAt     string   `json:"started_at"`
	FinishedAt    string   `json:"finished_at"`
	DurationMS    int64    `json:"duration_ms"`
	ExitCode      *int     `json:"exit_code,omitempty"`
	Signal        string   `json:"signal,omitempty"`
	StdoutLogPath string   `json:"stdout_log_path"`
	StderrLogPath string   `json:"stderr_log_path"`
	TimedOut      bool     `json:"timed_out,omitempty"`
	// Added in v1.1 (SPEC §11.4).
	TimeoutKind string           `json:"timeout_kind,omitempty"`
	Resources   *store.Resources `json:"resources,omitempty"`
	OOMKilled   bool             `json:"oom_killed,omitempty"`
}

// NewFinished builds the job.finished event of the job in dir from its
// terminal state and its current meta.json.
func NewFinished(dir string, st *store.State, meta *store.Meta) *Finished {
	ev := &Finished{
		SchemaVersion: store.SchemaVersion,
		EventType:     TypeFinished,
		JobID:         st.Job.ID,
		State:         st.Job.Status,
		Command:       meta.Command,
		Cwd:           meta.Cwd,
		StartedAt:     st.Job.StartedAt,
		FinishedAt:    st.FinishedAt,
		StdoutLogPath: filepath.Join(dir, store.StdoutLog),
		StderrLogPath: filepath.Join(dir, store.StderrLog),
		TimedOut:      st.Result.TimedOut,
		TimeoutKind:   st.Result.TimeoutKind,
		Resources:     st.Resources,
		OOMKilled:     st.OOMKilled,
	}
	if ev.Command == nil {
		ev.Command = []string{}
	}
	if st.Result.DurationMS != nil {
		ev.DurationMS = *st.Result.DurationMS
	}
	if st.Job.Status == "exited" {
		ev.ExitCode = st.Result.ExitCode
	}
	if st.Job.Status == "killed" && st.Result.Signal != nil {
		ev.Signal = *st.Result.Signal
	}
	return ev
}

// Matched is the job.output.matched event (SPEC §7.3). Field order is the
// documented key order.
type Matched struct {
	SchemaVersion string `json:"schema_version"`
	EventType     string `json:"event_type"`
	JobID         string `json:"job_id"`
	Pattern       string `json:"pattern"`
	MatchType     string `json:"match_type"`
	Stream        string `json:"stream"`
	Line          string `json:"line"`
	StdoutLogPath string `json:"stdout_log_path"`
	StderrLogPath string `json:"stderr_log_path"`
}

// Result is one delivery result (SPEC §7.4).
type Result struct {
	SinkType    string `json:"sink_type"`
	Target      string `json:"target"`
	Success     bool   `json:"success"`
	Error       string `json:"error,omitempty"`
	AttemptedAt string `json:"attempted_at"`
}

// Sinks are the sinks configured for one event: a shell command string and
// a file path, each empty when absent.
type Sinks struct {
	Command string
	File    string
}

// Empty reports whether no sink is configured.
func (s Sinks) Empty() bool { return s.Command == "" && s.File == "" }

// dropped returns one failed result per configured sink, for events that
// were never attempted.
func (s Sinks) dropped(reason string, now time.Time) []Result {
	var out []Result
	ts := store.Timestamp(now)
	if s.Command != "" {
		out = append(out, Result{SinkType: SinkCommand, Target: s.Command, Error: reason, AttemptedAt: ts})
	}
	if s.File != "" {
		out = append(out, Result{SinkType: SinkFile, Target: s.File, Error: reason, AttemptedAt: ts})
	}
	return out
}

// Encode renders an event as compact JSON without a trailing newline and
// without HTML escaping: the form given to command sinks on stdin.
func Encode(event any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(event); err != nil {
		// Events hold only strings, numbers and bools; this cannot fail.
		panic("notify: encode event: " + err.Error())
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})
}

// Record renders {event…, "delivery_results": […]} compactly: the event's
// keys in their order followed by the delivery results (an empty list when
// results is nil).
func Record(event any, results []Result) []byte {
	b := Encode(event)
	if results == nil {
		results = []Result{}
	}
	b = b[:len(b)-1] // drop the closing brace
	b = append(b, `,"delivery_results":`...)
	b = append(b, Encode(results)...)
	return append(b, '}')
}

// pretty re-indents compact JSON with two spaces, as the job files are
// written (SPEC §2.2).
func pretty(b []byte) []byte {
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return b
	}
	return out.Bytes()
}
