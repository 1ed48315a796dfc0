package agentexec_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/agentexec/agentexec"
	"github.com/agentexec/agentexec/internal/slurm"
)

// These tests run jobs on a real Slurm cluster (scripts/slurm-dev-cluster.sh
// starts one on this machine). Without one they skip, unless CI requires
// the cluster (REQUIRE_SLURM_CLUSTER=1), where they fail.

func needSlurm(t *testing.T) {
	t.Helper()
	if slurm.Available(context.Background()) {
		return
	}
	if os.Getenv("REQUIRE_SLURM_CLUSTER") != "" {
		t.Fatal("no Slurm cluster answers, and REQUIRE_SLURM_CLUSTER is set (start one with scripts/slurm-dev-cluster.sh)")
	}
	t.Skip("no Slurm cluster answers `scontrol ping`; start one with scripts/slurm-dev-cluster.sh")
}

// slurmRun runs spec on the Slurm backend without waiting and makes sure
// the cluster forgets the job at the end of the test.
func slurmRun(t *testing.T, m *agentexec.Manager, spec agentexec.JobSpec) (*agentexec.LaunchResult, string) {
	t.Helper()
	spec.Backend = "slurm"
	o := agentexec.DefaultObserve()
	o.NoWait = true
	res, err := m.Run(context.Background(), agentexec.RunRequest{Spec: spec, Observe: o})
	if err != nil {
		t.Fatalf("run on slurm: %v", err)
	}
	st, err := m.Status(context.Background(), res.JobID)
	if err != nil || st.Backend == nil || st.Backend.Kind != "slurm" || st.Backend.SlurmJobID == "" {
		t.Fatalf("status of a slurm job = %+v, %v; want backend kind slurm with a slurm_job_id", st, err)
	}
	t.Cleanup(func() { slurm.Cancel(context.Background(), st.Backend.SlurmJobID) })
	return res, st.Backend.SlurmJobID
}

