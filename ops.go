package agentexec

import (
	"cmp"
	"context"
	"slices"
	"syscall"
	"time"

	"github.com/agentexec/agentexec/internal/logread"
	"github.com/agentexec/agentexec/internal/proc"
	"github.com/agentexec/agentexec/internal/store"
)

// Status reports the current (reconciled) state of one job.
func (m *Manager) Status(ctx context.Context, id string) (*StatusResult, error) {
	j, err := m.resolve(id)
	if err != nil {
		return nil, err
	}
	meta, err := readMeta(j)
	if err != nil {
		return nil, err
	}
	st, err := m.readReconciled(ctx, j, false)
	if err != nil {
		return nil, err
	}
	oc := outcomeOf(st)
	res := &StatusResult{
		JobID: j.id, State: oc.state, ExitCode: oc.exitCode, CreatedAt: meta.CreatedAt,
		StartedAt: startedAt(st), FinishedAt: oc.finishedAt, UpdatedAt: st.UpdatedAt,
		Signal: oc.signal, DurationMS: oc.durationMS, TimedOut: oc.timedOut, Error: oc.err,
		Name:    meta.Name,
		Command: meta.Command, Cwd: meta.Cwd, Tags: nonNil(meta.Tags),
		StdoutLogPath: j.stdoutPath(), StderrLogPath: j.stderrPath(),
	}
	res.Backend, res.BackendState = backendStatus(ctx, st)
	res.TimeoutKind, res.Resources, res.OOMKilled = oc.timeoutKind, oc.resources, oc.oomKilled
	res.Live = liveInfo(j, st, time.Now())
	return res, nil
}

// nonNil returns s, or an empty slice for nil, for fields that are always
// a JSON array.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func startedAt(st *store.State) string {
	if st.Job.Status == "created" {
		return ""
	}
	return st.Job.StartedAt
}

// TailOptions bound a tail: lines (0 = no limit) and bytes per stream
// (clamped to MaxExcerptBytes), and select how it is presented.
type TailOptions struct {
	TailLines int
	MaxBytes  int64
	Render    Render
}

// Tail returns the last lines of a job's stdout and stderr, reading at most
// MaxBytes from the end of each file.
func (m *Manager) Tail(ctx context.Context, id string, o TailOptions) (*TailResult, error) {
	if _, err := ParseRender(string(o.Render)); err != nil {
		return nil, err
	}
	j, err := m.resolve(id)
	if err != nil {
		return nil, err
	}
	s := excerptOf(j, o.TailLines, o.MaxBytes, o.Render)
	return &TailResult{
		JobID: j.id, StdoutTail: s.StdoutTail, StderrTail: s.StderrTail, Truncated: s.Truncated, Encoding: Encoding,
		StdoutLogPath: j.stdoutPath(), StderrLogPath: j.stderrPath(),
		StdoutObservedBytes: s.StdoutObservedBytes, StderrObservedBytes: s.StderrObservedBytes,
		StdoutIncludedBytes: s.StdoutIncludedBytes, StderrIncludedBytes: s.StderrIncludedBytes,
		Cursor: s.Cursor,
	}, nil
}

// Cursor is a position in a job's two logs (SPEC §11.1): byte offsets into
// stdout.log and stderr.log. Its text form is "<stdout>.<stderr>".
type Cursor struct {
	Stdout, Stderr int64
}

// String is the text form "<O>.<E>".
func (c Cursor) String() string { return logread.Cursor{Out: c.Stdout, Err: c.Stderr}.String() }

// ParseCursor parses a cursor text ("<O>.<E>", two decimal byte offsets);
// anything else is invalid_argument.
func ParseCursor(s string) (Cursor, error) {
	c, err := parseCursor(s)
	return Cursor{Stdout: c.Out, Stderr: c.Err}, err
}

func parseCursor(s string) (logread.Cursor, error) {
	c, err := logread.ParseCursor(s)
	if err != nil {
		return c, newError(CodeInvalidArgument, "invalid cursor %q: %v", s, err)
	}
	return c, nil
}

