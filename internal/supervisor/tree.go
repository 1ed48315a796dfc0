package supervisor

import (
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"syscall"
	"time"

	"github.com/agentexec/agentexec/internal/notify"
	"github.com/agentexec/agentexec/internal/proc"
	"github.com/agentexec/agentexec/internal/store"
)

// The job's process tree (SPEC §11.4). The supervisor is a child subreaper:
// what the job leaves behind is re-parented to it. treeKeeper finds the
// tree's members, reaps the adopted ones (collecting their rusage), writes
// them to tree.json so readers in other processes — and readers after a
// crash of the supervisor — can find them, and stops them when asked.

// The tree is re-read every treeScanEvery after a change, backing off to
// treeScanMax while it stays the same: re-parenting sends no signal, so
// new orphans are found by polling (readers walk the supervisor's children
// themselves; the scan keeps tree.json, the record for after a crash,
// current). Every exit of a child (SIGCHLD) rescans at once.
const (
	treeScanEvery = time.Second
	treeScanMax   = 8 * time.Second
)

// descendantsKillAfter is the default delay between TERM and KILL for
// --descendants kill when the job has no --kill-after.
const descendantsKillAfter = 2000 * time.Millisecond

// treeStopBound bounds waiting for a KILLed tree to be reaped.
const treeStopBound = 5 * time.Second

// usage is one process's (or a sum of processes') rusage.
type usage struct {
	maxRSSKB, userMS, sysMS int64
}

func (u *usage) add(o usage) {
	u.maxRSSKB = max(u.maxRSSKB, o.maxRSSKB)
	u.userMS += o.userMS
	u.sysMS += o.sysMS
}

type treeKeeper struct {
	dir      string
	bootID   string
	self     proc.Identity
	child    proc.Identity // the direct child
	enabled  bool          // the platform has a subreaper and /proc
	sigchld  chan os.Signal
	timer    *time.Timer
	interval time.Duration
	changed  bool            // the last scan changed tree.json
	written  []store.Process // what tree.json holds; nil when absent
	reaped   usage           // of every adopted process reaped so far
	adoption bool            // whether becomeSubreaper succeeded
}

// newTreeKeeper is called before the child is spawned: the subreaper flag
// must be set before anything can be orphaned.
func newTreeKeeper(dir string) *treeKeeper {
	t := &treeKeeper{dir: dir, bootID: proc.BootID()}
	t.adoption = becomeSubreaper()
	t.enabled = t.adoption && proc.TreeSupported
	me := os.Getpid()
	st, _ := proc.StartTime(me)
	t.self = proc.Identity{PID: me, PGID: me, StartTime: st}
	return t
}

// start begins watching once the child runs.
func (t *treeKeeper) start(child proc.Identity) {
	t.child = child
	if !t.enabled {
		return
	}
	t.sigchld = make(chan os.Signal, 1)
	signal.Notify(t.sigchld, sigChild)
	t.interval = treeScanEvery
	t.timer = time.NewTimer(t.interval)
}

// rearm schedules the next scan: soon after a change, later and later
// while nothing changes.
func (t *treeKeeper) rearm() {
	if !t.enabled {
		return
	}
	if t.changed {
		t.interval = treeScanEvery
	} else {
		t.interval = min(2*t.interval, treeScanMax)
	}
	t.timer.Reset(t.interval)
}

// wake fires when the tree may have changed (a child exited) or the scan
// interval passed; nil (never) when trees are not supported.
func (t *treeKeeper) wake() (<-chan os.Signal, <-chan time.Time) {
	if !t.enabled {
		return nil, nil
	}
	return t.sigchld, t.timer.C
}

// members reaps what exited and returns the live members other than the
// supervisor and its notification sinks, recording them in tree.json.
func (t *treeKeeper) members() []proc.Member {
	if !t.enabled {
		return nil
	}
	t.reap()
	m := proc.JobTree(proc.TreeSpec{
		BootID: t.bootID, Supervisor: t.self, Child: t.child, NotBefore: t.child.StartTime,
		SkipPIDs: notify.ActiveSinkPIDs(), // in-process: exact, no environment reads
	})
	t.record(m)
	return m
}

