package notify

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/agentexec/agentexec/internal/store"
	"github.com/agentexec/agentexec/internal/userfile"
)

// DefaultTimeout bounds a command sink when no timeout is configured
// (config [notify] timeout_ms).
const DefaultTimeout = 30000 * time.Millisecond

// noTimeout is the threshold beyond which a configured timeout means
// "never": config saturates unrepresentable values to MaxInt64.
const noTimeout = 100 * 365 * 24 * time.Hour

// Environment variables given to command sinks (SPEC §7.4).
const (
	EnvEventPath = "AGENT_EXEC_EVENT_PATH"
	EnvJobID     = "AGENT_EXEC_JOB_ID"
	EnvEventType = "AGENT_EXEC_EVENT_TYPE"
)

// Deliverer runs the sinks of one job's events.
type Deliverer struct {
	// JobID is passed to command sinks as AGENT_EXEC_JOB_ID.
	JobID string
	// Wrapper is the job's shell wrapper argv; a command sink runs as
	// <wrapper…> <command string>.
	Wrapper []string
	// Env is the base environment of command sinks (the supervisor's own,
	// even for jobs that do not inherit it).
	Env []string
	// Timeout bounds each command sink; 0 means DefaultTimeout.
	Timeout time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

func (d *Deliverer) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Deliverer) timeout() time.Duration {
	if d.Timeout <= 0 {
		return DefaultTimeout
	}
	return d.Timeout
}

// Deliver runs the configured sinks for one event, command first, then
// file, and returns their results in that order. payload is the compact
// event JSON; eventPath is the record file named to command sinks.
// Cancelling ctx kills a running command sink.
func (d *Deliverer) Deliver(ctx context.Context, sinks Sinks, eventType, eventPath string, payload []byte) []Result {
	results := []Result{}
	if sinks.Command != "" {
		results = append(results, d.RunCommand(ctx, sinks.Command, eventType, eventPath, payload))
	}
	if sinks.File != "" {
		results = append(results, d.WriteFile(sinks.File, payload))
	}
	return results
}

