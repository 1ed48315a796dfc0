//go:build unix

package agentexec_test

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/agentexec/agentexec"
	"github.com/agentexec/agentexec/internal/proc"
	"github.com/agentexec/agentexec/internal/store"
)

// startGroup starts a real process in its own process group and returns
// its recorded identity, as a supervisor would have written it.
func startGroup(t *testing.T) *store.Process {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	st, _ := proc.StartTime(cmd.Process.Pid)
	return &store.Process{PID: cmd.Process.Pid, PGID: cmd.Process.Pid, StartTime: st}
}

// TestLiveProcessesAreNeverDeleted: a failed (supervisor_lost) job whose
// child group still runs, and a finished job whose supervisor still runs,
// are not removed by gc, delete or delete --all.
func TestLiveProcessesAreNeverDeleted(t *testing.T) {
	ctx := context.Background()
	m, cwd := gcManager(t)
	root := m.Root()
	writeGCJob(t, root, gcJob{id: gcID(1), status: "failed", finished: old2020, cwd: cwd, child: startGroup(t)})
	writeGCJob(t, root, gcJob{id: gcID(2), status: "exited", finished: old2020, cwd: cwd, super: startGroup(t)})

	res, err := m.GC(ctx, gcOpts("1d"))
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"job_id":"` + gcID(1) + `","state":"failed","action":"skipped","reason":"running","bytes":0},` +
		`{"job_id":"` + gcID(2) + `","state":"exited","action":"skipped","reason":"running","bytes":0}]`
	if got := compact(res.Jobs); got != want {
		t.Errorf("gc\n got %s\nwant %s", got, want)
	}
	_, err = m.Delete(ctx, agentexec.DeleteOptions{ID: gcID(1)})
	if !errors.Is(err, agentexec.ErrInvalidState) {
		t.Errorf("delete of a job with a live child: %v", err)
	}
	m.AutoGC(ctx, agentexec.AutoGCOptions{OlderThan: time.Hour, DeleteLimit: 20})
	for _, n := range []int{1, 2} {
		if !exists(filepath.Join(root, gcID(n))) {
			t.Fatalf("job %d removed", n)
		}
	}
}
