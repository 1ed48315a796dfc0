//go:build linux

package main_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/agentexec/agentexec/internal/store"
)

// build compiles a package of this module into dir and returns the binary.
func build(t *testing.T, dir, pkg, name string) string {
	t.Helper()
	bin := filepath.Join(dir, name)
	out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

type envelope struct {
	OK       bool   `json:"ok"`
	JobID    string `json:"job_id"`
	State    string `json:"state"`
	ExitCode *int   `json:"exit_code"`
	Error    struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details struct {
			JobID string `json:"job_id"`
			State string `json:"state"`
		} `json:"details"`
	} `json:"error"`
}

func decode(t *testing.T, out []byte) envelope {
	t.Helper()
	var e envelope
	if err := json.Unmarshal(bytes.TrimSpace(out), &e); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
	}
	return e
}

// TestEmbedRightWay: the example, which calls SuperviseMain first thing,
// runs a job to completion; a job of it can itself run the embedding
// program (nothing marks the job's environment as a supervisor's).
func TestEmbedRightWay(t *testing.T) {
	tmp := t.TempDir()
	bin := build(t, tmp, ".", "embed")
	root := filepath.Join(tmp, "jobs")
	cmd := exec.Command(bin, bin, "echo", "nested hello")
	cmd.Env = append(os.Environ(), "AGENT_EXEC_ROOT="+root)
	cmd.Dir = tmp
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("embed: %v\n%s", err, out)
	}
	outer := decode(t, out)
	if !outer.OK || outer.State != "exited" || outer.ExitCode == nil || *outer.ExitCode != 0 {
		t.Fatalf("outer job: %s", out)
	}
	// The outer job's stdout is the inner embed's response.
	inner, err := os.ReadFile(filepath.Join(root, outer.JobID, store.StdoutLog))
	if err != nil {
		t.Fatal(err)
	}
	in := decode(t, inner)
	if !in.OK || in.State != "exited" || in.ExitCode == nil || *in.ExitCode != 0 {
		t.Fatalf("inner job: %s", inner)
	}
	got, err := os.ReadFile(filepath.Join(root, in.JobID, store.StdoutLog))
	if err != nil || string(got) != "nested hello\n" {
		t.Fatalf("inner job stdout %q, %v", got, err)
	}
	if n := jobDirs(t, root); n != 2 {
		t.Fatalf("%d job directories, want 2", n)
	}
}

// TestEmbedForgottenEntryPoint: a program that does not call SuperviseMain
// gets launch_failed at once, leaves exactly one (failed) job and no
// process. It runs fenced in: its own process group, a watchdog that kills
// every copy of the binary (by pid) as soon as there are more than the
// launcher and the one refused supervisor or more than one job directory,
// and a deadline. A regression therefore fails the test instead of
// multiplying processes.
func TestEmbedForgottenEntryPoint(t *testing.T) {
	tmp := t.TempDir()
	bin := build(t, tmp, "./testdata/forgetful", "forgetful")
	root := filepath.Join(tmp, "jobs")
	cmd := exec.Command(bin, "sleep", "300")
	cmd.Env = append(os.Environ(), "AGENT_EXEC_ROOT="+root)
	cmd.Dir = tmp
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	defer syscall.Kill(-pgid, syscall.SIGKILL)

	w := &watchdog{bin: bin, root: root, stop: make(chan struct{}), done: make(chan struct{})}
	go w.run()
	defer killCopies(bin) // whatever happens, no copy survives the test

	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Errorf("forgetful exit: %v, want status 1", err)
		}
	case <-time.After(60 * time.Second):
		syscall.Kill(-pgid, syscall.SIGKILL)
		killCopies(bin)
		t.Fatal("forgetful did not finish within 60 s")
	}
	// Every copy must be gone: the launcher killed and reaped the refused
	// supervisor before it returned.
	deadline := time.Now().Add(10 * time.Second)
	for len(copies(bin)) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	left := copies(bin)
	close(w.stop)
	<-w.done
	if len(left) > 0 {
		t.Errorf("copies still running: %v", left)
	}
	if w.tripped() {
		t.Fatalf("watchdog tripped: up to %d processes and %d job directories", w.maxProcs, w.maxDirs)
	}

	e := decode(t, stdout.Bytes())
	if e.OK || e.Error.Code != "launch_failed" || e.Error.Details.State != "failed" || !strings.Contains(e.Error.Message, "SuperviseMain") {
		t.Fatalf("response: %s", stdout.Bytes())
	}
	if n := jobDirs(t, root); n != 1 {
		t.Fatalf("%d job directories, want 1", n)
	}
	st, err := store.ReadState(filepath.Join(root, e.Error.Details.JobID))
	if err != nil || st.Job.Status != "failed" || st.Result.Error == nil || *st.Result.Error != e.Error.Message || st.Child != nil {
		t.Fatalf("state %+v, %v", st, err)
	}
	if w.maxProcs > 2 {
		t.Fatalf("%d copies existed at once, want at most 2 (the launcher and one refused supervisor)", w.maxProcs)
	}
}

func jobDirs(t *testing.T, root string) int {
	t.Helper()
	ents, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			n++
		}
	}
	return n
}

// copies lists the live (non-zombie) processes running bin.
func copies(bin string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if exe, err := os.Readlink("/proc/" + e.Name() + "/exe"); err != nil || exe != bin {
			continue
		}
		if stat, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil && bytes.Contains(stat, []byte(") Z ")) {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

// killCopies SIGKILLs every process running bin (all started by this test),
// by pid, until none is left.
func killCopies(bin string) {
	for range 100 {
		pids := copies(bin)
		if len(pids) == 0 {
			return
		}
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// watchdog records the most copies of bin and job directories seen at
// once, and kills every copy as soon as either exceeds its bound.
type watchdog struct {
	bin, root  string
	stop, done chan struct{}

	mu                sync.Mutex
	maxProcs, maxDirs int
}

func (w *watchdog) tripped() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.maxProcs > 2 || w.maxDirs > 1
}

func (w *watchdog) run() {
	defer close(w.done)
	for {
		select {
		case <-w.stop:
			return
		case <-time.After(2 * time.Millisecond):
		}
		procs := len(copies(w.bin))
		dirs := 0
		if ents, err := os.ReadDir(w.root); err == nil {
			for _, e := range ents {
				if !strings.HasPrefix(e.Name(), ".") || strings.HasPrefix(e.Name(), ".new-") {
					dirs++
				}
			}
		}
		w.mu.Lock()
		w.maxProcs, w.maxDirs = max(w.maxProcs, procs), max(w.maxDirs, dirs)
		w.mu.Unlock()
		if w.tripped() {
			killCopies(w.bin)
		}
	}
}
