package agentexec

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/agentexec/agentexec/internal/proc"
	"github.com/agentexec/agentexec/internal/store"
)

// supervisorGone applies the liveness rules of SPEC §3.11.
func supervisorGone(st *store.State) bool {
	if st.Supervisor != nil {
		return proc.Gone(proc.Identity{PID: st.Supervisor.PID, PGID: st.Supervisor.PGID, StartTime: st.Supervisor.StartTime}, st.BootID)
	}
	return proc.LegacyGone(st.PID)
}

// reconcile turns a state whose supervisor can no longer record the outcome
// into failed (transition S5): supervisor_lost for a local job whose
// supervisor is gone, backend_lost for a cluster job its cluster no longer
// runs. It persists that when the lock can be taken within 1 s. held says
// the caller already holds the job lock.
func (m *Manager) reconcile(ctx context.Context, j jobRef, st *store.State, held bool) *store.State {
	if st.Job.Status == "created" && st.Launching != nil {
		return m.reconcileAbandoned(j, st, held)
	}
	lost, why := backendOf(st.Backend).lost(ctx, st)
	if !lost {
		return st
	}
	m.log.Debug("reconcile: supervisor gone", "job", j.id, "supervisor_pid", supervisorPID(st))
	// The supervisor may have written its terminal state just before exiting.
	if again, err := store.ReadState(j.dir); err == nil {
		if again.Job.Status != st.Job.Status || store.Terminal(again.Job.Status) {
			return again
		}
		st = again
	}
	if !held {
		lock, err := m.lockWait(ctx, j, time.Second)
		if err != nil {
			m.log.Debug("reconcile: lock not taken; reporting "+why+" without persisting it", "job", j.id, "err", err)
			return m.lostState(st, why)
		}
		defer lock.Unlock()
		again, err := store.ReadState(j.dir)
		if err != nil {
			return m.lostState(st, why)
		}
		// A restart may have relaunched the job while we waited for the
		// lock: judge the state we now hold, not the one we read before.
		if lost, why = backendOf(again.Backend).lost(ctx, again); !lost {
			return again
		}
		st = again
	}
	failed := m.lostState(st, why)
	if err := store.WriteState(j.dir, failed); err != nil {
		m.log.Warn("persist "+why, "job", j.id, "err", err)
	} else {
		m.log.Info("reconcile: persisted failed/"+why, "job", j.id)
	}
	os.Remove(filepath.Join(j.dir, store.ReserveFile)) // its supervisor is gone
	return failed
}

// reconcileAbandoned settles a created state that carries a launch lease.
// A launch holds the job lock from writing the lease until its supervisor
// has recorded the outcome (the launcher hands its locked descriptor to the
// supervisor), so if the lock is free — or held by the caller — the launch
// died before the handshake: nobody will ever move the job on, and it is
// reconciled to failed (S2) instead of staying created for good. A lock
// that is busy means the launch is in flight: the state is reported as is.
func (m *Manager) reconcileAbandoned(j jobRef, st *store.State, held bool) *store.State {
	if !held {
		lock, err := store.TryLock(j.dir)
		if err != nil {
			return st
		}
		defer lock.Unlock()
	}
	again, err := store.ReadState(j.dir)
	if err != nil {
		return st
	}
	if again.Job.Status != "created" || again.Launching == nil {
		return again
	}
	now := store.Timestamp(m.now())
	msg := fmt.Sprintf("launch_failed: the launcher (pid %d) exited before the launch completed", again.Launching.PID)
	failed := *again
	failed.Job.Status, failed.Job.StartedAt = "failed", again.UpdatedAt
	failed.Result.Error = &msg
	failed.FinishedAt, failed.UpdatedAt = now, now
	failed.Launching = nil
	if err := store.WriteState(j.dir, &failed); err != nil {
		m.log.Warn("persist abandoned launch", "job", j.id, "err", err)
	} else {
		m.log.Debug("reconcile: abandoned launch persisted failed", "job", j.id, "launcher_pid", again.Launching.PID)
	}
	return &failed
}

func (m *Manager) lostState(st *store.State, msg string) *store.State {
	lost := *st
	now := store.Timestamp(m.now())
	lost.Job.Status = "failed"
	lost.Result.Error = &msg
	lost.FinishedAt = now
	lost.UpdatedAt = now
	return &lost
}

// readReconciled reads state.json and reconciles it.
func (m *Manager) readReconciled(ctx context.Context, j jobRef, held bool) (*store.State, error) {
	st, err := readState(j)
	if err != nil {
		return nil, err
	}
	return m.reconcile(ctx, j, st, held), nil
}

func supervisorPID(st *store.State) int {
	if st.Supervisor != nil {
		return st.Supervisor.PID
	}
	return st.PID
}

// lockWait takes the job lock, waiting at most max, and logs the wait at
// debug level: a command that seems slow is often queued behind another
// operation on the same job.
func (m *Manager) lockWait(ctx context.Context, j jobRef, max time.Duration) (*store.Lock, error) {
	if lock, err := store.TryLock(j.dir); err == nil {
		return lock, nil
	} else if !errors.Is(err, store.ErrLockBusy) {
		return nil, err
	}
	m.log.Debug("job lock busy; waiting", "job", j.id, "max_ms", max.Milliseconds())
	began := time.Now()
	lock, err := store.LockWait(ctx, j.dir, max)
	m.log.Debug("job lock wait ended", "job", j.id, "waited_ms", time.Since(began).Milliseconds(), "acquired", err == nil)
	return lock, err
}
