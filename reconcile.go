package agentexec

import (
	"context"
	"errors"
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

// reconcile turns a running state whose supervisor is gone into failed /
// supervisor_lost (transition S5), persisting it when the lock can be taken
// within 1 s. held says the caller already holds the job lock.
func (m *Manager) reconcile(ctx context.Context, j jobRef, st *store.State, held bool) *store.State {
	if st.Job.Status != "running" || !supervisorGone(st) {
		return st
	}
	m.log.Debug("reconcile: supervisor gone", "job", j.id, "supervisor_pid", supervisorPID(st))
	// The supervisor may have written its terminal state just before exiting.
	if again, err := store.ReadState(j.dir); err == nil {
		if again.Job.Status != "running" {
			return again
		}
		st = again
	}
	if !held {
		lock, err := m.lockWait(ctx, j, time.Second)
		if err != nil {
			m.log.Debug("reconcile: lock not taken; reporting supervisor_lost without persisting it", "job", j.id, "err", err)
			return m.lostState(st)
		}
		defer lock.Unlock()
		again, err := store.ReadState(j.dir)
		if err != nil {
			return m.lostState(st)
		}
		// A restart may have relaunched the job while we waited for the
		// lock: judge the state we now hold, not the one we read before.
		if again.Job.Status != "running" || !supervisorGone(again) {
			return again
		}
		st = again
	}
	lost := m.lostState(st)
	if err := store.WriteState(j.dir, lost); err != nil {
		m.log.Warn("persist supervisor_lost", "job", j.id, "err", err)
	} else {
		m.log.Debug("reconcile: persisted failed/supervisor_lost", "job", j.id)
	}
	os.Remove(filepath.Join(j.dir, store.ReserveFile)) // its supervisor is gone
	return lost
}

func (m *Manager) lostState(st *store.State) *store.State {
	lost := *st
	now := store.Timestamp(m.now())
	msg := "supervisor_lost"
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
