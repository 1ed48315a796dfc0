package agentexec_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/agentexec/agentexec"
)

func newManager(t *testing.T) *agentexec.Manager {
	t.Helper()
	return openTestManager(t, agentexec.Options{Cwd: t.TempDir()})
}

// openTestManager opens a Manager on a fresh root and, at cleanup, kills
// whatever a failing test left running.
func openTestManager(t *testing.T, opts agentexec.Options) *agentexec.Manager {
	t.Helper()
	m, err := agentexec.Open(filepath.Join(t.TempDir(), "jobs"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		res, err := m.List(context.Background(), agentexec.ListOptions{All: true, State: agentexec.StateRunning, WithLiveTrees: true})
		if err == nil {
			for _, j := range res.Jobs {
				m.Kill(context.Background(), j.JobID, agentexec.KillOptions{Signal: "KILL"})
			}
		}
		m.Close()
	})
	return m
}

func waitOpts() agentexec.ObserveOptions {
	o := agentexec.DefaultObserve()
	o.Wait, o.Forever = true, true
	return o
}

func TestRunWaitReportsOutcome(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	res, err := m.Run(ctx, agentexec.RunRequest{
		Spec:    agentexec.JobSpec{Command: []string{"sh", "-c", "echo out; echo err >&2; exit 3"}},
		Observe: waitOpts(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.State != agentexec.StateExited || res.ExitCode == nil || *res.ExitCode != 3 {
		t.Fatalf("state %s exit %v", res.State, res.ExitCode)
	}
	if fs := res.FinalSnapshot; fs == nil || fs.StdoutTail != "out" || fs.StderrTail != "err" || fs.StdoutObservedBytes != 4 {
		t.Fatalf("final snapshot %+v", res.FinalSnapshot)
	}
	if res.Snapshot != nil || res.FinishedAt == "" || res.DurationMS == nil || res.Signal != "" || res.Error != "" {
		t.Fatalf("presence rules violated: %+v", res)
	}
	st, err := m.Status(ctx, res.JobID[:10])
	if err != nil {
		t.Fatal(err)
	}
	if st.JobID != res.JobID || st.State != agentexec.StateExited || *st.ExitCode != 3 || st.StartedAt == "" {
		t.Fatalf("status %+v", st)
	}
}

func TestErrorsCarryCodes(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	_, err := m.Status(ctx, "../etc")
	if !errors.Is(err, agentexec.ErrJobNotFound) {
		t.Fatalf("invalid id: %v", err)
	}
	_, err = m.Kill(ctx, "NOPE", agentexec.KillOptions{Signal: "STOP"})
	var ae *agentexec.Error
	if !errors.As(err, &ae) || ae.Code != agentexec.CodeInvalidArgument {
		t.Fatalf("bad signal before lookup: %v", err)
	}
	_, err = m.Run(ctx, agentexec.RunRequest{Spec: agentexec.JobSpec{Command: []string{"true"}, Cwd: "/nonexistent/dir"}})
	if !errors.As(err, &ae) || ae.Code != agentexec.CodeLaunchFailed {
		t.Fatalf("bad cwd: %v", err)
	}
	d, ok := ae.Details.(*agentexec.LaunchFailedDetails)
	if !ok || d.State != agentexec.StateFailed || d.JobID == "" {
		t.Fatalf("details %#v", ae.Details)
	}
	st, err := m.Status(ctx, d.JobID)
	if err != nil || st.State != agentexec.StateFailed || st.Error != "launch_failed: working directory /nonexistent/dir: no such file or directory" {
		t.Fatalf("failed job status %+v %v", st, err)
	}
	_, err = m.Run(ctx, agentexec.RunRequest{Spec: agentexec.JobSpec{Command: []string{"true"}, Tags: []string{"bad!"}}})
	if !errors.As(err, &ae) || ae.Code != agentexec.CodeInvalidTag {
		t.Fatalf("bad tag: %v", err)
	}
	_, err = m.Run(ctx, agentexec.RunRequest{Spec: agentexec.JobSpec{Command: []string{"true"}, HasStdin: true, Stdin: []byte("12345"), StdinMaxBytes: 4}})
	if !errors.As(err, &ae) || ae.Code != agentexec.CodeStdinTooLarge {
		t.Fatalf("stdin limit: %v", err)
	}
}

// TestConcurrentStart: of two concurrent starts of one created job exactly
// one launches (SPEC R5).
func TestConcurrentStart(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	c, err := m.Create(ctx, agentexec.JobSpec{Command: []string{"sleep", "30"}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, errs[i] = m.Start(ctx, c.JobID, agentexec.ObserveOptions{NoWait: true})
		}(i)
	}
	wg.Wait()
	okCount, invalid := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			okCount++
		case errors.Is(err, agentexec.ErrInvalidState):
			invalid++
		default:
			t.Fatalf("unexpected error %v", err)
		}
	}
	if okCount != 1 || invalid != 1 {
		t.Fatalf("ok=%d invalid=%d", okCount, invalid)
	}
	k, err := m.Kill(ctx, c.JobID, agentexec.KillOptions{})
	if err != nil || k.State != agentexec.StateKilled || k.Signal != "TERM" {
		t.Fatalf("kill %+v %v", k, err)
	}
}

// TestParallelRuns: 50 parallel launches on one root all succeed with
// distinct ids and reach a terminal state with complete files.
func TestParallelRuns(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	const n = 50
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			res, err := m.Run(ctx, agentexec.RunRequest{Spec: agentexec.JobSpec{Command: []string{"echo", "hi"}}, Observe: agentexec.ObserveOptions{NoWait: true}})
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = res.JobID
		}(i)
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, id := range ids {
		if id == "" || seen[id] {
			t.Fatalf("missing or duplicate id %q", id)
		}
		seen[id] = true
		w, err := m.Wait(ctx, id, agentexec.WaitOptions{Until: 10 * time.Second, TailLines: 50, MaxBytes: 65536})
		if err != nil || w.State != agentexec.StateExited || w.StdoutTail != "hi" {
			t.Fatalf("job %s: %+v %v", id, w, err)
		}
	}
	ents, _ := os.ReadDir(m.Root())
	if len(ents) != n {
		t.Fatalf("%d entries in root, want %d", len(ents), n)
	}
}