// RunCommand runs a command sink: <wrapper…> <command> in its own process
// group, with the event on stdin and its output discarded. It succeeds iff
// the command exits 0 within the timeout; on timeout (or when ctx ends) the
// whole group is SIGKILLed.
func (d *Deliverer) RunCommand(ctx context.Context, command, eventType, eventPath string, payload []byte) Result {
	start := d.now()
	res := Result{SinkType: SinkCommand, Target: command, AttemptedAt: store.Timestamp(start)}
	if strings.TrimSpace(command) == "" || len(d.Wrapper) == 0 || strings.TrimSpace(d.Wrapper[0]) == "" {
		res.Error = "empty shell command"
		return res
	}
	argv := append(append([]string(nil), d.Wrapper...), command)
	cmd := exec.Command(argv[0], argv[1:]...)
	if cmd.Err != nil {
		res.Error = "spawn error: " + cmd.Err.Error()
		return res
	}
	cmd.Env = sinkEnv(d.Env, eventPath, d.JobID, eventType)
	cmd.SysProcAttr = groupAttr()
	// A pipe of our own rather than an io.Reader: exec would otherwise copy
	// in a goroutine that Wait joins, so a sink (or a descendant) that keeps
	// stdin open without reading could hold us past the timeout.
	r, w, err := os.Pipe()
	if err != nil {
		res.Error = "spawn error: " + err.Error()
		return res
	}
	cmd.Stdin = r
	// Start and registration under one lock: a supervisor reaping adopted
	// orphans asks IsActiveSink under the same lock, so it can never reap
	// (and steal the status of) a sink that exited before it was recorded.
	sinkStart.Lock()
	if err := cmd.Start(); err != nil {
		sinkStart.Unlock()
		r.Close()
		w.Close()
		res.Error = "spawn error: " + err.Error()
		return res
	}
	activeSinks.Store(cmd.Process.Pid, struct{}{})
	sinkStart.Unlock()
	r.Close()
	defer activeSinks.Delete(cmd.Process.Pid)
	var closeW sync.Once
	go func() {
		w.Write(payload) // EPIPE when the sink does not read: not an error
		closeW.Do(func() { w.Close() })
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	var timer <-chan time.Time
	limit := d.timeout()
	if limit < noTimeout {
		t := time.NewTimer(limit)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-done:
		res.Error = exitError(cmd.ProcessState)
	case <-timer:
		killGroup(cmd.Process.Pid)
		<-done
		res.Error = fmt.Sprintf("timed out after %d ms", limit.Milliseconds())
	case <-ctx.Done():
		killGroup(cmd.Process.Pid)
		<-done
		res.Error = fmt.Sprintf("timed out after %d ms", d.now().Sub(start).Milliseconds())
	}
	// Unblocks the writer if the sink exited without reading everything.
	closeW.Do(func() { w.Close() })
	res.Success = res.Error == ""
	return res
}

// activeSinks holds the process-group ids of running command sinks.
var activeSinks sync.Map

// sinkStart serialises a sink's start and registration with IsActiveSink.
var sinkStart sync.Mutex

// IsActiveSink reports whether pid is a command sink started by this
// process and not yet waited for.
func IsActiveSink(pid int) bool {
	sinkStart.Lock()
	defer sinkStart.Unlock()
	_, ok := activeSinks.Load(pid)
	return ok
}

// ActiveSinkPIDs lists the command sinks started by this process and not
// yet waited for.
func ActiveSinkPIDs() []int {
	sinkStart.Lock()
	defer sinkStart.Unlock()
	var pids []int
	activeSinks.Range(func(k, _ any) bool {
		pids = append(pids, k.(int))
		return true
	})
	return pids
}

// KillActiveSinks SIGKILLs the process group of every command sink still
// running, so a supervisor that is told to go away leaves no unbounded sink
// behind (SPEC §9.3).
func KillActiveSinks() {
	activeSinks.Range(func(k, _ any) bool {
		killGroup(k.(int))
		return true
	})
}

// sinkEnv is base plus the three event variables, which replace any
// inherited values of the same names.
func sinkEnv(base []string, eventPath, jobID, eventType string) []string {
	env := make([]string, 0, len(base)+3)
	for _, e := range base {
		k, _, _ := strings.Cut(e, "=")
		if k == EnvEventPath || k == EnvJobID || k == EnvEventType {
			continue
		}
		env = append(env, e)
	}
	return append(env, EnvEventPath+"="+eventPath, EnvJobID+"="+jobID, EnvEventType+"="+eventType)
}

// WriteFile runs a file sink: it creates missing parent directories (0700),
// opens path for appending (created 0600) and writes the event JSON plus a
// newline in one write.
func (d *Deliverer) WriteFile(path string, payload []byte) Result {
	res := Result{SinkType: SinkFile, Target: path, AttemptedAt: store.Timestamp(d.now())}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		res.Error = "create parent dir: " + err.Error()
		return res
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|userfile.NoBlock, 0o600)
	if err != nil {
		res.Error = "open error: " + err.Error()
		return res
	}
	line := make([]byte, 0, len(payload)+1)
	line = append(append(line, payload...), '\n')
	_, err = f.Write(line)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		res.Error = "write error: " + err.Error()
		return res
	}
	res.Success = true
	return res
}

// DispatchFinished delivers job.finished for the job in dir: it writes
// completion_event.json with empty delivery results, runs the sinks
// (command first, then file), and rewrites the file with their results.
// Both writes are atomic.
func (d *Deliverer) DispatchFinished(dir string, ev *Finished, sinks Sinks) error {
	path := filepath.Join(dir, store.CompletionEvent)
	if err := store.WriteFileAtomic(path, pretty(Record(ev, nil))); err != nil {
		return err
	}
	results := d.Deliver(context.Background(), sinks, TypeFinished, path, Encode(ev))
	return store.WriteFileAtomic(path, pretty(Record(ev, results)))
}
