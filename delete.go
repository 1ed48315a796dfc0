package agentexec

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/agentexec/agentexec/internal/store"
)

// DeleteOptions select what delete removes: one job (ID) or, with All, every
// terminal job whose working directory is the Manager's cwd.
type DeleteOptions struct {
	ID     string
	All    bool
	DryRun bool
}

// Delete reasons (SPEC §4.13).
const (
	reasonExplicitDelete = "explicit_delete"
	reasonTerminalInCwd  = "terminal_in_cwd"
	reasonCreated        = "created"
)

// lingerWait bounds how long delete waits for a finished job's supervisor to
// exit: it writes the terminal state a moment before exiting, so a delete
// right after `run --wait` must not fail on that window.
const lingerWait = 2 * time.Second

// Delete removes one job (any state but running), or with All every
// terminal job of the current directory. A job with a live process (its
// child group or its supervisor) is never removed.
func (m *Manager) Delete(ctx context.Context, o DeleteOptions) (*DeleteResult, error) {
	if o.All {
		return m.deleteAll(ctx, o.DryRun)
	}
	return m.deleteOne(ctx, o.ID, o.DryRun)
}

func (m *Manager) deleteOne(ctx context.Context, id string, dryRun bool) (*DeleteResult, error) {
	j, err := m.resolve(id)
	if err != nil {
		return nil, err
	}
	lock, err := m.lockForDelete(ctx, j)
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	state := StateUnknown
	if st, err := store.ReadState(j.dir); err == nil {
		st = m.reconcile(ctx, j, st, true)
		state = State(st.Job.Status)
		if n := len(leftoverTree(j, st)); n > 0 {
			return nil, newError(CodeInvalidState, "invalid job state: cannot delete job %s: %d process(es) of its tree are still alive; kill it first", j.id, n)
		}
		if state == StateRunning || !waitProcessesGone(ctx, st, lingerWait) {
			return nil, newError(CodeInvalidState, "invalid job state: cannot delete job %s: job is currently running", j.id)
		}
	}
	res := &DeleteResult{Root: m.root, DryRun: dryRun, Jobs: []DeleteEntry{{JobID: j.id, State: state, Reason: reasonExplicitDelete}}}
	if dryRun {
		res.Jobs[0].Action = ActionWouldDelete
		return res, nil
	}
	if err := removeJobDir(j.dir); err != nil {
		return nil, newError(CodeInternal, "delete job %s: %v", j.id, err)
	}
	res.Jobs[0].Action = ActionDeleted
	res.Deleted = 1
	return res, nil
}

// lockForDelete takes the job lock (at most 10 s) and then checks that
// meta.json still exists (SPEC §2.7). Unlike lockJob it does not parse
// meta.json: a job with a corrupted definition must remain deletable.
func (m *Manager) lockForDelete(ctx context.Context, j jobRef) (*store.Lock, error) {
	lock, err := m.lockWait(ctx, j, 10*time.Second)
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case errors.Is(err, store.ErrLockTimeout):
			return nil, newError(CodeInternal, "timed out waiting for the lock of job %s", j.id)
		case errors.Is(err, fs.ErrNotExist):
			return nil, notFoundError(j.id)
		}
		return nil, internalError(err)
	}
	if _, err := os.Lstat(filepath.Join(j.dir, store.MetaFile)); err != nil {
		lock.Unlock()
		if errors.Is(err, fs.ErrNotExist) {
			return nil, notFoundError(j.id)
		}
		return nil, internalError(err)
	}
	return lock, nil
}

func (m *Manager) deleteAll(ctx context.Context, dryRun bool) (*DeleteResult, error) {
	res := &DeleteResult{Root: m.root, DryRun: dryRun, Jobs: []DeleteEntry{}}
	names, err := store.EntryNames(m.root)
	if err != nil {
		return nil, internalError(err)
	}
	slices.Sort(names)
	cwd := CanonicalDir("", m.opts.Cwd)
	entries := make([]*DeleteEntry, len(names))
	parallel(len(names), func(i int) {
		j := jobRef{id: names[i], dir: store.Dir(m.root, names[i])}
		// Jobs of other directories, and directories without a readable
		// definition (whose directory is unknown), are out of scope.
		meta, err := store.ReadMeta(j.dir)
		if err != nil || meta.Cwd != cwd {
			return
		}
		entries[i] = m.deleteInScope(ctx, j, dryRun)
	})
	for _, e := range entries {
		if e == nil {
			continue
		}
		res.Jobs = append(res.Jobs, *e)
		if e.Action == ActionDeleted {
			res.Deleted++
		} else if e.Action == ActionSkipped {
			res.Skipped++
		}
	}
	return res, nil
}

// deleteInScope handles one job of delete --all: only terminal, unlocked
// jobs without a live process are removed.
func (m *Manager) deleteInScope(ctx context.Context, j jobRef, dryRun bool) *DeleteEntry {
	e := &DeleteEntry{JobID: j.id, State: StateUnknown, Action: ActionSkipped}
	skip := func(st *store.State) bool {
		if st == nil {
			e.State, e.Reason = StateUnknown, reasonStateUnreadable
			return true
		}
		e.State = State(st.Job.Status)
		switch e.State {
		case StateRunning:
			e.Reason = reasonRunning
		case StateCreated:
			e.Reason = reasonCreated
		default:
			return false
		}
		return true
	}
	st, err := store.ReadState(j.dir)
	if err != nil {
		st = nil
	} else {
		st = m.reconcile(ctx, j, st, false)
	}
	if skip(st) {
		return e
	}
	lock, err := store.TryLock(j.dir)
	if err != nil {
		if errors.Is(err, store.ErrLockBusy) || errors.Is(err, fs.ErrNotExist) {
			e.Reason = reasonLocked // busy, or being deleted by another process
		} else {
			e.Reason = reasonDeleteFailed + err.Error()
		}
		return e
	}
	defer lock.Unlock()
	// Re-check under the lock: a restart may have reset the job meanwhile.
	if st, err = store.ReadState(j.dir); err != nil {
		st = nil
	}
	if skip(st) {
		return e
	}
	if treeOutlivesChild(j, st) {
		e.Reason = reasonTreeAlive
		return e
	}
	if !waitProcessesGone(ctx, st, lingerWait) {
		e.Reason = reasonRunning
		return e
	}
	e.Reason = reasonTerminalInCwd
	if dryRun {
		e.Action = ActionWouldDelete
		return e
	}
	if err := removeJobDir(j.dir); err != nil {
		e.Reason = reasonDeleteFailed + err.Error()
		return e
	}
	e.Action = ActionDeleted
	return e
}
