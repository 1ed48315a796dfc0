//go:build linux

package agentexec_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agentexec/agentexec"
	"github.com/agentexec/agentexec/internal/store"
)

// startLauncher runs the test binary as a launcher (launchHelper) whose
// supervisor hangs before doing anything (failpoint before-start:hang).
func startLauncher(t *testing.T, root, restartID string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), "AGENTEXEC_TEST_LAUNCH_ROOT="+root, "AGENTEXEC_TEST_RESTART="+restartID,
		"AGENT_EXEC_FAILPOINT=before-start:hang")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

// supervisorOf finds the live supervisor process of job id.
func supervisorOf(id string) int {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if strings.Contains(string(cmdline), "_supervise") && strings.Contains(string(cmdline), id) {
			return pid
		}
	}
	return 0
}

func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// abandon kills the launcher, checks that its supervisor (holding the
// handed-over lock) keeps the launch in flight, then kills the supervisor
// too and returns the reconciled status.
func abandon(t *testing.T, m *agentexec.Manager, launcher *exec.Cmd, id string) *agentexec.StatusResult {
	t.Helper()
	ctx := context.Background()
	poll(t, "the launch lease", func() bool {
		st, err := store.ReadState(filepath.Join(m.Root(), id))
		return err == nil && st.Job.Status == "created" && st.Launching != nil
	})
	// A restart has seen the previous supervisor exit before writing its
	// lease: the supervisor found now is the new launch's.
	var sup int
	poll(t, "the supervisor", func() bool { sup = supervisorOf(id); return sup > 0 })
	launcher.Process.Kill()
	launcher.Wait()
	st, err := m.Status(ctx, id)
	if err != nil || st.State != agentexec.StateCreated {
		t.Fatalf("launcher dead, supervisor alive: status %+v %v; want created (the launch is in flight)", st, err)
	}
	syscall.Kill(sup, syscall.SIGKILL)
	// Its descriptors (the lock) are gone once all its threads have exited.
	poll(t, "the abandoned launch to be reconciled", func() bool {
		st, err = m.Status(ctx, id)
		return err == nil && st.State != agentexec.StateCreated
	})
	if st.State != agentexec.StateFailed || !strings.HasPrefix(st.Error, "launch_failed: ") {
		t.Fatalf("abandoned launch: status %+v; want failed with launch_failed", st)
	}
	persisted, err := store.ReadState(filepath.Join(m.Root(), id))
	if err != nil || persisted.Job.Status != "failed" || persisted.Launching != nil {
		t.Fatalf("persisted %+v %v", persisted, err)
	}
	return st
}

// TestAbandonedRunReconciledFailed: a run whose launcher and supervisor
// die before the handshake does not leave its job created for good: the
// launch lease in the created state and the free lock show it abandoned,
// and the next reader persists failed/launch_failed. While the supervisor
// lives, the lock it inherited keeps the launch in flight.
func TestAbandonedRunReconciledFailed(t *testing.T) {
	m := newManager(t)
	launcher := startLauncher(t, m.Root(), "")
	var id string
	poll(t, "the job", func() bool {
		names, _ := store.JobNames(m.Root())
		if len(names) == 1 {
			id = names[0]
		}
		return id != ""
	})
	abandon(t, m, launcher, id)
}

// TestAbandonedRestartKeepsPreviousLogs: a restart that dies before its
// supervisor took over leaves the previous run's logs in place, and the
// job is reconciled to failed instead of staying created.
func TestAbandonedRestartKeepsPreviousLogs(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	res, err := m.Run(ctx, agentexec.RunRequest{Spec: agentexec.JobSpec{Command: []string{"echo", "previous run"}}, Observe: waitOpts()})
	if err != nil || res.State != agentexec.StateExited {
		t.Fatalf("run: %+v %v", res, err)
	}
	launcher := startLauncher(t, m.Root(), res.JobID)
	abandon(t, m, launcher, res.JobID)
	out, err := os.ReadFile(filepath.Join(m.Root(), res.JobID, store.StdoutLog))
	if err != nil || string(out) != "previous run\n" {
		t.Fatalf("previous run's stdout %q %v", out, err)
	}
}
