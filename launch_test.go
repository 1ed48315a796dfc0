//go:build unix

package agentexec_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
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

// TestSupervisorDiesBeforeAnnouncingChild: a supervisor that dies right
// after forking the child, before it could announce or record it, leaves
// nothing running: the launcher finds the child by the log file it holds
// and kills it; the job ends failed (R10).
func TestSupervisorDiesBeforeAnnouncingChild(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("finding unannounced children needs /proc")
	}
	marker := fmt.Sprintf("%d.%06d", 200+os.Getpid()%100, time.Now().Nanosecond()/1000)
	env := append(os.Environ(), "AGENT_EXEC_FAILPOINT=after-spawn:exit")
	m := openTestManager(t, agentexec.Options{Cwd: t.TempDir(), Env: env})
	defer killMarked(marker)
	_, err := m.Run(context.Background(), agentexec.RunRequest{Spec: agentexec.JobSpec{Command: []string{"sleep", marker}}, Observe: agentexec.ObserveOptions{NoWait: true}})
	var ae *agentexec.Error
	if !errors.As(err, &ae) || ae.Code != agentexec.CodeLaunchFailed || !strings.Contains(ae.Message, "exited before acknowledging") {
		t.Fatalf("err = %v", err)
	}
	st, err := store.ReadState(filepath.Join(m.Root(), ae.Details.(*agentexec.LaunchFailedDetails).JobID))
	if err != nil || st.Job.Status != "failed" {
		t.Fatalf("state %+v err %v", st, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(marked(marker)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the job's child %v outlived the failed launch", marked(marker))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// marked lists the live processes whose command line contains marker.
func marked(marker string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		stat, _ := os.ReadFile("/proc/" + e.Name() + "/stat")
		if strings.Contains(string(cmdline), marker) && !strings.Contains(string(stat), ") Z ") {
			pids = append(pids, pid)
		}
	}
	return pids
}

func killMarked(marker string) {
	for _, pid := range marked(marker) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// TestUnreadableStartTimeFailsLaunch: when the supervisor cannot read the
// child's start time it does not record start_time "" (which would drop the
// pid-reuse protection of kill): the launch fails, the child is killed.
func TestUnreadableStartTimeFailsLaunch(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("uses /proc to check that the child is gone")
	}
	marker := fmt.Sprintf("%d.%06d", 300+os.Getpid()%100, time.Now().Nanosecond()/1000)
	env := append(os.Environ(), "AGENT_EXEC_FAILPOINT=read-start-time:fail")
	m := openTestManager(t, agentexec.Options{Cwd: t.TempDir(), Env: env})
	defer killMarked(marker)
	_, err := m.Run(context.Background(), agentexec.RunRequest{Spec: agentexec.JobSpec{Command: []string{"sleep", marker}}, Observe: agentexec.ObserveOptions{NoWait: true}})
	var ae *agentexec.Error
	if !errors.As(err, &ae) || ae.Code != agentexec.CodeLaunchFailed || !strings.Contains(ae.Message, "cannot read the start time") {
		t.Fatalf("err = %v", err)
	}
	st, err := store.ReadState(filepath.Join(m.Root(), ae.Details.(*agentexec.LaunchFailedDetails).JobID))
	if err != nil || st.Job.Status != "failed" || st.Child != nil && st.Child.StartTime == "" {
		t.Fatalf("state %+v err %v", st, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(marked(marker)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("child %v still running", marked(marker))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
