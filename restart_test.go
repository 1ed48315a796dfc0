//go:build unix

package agentexec_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agentexec/agentexec"
)

// jobState reads state.json of a job directly (black box: the on-disk
// format is part of the contract).
type jobStateFile struct {
	Job struct {
		Status string `json:"status"`
	} `json:"job"`
	Supervisor *struct {
		PID int `json:"pid"`
	} `json:"supervisor"`
	Child *struct {
		PID  int `json:"pid"`
		PGID int `json:"pgid"`
	} `json:"child"`
}

func readJobState(t *testing.T, m *agentexec.Manager, id string) jobStateFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(m.Root(), id, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	var st jobStateFile
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// pidGone polls until pid no longer exists (or is a zombie awaiting its
// reaper), failing the test after 10 s.
func pidGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(pid, 0) == nil && !zombie(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still alive", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func zombie(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] == 'Z'
}

func noWait() agentexec.ObserveOptions {
	o := agentexec.DefaultObserve()
	o.NoWait = true
	return o
}

// TestRestartTerminalJob relaunches an exited job: same id, same
// definition and stdin, logs and notification records reset.
func TestRestartTerminalJob(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	runs := filepath.Join(t.TempDir(), "runs")
	res, err := m.Run(ctx, agentexec.RunRequest{
		Spec: agentexec.JobSpec{
			Command:  []string{"sh", "-c", `cat; echo; echo MARK; echo run >> "$RUNS"`},
			Env:      []string{"RUNS=" + runs},
			Tags:     []string{"ci.build"},
			Stdin:    []byte("input-bytes"),
			HasStdin: true,
			Notification: &agentexec.Notification{
				NotifyFile:    filepath.Join(t.TempDir(), "done.ndjson"),
				OnOutputMatch: &agentexec.OutputMatch{Pattern: "MARK"},
			},
		},
		Observe: waitOpts(),
	})
	if err != nil {
		t.Fatal(err)
	}
	id := res.JobID
	dir := filepath.Join(m.Root(), id)
	metaBefore, _ := os.ReadFile(filepath.Join(dir, "meta.json"))
	waitSupervisorExit(t, m, id)
	if n := countLines(t, filepath.Join(dir, "notification_events.ndjson")); n != 1 {
		t.Fatalf("first run: %d match records", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "completion_event.json")); err != nil {
		t.Fatal(err)
	}

	rr, err := m.Restart(ctx, id[:12], agentexec.RestartOptions{Observe: waitOpts()})
	if err != nil {
		t.Fatal(err)
	}
	if rr.JobID != id || rr.State != agentexec.StateExited || *rr.ExitCode != 0 {
		t.Fatalf("restart result %+v", rr)
	}
	if len(rr.Tags) != 1 || rr.Tags[0] != "ci.build" {
		t.Fatalf("tags %v", rr.Tags)
	}
	if got := rr.FinalSnapshot.StdoutTail; got != "input-bytes\nMARK" {
		t.Fatalf("stdout after restart %q (logs not cleared or stdin not reused)", got)
	}
	if got, _ := os.ReadFile(runs); string(got) != "run\nrun\n" {
		t.Fatalf("runs %q", got)
	}
	if metaAfter, _ := os.ReadFile(filepath.Join(dir, "meta.json")); string(metaAfter) != string(metaBefore) {
		t.Fatalf("meta.json changed by restart:\n%s\n%s", metaBefore, metaAfter)
	}
	waitSupervisorExit(t, m, id)
	if n := countLines(t, filepath.Join(dir, "notification_events.ndjson")); n != 1 {
		t.Fatalf("after restart: %d match records, want the old ones removed", n)
	}
	ents, _ := os.ReadDir(m.Root())
	if len(ents) != 1 {
		t.Fatalf("%d job directories, want 1", len(ents))
	}
}

func countLines(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(data), "\n")
}

// waitSupervisorExit waits until the job's supervisor is gone, i.e. every
// notification of the run has been recorded.
func waitSupervisorExit(t *testing.T, m *agentexec.Manager, id string) {
	t.Helper()
	if st := readJobState(t, m, id); st.Supervisor != nil {
		pidGone(t, st.Supervisor.PID)
	}
}

// TestRestartRunningJob stops a running job with the requested signal and
// relaunches it under the same id.
func TestRestartRunningJob(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	res, err := m.Run(ctx, agentexec.RunRequest{Spec: agentexec.JobSpec{Command: []string{"sleep 60"}}, Observe: noWait()})
	if err != nil {
		t.Fatal(err)
	}
	before := readJobState(t, m, res.JobID)
	rr, err := m.Restart(ctx, res.JobID, agentexec.RestartOptions{Signal: "int", Observe: noWait()})
	if err != nil {
		t.Fatal(err)
	}
	if rr.JobID != res.JobID || rr.State != agentexec.StateRunning {
		t.Fatalf("restart %+v", rr)
	}
	pidGone(t, before.Child.PID)
	pidGone(t, before.Supervisor.PID)
	after := readJobState(t, m, res.JobID)
	if after.Job.Status != "running" || after.Child.PID == before.Child.PID {
		t.Fatalf("state after restart %+v", after)
	}
	k, err := m.Kill(ctx, res.JobID, agentexec.KillOptions{})
	if err != nil || k.State != agentexec.StateKilled {
		t.Fatalf("kill %+v %v", k, err)
	}
}

