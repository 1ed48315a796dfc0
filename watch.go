package agentexec

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/agentexec/agentexec/internal/logread"
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
	// entries are subscribers to any entry appearing in a directory (new
	// jobs in the root, for follow).
	entries   map[string]map[chan struct{}]struct{}
	entriesOK bool // the last entries watch added is in place
	done      chan struct{}
}

func (m *Manager) sharedWatcher() *watcher {
	m.watchMu.Lock()
	defer m.watchMu.Unlock()
	if m.watcher == nil {
		w := &watcher{subs: map[string]map[chan struct{}]struct{}{}, entries: map[string]map[chan struct{}]struct{}{}, done: make(chan struct{})}
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
		// state.json replaced in a job directory, the directory removed,
		// or a watched log written.
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
		for ch := range w.entries[filepath.Dir(name)] {
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
	return ch, w.subscribeTo(dir, watch.Replaced, ch)
}

// subscribeTo makes ch receive a token (never blocking: give it a buffer of
// one) whenever path changes in the way kind selects; for a Replaced
// directory watch, when state.json in it is replaced. If the watch cannot
// be added ch never fires and callers rely on their polling fallback.
func (w *watcher) subscribeTo(path string, kind watch.Kind, ch chan struct{}) func() {
	w.mu.Lock()
	set := w.subs[path]
	if set == nil {
		set = map[chan struct{}]struct{}{}
		w.subs[path] = set
		if w.fw != nil {
			w.fw.Add(path, kind)
		}
	}
	set[ch] = struct{}{}
	w.mu.Unlock()
	return func() {
		w.mu.Lock()
		delete(set, ch)
		if len(set) == 0 {
			delete(w.subs, path)
			if w.fw != nil {
				w.fw.Remove(path)
			}
		}
		w.mu.Unlock()
	}
}

// subscribeEntries makes each of chs receive a token whenever an entry is
// created in or renamed into dir (a job appearing in the root). It reports
// whether the watch is in place (else callers poll).
func (w *watcher) subscribeEntries(dir string, chs ...chan struct{}) (func(), bool) {
	w.mu.Lock()
	set := w.entries[dir]
	if set == nil {
		set = map[chan struct{}]struct{}{}
		w.entries[dir] = set
		if w.fw != nil {
			w.entriesOK = w.fw.Add(dir, watch.Replaced) == nil
		}
	}
	ok := w.fw != nil && w.entriesOK
	for _, ch := range chs {
		set[ch] = struct{}{}
	}
	w.mu.Unlock()
	return func() {
		w.mu.Lock()
		for _, ch := range chs {
			delete(set, ch)
		}
		if len(set) == 0 {
			delete(w.entries, dir)
			if w.fw != nil && w.subs[dir] == nil {
				w.fw.Remove(dir)
			}
		}
		w.mu.Unlock()
	}, ok
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
	st, _, err := m.waitFor(ctx, j, deadline, poll, 0, nil)
	return st, err
}

// waitSettled is waitState that also returns once the job's output has
// settled (SPEC §11.8): at least one byte exists in its logs and none has
// arrived for settle (0: never). Log growth wakes it through a watch on
// both logs, so the end of a burst is seen within a few milliseconds.
func (m *Manager) waitSettled(ctx context.Context, j jobRef, deadline time.Time, poll, settle time.Duration) (*store.State, error) {
	st, _, err := m.waitFor(ctx, j, deadline, poll, settle, nil)
	return st, err
}

// readyHit is a readiness match and the cursor reported with it.
type readyHit struct {
	match  *Match
	cursor logread.Cursor
}

// waitFor is the one waiting loop: it returns when the job is terminal,
// the deadline passes, the output settles (settle > 0), or ready (if not
// nil) holds — checked at every wake-up and once more when the job turned
// terminal, since a terminal state implies complete logs. It wakes on
// state.json changes, the supervisor's exit, log growth and the poll.
func (m *Manager) waitFor(ctx context.Context, j jobRef, deadline time.Time, poll, settle time.Duration, ready readiness) (*store.State, *readyHit, error) {
	if poll < minPoll {
		poll = minPoll
	}
	w := m.sharedWatcher()
	ch, cancel := w.subscribe(j.dir)
	defer cancel()
	var out *settler
	if settle > 0 {
		out = &settler{quiet: settle, size: -1, logWatch: m.newLogWatch(j, settle/10)}
		defer out.close()
	}
	if ready != nil {
		defer ready.close()
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	// Wake when the supervisor process exits too (pidfd), so a lost
	// supervisor is noticed at once rather than at the next poll.
	supGone := make(chan struct{}, 1)
	watchedPID := 0
	pidCtx, stopPID := context.WithCancel(ctx)
	defer stopPID()
	for {
		// Listen first, then look: output written in between is seen by
		// one or the other.
		var readyC <-chan struct{}
		readyWait := time.Duration(math.MaxInt64)
		if ready != nil {
			readyC, readyWait = ready.wake()
		}
		st, err := m.readReconciled(ctx, j, false)
		if err != nil {
			return nil, nil, err
		}
		terminal := store.Terminal(st.Job.Status)
		if ready != nil {
			match, c, err := ready.check(terminal)
			if err != nil {
				return nil, nil, err
			}
			if match != nil {
				return st, &readyHit{match: match, cursor: c}, nil
			}
		}
		if terminal && !stillPending(ready) {
			return st, nil, nil
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
		wait := min(poll, readyWait)
		if !deadline.IsZero() {
			left := time.Until(deadline)
			if left <= 0 {
				return st, nil, nil
			}
			wait = min(wait, left)
		}
		var grew <-chan struct{}
		if out != nil {
			grew = out.listen()
			left, settled := out.check(j)
			if settled {
				return st, nil, nil
			}
			wait = min(wait, left)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return st, nil, ctx.Err()
		case <-ch:
			timer.Stop() // Go ≥1.23: no stale tick after Stop
		case <-supGone:
			timer.Stop()
		case <-grew:
			timer.Stop()
			out.heard()
		case <-readyC:
			timer.Stop()
			ready.heard()
		case <-timer.C:
		}
	}
}

// settler tracks whether a job's output has settled: some exists and its
// size has not changed for quiet. Its log watch is muted for a tenth of
// the quiet time (at least minPoll) after each notification, which bounds
// the wake-ups and the job's watch overhead per second, and how late the
// end of the output can be noticed.
type settler struct {
	quiet  time.Duration
	size   int64     // total size of both logs at the last check; -1 before the first
	grewAt time.Time // when a check first saw the current size
	*logWatch
}

// check stats the logs and reports whether the output has settled, or how
// long until the next check is due.
func (s *settler) check(j jobRef) (time.Duration, bool) {
	now := time.Now()
	if size := logSize(j.stdoutPath()) + logSize(j.stderrPath()); size != s.size {
		s.size, s.grewAt = size, now
	}
	if s.size <= 0 {
		return s.untilUnmuted(now, time.Hour), false
	}
	left := s.quiet - now.Sub(s.grewAt)
	if left <= 0 {
		return 0, true
	}
	return s.untilUnmuted(now, left), false
}

func logSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}
