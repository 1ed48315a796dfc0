package agentexec

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/agentexec/agentexec/internal/logread"
	"github.com/agentexec/agentexec/internal/store"
)

// ObserveOptions control the observation phase after a launch (SPEC §3.9).
type ObserveOptions struct {
	// SnapshotAfter is how long to observe before taking a snapshot; 0 = no
	// snapshot. The CLI clamps it to 10 s; the library does not.
	SnapshotAfter time.Duration
	// NoWait skips the snapshot (same as SnapshotAfter 0).
	NoWait bool
	// Wait blocks until the job is terminal or Until passes (unless Forever).
	Wait    bool
	Until   time.Duration
	Forever bool
	// Poll is the fallback re-check interval (minimum 10 ms).
	Poll time.Duration
	// TailLines (0 = no limit) and MaxBytes bound the snapshots; MaxBytes
	// is clamped to MaxExcerptBytes.
	TailLines int
	MaxBytes  int64
	// Settle ends the snapshot wait early once output exists and no new
	// byte has arrived for this long (SPEC §11.8); 0 waits the whole
	// SnapshotAfter unless the job ends (the v0.1.18 behaviour).
	Settle time.Duration
	// Render selects how the snapshots' texts are presented.
	Render Render
	// ForOutput makes the launch wait like Wait (until Until unless
	// Forever) but return as soon as an output line matches (SPEC §11.2,
	// run --wait-for-output); the response then has Matched, Match and a
	// Snapshot taken at return.
	ForOutput *OutputCondition
	// Launched, if set, is called with the job's id when the observation
	// starts (MCP progress reports need the id before the call returns).
	Launched func(jobID string)
	// ForPort is the same for a TCP port a process of the job's tree
	// listens on (run --wait-for-port; 0 = none); exclusive with ForOutput.
	ForPort int
}

// DefaultSettle is the settle time of run, start, restart and MCP run.
const DefaultSettle = 500 * time.Millisecond

// DefaultObserve returns the CLI defaults for run.
func DefaultObserve() ObserveOptions {
	return ObserveOptions{SnapshotAfter: 10 * time.Second, Until: 30 * time.Second, Poll: 200 * time.Millisecond, TailLines: 50, MaxBytes: 65536, Settle: DefaultSettle}
}

// validate rejects observation options no launch should start with.
func (o *ObserveOptions) validate() error {
	if _, err := ParseRender(string(o.Render)); err != nil {
		return err
	}
	if o.ForOutput != nil {
		if _, err := validateOutput(o.ForOutput); err != nil {
			return err
		}
	}
	return validateReadiness(o.ForOutput, o.ForPort)
}

// excerptOf is snapshotOf presented in mode r.
func excerptOf(j jobRef, lines int, maxBytes int64, r Render) *Snapshot {
	s := snapshotOf(j, lines, maxBytes)
	s.render(r)
	return s
}

func snapshotOf(j jobRef, lines int, maxBytes int64) *Snapshot {
	maxBytes = clampExcerpt(maxBytes)
	o := logread.File(j.stdoutPath(), lines, maxBytes)
	e := logread.File(j.stderrPath(), lines, maxBytes)
	return &Snapshot{
		StdoutTail: o.Text, StderrTail: e.Text, Truncated: o.Truncated || e.Truncated, Encoding: Encoding,
		StdoutObservedBytes: o.ObservedBytes, StderrObservedBytes: e.ObservedBytes,
		StdoutIncludedBytes: o.IncludedBytes, StderrIncludedBytes: e.IncludedBytes,
		Cursor: logread.Cursor{Out: o.ObservedBytes, Err: e.ObservedBytes}.String(),
	}
}

// observe runs the observation phase and builds the launch response.
// began is when the command began, t0 when the launch was acknowledged.
func (m *Manager) observe(ctx context.Context, j jobRef, meta *store.Meta, o ObserveOptions, began, t0 time.Time) (*LaunchResult, error) {
	res := &LaunchResult{JobID: j.id, Tags: meta.Tags, EnvVars: meta.EnvVars, StdoutLogPath: j.stdoutPath(), StderrLogPath: j.stderrPath()}
	if res.Tags == nil {
		res.Tags = []string{}
	}
	if o.Launched != nil {
		o.Launched(j.id)
	}
	var st *store.State
	var err error
	observed := false
	d := o.SnapshotAfter
	if o.Wait || o.NoWait || o.ForOutput != nil || o.ForPort != 0 {
		d = 0
	}
	if d > 0 {
		observed = true
		if _, err = m.waitSettled(ctx, j, t0.Add(d), o.Poll, o.Settle); err != nil {
			return nil, err
		}
		// Read the state first, then the output, so a terminal state
		// implies a complete snapshot.
		if st, err = m.readReconciled(ctx, j, false); err != nil {
			return nil, err
		}
		res.Snapshot = excerptOf(j, o.TailLines, o.MaxBytes, o.Render)
	}
	if o.ForOutput != nil || o.ForPort != 0 {
		observed = true
		var deadline time.Time
		if !o.Forever {
			deadline = t0.Add(o.Until)
		}
		var ready readiness = &portReady{j: j, port: o.ForPort}
		if o.ForOutput != nil {
			if ready, err = m.newOutputReady(j, o.ForOutput, logread.Cursor{}); err != nil {
				return nil, err
			}
		}
		var hit *readyHit
		if st, hit, err = m.waitFor(ctx, j, deadline, o.Poll, 0, ready); err != nil {
			return nil, err
		}
		res.Matched = boolPtr(hit != nil)
		if hit != nil {
			res.Match = hit.match
		}
		res.Snapshot = excerptOf(j, o.TailLines, o.MaxBytes, o.Render)
		if store.Terminal(st.Job.Status) {
			res.FinalSnapshot = excerptOf(j, o.TailLines, o.MaxBytes, o.Render)
		}
	} else if o.Wait {
		observed = true
		var deadline time.Time
		if !o.Forever {
			deadline = t0.Add(o.Until)
		}
		st, err = m.waitState(ctx, j, deadline, o.Poll)
		if err != nil {
			return nil, err
		}
		if store.Terminal(st.Job.Status) {
			res.FinalSnapshot = excerptOf(j, o.TailLines, o.MaxBytes, o.Render)
		} else {
			// The deadline passed: show the output so far (SPEC §11.8).
			res.Snapshot = excerptOf(j, o.TailLines, o.MaxBytes, o.Render)
		}
	}
	if st == nil {
		if st, err = m.readReconciled(ctx, j, false); err != nil {
			return nil, err
		}
	}
	now := time.Now()
	if observed {
		res.WaitedMS = now.Sub(t0).Milliseconds()
	}
	res.ElapsedMS = max(now.Sub(began).Milliseconds(), res.WaitedMS)
	oc := outcomeOf(st)
	res.State = oc.state
	res.ExitCode, res.FinishedAt, res.Signal, res.DurationMS, res.TimedOut, res.Error =
		oc.exitCode, oc.finishedAt, oc.signal, oc.durationMS, oc.timedOut, oc.err
	res.TimeoutKind, res.Resources, res.OOMKilled = oc.timeoutKind, oc.resources, oc.oomKilled
	return res, nil
}