// TailFrom reads forward from cursor (SPEC §11.1): at most o.MaxBytes
// (clamped to MaxExcerptBytes) of each log, never ending inside a UTF-8
// sequence of a running job; o.TailLines is ignored, o.Render presents the
// texts. The state is read first, so a terminal state means the chunks
// reach the logs' ends.
func (m *Manager) TailFrom(ctx context.Context, id, cursor string, opt TailOptions) (*TailCursorResult, error) {
	c, err := parseCursor(cursor)
	if err != nil {
		return nil, err
	}
	if _, err := ParseRender(string(opt.Render)); err != nil {
		return nil, err
	}
	maxBytes := clampExcerpt(opt.MaxBytes)
	j, err := m.resolve(id)
	if err != nil {
		return nil, err
	}
	st, err := m.readReconciled(ctx, j, false)
	if err != nil {
		return nil, err
	}
	final := store.Terminal(st.Job.Status)
	o := logread.ReadChunk(j.stdoutPath(), c.Out, maxBytes, final)
	e := logread.ReadChunk(j.stderrPath(), c.Err, maxBytes, final)
	stdout, _ := RenderText(o.Text(), opt.Render)
	stderr, _ := RenderText(e.Text(), opt.Render)
	return &TailCursorResult{
		JobID: j.id, State: outcomeOf(st).state, Stdout: stdout, Stderr: stderr,
		StdoutFrom: o.From, StderrFrom: e.From, StdoutNextOffset: o.Next, StderrNextOffset: e.Next,
		StdoutRemainingBytes: o.Remaining, StderrRemainingBytes: e.Remaining,
		More:   o.Remaining > 0 || e.Remaining > 0,
		Cursor: logread.Cursor{Out: o.Next, Err: e.Next}.String(), Encoding: Encoding,
		StdoutLogPath: j.stdoutPath(), StderrLogPath: j.stderrPath(),
	}, nil
}

// WaitOptions control wait.
type WaitOptions struct {
	Until     time.Duration // deadline from now, unless Forever
	Forever   bool
	Poll      time.Duration // fallback re-check interval
	TailLines int
	MaxBytes  int64 // clamped to MaxExcerptBytes
	Render    Render
	// ForOutput also ends the wait at the first output line after Cursor
	// that matches (SPEC §11.2); the result then has Matched and Match.
	ForOutput *OutputCondition
	// Cursor is where the ForOutput search starts ("" = "0.0": output
	// written before the call counts).
	Cursor string
	// ForPort (1-65535; 0 = none) ends the wait as soon as a process of
	// the job's tree listens on this TCP port (SPEC §11.2); exclusive with
	// ForOutput. The match is {port, address, pid}.
	ForPort int
}

// Wait blocks until the job is terminal or the deadline passes (or, with
// ForOutput, a line matches), then reports the state and the output tails.
// Cancelling ctx abandons the wait (the job is unaffected) and returns
// ctx.Err().
func (m *Manager) Wait(ctx context.Context, id string, o WaitOptions) (*WaitResult, error) {
	if _, err := ParseRender(string(o.Render)); err != nil {
		return nil, err
	}
	if err := validateReadiness(o.ForOutput, o.ForPort); err != nil {
		return nil, err
	}
	var from logread.Cursor
	if o.ForOutput != nil {
		if _, err := validateOutput(o.ForOutput); err != nil {
			return nil, err
		}
		if o.Cursor != "" {
			c, err := parseCursor(o.Cursor)
			if err != nil {
				return nil, err
			}
			from = c
		}
	}
	j, err := m.resolve(id)
	if err != nil {
		return nil, err
	}
	var deadline time.Time
	if !o.Forever {
		deadline = time.Now().Add(o.Until)
	}
	var ready readiness
	if o.ForOutput != nil {
		if ready, err = m.newOutputReady(j, o.ForOutput, from); err != nil {
			return nil, err
		}
	}
	if o.ForPort != 0 {
		ready = &portReady{j: j, port: o.ForPort}
	}
	st, hit, err := m.waitFor(ctx, j, deadline, o.Poll, 0, ready)
	if err != nil {
		return nil, err
	}
	oc := outcomeOf(st)
	res := &WaitResult{
		JobID: j.id, State: oc.state, ExitCode: oc.exitCode, FinishedAt: oc.finishedAt, Signal: oc.signal,
		DurationMS: oc.durationMS, TimedOut: oc.timedOut, Error: oc.err,
		Snapshot:    *excerptOf(j, o.TailLines, o.MaxBytes, o.Render),
		TimeoutKind: oc.timeoutKind, Resources: oc.resources, OOMKilled: oc.oomKilled,
	}
	res.Cursor = res.Snapshot.Cursor
	if ready != nil {
		res.Matched = boolPtr(hit != nil)
		if hit != nil {
			res.Match, res.Cursor = hit.match, hit.cursor.String()
		}
	}
	return res, nil
}

