package agentexec

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/agentexec/agentexec/internal/notify"
	"github.com/agentexec/agentexec/internal/proc"
	"github.com/agentexec/agentexec/internal/store"
)

// A job owns its process tree (SPEC §11.4): the direct child, its group and
// every process its supervisor adopted. Readers find the tree from what the
// supervisor recorded (state.json's child and supervisor, tree.json) and
// what /proc says now; every recorded process is verified by pid and start
// time before it counts or is signalled. Linux only: elsewhere the tree is
// empty and every operation behaves as in v1.

// LiveInfo is status.live: facts about a job's live tree read at request
// time (SPEC §11.4).
type LiveInfo struct {
	PIDs      int        `json:"pids"`
	RSSKB     int64      `json:"rss_kb"`
	CPUMS     int64      `json:"cpu_ms"`
	Listening []Listener `json:"listening"`
	IdleMS    int64      `json:"idle_ms"`
}

// Listener is a TCP port a process of a job's tree listens on.
type Listener struct {
	Port    int    `json:"port"`
	Address string `json:"address"`
	PID     int    `json:"pid"`
}

// Resources is the rusage of a finished job: its direct child and every
// process its supervisor reaped before the terminal state.
type Resources struct {
	MaxRSSKB  int64 `json:"max_rss_kb"`
	UserCPUMS int64 `json:"user_cpu_ms"`
	SysCPUMS  int64 `json:"sys_cpu_ms"`
}

// Values of --descendants (SPEC §11.4).
const (
	DescendantsLeave = "leave"
	DescendantsKill  = "kill"
	DescendantsWait  = "wait"
)

// ValidateDescendants checks a --descendants value.
func ValidateDescendants(v string) error {
	switch v {
	case "", DescendantsLeave, DescendantsKill, DescendantsWait:
		return nil
	}
	return newError(CodeInvalidArgument, "invalid descendants mode %q: use leave, kill or wait", v)
}

// Bounds of stopping a tree (kill of a terminal job, restart).
const (
	treeGrace     = 3000 * time.Millisecond // after TERM
	treeKillGrace = 2000 * time.Millisecond // after KILL
)

// treeSpec describes what is recorded about the job's tree.
func treeSpec(j jobRef, st *store.State) proc.TreeSpec {
	spec := proc.TreeSpec{BootID: st.BootID, SkipEnv: notify.EnvEventType + "="}
	if st.Supervisor != nil {
		spec.Supervisor = proc.Identity{PID: st.Supervisor.PID, PGID: st.Supervisor.PGID, StartTime: st.Supervisor.StartTime}
	}
	if st.Child != nil {
		spec.Child = proc.Identity{PID: st.Child.PID, PGID: st.Child.PGID, StartTime: st.Child.StartTime}
		spec.NotBefore = st.Child.StartTime
	}
	spec.SupervisorArgs = []string{SuperviseArg, j.id}
	if tr, err := store.ReadTree(j.dir); err == nil {
		if tr.BootID != "" && st.BootID != "" && tr.BootID != st.BootID {
			return spec // written in another boot: nothing in it is alive
		}
		for _, p := range tr.Processes {
			spec.Recorded = append(spec.Recorded, proc.Identity{PID: p.PID, PGID: p.PGID, StartTime: p.StartTime})
		}
	}
	return spec
}

// jobTree returns the live members of the job's tree.
func jobTree(j jobRef, st *store.State) []proc.Member {
	if !proc.TreeSupported || st.Job.Status == "created" {
		return nil
	}
	return proc.JobTree(treeSpec(j, st))
}

// leftoverTree returns the live members of a terminal job's tree. A job
// that exited or was killed says in its terminal state how many processes
// it left (descendants_left, absent when none), and tree.json exists only
// while some may live, so most jobs of a large list cost nothing more; a
// failed job (its supervisor lost) is always looked at.
func leftoverTree(j jobRef, st *store.State) []proc.Member {
	if !store.Terminal(st.Job.Status) || !proc.TreeSupported {
		return nil
	}
	if st.Job.Status != "failed" && (st.DescendantsLeft == 0 || !store.HasTree(j.dir)) {
		return nil
	}
	return jobTree(j, st)
}

