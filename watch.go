package agentexec

import (
	"context"
	"path/filepath"
	"sync"
	"time"

	"github.com/agentexec/agentexec/internal/proc"
	"github.com/agentexec/agentexec/internal/store"
	"github.com/agentexec/agentexec/internal/watch"
)

// watcher is one inotify/kqueue instance shared by every waiter of a
// Manager: per-request watchers would exhaust kernel limits in serve/mcp.
type watcher struct {
	mu   sync.Mutex
	fw   *watch.Watcher // nil when notifications are unavailable
	subs map[string]map[chan struct{}]struct{}
	done chan struct{}
}

func (m *Manager) sharedWatcher() *watcher {
	m.watchMu.Lock()
	defer m.watchMu.Unlock()
	if m.watcher == nil {
		w := &watcher{subs: map[string]map[chan struct{}]struct{}{}, done: make(chan struct{})}
		if fw, err := watch.New(); err == nil {
			w.fw = fw
			go w.loop()
		} else {
			m.log.Info("file notifications unavailable; polling", "err", err)
		}
		m.watcher = w
	}
	return m.watcher
}

func (w *watcher) loop() {
	for name := range w.fw.Events {
		// state.json replaced in a job directory, or the directory removed.
		dir := name
		if filepath.Base(name) == store.StateFile {
			dir = filepath.Dir(name)
		}
		w.mu.Lock()
		for ch := range w.subs[dir] {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
		w.mu.Unlock()
	}
}

// subscribe returns a channel that receives a token whenever state.json in
// dir changes. If the watch cannot be added the channel never fires and
// callers rely on their polling fallback.
func (w *watcher) subscribe(dir string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	set := w.subs[dir]
	if set == nil {
		set = map[chan struct{}]struct{}{}
		w.subs[dir] = set
		if w.fw != nil {
			w.fw.Add(dir, watch.Replaced)
		}
	}
	set[ch] = struct{}{}
	w.mu.Unlock()
	return ch, func() {
		w.mu.Lock()
		delete(set, ch)
		if len(set) == 0 {
			delete(w.subs, dir)
			if w.fw != nil {
				w.fw.Remove(dir)
			}
		}
		w.mu.Unlock()
	}
}

func (w *watcher) close() {
	if w.fw != nil {
		w.fw.Close()
	}
}

// minPoll is the lower bound of every fallback re-check interval.
const minPoll = 10 * time.Millisecond

// waitState blocks until the reconciled state of j is terminal, the deadline
// passes (zero deadline: none), or ctx ends; it returns the last state read.
// It wakes on state.json changes and re-checks every poll as a fallback (this
// also notices a supervisor that died without writing).
func (m *Manager) waitState(ctx context.Context, j jobRef, deadline time.Time, poll time.Duration) (*store.State, error) {
	if poll < minPoll {
		poll = minPoll
	}
	ch, cancel := m.sharedWatcher().subscribe(j.dir)
	defer cancel()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	// Wake when the supervisor process exits too (pidfd), so a lost
	// supervisor is noticed at once rather than at the next poll.
	supGone := make(chan struct{}, 1)
	watchedPID := 0
	pidCtx, stopPID := context.WithCancel(ctx)
	defer stopPID()
	for {
		st, err := m.readReconciled(ctx, j, false)
		if err != nil {
			return nil, err
		}
		if store.Terminal(st.Job.Status) {
			return st, nil
		}
		if st.Supervisor != nil && st.Supervisor.PID > 1 && st.Supervisor.PID != watchedPID {
			watchedPID = st.Supervisor.PID
			go func(pid int) {
				if proc.WaitExit(pidCtx, pid) == nil {
					select {
					case supGone <- struct{}{}:
					default:
					}
				}
			}(watchedPID)
		}
		wait := poll
		if !deadline.IsZero() {
			left := time.Until(deadline)
			if left <= 0 {
				return st, nil
			}
			wait = min(wait, left)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-ch:
			timer.Stop() // Go ≥1.23: no stale tick after Stop
		case <-supGone:
			timer.Stop()
		case <-timer.C:
		}
	}
}
