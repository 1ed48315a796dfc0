package agentexec

import (
	"cmp"
	"context"
	"errors"
	"syscall"
	"time"

	"github.com/agentexec/agentexec/internal/proc"
	"github.com/agentexec/agentexec/internal/store"
)

// RestartOptions control restart.
type RestartOptions struct {
	// Signal stops a running job first (SPEC §3.7 names); empty = TERM.
	Signal string
	// Observe is the observation phase after the relaunch.
	Observe ObserveOptions
}

// Bounds of the restart stop sequence (SPEC §4.4).
const (
	restartGrace      = 3000 * time.Millisecond // after the requested signal
	restartKillGrace  = 2000 * time.Millisecond // after SIGKILL
	restartSupervisor = 2000 * time.Millisecond // previous supervisor's exit
)

// Restart relaunches a job under the same id with the same definition: a
// running job is stopped first (the given signal, then SIGKILL), the logs
// are cleared, the notification records removed and the state reset to
// created (S6); then it is launched exactly as Start does and observed.
// Everything up to the acknowledgement happens under the job lock.
func (m *Manager) Restart(ctx context.Context, id string, o RestartOptions) (*LaunchResult, error) {
	began := time.Now()
	sig, _, err := ParseSignal(cmp.Or(o.Signal, "TERM"))
	if err != nil {
		return nil, err
	}
	if err := o.Observe.validate(); err != nil {
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
	defer lock.Unlock()
	meta, err := readMeta(j)
	if err != nil {
		return nil, err
	}
	st, err := m.readReconciled(ctx, j, true)
	if err != nil {
		return nil, err
	}
	if err := m.stopForRestart(ctx, j, st, sig); err != nil {
		return nil, err
	}
	if err := m.resetForRestart(j, meta); err != nil {
		return nil, err
	}
	j.lock = lock
	t0, err := m.launch(ctx, j, meta, "")
	lock.Unlock()
	if err != nil {
		return nil, err
	}
	return m.observe(ctx, j, meta, o.Observe, began, t0)
}

// stopForRestart is step 2 of SPEC §4.4: stop a running job (or the live
// group of a failed one), then make sure the previous run's supervisor has
// exited. The caller holds the lock.
func (m *Manager) stopForRestart(ctx context.Context, j jobRef, st *store.State, sig syscall.Signal) error {
	switch {
	case st.Job.Status == "running":
		stopped, err := m.stopRunning(ctx, j, st, sig)
		if err != nil {
			return err
		}
		if !stopped {
			return newError(CodeInvalidState, "invalid job state: job %s did not stop within 5000 ms; not restarted", j.id)
		}
		// The stop wrote the terminal state; the supervisor checked below
		// is the same one.
	case st.Job.Status == "created" && st.Backend.IsSlurm() && st.Backend.SlurmJobID != "":
		// Still pending on the cluster: withdraw that submission; its
		// supervisor, should it start anyway, finds another one recorded.
		if _, err := m.signalJob(ctx, j, st, syscall.SIGTERM); err != nil {
			return err
		}
	case st.Job.Status == "failed" && childGroupAlive(st):
		if !m.stopGroup(ctx, st, sig) {
			return newError(CodeInvalidState, "invalid job state: job %s did not stop within 5000 ms; not restarted", j.id)
		}
	}
	// No process of the previous run may write into the new run's logs:
	// stop whatever is left of its tree (SPEC §11.4).
	if !stopTree(ctx, j, st, sig) {
		return newError(CodeInvalidState, "invalid job state: the process tree of job %s did not stop within 5000 ms; not restarted", j.id)
	}
	m.endSupervisor(ctx, st)
	return nil
}

// stopRunning signals the verified group, waits for the terminal state,
// escalates to SIGKILL. It reports whether the job became terminal.
func (m *Manager) stopRunning(ctx context.Context, j jobRef, st *store.State, sig syscall.Signal) (bool, error) {
	if _, err := m.signalWithTree(ctx, j, st, sig, true); err != nil {
		return false, err
	}
	cur, err := m.waitTerminalHeld(ctx, j, time.Now().Add(restartGrace))
	if err != nil {
		return false, err
	}
	if store.Terminal(cur.Job.Status) {
		return true, nil
	}
	if _, err := m.signalWithTree(ctx, j, cur, syscall.SIGKILL, true); err != nil {
		return false, err
	}
	cur, err = m.waitTerminalHeld(ctx, j, time.Now().Add(restartKillGrace))
	if err != nil {
		return false, err
	}
	return store.Terminal(cur.Job.Status), nil
}

// stopGroup applies the stop sequence to the still-alive child group of a
// failed job (its supervisor is gone, so nobody records a state): signal,
// wait for the group to die, SIGKILL, wait again.
func (m *Manager) stopGroup(ctx context.Context, st *store.State, sig syscall.Signal) bool {
	signalChild(st, sig)
	if waitUntil(ctx, time.Now().Add(restartGrace), func() bool { return !childGroupAlive(st) }) {
		return true
	}
	signalChild(st, syscall.SIGKILL)
	return waitUntil(ctx, time.Now().Add(restartKillGrace), func() bool { return !childGroupAlive(st) })
}

// childGroupAlive reports whether the recorded child still verifies and its
// group has members.
func childGroupAlive(st *store.State) bool {
	var id proc.Identity
	switch {
	case st.Child != nil:
		id = proc.Identity{PID: st.Child.PID, PGID: st.Child.PGID, StartTime: st.Child.StartTime}
	case st.PID > 1:
		id = proc.Identity{PID: st.PID, PGID: st.PID}
	default:
		return false
	}
	return proc.VerifyGroup(id, st.BootID) && proc.GroupAlive(id.PGID)
}

// endSupervisor waits up to 2 s for the previous run's supervisor (which may
// still be delivering notifications) to exit, then SIGKILLs it if it is
// still the recorded process, and waits briefly for it to be gone so it
// cannot write into the files restart is about to reset.
func (m *Manager) endSupervisor(ctx context.Context, st *store.State) {
	sup := st.Supervisor
	if sup == nil || sup.PID <= 1 {
		return
	}
	id := proc.Identity{PID: sup.PID, PGID: sup.PGID, StartTime: sup.StartTime}
	gone := func() bool { return proc.Gone(id, st.BootID) }
	if gone() || waitExit(ctx, sup.PID, restartSupervisor, gone) {
		return
	}
	// The supervisor leads its own session (setsid), so its group is just
	// itself: signalling the verified group is signalling its pid.
	if sup.PGID == sup.PID && proc.VerifyGroup(id, st.BootID) {
		// TERM first: the supervisor then kills its running command sinks
		// (own process groups) before exiting; KILL if it does not go.
		proc.SignalGroup(sup.PGID, syscall.SIGTERM)
		if waitExit(ctx, sup.PID, 200*time.Millisecond, gone) {
			return
		}
		if err := proc.SignalGroup(sup.PGID, syscall.SIGKILL); err != nil {
			m.log.Warn("kill previous supervisor", "pid", sup.PID, "err", err)
		}
		waitExit(ctx, sup.PID, time.Second, gone)
	}
}

// waitExit waits up to d for pid to exit: event-driven where the platform
// offers a process descriptor, else by polling gone.
func waitExit(ctx context.Context, pid int, d time.Duration, gone func() bool) bool {
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	err := proc.WaitExit(wctx, pid)
	if err == nil {
		return true
	}
	if !errors.Is(err, proc.ErrUnsupported) {
		return gone()
	}
	return waitUntil(ctx, time.Now().Add(d), gone)
}

// waitUntil polls cond every 10 ms until it holds or deadline passes.
func waitUntil(ctx context.Context, deadline time.Time, cond func() bool) bool {
	for {
		if cond() {
			return true
		}
		if !time.Now().Before(deadline) || ctx.Err() != nil {
			return false
		}
		t := time.NewTimer(min(minPoll, time.Until(deadline)))
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
}

// waitTerminalHeld is waitState for a caller that holds the job lock: the
// reconciler then persists a lost supervisor itself instead of waiting for
// the lock it cannot get.
func (m *Manager) waitTerminalHeld(ctx context.Context, j jobRef, deadline time.Time) (*store.State, error) {
	ch, cancel := m.sharedWatcher().subscribe(j.dir)
	defer cancel()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		st, err := m.readReconciled(ctx, j, true)
		if err != nil {
			return nil, err
		}
		left := time.Until(deadline)
		if store.Terminal(st.Job.Status) || left <= 0 {
			return st, nil
		}
		timer.Reset(min(left, 100*time.Millisecond))
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-ch:
			timer.Stop()
		case <-timer.C:
		}
	}
}

// resetForRestart is step 3 of SPEC §4.4: clear the logs, remove the
// notification records and write S6 (created). meta.json is untouched.
//
// A local job keeps the previous run's logs and records until its new
// supervisor, holding the handed-over lock, clears them right before it
// spawns the child (store.ResetRun): a restart that dies before that leaves
// them intact, and its S6 carries the launch lease, so the job is then
// reconciled to failed instead of staying created.
func (m *Manager) resetForRestart(j jobRef, meta *store.Meta) error {
	created := store.CreatedState(j.id, m.now())
	if meta.Backend.IsSlurm() {
		if err := store.ResetRun(j.dir); err != nil {
			return internalError(err)
		}
	} else {
		created.Launching = launcherLease()
	}
	if err := store.WriteState(j.dir, created); err != nil {
		return internalError(err)
	}
	return nil
}
