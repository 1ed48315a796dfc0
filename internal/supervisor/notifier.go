package supervisor

import (
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/agentexec/agentexec/internal/config"
	"github.com/agentexec/agentexec/internal/notify"
	"github.com/agentexec/agentexec/internal/store"
)

// configMaxAge bounds how old the output-match configuration may be when a
// line is evaluated (SPEC §7.3).
const configMaxAge = 100 * time.Millisecond

// notifier evaluates output matches and delivers job.finished and
// job.output.matched events (SPEC §7). Line runs on the supervisor's
// follower goroutine; deliveries run on the queue's worker, so output
// capture never waits for a sink.
type notifier struct {
	dir, id  string
	metaPath string
	// timeout is the command-sink timeout the launcher sent; 0 = read the
	// default configuration file.
	timeout time.Duration

	// stale is set configMaxAge after each look at meta.json, by a timer
	// armed at that look: the per-line check is one atomic load instead of
	// reading the clock, and an idle job has no timer running.
	stale atomic.Bool
	timer *time.Timer
	stamp notify.Stamp    // version of meta.json last loaded
	meta  *store.Meta     // meta.json as last loaded; nil before
	match *notify.Matcher // nil: no output matching

	d *notify.Deliverer // built on first use (loads the sink timeout)
	q *notify.Queue     // started on the first match
}

func newNotifier(s *supervisor) *notifier {
	n := &notifier{dir: s.dir, id: s.id, metaPath: filepath.Join(s.dir, store.MetaFile),
		timeout: time.Duration(s.req.NotifyTimeoutMS) * time.Millisecond}
	n.timer = time.AfterFunc(time.Hour, func() { n.stale.Store(true) })
	n.refresh()
	return n
}

// refresh re-reads meta.json if it changed since it was last loaded. The
// stat comes before the read: a rewrite between the two then shows up as a
// changed stamp at the next check instead of being missed.
func (n *notifier) refresh() {
	n.stale.Store(false)
	n.timer.Reset(configMaxAge)
	fi, err := os.Lstat(n.metaPath)
	if err != nil {
		return // keep the configuration we have
	}
	stamp := notify.StampOf(fi)
	if n.meta != nil && stamp.Equal(n.stamp) {
		return
	}
	meta, err := store.ReadMeta(n.dir)
	if err != nil {
		return // not stamped: retried at the next check
	}
	n.stamp, n.meta = stamp, meta
	var om *store.OutputMatch
	if meta.Notification != nil {
		om = meta.Notification.OnOutputMatch
	}
	if n.match.Same(om) {
		return // keep the compiled form
	}
	m, err := notify.NewMatcher(om)
	if err != nil {
		m = nil // notify set validates regexes; a hand-edited bad one matches nothing
	}
	n.match = m
}

// Wants implements LineHook: a block is offered line by line only if the
// current output match may match one of its lines.
func (n *notifier) Wants(stream string, block []byte) bool {
	if n.stale.Load() {
		n.refresh()
	}
	return n.match != nil && n.match.MayMatch(stream, block)
}

// Line implements LineHook: it evaluates one complete output line against
// the current output-match configuration and queues an event on a match.
func (n *notifier) Line(stream string, line []byte) {
	if n.stale.Load() {
		n.refresh()
	}
	m := n.match
	if m == nil || !m.Match(stream, line) {
		return
	}
	if n.q == nil {
		n.q = n.deliverer().NewQueue(n.dir)
	}
	n.q.Push(m.Event(n.dir, n.id, stream, line), m.Sinks)
}

// deliverer builds the sink runner on first use. The wrapper is the job's;
// the command-sink timeout comes from the configuration file ([notify]
// timeout_ms), read only now so jobs without sinks never parse it.
func (n *notifier) deliverer() *notify.Deliverer {
	if n.d != nil {
		return n.d
	}
	wrapper := store.DefaultShellWrapper
	if n.meta != nil {
		wrapper = n.meta.ShellWrapper
	}
	timeout := n.timeout
	if timeout <= 0 {
		timeout = notify.DefaultTimeout
		home, _ := os.UserHomeDir()
		if c, err := config.Load("", os.Getenv, home); err == nil {
			timeout = c.NotifyTimeout
		}
	}
	n.d = &notify.Deliverer{JobID: n.id, Wrapper: wrapper, Env: os.Environ(), Timeout: timeout}
	return n.d
}

// finish runs right after the terminal state (S4) is written: it dispatches
// job.finished if the current meta.json — checked now, so notify set during
// the run counts — configures a completion sink, then gives pending
// output-match deliveries until 30 s after S4. An unchanged meta.json (same
// stamp) is not parsed again: the supervisor's exit stays prompt.
func (n *notifier) finish(s *supervisor) {
	deadline := time.Now().Add(notify.ExitGrace)
	if s.state != nil && (s.state.Job.Status == "exited" || s.state.Job.Status == "killed") {
		n.refresh()
		if meta := n.meta; meta != nil && meta.Notification != nil {
			sinks := notify.Sinks{Command: meta.Notification.NotifyCommand, File: meta.Notification.NotifyFile}
			if !sinks.Empty() {
				ev := notify.NewFinished(n.dir, s.state, meta)
				n.deliverer().DispatchFinished(n.dir, ev, sinks)
			}
		}
	}
	n.timer.Stop()
	if n.q != nil {
		n.q.Close(deadline)
	}
}
