//go:build linux

package agentexec_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agentexec/agentexec"
	"github.com/agentexec/agentexec/internal/proc"
	"github.com/agentexec/agentexec/internal/store"
)

// Tests of the job's process tree (SPEC §11.4), with real processes.

func needPython(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not installed")
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// readPID waits for a file holding a pid written by a job.
func readPID(t *testing.T, path string) int {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if data, err := os.ReadFile(path); err == nil && strings.HasSuffix(string(data), "\n") {
			pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
			if err != nil {
				t.Fatalf("pid file %s: %q", path, data)
			}
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("no pid in %s", path)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil && !zombie(pid) }

// pollStatus polls status until cond holds (deadline 15 s).
func pollStatus(t *testing.T, m *agentexec.Manager, id string, what string, cond func(*agentexec.StatusResult) bool) *agentexec.StatusResult {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, err := m.Status(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			b, _ := json.Marshal(st)
			t.Fatalf("%s: status %s", what, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func runWait(t *testing.T, m *agentexec.Manager, spec agentexec.JobSpec) *agentexec.LaunchResult {
	t.Helper()
	res, err := m.Run(context.Background(), agentexec.RunRequest{Spec: spec, Observe: waitOpts()})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func listJob(t *testing.T, m *agentexec.Manager, o agentexec.ListOptions, id string) *agentexec.JobSummary {
	t.Helper()
	o.All = true
	res, err := m.List(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range res.Jobs {
		if j.JobID == id {
			return &j
		}
	}
	return nil
}

// TestBackgroundServerOutlivesShell is the first scenario: a
// server backgrounded by a shell that exits at once stays the job's: it is
// reported (live, listening port, descendants_alive, ps), protects the job
// from delete and gc, and dies with kill.
func TestBackgroundServerOutlivesShell(t *testing.T) {
	needPython(t)
	m := newManager(t)
	ctx := context.Background()
	port := freePort(t)
	res := runWait(t, m, agentexec.JobSpec{Command: []string{"python3 -m http.server " + strconv.Itoa(port) + " --bind 127.0.0.1 >/dev/null 2>&1 &"}})
	if res.State != agentexec.StateExited || *res.ExitCode != 0 {
		t.Fatalf("run: %+v", res)
	}
	if res.Resources == nil {
		t.Fatal("terminal launch response without resources")
	}
	st := pollStatus(t, m, res.JobID, "server listening", func(s *agentexec.StatusResult) bool {
		return s.Live != nil && len(s.Live.Listening) > 0
	})
	l := st.Live.Listening[0]
	if st.State != agentexec.StateExited || st.Live.PIDs != 1 || l.Port != port || l.Address != "127.0.0.1" || !alive(l.PID) {
		t.Fatalf("status: %+v live %+v", st, st.Live)
	}
	if st.Live.RSSKB <= 0 || st.Live.IdleMS < 0 {
		t.Fatalf("live facts: %+v", st.Live)
	}
	if j := listJob(t, m, agentexec.ListOptions{}, res.JobID); j == nil || j.DescendantsAlive != 1 {
		t.Fatalf("list entry %+v", j)
	}
	if j := listJob(t, m, agentexec.ListOptions{State: agentexec.StateRunning, WithLiveTrees: true}, res.JobID); j == nil || j.State != agentexec.StateExited {
		t.Fatalf("ps entry %+v", j)
	}
	if j := listJob(t, m, agentexec.ListOptions{State: agentexec.StateRunning}, res.JobID); j != nil {
		t.Fatalf("list --state running lists a finished job: %+v", j)
	}
	if _, err := m.Delete(ctx, agentexec.DeleteOptions{ID: res.JobID}); !errors.Is(err, agentexec.ErrInvalidState) {
		t.Fatalf("delete while the tree lives: %v", err)
	}
	gc, err := m.GC(ctx, agentexec.GCOptions{OlderThanRaw: "0s", DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(gc.Jobs) != 1 || gc.Jobs[0].Reason != "tree_alive" || gc.Jobs[0].Action != agentexec.ActionSkipped {
		t.Fatalf("gc: %+v", gc.Jobs)
	}
	k, err := m.Kill(ctx, res.JobID, agentexec.KillOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if k.State != agentexec.StateExited || k.DescendantsSignalled == nil || *k.DescendantsSignalled != 1 {
		t.Fatalf("kill: %+v", k)
	}
	pidGone(t, l.PID)
	if st, _ := m.Status(ctx, res.JobID); st.Live != nil {
		t.Fatalf("live after kill: %+v", st.Live)
	}
	waitSupervisorExit(t, m, res.JobID)
	if _, err := os.Stat(filepath.Join(m.Root(), res.JobID, store.TreeFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("tree.json left behind: %v", err)
	}
	if _, err := m.Delete(ctx, agentexec.DeleteOptions{ID: res.JobID}); err != nil {
		t.Fatalf("delete after kill: %v", err)
	}
}

// TestSetsidEscapeeDiesWithJob: a grandchild in its own session is not in
// the job's process group, yet kill of the running job reaches it.
func TestSetsidEscapeeDiesWithJob(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	pidFile := filepath.Join(t.TempDir(), "pid")
	res, err := m.Run(ctx, agentexec.RunRequest{Spec: agentexec.JobSpec{Command: []string{
		"setsid sh -c 'echo $$ > " + pidFile + "; exec sleep 300' & sleep 300"}}, Observe: noWait()})
	if err != nil {
		t.Fatal(err)
	}
	esc := readPID(t, pidFile)
	if pgid, _ := syscall.Getpgid(esc); pgid != esc {
		t.Fatalf("escapee %d is in group %d, not its own", esc, pgid)
	}
	pollStatus(t, m, res.JobID, "escapee in the tree", func(s *agentexec.StatusResult) bool { return s.Live != nil && s.Live.PIDs == 3 })
	k, err := m.Kill(ctx, res.JobID, agentexec.KillOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if k.State != agentexec.StateKilled || k.DescendantsSignalled != nil {
		t.Fatalf("kill: %+v", k)
	}
	pidGone(t, esc)
}

// TestDescendantsKill: --descendants kill stops what the command left
// behind before the job turns terminal.
func TestDescendantsKill(t *testing.T) {
	m := newManager(t)
	pidFile := filepath.Join(t.TempDir(), "pid")
	res := runWait(t, m, agentexec.JobSpec{Descendants: agentexec.DescendantsKill,
		Command: []string{"sh -c 'echo $$ > " + pidFile + "; exec sleep 300' & while [ ! -s " + pidFile + " ]; do sleep 0.01; done; echo started"}})
	if res.State != agentexec.StateExited || *res.ExitCode != 0 || res.FinalSnapshot.StdoutTail != "started" {
		t.Fatalf("run: %+v", res)
	}
	if bg := readPID(t, pidFile); alive(bg) {
		t.Fatalf("background process %d alive after the terminal state", bg)
	}
	if j := listJob(t, m, agentexec.ListOptions{}, res.JobID); j == nil || j.DescendantsAlive != 0 {
		t.Fatalf("list entry %+v", j)
	}
	meta, err := os.ReadFile(filepath.Join(m.Root(), res.JobID, "meta.json"))
	if err != nil || !strings.Contains(string(meta), `"descendants": "kill"`) {
		t.Fatalf("meta.json: %s %v", meta, err)
	}
}

// TestDescendantsKillEscalates: a descendant that ignores TERM is KILLed
// after --kill-after.
func TestDescendantsKillEscalates(t *testing.T) {
	m := newManager(t)
	pidFile := filepath.Join(t.TempDir(), "pid")
	res := runWait(t, m, agentexec.JobSpec{Descendants: agentexec.DescendantsKill, KillAfter: 200 * time.Millisecond,
		Command: []string{"sh -c 'trap \"\" TERM; echo $$ > " + pidFile + "; while :; do sleep 1; done' & sleep 0.5"}})
	if res.State != agentexec.StateExited || *res.ExitCode != 0 {
		t.Fatalf("run: %+v", res)
	}
	if bg := readPID(t, pidFile); alive(bg) {
		t.Fatalf("TERM-ignoring descendant %d alive after the terminal state", bg)
	}
}

// TestDescendantsWait: the job stays running until its whole tree exited;
// the exit code is the direct child's; what descendants write is in the
// final logs; their rusage counts.
func TestDescendantsWait(t *testing.T) {
	needPython(t)
	m := newManager(t)
	ctx := context.Background()
	gate := filepath.Join(t.TempDir(), "gate")
	res, err := m.Run(ctx, agentexec.RunRequest{Spec: agentexec.JobSpec{Descendants: agentexec.DescendantsWait,
		Command: []string{"(while [ ! -e " + gate + " ]; do sleep 0.05; done; " + alloc64 + "; echo late) & exit 3"}}, Observe: noWait()})
	if err != nil {
		t.Fatal(err)
	}
	// The direct child exits at once; the job must still be running.
	st := pollStatus(t, m, res.JobID, "shell gone", func(s *agentexec.StatusResult) bool { return s.Live != nil && s.Live.PIDs >= 1 })
	if st.State != agentexec.StateRunning {
		t.Fatalf("state %s while a descendant lives", st.State)
	}
	os.WriteFile(gate, nil, 0o600)
	w, err := m.Wait(ctx, res.JobID, agentexec.WaitOptions{Forever: true, TailLines: 5, MaxBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	if w.State != agentexec.StateExited || *w.ExitCode != 3 || w.StdoutTail != "late" {
		t.Fatalf("wait: %+v", w)
	}
	if w.Resources == nil || w.Resources.MaxRSSKB < 64*1024 {
		t.Fatalf("resources of a reaped descendant missing: %+v", w.Resources)
	}
}

// alloc64 allocates and touches 64 MiB.
const alloc64 = `python3 -c 'b = b"\x01" * (64 << 20); print(len(b))' >/dev/null`

// TestResourcesReflectAllocation: max_rss_kb of a job that touched 64 MiB.
func TestResourcesReflectAllocation(t *testing.T) {
	needPython(t)
	m := newManager(t)
	res := runWait(t, m, agentexec.JobSpec{Command: []string{alloc64}})
	if res.State != agentexec.StateExited || *res.ExitCode != 0 {
		t.Fatalf("run: %+v", res)
	}
	r := res.Resources
	if r == nil || r.MaxRSSKB < 64*1024 || r.UserCPUMS+r.SysCPUMS <= 0 {
		t.Fatalf("resources %+v", r)
	}
	st, err := m.Status(context.Background(), res.JobID)
	if err != nil || st.Resources == nil || *st.Resources != *r || st.OOMKilled {
		t.Fatalf("status resources %+v (%v)", st, err)
	}
}

// TestIdleTimeout: a job silent for the idle limit is stopped like a
// timeout, with timeout_kind idle; --timeout reports total; output that
// keeps flowing never trips the idle limit.
func TestIdleTimeout(t *testing.T) {
	m := newManager(t)
	res := runWait(t, m, agentexec.JobSpec{IdleTimeout: 300 * time.Millisecond, Command: []string{"echo first; exec sleep 60"}})
	if res.State != agentexec.StateKilled || res.Signal != "TERM" || !res.TimedOut || res.TimeoutKind != "idle" {
		t.Fatalf("idle: %+v", res)
	}
	res = runWait(t, m, agentexec.JobSpec{Timeout: 300 * time.Millisecond, Command: []string{"exec sleep 60"}})
	if res.State != agentexec.StateKilled || !res.TimedOut || res.TimeoutKind != "total" {
		t.Fatalf("total: %+v", res)
	}
	res = runWait(t, m, agentexec.JobSpec{IdleTimeout: 3 * time.Second, Command: []string{"for i in 1 2 3 4 5 6 7 8; do echo $i; sleep 0.5; done"}})
	if res.State != agentexec.StateExited || res.TimedOut || res.TimeoutKind != "" {
		t.Fatalf("chatty job: %+v", res)
	}
}

// TestRestartStopsPreviousTree: a finished run's background writer is
// stopped before the relaunch, so it cannot write into the new logs.
func TestRestartStopsPreviousTree(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	dir := t.TempDir()
	res := runWait(t, m, agentexec.JobSpec{Command: []string{
		"n=$(ls " + dir + " | wc -l); sh -c 'echo $$ > " + dir + "/pid'$n'; while :; do echo old; sleep 0.05; done' & echo run$n"}})
	if res.State != agentexec.StateExited {
		t.Fatalf("run: %+v", res)
	}
	old := readPID(t, filepath.Join(dir, "pid0"))
	rr, err := m.Restart(ctx, res.JobID, agentexec.RestartOptions{Observe: noWait()})
	if err != nil {
		t.Fatal(err)
	}
	if alive(old) {
		t.Fatalf("previous run's writer %d alive after restart (%+v)", old, rr)
	}
	// The new run's own writer is the only one left: stop it too.
	newer := readPID(t, filepath.Join(dir, "pid1"))
	if _, err := m.Kill(ctx, res.JobID, agentexec.KillOptions{}); err != nil {
		t.Fatal(err)
	}
	pidGone(t, newer)
}

// TestSupervisorKilledWithAdoptedDescendants: a supervisor SIGKILLed while
// it holds adopted descendants leaves them owned and reported: they are
// re-parented to init, but tree.json names them (verified by start time),
// so list, status and kill still find them.
func TestSupervisorKilledWithAdoptedDescendants(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	pidFile := filepath.Join(t.TempDir(), "pid")
	res := runWait(t, m, agentexec.JobSpec{Command: []string{"sh -c 'echo $$ > " + pidFile + "; exec sleep 300' &"}})
	if res.State != agentexec.StateExited {
		t.Fatalf("run: %+v", res)
	}
	bg := readPID(t, pidFile)
	st := readJobState(t, m, res.JobID)
	if err := syscall.Kill(st.Supervisor.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	pidGone(t, st.Supervisor.PID)
	if !alive(bg) {
		t.Fatalf("descendant %d died with its supervisor", bg)
	}
	s, err := m.Status(ctx, res.JobID)
	if err != nil {
		t.Fatal(err)
	}
	if s.State != agentexec.StateExited || s.Live == nil || s.Live.PIDs != 1 {
		t.Fatalf("status after the supervisor died: %+v", s)
	}
	if j := listJob(t, m, agentexec.ListOptions{}, res.JobID); j == nil || j.DescendantsAlive != 1 {
		t.Fatalf("list entry %+v", j)
	}
	if _, err := m.Delete(ctx, agentexec.DeleteOptions{ID: res.JobID}); !errors.Is(err, agentexec.ErrInvalidState) {
		t.Fatalf("delete: %v", err)
	}
	k, err := m.Kill(ctx, res.JobID, agentexec.KillOptions{Signal: "KILL"})
	if err != nil {
		t.Fatal(err)
	}
	if k.DescendantsSignalled == nil || *k.DescendantsSignalled != 1 {
		t.Fatalf("kill: %+v", k)
	}
	pidGone(t, bg)
}

// TestSupervisorKilledWhileRunning: the running variant: the job becomes
// failed/supervisor_lost and kill reaches the child's group and the
// recorded escapee outside it.
func TestSupervisorKilledWhileRunning(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	pidFile := filepath.Join(t.TempDir(), "pid")
	res, err := m.Run(ctx, agentexec.RunRequest{Spec: agentexec.JobSpec{Command: []string{
		"setsid sh -c 'echo $$ > " + pidFile + "; exec sleep 300' & exec sleep 300"}}, Observe: noWait()})
	if err != nil {
		t.Fatal(err)
	}
	esc := readPID(t, pidFile)
	// Wait until the supervisor recorded the escapee in tree.json.
	treePath := filepath.Join(m.Root(), res.JobID, store.TreeFile)
	deadline := time.Now().Add(15 * time.Second)
	for {
		if tr, err := store.ReadTree(filepath.Dir(treePath)); err == nil && len(tr.Processes) > 0 && tr.Processes[0].PID == esc {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("escapee never recorded in tree.json")
		}
		time.Sleep(20 * time.Millisecond)
	}
	st := readJobState(t, m, res.JobID)
	syscall.Kill(st.Supervisor.PID, syscall.SIGKILL)
	pidGone(t, st.Supervisor.PID)
	s, err := m.Status(ctx, res.JobID)
	if err != nil {
		t.Fatal(err)
	}
	if s.State != agentexec.StateFailed || s.Error != "supervisor_lost" || s.Live == nil || s.Live.PIDs != 2 {
		t.Fatalf("status: %+v live %+v", s, s.Live)
	}
	if _, err := m.Kill(ctx, res.JobID, agentexec.KillOptions{}); err != nil {
		t.Fatal(err)
	}
	pidGone(t, st.Child.PID)
	pidGone(t, esc)
}

// TestTreeNeverSignalsStrangers: records that do not verify — a live pid
// with a wrong start time, a process older than the job (pid 1, the test
// itself), a supervisor record pointing at a process that is not the
// job's supervisor — are neither reported nor signalled.
func TestTreeNeverSignalsStrangers(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	res := runWait(t, m, agentexec.JobSpec{Command: []string{"true"}})
	waitSupervisorExit(t, m, res.JobID)
	dir := filepath.Join(m.Root(), res.JobID)

	// A stranger with a child of its own, as a supervisor would have.
	stranger := exec.Command("sh", "-c", "sleep 60 & wait")
	stranger.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := stranger.Start(); err != nil {
		t.Fatal(err)
	}
	sp := stranger.Process.Pid
	t.Cleanup(func() { syscall.Kill(-sp, syscall.SIGKILL); stranger.Wait() })
	for len(proc.Children(sp)) == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	grandchild := proc.Children(sp)[0]
	sStart, _ := proc.StartTime(sp)
	initStart, _ := proc.StartTime(1)
	selfStart, _ := proc.StartTime(os.Getpid())
	tr := &store.Tree{BootID: proc.BootID(), UpdatedAt: "2026-01-01T00:00:00Z", Processes: []store.Process{
		{PID: sp, PGID: sp, StartTime: sStart + "1"}, // pid reused: another start time
		{PID: 1, PGID: 1, StartTime: initStart},      // older than the job
		{PID: os.Getpid(), PGID: syscall.Getpgrp(), StartTime: selfStart},
	}}
	if err := store.WriteTree(dir, tr); err != nil {
		t.Fatal(err)
	}
	// The state claims the stranger is the supervisor: its argv is not.
	data, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	json.Unmarshal(data, &raw)
	raw["supervisor"] = map[string]any{"pid": sp, "pgid": sp, "start_time": sStart}
	raw["descendants_left"] = 3 // as if the job had left these behind: they are looked at
	data, _ = json.Marshal(raw)
	if err := os.WriteFile(filepath.Join(dir, "state.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}

	for _, sig := range []string{"TERM", "KILL"} {
		k, err := m.Kill(ctx, res.JobID, agentexec.KillOptions{Signal: sig, NoWait: true})
		if err != nil {
			t.Fatal(err)
		}
		if k.DescendantsSignalled != nil {
			t.Fatalf("kill signalled %d processes", *k.DescendantsSignalled)
		}
	}
	if st, _ := m.Status(ctx, res.JobID); st.Live != nil {
		t.Fatalf("strangers reported live: %+v", st.Live)
	}
	if j := listJob(t, m, agentexec.ListOptions{}, res.JobID); j == nil || j.DescendantsAlive != 0 {
		t.Fatalf("list entry %+v", j)
	}
	if !alive(sp) || !alive(grandchild) {
		t.Fatal("the stranger was signalled")
	}
}

// TestWaitForPort: run --wait-for-port returns once the backgrounded server
// listens, although the shell that started it has exited; wait --for-port
// on the same job matches at once; a job that never listens returns
// matched false once it (and its tree) ended.
func TestWaitForPort(t *testing.T) {
	needPython(t)
	m := newManager(t)
	ctx := context.Background()
	port := freePort(t)
	o := agentexec.DefaultObserve()
	o.ForPort, o.Until = port, 30*time.Second
	res, err := m.Run(ctx, agentexec.RunRequest{Observe: o, Spec: agentexec.JobSpec{Command: []string{
		"sleep 0.3; python3 -m http.server " + strconv.Itoa(port) + " --bind 127.0.0.1 >/dev/null 2>&1 &"}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Matched == nil || !*res.Matched || res.Match == nil || res.Match.PortMatch == nil {
		t.Fatalf("run: %+v", res)
	}
	pm := res.Match.PortMatch
	if pm.Port != port || pm.Address != "127.0.0.1" || !alive(pm.PID) || res.Snapshot == nil {
		t.Fatalf("match %+v snapshot %v", pm, res.Snapshot)
	}
	if b, _ := json.Marshal(res.Match); string(b) != `{"port":`+strconv.Itoa(port)+`,"address":"127.0.0.1","pid":`+strconv.Itoa(pm.PID)+`}` {
		t.Fatalf("match JSON %s", b)
	}
	w, err := m.Wait(ctx, res.JobID, agentexec.WaitOptions{ForPort: port, Until: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if w.Matched == nil || !*w.Matched || w.Match.PortMatch == nil || w.Match.PortMatch.PID != pm.PID || w.State != agentexec.StateExited {
		t.Fatalf("wait: %+v", w)
	}
	if _, err := m.Kill(ctx, res.JobID, agentexec.KillOptions{}); err != nil {
		t.Fatal(err)
	}
	pidGone(t, pm.PID)

	// Never listens: matched false when the job is over.
	quiet := runWait(t, m, agentexec.JobSpec{Command: []string{"true"}})
	w, err = m.Wait(ctx, quiet.JobID, agentexec.WaitOptions{ForPort: port, Forever: true})
	if err != nil {
		t.Fatal(err)
	}
	if w.Matched == nil || *w.Matched || w.Match != nil || w.State != agentexec.StateExited {
		t.Fatalf("wait on a job that never listened: %+v", w)
	}

	for _, bad := range []agentexec.WaitOptions{
		{ForPort: 70000},
		{ForPort: -1},
		{ForPort: port, ForOutput: &agentexec.OutputCondition{Pattern: "x"}},
	} {
		if _, err := m.Wait(ctx, quiet.JobID, bad); !errors.Is(err, agentexec.ErrInvalidArg) {
			t.Errorf("wait %+v: %v", bad, err)
		}
	}
}
