package supervisor

import (
	"os"
	"os/signal"
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

// treeScanEvery is how often the tree is re-read while nothing signals a
// change: re-parenting sends no signal, so new orphans are found by polling.
const treeScanEvery = time.Second

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
	ticker   *time.Ticker
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
	t.ticker = time.NewTicker(treeScanEvery)
}

// wake fires when the tree may have changed (a child exited) or the scan
// interval passed; nil (never) when trees are not supported.
func (t *treeKeeper) wake() (<-chan os.Signal, <-chan time.Time) {
	if !t.enabled {
		return nil, nil
	}
	return t.sigchld, t.ticker.C
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
		SkipEnv: notify.EnvEventType + "=", SkipPIDs: notify.ActiveSinkPIDs(),
	})
	t.record(m)
	return m
}

// reap waits for every exited child that is neither the direct child
// (os/exec waits for it) nor a running notification sink (its own Wait
// does), adding its rusage to the job's.
func (t *treeKeeper) reap() {
	for _, c := range proc.Children(t.self.PID) {
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
		if t.written != nil && store.RemoveTree(t.dir) == nil {
			t.written = nil
		}
		return
	}
	if slices.Equal(ps, t.written) {
		return
	}
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
	poll := time.NewTicker(100 * time.Millisecond)
	defer poll.Stop()
	for {
		if !t.alive() {
			return true
		}
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			return false
		}
		select {
		case <-t.sigchld:
		case <-poll.C:
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

// finish removes tree.json once the tree is empty and stops watching.
func (t *treeKeeper) finish() {
	if !t.enabled {
		return
	}
	t.ticker.Stop()
	signal.Stop(t.sigchld)
	if !t.alive() {
		store.RemoveTree(t.dir)
	}
}