// KillOptions control kill.
type KillOptions struct {
	Signal string // accepted names/numbers (SPEC §3.7); empty = TERM
	NoWait bool   // return right after signalling
}

// ParseSignal validates a kill/restart signal and returns it with its
// canonical name.
// An empty string is rejected; KillOptions and RestartOptions read an empty
// Signal as TERM before calling it.
func ParseSignal(s string) (syscall.Signal, string, error) {
	sig, name, ok := proc.ParseSignal(s)
	if !ok {
		return 0, "", newError(CodeInvalidArgument, "unsupported signal %q; use TERM, INT, KILL, HUP, QUIT, USR1 or USR2", s)
	}
	return sig, name, nil
}

// killObserve bounds how long kill watches for the terminal state.
const killObserve = 3000 * time.Millisecond

// Kill signals a running job's verified process group and observes the
// result for up to 3 s. It never writes state.json.
func (m *Manager) Kill(ctx context.Context, id string, o KillOptions) (*KillResult, error) {
	sig, name, err := ParseSignal(cmp.Or(o.Signal, "TERM"))
	if err != nil {
		return nil, err
	}
	j, err := m.resolve(id)
	if err != nil {
		return nil, err
	}
	st, err := m.readReconciled(ctx, j, false)
	if err != nil {
		return nil, err
	}
	if st.Job.Status == "created" {
		// A launch in progress holds the lock: wait for it, then re-read.
		lock, lerr := m.lockJob(ctx, j)
		if lerr != nil {
			return nil, lerr
		}
		lock.Unlock()
		if st, err = m.readReconciled(ctx, j, false); err != nil {
			return nil, err
		}
		if st.Job.Status == "created" && st.Backend.IsSlurm() && st.Backend.SlurmJobID != "" {
			// Submitted to Slurm and still pending there: cancel it. The
			// job is then reconciled to failed (backend_lost: CANCELLED).
			if _, err := m.signalJob(ctx, j, st, sig); err != nil {
				return nil, err
			}
			if st, err = m.waitState(ctx, j, time.Now().Add(killObserve), 100*time.Millisecond); err != nil {
				return nil, err
			}
			oc := outcomeOf(st)
			return &KillResult{JobID: j.id, Signal: name, State: oc.state, ExitCode: oc.exitCode}, nil
		}
		if st.Job.Status == "created" {
			return nil, newError(CodeInvalidState, "invalid job state: job %s is in 'created' state and has not been started; cannot send signal", j.id)
		}
	}
	terminal := store.Terminal(st.Job.Status)
	groupToo := st.Job.Status == "running" || st.Job.Status == "failed" && st.Result.Error != nil && *st.Result.Error == "supervisor_lost"
	n, err := m.signalWithTree(ctx, j, st, sig, groupToo)
	if err != nil {
		return nil, err
	}
	var signalled *int
	if terminal && n > 0 {
		signalled = &n
		if !o.NoWait {
			waitUntil(ctx, time.Now().Add(killObserve), func() bool { return len(leftoverTree(j, st)) == 0 })
		}
	}
	if !o.NoWait && st.Job.Status == "running" {
		if st, err = m.waitState(ctx, j, time.Now().Add(killObserve), 100*time.Millisecond); err != nil {
			return nil, err
		}
	} else if st, err = m.readReconciled(ctx, j, false); err != nil {
		return nil, err
	}
	oc := outcomeOf(st)
	return &KillResult{JobID: j.id, Signal: name, State: oc.state, ExitCode: oc.exitCode, DescendantsSignalled: signalled}, nil
}

// signalChild sends sig to the job's process group after verifying that the
// recorded child is still the same process (SPEC §4.8 step 3).
func signalChild(st *store.State, sig syscall.Signal) (bool, error) {
	var id proc.Identity
	switch {
	case st.Child != nil:
		id = proc.Identity{PID: st.Child.PID, PGID: st.Child.PGID, StartTime: st.Child.StartTime}
	case st.PID > 1:
		id = proc.Identity{PID: st.PID, PGID: st.PID}
	default:
		return false, nil
	}
	if !proc.VerifyGroup(id, st.BootID) {
		return false, nil
	}
	if err := proc.SignalGroup(id.PGID, sig); err != nil {
		return false, newError(CodeInternal, "signal job process group %d: %v", id.PGID, err)
	}
	return true, nil
}