// treeOutlivesChild reports whether a terminal job's tree lives on beyond
// its recorded child group: gc and delete --all then skip it as tree_alive
// (a live child group of a lost supervisor keeps its v1 reason, running).
func treeOutlivesChild(j jobRef, st *store.State) bool {
	if st.Child != nil && proc.VerifyGroup(proc.Identity{PID: st.Child.PID, PGID: st.Child.PGID, StartTime: st.Child.StartTime}, st.BootID) {
		return false
	}
	return len(leftoverTree(j, st)) > 0
}

// liveInfo reads status.live for a job whose tree lives; nil otherwise.
func liveInfo(j jobRef, st *store.State, now time.Time) *LiveInfo {
	members := jobTree(j, st)
	if store.Terminal(st.Job.Status) {
		members = leftoverTree(j, st)
	}
	if len(members) == 0 {
		return nil
	}
	u := proc.Usage(members)
	li := &LiveInfo{PIDs: len(members), RSSKB: u.RSSKB, CPUMS: u.CPUMS, Listening: listeners(members)}
	li.IdleMS = max(now.Sub(lastOutput(j, st)).Milliseconds(), 0)
	return li
}

func listeners(members []proc.Member) []Listener {
	out := []Listener{}
	for _, l := range proc.Listening(members) {
		out = append(out, Listener(l))
	}
	return out
}

// lastOutput is when the job last wrote an output byte: the newer
// modification time of its non-empty logs, else its start.
func lastOutput(j jobRef, st *store.State) time.Time {
	var last time.Time
	for _, name := range []string{store.StdoutLog, store.StderrLog} {
		if fi, err := os.Stat(filepath.Join(j.dir, name)); err == nil && fi.Size() > 0 && fi.ModTime().After(last) {
			last = fi.ModTime()
		}
	}
	if last.IsZero() {
		if t, err := time.Parse(time.RFC3339, st.Job.StartedAt); err == nil {
			last = t
		}
	}
	return last
}

// signalTree sends sig to every verified member of the tree; it returns
// how many were signalled.
func signalTree(members []proc.Member, sig syscall.Signal) (int, error) {
	n := 0
	for _, m := range members {
		ok, err := proc.SignalVerified(m.Identity(), sig)
		if err != nil {
			return n, newError(CodeInternal, "signal process %d: %v", m.PID, err)
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// signalWithTree sends sig to a job: with group, through its backend (the
// verified process group, SPEC §4.8), then to every other member of its
// tree (each process gets the signal once). It returns how many tree
// members outside the group were signalled. A cluster job's tree is on
// its compute node: only its backend can reach it.
func (m *Manager) signalWithTree(ctx context.Context, j jobRef, st *store.State, sig syscall.Signal, group bool) (int, error) {
	groupSignalled := false
	if group {
		var err error
		if groupSignalled, err = m.signalJob(ctx, j, st, sig); err != nil {
			return 0, err
		}
	}
	if st.Backend.IsSlurm() {
		return 0, nil
	}
	members := jobTree(j, st)
	if store.Terminal(st.Job.Status) {
		members = leftoverTree(j, st)
	}
	if groupSignalled {
		pgid := st.PID
		if st.Child != nil {
			pgid = st.Child.PGID
		}
		members = slices.DeleteFunc(members, func(m proc.Member) bool { return m.PGID == pgid })
	}
	return signalTree(members, sig)
}

// stopTree stops what is left of a job's tree: TERM (or sig), then KILL
// after the grace, waiting for each to take effect. It reports whether the
// tree is gone.
func stopTree(ctx context.Context, j jobRef, st *store.State, sig syscall.Signal) bool {
	members := jobTree(j, st)
	if len(members) == 0 {
		return true
	}
	signalTree(members, sig)
	if waitUntil(ctx, time.Now().Add(treeGrace), func() bool { return len(jobTree(j, st)) == 0 }) {
		return true
	}
	signalTree(jobTree(j, st), syscall.SIGKILL)
	return waitUntil(ctx, time.Now().Add(treeKillGrace), func() bool { return len(jobTree(j, st)) == 0 })
}

// resourcesOf converts the recorded resources.
func resourcesOf(st *store.State) *Resources {
	if st.Resources == nil {
		return nil
	}
	r := Resources(*st.Resources)
	return &r
}