func slurmWait(t *testing.T, m *agentexec.Manager, id string) *agentexec.WaitResult {
	t.Helper()
	w, err := m.Wait(context.Background(), id, agentexec.WaitOptions{Until: 90 * time.Second, Poll: 200 * time.Millisecond, TailLines: 50, MaxBytes: 65536})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// waitSlurmState polls until the job's state is want (the cluster starts
// jobs on its own schedule).
func waitSlurmState(t *testing.T, m *agentexec.Manager, id string, want agentexec.State) *agentexec.StatusResult {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		st, err := m.Status(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if st.State == want {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s is %s (backend_state %q) after 90 s, want %s", id, st.State, st.BackendState, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSlurmJobOutputAndExitCode(t *testing.T) {
	needSlurm(t)
	m := newManager(t)
	res, slurmID := slurmRun(t, m, agentexec.JobSpec{Command: []string{`echo "job $SLURM_JOB_ID"; echo oops >&2; exit 3`}})
	w := slurmWait(t, m, res.JobID)
	if w.State != agentexec.StateExited || w.ExitCode == nil || *w.ExitCode != 3 {
		t.Fatalf("wait = %s exit %v, want exited 3", w.State, w.ExitCode)
	}
	if w.StdoutTail != "job "+slurmID || w.StderrTail != "oops" {
		t.Fatalf("tails = %q / %q, want %q / %q", w.StdoutTail, w.StderrTail, "job "+slurmID, "oops")
	}
	st, err := m.Status(context.Background(), res.JobID)
	if err != nil || st.BackendState != "" || st.Backend.SlurmJobID != slurmID {
		t.Fatalf("status of the finished job = %+v, %v", st, err)
	}

	// Restart resubmits: a new Slurm job, the same outcome.
	ro := agentexec.DefaultObserve()
	ro.NoWait = true
	if _, err := m.Restart(context.Background(), res.JobID, agentexec.RestartOptions{Observe: ro}); err != nil {
		t.Fatal(err)
	}
	w = slurmWait(t, m, res.JobID)
	st, _ = m.Status(context.Background(), res.JobID)
	if w.State != agentexec.StateExited || *w.ExitCode != 3 || st.Backend.SlurmJobID == slurmID || w.StdoutTail != "job "+st.Backend.SlurmJobID {
		t.Fatalf("after restart: %s %v %q, slurm job %s (was %s)", w.State, w.ExitCode, w.StdoutTail, st.Backend.SlurmJobID, slurmID)
	}
	slurm.Cancel(context.Background(), st.Backend.SlurmJobID)
}

func TestSlurmPendingJobIsCreatedAndKillCancelsIt(t *testing.T) {
	needSlurm(t)
	m := newManager(t)
	res, slurmID := slurmRun(t, m, agentexec.JobSpec{Command: []string{"echo never"},
		Slurm: agentexec.SlurmSpec{Args: []string{"--begin=now+1hour"}}})
	if res.State != agentexec.StateCreated {
		t.Fatalf("launch state = %s, want created", res.State)
	}
	st, err := m.Status(context.Background(), res.JobID)
	if err != nil || st.State != agentexec.StateCreated || st.BackendState != "PENDING" {
		t.Fatalf("status = %+v, %v; want created with backend_state PENDING", st, err)
	}
	k, err := m.Kill(context.Background(), res.JobID, agentexec.KillOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if k.State != agentexec.StateFailed {
		t.Fatalf("kill of a pending job = %+v, want failed", k)
	}
	st, _ = m.Status(context.Background(), res.JobID)
	if st.State != agentexec.StateFailed || st.Error != "backend_lost: CANCELLED" {
		t.Fatalf("status after kill = %s %q, want failed backend_lost: CANCELLED", st.State, st.Error)
	}
	if info, err := slurm.Query(context.Background(), slurmID); err != nil || info.Active() {
		t.Fatalf("slurm still runs the job: %+v %v", info, err)
	}
}

func TestSlurmKillRunningJob(t *testing.T) {
	needSlurm(t)
	m := newManager(t)
	res, slurmID := slurmRun(t, m, agentexec.JobSpec{Command: []string{"echo started; sleep 120"}})
	waitSlurmState(t, m, res.JobID, agentexec.StateRunning)
	k, err := m.Kill(context.Background(), res.JobID, agentexec.KillOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if k.State != agentexec.StateKilled || k.Signal != "TERM" {
		t.Fatalf("kill = %+v, want killed by TERM", k)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, err := slurm.Query(context.Background(), slurmID)
		if err == nil && !info.Active() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("slurm job %s still active 30 s after kill: %+v %v", slurmID, info, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	out, _ := exec.Command("squeue", "-h", "-j", slurmID, "-o", "%T").CombinedOutput()
	if s := strings.TrimSpace(string(out)); s != "" && !strings.Contains(s, "Invalid job id") && s != "COMPLETED" {
		t.Fatalf("squeue still lists the job: %q", s)
	}
}

func TestSlurmCancelBehindOurBackIsBackendLost(t *testing.T) {
	needSlurm(t)
	m := newManager(t)
	res, slurmID := slurmRun(t, m, agentexec.JobSpec{Command: []string{"echo started; sleep 120"}})
	waitSlurmState(t, m, res.JobID, agentexec.StateRunning)
	if out, err := exec.Command("scancel", slurmID).CombinedOutput(); err != nil {
		t.Fatalf("scancel: %v %s", err, out)
	}
	w := slurmWait(t, m, res.JobID)
	if w.State != agentexec.StateFailed || w.Error != "backend_lost: CANCELLED" {
		t.Fatalf("wait = %s %q, want failed backend_lost: CANCELLED", w.State, w.Error)
	}
	if w.StdoutTail != "started" {
		t.Fatalf("stdout = %q, want the output written before the cancel", w.StdoutTail)
	}
}

func TestSlurmSubmissionErrorsAreLaunchFailed(t *testing.T) {
	needSlurm(t)
	m := newManager(t)
	o := agentexec.DefaultObserve()
	o.NoWait = true
	_, err := m.Run(context.Background(), agentexec.RunRequest{Observe: o, Spec: agentexec.JobSpec{
		Command: []string{"true"}, Backend: "slurm", Slurm: agentexec.SlurmSpec{Partition: "no-such-partition"}}})
	var e *agentexec.Error
	if !errors.As(err, &e) || e.Code != agentexec.CodeLaunchFailed || !strings.Contains(e.Message, "nvalid partition") {
		t.Fatalf("bad partition: %v, want launch_failed with Slurm's message", err)
	}
	d, ok := e.Details.(*agentexec.LaunchFailedDetails)
	if !ok || d.State != agentexec.StateFailed {
		t.Fatalf("details = %#v", e.Details)
	}
	st, err := m.Status(context.Background(), d.JobID)
	if err != nil || st.State != agentexec.StateFailed || !strings.HasPrefix(st.Error, "launch_failed: sbatch: ") {
		t.Fatalf("status = %+v, %v", st, err)
	}
}

func TestSlurmOptionsAreValidated(t *testing.T) {
	m := newManager(t)
	for _, spec := range []agentexec.JobSpec{
		{Command: []string{"true"}, Backend: "cluster"},
		{Command: []string{"true"}, Slurm: agentexec.SlurmSpec{Partition: "p"}},
		{Command: []string{"true"}, Backend: "slurm", Slurm: agentexec.SlurmSpec{Args: []string{"--nice"}}},
		{Command: []string{"true"}, Backend: "slurm", Slurm: agentexec.SlurmSpec{Args: []string{"--a=b --c=d\n"}}},
		{Command: []string{"true"}, Backend: "slurm", Slurm: agentexec.SlurmSpec{CPUs: -1}},
	} {
		_, err := m.Create(context.Background(), spec)
		if !errors.Is(err, agentexec.ErrInvalidArg) {
			t.Errorf("Create(%+v) = %v, want invalid_argument", spec, err)
		}
	}
}