// ListOptions filter list.
type ListOptions struct {
	Limit int    // 0 = unlimited
	State State  // "" = any
	Cwd   string // "" = Options.Cwd; ignored with All
	All   bool
	Tags  []string // filter patterns, ANDed
	// WithLiveTrees also keeps terminal jobs whose tree still lives,
	// whatever State says (ps: what is still running, SPEC §11.4).
	WithLiveTrees bool
}

// List enumerates jobs, newest start first.
func (m *Manager) List(ctx context.Context, o ListOptions) (*ListResult, error) {
	for _, p := range o.Tags {
		if err := ValidateTagPattern(p); err != nil {
			return nil, &Error{Code: CodeInvalidTag, Message: "invalid tag pattern " + quote(p) + ": " + err.Error()}
		}
	}
	res := &ListResult{Root: m.root, Jobs: []JobSummary{}}
	names, reserved, err := store.ScanRoot(m.root)
	if err != nil {
		return nil, internalError(err)
	}
	res.Leftovers = countRootLeftovers(m.root, reserved)
	cwd := ""
	if !o.All {
		cwd = CanonicalDir(o.Cwd, m.opts.Cwd)
	}
	type entry struct {
		sum     JobSummary
		skipped bool
		keep    bool
		err     error // the system ran out of a resource
	}
	entries := make([]entry, len(names))
	parallel(len(names), func(i int) {
		j := jobRef{id: names[i], dir: store.Dir(m.root, names[i])}
		meta, err := store.ReadMeta(j.dir)
		if err != nil {
			switch {
			case store.ResourceExhausted(err):
				entries[i].err = err
			case store.Vanished(j.dir, err): // a concurrent gc or delete: not listed
			default:
				entries[i].skipped = true // a damaged directory
			}
			return
		}
		if cwd != "" && meta.Cwd != cwd {
			return
		}
		for _, p := range o.Tags {
			if !matchTagPattern(meta.Tags, p) {
				return
			}
		}
		sum := JobSummary{JobID: meta.Job.ID, CreatedAt: meta.CreatedAt, Tags: meta.Tags, Command: meta.Command, Name: meta.Name}
		if st, err := store.ReadState(j.dir); err != nil {
			switch {
			case store.ResourceExhausted(err):
				entries[i].err = err
				return
			case store.Vanished(j.dir, err):
				return
			}
			sum.State = StateUnknown
		} else {
			st = m.reconcile(ctx, j, st, false)
			oc := outcomeOf(st)
			sum.State, sum.ExitCode, sum.FinishedAt = oc.state, oc.exitCode, oc.finishedAt
			sum.StartedAt, sum.UpdatedAt = startedAt(st), st.UpdatedAt
			sum.DescendantsAlive = len(leftoverTree(j, st))
		}
		if o.State != "" && sum.State != o.State && !(o.WithLiveTrees && sum.DescendantsAlive > 0) {
			return
		}
		entries[i].sum, entries[i].keep = sum, true
	})
	for _, e := range entries {
		if e.err != nil {
			return nil, newError(CodeInternal, "list jobs: %v", e.err)
		}
	}
	for _, e := range entries {
		if e.skipped {
			res.Skipped++
		} else if e.keep {
			res.Jobs = append(res.Jobs, e.sum)
		}
	}
	slices.SortFunc(res.Jobs, func(a, b JobSummary) int {
		switch {
		case a.StartedAt == "" && b.StartedAt != "":
			return 1
		case a.StartedAt != "" && b.StartedAt == "":
			return -1
		case a.StartedAt != b.StartedAt:
			if a.StartedAt > b.StartedAt {
				return -1
			}
			return 1
		case a.JobID > b.JobID:
			return -1
		case a.JobID < b.JobID:
			return 1
		}
		return 0
	})
	if o.Limit > 0 && len(res.Jobs) > o.Limit {
		res.Jobs = res.Jobs[:o.Limit]
		res.Truncated = true
	}
	return res, nil
}
