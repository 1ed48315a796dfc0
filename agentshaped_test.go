//go:build unix

package agentexec_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agentexec/agentexec"
)

// Tests of SPEC §11.8: settle, deadline snapshots, rendering, the
// max_bytes clamp and the agent environment.

func runJob(t *testing.T, m *agentexec.Manager, o agentexec.ObserveOptions, command ...string) *agentexec.LaunchResult {
	t.Helper()
	res, err := m.Run(context.Background(), agentexec.RunRequest{Spec: agentexec.JobSpec{Command: command}, Observe: o})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// A server-like job prints its ready line and stays silent: the snapshot
// wait ends once that output has settled, far before the 10 s window.
func TestSettleEndsSnapshotWaitOnQuietOutput(t *testing.T) {
	m := newManager(t)
	res := runJob(t, m, agentexec.DefaultObserve(), "sh", "-c", "echo listening; exec sleep 30")
	if res.State != agentexec.StateRunning || res.Snapshot == nil || res.Snapshot.StdoutTail != "listening" {
		t.Fatalf("state %s snapshot %+v", res.State, res.Snapshot)
	}
	if res.WaitedMS >= 9000 {
		t.Fatalf("waited %d ms: the whole window, not the settle time", res.WaitedMS)
	}
}

// --settle 0 is the v0.1.18 behaviour: the whole window unless terminal.
func TestSettleZeroWaitsWholeWindow(t *testing.T) {
	m := newManager(t)
	o := agentexec.DefaultObserve()
	o.SnapshotAfter, o.Settle = time.Second, 0
	res := runJob(t, m, o, "sh", "-c", "echo listening; exec sleep 30")
	if res.WaitedMS < 1000 || res.Snapshot == nil || res.Snapshot.StdoutTail != "listening" {
		t.Fatalf("waited %d ms, snapshot %+v", res.WaitedMS, res.Snapshot)
	}
}

// A job with no output at all waits the whole window even with settle.
func TestSettleSilentJobWaitsWholeWindow(t *testing.T) {
	m := newManager(t)
	o := agentexec.DefaultObserve()
	o.SnapshotAfter, o.Settle = time.Second, 50*time.Millisecond
	res := runJob(t, m, o, "sleep", "30")
	if res.WaitedMS < 1000 || res.State != agentexec.StateRunning || res.Snapshot == nil || res.Snapshot.StdoutObservedBytes != 0 {
		t.Fatalf("waited %d ms, state %s, snapshot %+v", res.WaitedMS, res.State, res.Snapshot)
	}
}

// Output that keeps coming is not settled: the wait lasts until the burst
// is over, so the snapshot holds its last line.
func TestSettleWaitsForTheBurstToEnd(t *testing.T) {
	m := newManager(t)
	o := agentexec.DefaultObserve()
	o.Settle = 2 * time.Second // far above the 0.1 s gaps, even on a loaded machine
	res := runJob(t, m, o, "sh", "-c", "for i in 1 2 3 4 5 6 7 8; do echo line $i; sleep 0.1; done; echo ready; exec sleep 30")
	if res.State != agentexec.StateRunning || res.Snapshot == nil || !strings.HasSuffix(res.Snapshot.StdoutTail, "line 8\nready") {
		t.Fatalf("state %s snapshot %+v", res.State, res.Snapshot)
	}
}

// A terminal job returns at once, whatever the settle time.
func TestSettleTerminalJobReturnsAtOnce(t *testing.T) {
	m := newManager(t)
	o := agentexec.DefaultObserve()
	o.Settle = time.Hour
	res := runJob(t, m, o, "echo", "done")
	if res.State != agentexec.StateExited || res.Snapshot == nil || res.Snapshot.StdoutTail != "done" || res.WaitedMS >= 9000 {
		t.Fatalf("state %s waited %d snapshot %+v", res.State, res.WaitedMS, res.Snapshot)
	}
}

// A --wait whose deadline passes carries a snapshot of the output so far;
// one that ends terminal carries final_snapshot only.
func TestDeadlineSnapshot(t *testing.T) {
	m := newManager(t)
	o := agentexec.DefaultObserve()
	o.Wait, o.Until = true, time.Second
	res := runJob(t, m, o, "sh", "-c", "echo partial; exec sleep 30")
	if res.State != agentexec.StateRunning || res.FinalSnapshot != nil || res.Snapshot == nil || res.Snapshot.StdoutTail != "partial" {
		t.Fatalf("state %s snapshot %+v final %+v", res.State, res.Snapshot, res.FinalSnapshot)
	}
	res = runJob(t, m, o, "echo", "whole")
	if res.State != agentexec.StateExited || res.Snapshot != nil || res.FinalSnapshot == nil || res.FinalSnapshot.StdoutTail != "whole" {
		t.Fatalf("state %s snapshot %+v final %+v", res.State, res.Snapshot, res.FinalSnapshot)
	}
}

// renderScript writes coloured text, a carriage-return progress bar and a
// 5,000-byte line to stdout, and a coloured line to stderr.
const renderScript = `printf '\033[1;31mred\033[0m plain\n'; printf '10%%\r50%%\r100%%\n'; ` +
	`head -c 1000 /dev/zero | tr '\0' a; head -c 3500 /dev/zero | tr '\0' b; head -c 500 /dev/zero | tr '\0' c; echo; ` +
	`printf '\033]0;title\007\033[33mwarn\033[0m\n' >&2`

var renderedStdout = "red plain\n100%\n" + strings.Repeat("a", 1000) + "…[3500 bytes cut]…" + strings.Repeat("c", 500)

func TestRenderTerminal(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	o := waitOpts()
	o.Render = agentexec.RenderTerminal
	res := runJob(t, m, o, "sh", "-c", renderScript)
	fs := res.FinalSnapshot
	if res.State != agentexec.StateExited || fs == nil {
		t.Fatalf("state %s final %+v", res.State, fs)
	}
	rawOut := int64(len("\x1b[1;31mred\x1b[0m plain\n10%\r50%\r100%\n") + 5001)
	if fs.StdoutTail != renderedStdout || fs.StderrTail != "warn" || !fs.Truncated ||
		fs.StdoutIncludedBytes != int64(len(renderedStdout)) || fs.StderrIncludedBytes != 4 ||
		fs.StdoutObservedBytes != rawOut {
		t.Fatalf("rendered snapshot %+v", fs)
	}

	tl, err := m.Tail(ctx, res.JobID, agentexec.TailOptions{TailLines: 50, MaxBytes: 65536, Render: agentexec.RenderTerminal})
	if err != nil || tl.StdoutTail != renderedStdout || tl.StderrTail != "warn" || !tl.Truncated || tl.StdoutIncludedBytes != int64(len(renderedStdout)) {
		t.Fatalf("rendered tail %+v, %v", tl, err)
	}
	w, err := m.Wait(ctx, res.JobID, agentexec.WaitOptions{TailLines: 1, MaxBytes: 65536, Render: agentexec.RenderTerminal})
	if err != nil || w.StdoutTail != strings.Repeat("a", 1000)+"…[3500 bytes cut]…"+strings.Repeat("c", 500) || w.StderrTail != "warn" {
		t.Fatalf("rendered wait %+v, %v", w, err)
	}
	// raw (the default) is the tail algorithm unchanged.
	raw, err := m.Tail(ctx, res.JobID, agentexec.TailOptions{TailLines: 2, MaxBytes: 65536})
	if err != nil || raw.StdoutTail != "10%\r50%\r100%\n"+strings.Repeat("a", 1000)+strings.Repeat("b", 3500)+strings.Repeat("c", 500) ||
		raw.StderrTail != "\x1b]0;title\x07\x1b[33mwarn\x1b[0m" || raw.StdoutIncludedBytes != 5013 {
		t.Fatalf("raw tail %+v, %v", raw, err)
	}
	// Rendering does not cut or mark text that needs nothing.
	clean := runJob(t, m, o, "echo", "hello")
	if fs := clean.FinalSnapshot; fs.StdoutTail != "hello" || fs.Truncated || fs.StdoutIncludedBytes != 5 {
		t.Fatalf("clean snapshot %+v", fs)
	}
}

func TestInvalidRenderCreatesNoJob(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	o := agentexec.DefaultObserve()
	o.Render = "fancy"
	_, err := m.Run(ctx, agentexec.RunRequest{Spec: agentexec.JobSpec{Command: []string{"true"}}, Observe: o})
	if !errors.Is(err, agentexec.ErrInvalidArg) || !strings.Contains(err.Error(), `invalid render "fancy"`) {
		t.Fatalf("err = %v", err)
	}
	if l, _ := m.List(ctx, agentexec.ListOptions{All: true}); len(l.Jobs) != 0 {
		t.Fatalf("jobs created: %+v", l.Jobs)
	}
	if _, err := m.Tail(ctx, "X", agentexec.TailOptions{Render: "fancy"}); !errors.Is(err, agentexec.ErrInvalidArg) {
		t.Fatalf("tail err = %v", err)
	}
}

// max_bytes above 16 MiB is clamped to 16 MiB, in the core.
func TestMaxBytesClampedTo16MiB(t *testing.T) {
	m := newManager(t)
	const size = 17 << 20
	o := waitOpts()
	o.TailLines, o.MaxBytes = 0, 1<<40
	res := runJob(t, m, o, "head", "-c", "17825792", "/dev/zero")
	fs := res.FinalSnapshot
	if fs == nil || fs.StdoutObservedBytes != size || fs.StdoutIncludedBytes != agentexec.MaxExcerptBytes || !fs.Truncated {
		t.Fatalf("final snapshot: observed %d included %d truncated %v", fs.StdoutObservedBytes, fs.StdoutIncludedBytes, fs.Truncated)
	}
	tl, err := m.Tail(context.Background(), res.JobID, agentexec.TailOptions{MaxBytes: 32 << 20})
	if err != nil || tl.StdoutIncludedBytes != agentexec.MaxExcerptBytes {
		t.Fatalf("tail included %d, %v", tl.StdoutIncludedBytes, err)
	}
}

// --agent-env adds the agent variables unless the job sets them itself,
// over the inherited environment; the flag is stored with the job.
func TestAgentEnv(t *testing.T) {
	envFile := filepath.Join(t.TempDir(), "env")
	os.WriteFile(envFile, []byte("GIT_PAGER=less\n"), 0o600)
	m := openTestManager(t, agentexec.Options{Cwd: t.TempDir(), Env: append(os.Environ(), "TERM=xterm-256color", "NO_COLOR=")})
	ctx := context.Background()
	spec := agentexec.JobSpec{Command: []string{"env"}, AgentEnv: true, Env: []string{"PAGER=more"}, EnvFiles: []string{envFile}}
	o := waitOpts()
	o.TailLines = 0
	res, err := m.Run(ctx, agentexec.RunRequest{Spec: spec, Observe: o})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(res.FinalSnapshot.StdoutTail, "\n")
	for _, want := range []string{"NO_COLOR=1", "TERM=dumb", "PAGER=more", "GIT_PAGER=less", "GIT_TERMINAL_PROMPT=0"} {
		if !slices.Contains(got, want) {
			t.Errorf("agent env: %s missing from\n%s", want, res.FinalSnapshot.StdoutTail)
		}
	}
	meta, err := os.ReadFile(filepath.Join(m.Root(), res.JobID, "meta.json"))
	if err != nil || !strings.Contains(string(meta), `"agent_env": true`) {
		t.Fatalf("meta.json %s, %v", meta, err)
	}
	// restart relaunches the stored definition, agent env included.
	rr, err := m.Restart(ctx, res.JobID, agentexec.RestartOptions{Observe: o})
	if err != nil || !slices.Contains(strings.Split(rr.FinalSnapshot.StdoutTail, "\n"), "TERM=dumb") {
		t.Fatalf("restart: %v %+v", err, rr)
	}
	// Without it the job's environment is the inherited one.
	res, err = m.Run(ctx, agentexec.RunRequest{Spec: agentexec.JobSpec{Command: []string{"env"}}, Observe: o})
	if err != nil {
		t.Fatal(err)
	}
	got = strings.Split(res.FinalSnapshot.StdoutTail, "\n")
	if !slices.Contains(got, "TERM=xterm-256color") || slices.Contains(got, "GIT_TERMINAL_PROMPT=0") {
		t.Fatalf("plain env:\n%s", res.FinalSnapshot.StdoutTail)
	}
	meta, _ = os.ReadFile(filepath.Join(m.Root(), res.JobID, "meta.json"))
	if strings.Contains(string(meta), "agent_env") {
		t.Fatalf("meta.json without agent env: %s", meta)
	}
}
