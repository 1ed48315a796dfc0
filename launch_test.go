//go:build unix

package agentexec_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agentexec/agentexec"
	"github.com/agentexec/agentexec/internal/store"
)

// TestLaunchTimeoutKillsSpawnedChild: a supervisor that stalls after
// spawning the child but before recording it is killed by the launcher
// after 5 s, and so is the child it announced; the job ends failed with the
// child recorded (SPEC §3.1 step 4, R10).
func TestLaunchTimeoutKillsSpawnedChild(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the 5 s acknowledgement timeout")
	}
	env := append(os.Environ(), "AGENT_EXEC_FAILPOINT=before-running-state:hang")
	m, err := agentexec.Open(filepath.Join(t.TempDir(), "jobs"), agentexec.Options{Cwd: t.TempDir(), Env: env})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	_, err = m.Run(context.Background(), agentexec.RunRequest{Spec: agentexec.JobSpec{Command: []string{"sleep", "300"}}, Observe: agentexec.ObserveOptions{NoWait: true}})
	var ae *agentexec.Error
	if !errors.As(err, &ae) || ae.Code != agentexec.CodeLaunchFailed || !strings.Contains(ae.Message, "did not acknowledge within 5000 ms") {
		t.Fatalf("err = %v", err)
	}
	id := ae.Details.(*agentexec.LaunchFailedDetails).JobID
	st, err := store.ReadState(filepath.Join(m.Root(), id))
	if err != nil || st.Job.Status != "failed" || st.Child == nil || st.Child.PID <= 1 {
		t.Fatalf("state %+v err %v", st, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(st.Child.PID, 0) == nil {
		if data, _ := os.ReadFile(filepathProcStat(st.Child.PID)); strings.Contains(string(data), ") Z ") {
			break // killed; waiting for its reaper
		}
		if time.Now().After(deadline) {
			syscall.Kill(-st.Child.PGID, syscall.SIGKILL)
			t.Fatalf("child %d still alive", st.Child.PID)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func filepathProcStat(pid int) string { return filepath.Join("/proc", strconv.Itoa(pid), "stat") }
