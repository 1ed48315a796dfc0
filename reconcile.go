package agentexec

import (
	"context"
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
	// The supervisor may have written its terminal state just before exiting.
	if again, err := store.ReadState(j.dir); err == nil {
		if again.Job.Status != "running" {
			return again
		}
		st = again
	}
	if !held {
		lock, err := store.LockWait(ctx, j.dir, time.Second)
		if err != nil {
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