// TestRestartEscalatesToKill: a job that ignores SIGTERM is SIGKILLed after
// the 3 s grace and then relaunched.
func TestRestartEscalatesToKill(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the 3 s grace")
	}
	m := newManager(t)
	ctx := context.Background()
	ready := filepath.Join(t.TempDir(), "ready")
	res, err := m.Run(ctx, agentexec.RunRequest{
		Spec:    agentexec.JobSpec{Command: []string{`trap '' TERM; touch ` + ready + `; while :; do sleep 0.1; done`}},
		Observe: noWait(),
	})
	if err != nil {
		t.Fatal(err)
	}
	waitPath(t, ready)
	before := readJobState(t, m, res.JobID)
	rr, err := m.Restart(ctx, res.JobID, agentexec.RestartOptions{Observe: noWait()})
	if err != nil {
		t.Fatal(err)
	}
	if rr.State != agentexec.StateRunning {
		t.Fatalf("restart %+v", rr)
	}
	pidGone(t, before.Child.PID)
	m.Kill(ctx, res.JobID, agentexec.KillOptions{Signal: "KILL"})
}

func waitPath(t *testing.T, p string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(p); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never appeared", p)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRestartCreatedJob: a created job is simply started.
func TestRestartCreatedJob(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	c, err := m.Create(ctx, agentexec.JobSpec{Command: []string{"echo", "hi"}})
	if err != nil {
		t.Fatal(err)
	}
	rr, err := m.Restart(ctx, c.JobID, agentexec.RestartOptions{Observe: waitOpts()})
	if err != nil {
		t.Fatal(err)
	}
	if rr.JobID != c.JobID || rr.State != agentexec.StateExited || rr.FinalSnapshot.StdoutTail != "hi" {
		t.Fatalf("restart %+v", rr)
	}
}

// TestRestartWaitsForSupervisor: the previous supervisor, still running a
// slow completion sink, is given 2 s and then SIGKILLed.
func TestRestartWaitsForSupervisor(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	sinkPIDs := filepath.Join(t.TempDir(), "sink.pids")
	res, err := m.Run(ctx, agentexec.RunRequest{
		Spec: agentexec.JobSpec{
			Command:      []string{"true"},
			Notification: &agentexec.Notification{NotifyCommand: `echo $$ >> ` + sinkPIDs + `; exec sleep 60`},
		},
		Observe: waitOpts(),
	})
	if err != nil {
		t.Fatal(err)
	}
	waitPath(t, sinkPIDs)
	t.Cleanup(func() {
		// Each run's sink leads its own group; the second run's supervisor
		// still waits for its sink.
		if st := readJobState(t, m, res.JobID); st.Supervisor != nil {
			syscall.Kill(st.Supervisor.PID, syscall.SIGKILL)
		}
		data, _ := os.ReadFile(sinkPIDs)
		for _, f := range strings.Fields(string(data)) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 1 {
				syscall.Kill(-pid, syscall.SIGKILL)
			}
		}
	})
	before := readJobState(t, m, res.JobID)
	if syscall.Kill(before.Supervisor.PID, 0) != nil {
		t.Fatal("supervisor already gone; the sink should hold it")
	}
	rr, err := m.Restart(ctx, res.JobID, agentexec.RestartOptions{Observe: waitOpts()})
	if err != nil {
		t.Fatal(err)
	}
	if rr.State != agentexec.StateExited {
		t.Fatalf("restart %+v", rr)
	}
	pidGone(t, before.Supervisor.PID)
	// The second run's sink starts too: wait for it so cleanup finds it.
	waitUntilTrue(t, func() bool {
		data, _ := os.ReadFile(sinkPIDs)
		return len(strings.Fields(string(data))) == 2
	})
}

func TestRestartErrors(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	_, err := m.Restart(ctx, "NOPE", agentexec.RestartOptions{Signal: "STOP"})
	var ae *agentexec.Error
	if !errors.As(err, &ae) || ae.Code != agentexec.CodeInvalidArgument {
		t.Fatalf("bad signal before lookup: %v", err)
	}
	if _, err := m.Restart(ctx, "NOPE", agentexec.RestartOptions{}); !errors.Is(err, agentexec.ErrJobNotFound) {
		t.Fatalf("missing job: %v", err)
	}
}

// TestRestartNotStopped: when no terminal state is recorded within 5 s
// (here the supervisor is stopped with SIGSTOP, so it cannot record the
// child's death), restart fails with invalid_state and changes nothing.
func TestRestartNotStopped(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the 5 s stop bound")
	}
	m := newManager(t)
	ctx := context.Background()
	res, err := m.Run(ctx, agentexec.RunRequest{Spec: agentexec.JobSpec{Command: []string{"sleep", "60"}}, Observe: noWait()})
	if err != nil {
		t.Fatal(err)
	}
	st := readJobState(t, m, res.JobID)
	syscall.Kill(st.Supervisor.PID, syscall.SIGSTOP)
	t.Cleanup(func() { syscall.Kill(st.Supervisor.PID, syscall.SIGCONT) })
	_, err = m.Restart(ctx, res.JobID, agentexec.RestartOptions{Observe: noWait()})
	var ae *agentexec.Error
	if !errors.As(err, &ae) || ae.Code != agentexec.CodeInvalidState ||
		ae.Message != "invalid job state: job "+res.JobID+" did not stop within 5000 ms; not restarted" {
		t.Fatalf("restart: %v", err)
	}
	if after := readJobState(t, m, res.JobID); after.Job.Status != "running" || after.Child.PID != st.Child.PID {
		t.Fatalf("state changed: %+v", after)
	}
	syscall.Kill(st.Supervisor.PID, syscall.SIGCONT)
	w, err := m.Wait(ctx, res.JobID, agentexec.WaitOptions{Forever: true})
	if err != nil || w.State != agentexec.StateKilled {
		t.Fatalf("after SIGCONT: %+v %v", w, err)
	}
}