// reap waits for every exited child that is neither the direct child
// (os/exec waits for it) nor a running notification sink (its own Wait
// does), adding its rusage to the job's.
func (t *treeKeeper) reap() {
	// Adopted orphans hang off the main thread (proc.LeaderChildren); the
	// direct child and sinks, forked by other threads, are waited for by
	// their own os/exec Wait anyway.
	for _, c := range proc.LeaderChildren(t.self.PID) {
		if c == t.child.PID {
			continue
		}
		if state, _, ok := proc.ProcState(c); !ok || state != 'Z' {
			continue
		}
		if notify.IsActiveSink(c) {
			continue
		}
		if u, ok := reapPID(c); ok {
			t.reaped.add(u)
		}
	}
}

// record writes tree.json when the set of members other than the direct
// child changed; it removes the file when none is left.
func (t *treeKeeper) record(m []proc.Member) {
	var ps []store.Process
	for _, x := range m {
		if x.PID != t.child.PID {
			ps = append(ps, store.Process{PID: x.PID, PGID: x.PGID, StartTime: x.StartTime})
		}
	}
	if len(ps) == 0 {
		t.changed = t.written != nil
		if t.written != nil && store.RemoveTree(t.dir) == nil {
			t.written = nil
		}
		return
	}
	t.changed = false
	if slices.Equal(ps, t.written) {
		return
	}
	t.changed = true
	tr := &store.Tree{BootID: t.bootID, UpdatedAt: store.Timestamp(time.Now()), Processes: ps}
	if store.WriteTree(t.dir, tr) == nil {
		t.written = ps
	}
}

// signal sends sig to every member; with groupAlive the direct child's
// group is signalled first (its leader is not yet reaped, so the group id
// is still the job's).
func (t *treeKeeper) signal(sig syscall.Signal, pgid int, childWaited bool) {
	if !childWaited {
		proc.SignalGroup(pgid, sig)
	}
	for _, m := range t.members() {
		proc.SignalVerified(m.Identity(), sig)
	}
}

// alive reports whether any member lives.
func (t *treeKeeper) alive() bool { return len(t.members()) > 0 }

// waitEmpty blocks until no member lives or deadline passes (zero: no
// deadline), reaping as processes exit. It reports whether the tree is empty.
func (t *treeKeeper) waitEmpty(deadline time.Time) bool {
	if !t.enabled {
		return true
	}
	// The last member to exit is always the supervisor's own child (an
	// orphan is re-parented to it), so SIGCHLD says when; the scan timer
	// is a fallback, and a stop that waits polls every 100 ms.
	var poll <-chan time.Time
	if !deadline.IsZero() {
		tk := time.NewTicker(100 * time.Millisecond)
		defer tk.Stop()
		poll = tk.C
	}
	for {
		if !t.alive() {
			return true
		}
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			return false
		}
		select {
		case <-t.sigchld:
			t.changed = true // an exit: look again soon
			t.rearm()
		case <-t.timer.C:
			t.rearm()
		case <-poll:
		}
	}
}

// stopRest is --descendants kill: TERM what is left of the tree, KILL after
// killAfter, and wait (bounded) until it is gone.
func (t *treeKeeper) stopRest(killAfter time.Duration) {
	if !t.enabled || !t.alive() {
		return
	}
	t.signal(syscall.SIGTERM, 0, true)
	if t.waitEmpty(time.Now().Add(killAfter)) {
		return
	}
	t.signal(syscall.SIGKILL, 0, true)
	t.waitEmpty(time.Now().Add(treeStopBound))
}

// holdTree keeps the supervisor while any process of the job's tree lives
// (--descendants leave), reaping it and keeping tree.json current; it runs
// after supervise returned, so the log buffers are garbage, and hands their
// memory back first: a supervisor holding a server for hours stays small.
func (s *supervisor) holdTree() {
	if s.tree == nil {
		return
	}
	if !s.tree.alive() {
		s.tree.finish()
		return
	}
	// What is left to do allocates a little per scan: collect at a 1 MiB
	// heap instead of Go's 4 MiB minimum, and start from a clean slate.
	debug.SetGCPercent(25)
	debug.FreeOSMemory()
	s.tree.waitEmpty(time.Time{})
	s.tree.finish()
}

// finish removes tree.json once the tree is empty and stops watching.
func (t *treeKeeper) finish() {
	if !t.enabled {
		return
	}
	t.timer.Stop()
	signal.Stop(t.sigchld)
	if !t.alive() {
		store.RemoveTree(t.dir)
	}
}