func TestWaitCancelLeavesJobRunning(t *testing.T) {
	m := newManager(t)
	res, err := m.Run(context.Background(), agentexec.RunRequest{Spec: agentexec.JobSpec{Command: []string{"sleep", "30"}}, Observe: agentexec.ObserveOptions{NoWait: true}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := m.Wait(ctx, res.JobID, agentexec.WaitOptions{Forever: true}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait err %v", err)
	}
	st, _ := m.Status(context.Background(), res.JobID)
	if st.State != agentexec.StateRunning {
		t.Fatalf("state %s after cancelled wait", st.State)
	}
}

func TestResolveRoot(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		flag string
		env  map[string]string
		home string
		want string
	}{
		{"/flag", map[string]string{"AGENT_EXEC_ROOT": "/env"}, "/h", "/flag"},
		{"rel", nil, "/h", "/cwd/rel"},
		{"", map[string]string{"AGENT_EXEC_ROOT": "/env/../x"}, "/h", "/x"},
		{"", map[string]string{"XDG_DATA_HOME": "/xdg"}, "/h", "/xdg/agent-exec/jobs"},
		{"", map[string]string{"XDG_DATA_HOME": "relative"}, "/h", "/h/.local/share/agent-exec/jobs"},
		{"", nil, "", "/cwd/.agent-exec/jobs"},
	}
	for _, tt := range tests {
		if got := agentexec.ResolveRoot(tt.flag, env(tt.env), tt.home, "/cwd"); got != tt.want {
			t.Errorf("ResolveRoot(%q, %v) = %q, want %q", tt.flag, tt.env, got, tt.want)
		}
	}
}