// RunRequest is a run: a job definition, observation options and an
// optional merged-log path (run --log; not persisted).
type RunRequest struct {
	Spec    JobSpec
	Observe ObserveOptions
	LogPath string
	// Ensure (with Spec.Name) returns the created or running job called
	// Spec.Name instead of creating another (run --name N --ensure, SPEC
	// §11.6): the launch response then describes that job, observed as
	// Observe says, with Reused set; nothing is started.
	Ensure bool
	// Began is when the command began (elapsed_ms counts from it, so time
	// spent reading job input is included); zero means now.
	Began time.Time
}

// Run creates a job and launches it now, then observes it.
func (m *Manager) Run(ctx context.Context, req RunRequest) (*LaunchResult, error) {
	began := req.Began
	if began.IsZero() {
		began = time.Now()
	}
	if err := req.Observe.validate(); err != nil {
		return nil, err
	}
	unlockName, reuse, err := m.claimName(ctx, &req.Spec, req.Ensure)
	if err != nil {
		return nil, err
	}
	if reuse != nil {
		res, err := m.observe(ctx, reuse.j, reuse.meta, req.Observe, began, time.Now())
		if err != nil {
			return nil, err
		}
		res.Reused, res.CommandDiffers = boolPtr(true), boolPtr(reuse.differs)
		return res, nil
	}
	j, meta, lock, err := m.createJob(ctx, &req.Spec, true)
	if err != nil {
		unlockName()
		return nil, err
	}
	j.lock = lock
	// The name lock is held until the launch is acknowledged, so a
	// concurrent --ensure finds the job running (or failed), never
	// half-launched.
	t0, err := m.launch(ctx, j, meta, req.LogPath)
	lock.Unlock()
	unlockName()
	if err != nil {
		return nil, err
	}
	res, err := m.observe(ctx, j, meta, req.Observe, began, t0)
	if err == nil && req.Ensure {
		res.Reused = boolPtr(false)
	}
	return res, err
}

// lockJob takes the job lock (at most 10 s) and checks the job still exists.
func (m *Manager) lockJob(ctx context.Context, j jobRef) (*store.Lock, error) {
	lock, err := m.lockWait(ctx, j, 10*time.Second)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err == store.ErrLockTimeout {
			return nil, newError(CodeInternal, "timed out waiting for the lock of job %s", j.id)
		}
		if errors.Is(err, fs.ErrNotExist) { // the job went away while we waited
			return nil, notFoundError(j.id)
		}
		return nil, newError(CodeInternal, "lock job %s: %v", j.id, err)
	}
	// SPEC §2.7: after taking the lock, a job whose meta.json is gone no
	// longer exists.
	if _, err := os.Lstat(filepath.Join(j.dir, store.MetaFile)); errors.Is(err, fs.ErrNotExist) {
		lock.Unlock()
		return nil, notFoundError(j.id)
	}
	if _, err := readMeta(j); err != nil {
		lock.Unlock()
		return nil, err
	}
	return lock, nil
}

// Start launches a created job and observes it.
func (m *Manager) Start(ctx context.Context, id string, o ObserveOptions) (*LaunchResult, error) {
	began := time.Now()
	if err := o.validate(); err != nil {
		return nil, err
	}
	j, err := m.resolve(id)
	if err != nil {
		return nil, err
	}
	lock, err := m.lockJob(ctx, j)
	if err != nil {
		return nil, err
	}
	meta, err := readMeta(j)
	if err != nil {
		lock.Unlock()
		return nil, err
	}
	st, err := readState(j)
	if err != nil {
		lock.Unlock()
		return nil, err
	}
	if st.Job.Status != "created" {
		lock.Unlock()
		st = m.reconcile(ctx, j, st, false)
		return nil, newError(CodeInvalidState, "invalid job state: job %s is in '%s' state; only 'created' jobs can be started", j.id, st.Job.Status)
	}
	j.lock = lock
	t0, err := m.launch(ctx, j, meta, "")
	lock.Unlock()
	if err != nil {
		return nil, err
	}
	return m.observe(ctx, j, meta, o, began, t0)
}
