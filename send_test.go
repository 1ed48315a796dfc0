package agentexec_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agentexec/agentexec"
	"github.com/agentexec/agentexec/internal/control"
)

// startInteractive launches command as an --interactive job.
func startInteractive(t *testing.T, m *agentexec.Manager, spec agentexec.JobSpec) string {
	t.Helper()
	spec.Interactive = true
	res, err := m.Run(context.Background(), agentexec.RunRequest{Spec: spec, Observe: agentexec.ObserveOptions{NoWait: true}})
	if err != nil {
		t.Fatal(err)
	}
	if res.State != agentexec.StateRunning {
		t.Fatalf("state %s", res.State)
	}
	return res.JobID
}

func waitTerminal(t *testing.T, m *agentexec.Manager, id string) *agentexec.WaitResult {
	t.Helper()
	w, err := m.Wait(context.Background(), id, agentexec.WaitOptions{Until: 60 * time.Second, MaxBytes: agentexec.MaxExcerptBytes})
	if err != nil {
		t.Fatal(err)
	}
	if !w.State.Terminal() {
		t.Fatalf("job %s still %s after 60 s", id, w.State)
	}
	return w
}

func readLog(t *testing.T, m *agentexec.Manager, id string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(m.Root(), id, "stdout.log"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func text(s string) []agentexec.SendPart { return []agentexec.SendPart{{Text: s}} }

// TestSendThousandInARow: 1,000 sends, each a new connection, arrive
// complete and in order.
func TestSendThousandInARow(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	id := startInteractive(t, m, agentexec.JobSpec{Command: []string{"cat"}})
	var want strings.Builder
	for i := range 1000 {
		line := fmt.Sprintf("line %d", i)
		want.WriteString(line + "\n")
		res, err := m.Send(ctx, id, agentexec.SendOptions{Parts: []agentexec.SendPart{{Text: line}, {Newline: true}}})
		if err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		if res.BytesWritten != int64(len(line)+1) || res.State != agentexec.StateRunning {
			t.Fatalf("send %d: %+v", i, res)
		}
	}
	if _, err := m.Send(ctx, id, agentexec.SendOptions{EOF: true}); err != nil {
		t.Fatal(err)
	}
	if w := waitTerminal(t, m, id); w.State != agentexec.StateExited || *w.ExitCode != 0 {
		t.Fatalf("%+v", w)
	}
	if got := readLog(t, m, id); got != want.String() {
		t.Fatalf("stdout has %d bytes, want %d", len(got), want.Len())
	}
}

// TestSendOneMiB: the largest input of one call arrives whole; one byte
// more is invalid_argument and writes nothing.
func TestSendOneMiB(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	id := startInteractive(t, m, agentexec.JobSpec{Command: []string{"wc -c"}})
	big := strings.Repeat("x", agentexec.MaxSendBytes)
	_, err := m.Send(ctx, id, agentexec.SendOptions{Parts: []agentexec.SendPart{{Text: big}, {Newline: true}}})
	if !errors.Is(err, &agentexec.Error{Code: agentexec.CodeInvalidArgument}) {
		t.Fatalf("1 MiB + 1: %v", err)
	}
	res, err := m.Send(ctx, id, agentexec.SendOptions{Parts: text(big), EOF: true, Until: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.BytesWritten != agentexec.MaxSendBytes {
		t.Fatalf("bytes_written %d", res.BytesWritten)
	}
	waitTerminal(t, m, id)
	if got := strings.TrimSpace(readLog(t, m, id)); got != "1048576" {
		t.Fatalf("wc -c says %q", got)
	}
}

// TestSendToJobThatNeverReads: send gives up at its deadline with what the
// pipe took, a later send does too, and kill still ends the job.
func TestSendToJobThatNeverReads(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	id := startInteractive(t, m, agentexec.JobSpec{Command: []string{"sleep 600"}})
	big := strings.Repeat("y", agentexec.MaxSendBytes)
	res, err := m.Send(ctx, id, agentexec.SendOptions{Parts: text(big), Until: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.BytesWritten <= 0 || res.BytesWritten >= agentexec.MaxSendBytes || res.State != agentexec.StateRunning {
		t.Fatalf("first send: %+v (want a partial write)", res)
	}
	res, err = m.Send(ctx, id, agentexec.SendOptions{Parts: text("more"), Until: 200 * time.Millisecond})
	if err != nil || res.BytesWritten != 0 {
		t.Fatalf("second send: %+v %v", res, err)
	}
	k, err := m.Kill(ctx, id, agentexec.KillOptions{})
	if err != nil || k.State != agentexec.StateKilled {
		t.Fatalf("kill: %+v %v", k, err)
	}
	if _, err := m.Send(ctx, id, agentexec.SendOptions{Parts: text("x")}); !errors.Is(err, agentexec.ErrInvalidState) {
		t.Fatalf("send after kill: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(m.Root(), id, control.SocketName)); !os.IsNotExist(err) {
		t.Fatalf("control socket left behind: %v", err)
	}
}

// TestSendRefusals: a job not started interactive, a closed stdin, a
// terminal job, an unknown key.
func TestSendRefusals(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	res, err := m.Run(ctx, agentexec.RunRequest{Spec: agentexec.JobSpec{Command: []string{"sleep 600"}}, Observe: agentexec.ObserveOptions{NoWait: true}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Send(ctx, res.JobID, agentexec.SendOptions{Parts: text("x")})
	var ae *agentexec.Error
	if !errors.As(err, &ae) || ae.Code != agentexec.CodeInvalidState || ae.Message != "job "+res.JobID+" was not started with --interactive" {
		t.Fatalf("not interactive: %v", err)
	}
	m.Kill(ctx, res.JobID, agentexec.KillOptions{Signal: "KILL"})

	// stdin closed by --eof while the job goes on
	id := startInteractive(t, m, agentexec.JobSpec{Command: []string{"sleep 600"}})
	if _, err := m.Send(ctx, id, agentexec.SendOptions{EOF: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Send(ctx, id, agentexec.SendOptions{Parts: text("x")}); !errors.Is(err, agentexec.ErrInvalidState) {
		t.Fatalf("after eof: %v", err)
	}
	if _, err := m.Send(ctx, id, agentexec.SendOptions{Parts: []agentexec.SendPart{{Key: "F13"}}}); !errors.Is(err, &agentexec.Error{Code: agentexec.CodeInvalidArgument}) {
		t.Fatalf("unknown key: %v", err)
	}
	m.Kill(ctx, id, agentexec.KillOptions{Signal: "KILL"})

	// a stdin the job closed itself
	id = startInteractive(t, m, agentexec.JobSpec{Command: []string{"exec 0<&-; echo closed; sleep 600"}})
	if _, err := m.Wait(ctx, id, agentexec.WaitOptions{Until: 30 * time.Second, ForOutput: &agentexec.OutputCondition{Pattern: "closed"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Send(ctx, id, agentexec.SendOptions{Parts: text("x")}); !errors.Is(err, agentexec.ErrInvalidState) {
		t.Fatalf("job closed stdin: %v", err)
	}
	m.Kill(ctx, id, agentexec.KillOptions{Signal: "KILL"})

	if _, err := m.Create(ctx, agentexec.JobSpec{Command: []string{"cat"}, Interactive: true, Stdin: []byte("x"), HasStdin: true}); !errors.Is(err, &agentexec.Error{Code: agentexec.CodeInvalidArgument}) {
		t.Fatalf("interactive with stdin: %v", err)
	}
}

// TestSendLongRoot: the control socket works under a root whose socket
// path is far over sun_path's 108 bytes.
func TestSendLongRoot(t *testing.T) {
	root := filepath.Join(t.TempDir(), strings.Repeat("r", 100), strings.Repeat("s", 60), "jobs")
	m, err := agentexec.Open(root, agentexec.Options{Cwd: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	id := startInteractive(t, m, agentexec.JobSpec{Command: []string{"cat"}})
	defer m.Kill(ctx, id, agentexec.KillOptions{Signal: "KILL"})
	if p := filepath.Join(root, id, control.SocketName); len(p) <= 108 {
		t.Fatalf("socket path only %d bytes", len(p))
	}
	res, err := m.Send(ctx, id, agentexec.SendOptions{Parts: text("deep\n"), EOF: true, WaitForOutput: &agentexec.OutputCondition{Pattern: "deep"}, Until: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Matched == nil || !*res.Matched || res.Snapshot.StdoutTail != "deep\n" {
		t.Fatalf("%+v", res)
	}
}

// TestControlSocketAbuse: clients that send garbage, an oversized frame or
// nothing at all are answered or dropped, while the supervisor keeps
// following the logs, a valid send goes through and the timeout fires.
func TestControlSocketAbuse(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	id := startInteractive(t, m, agentexec.JobSpec{
		Command: []string{"while :; do echo tick; sleep 0.05; done & while read l; do echo \"got $l\"; done"},
		Timeout: 4 * time.Second, Descendants: agentexec.DescendantsKill,
	})
	dir := filepath.Join(m.Root(), id)
	// Silent clients hold connections open for the whole test.
	for range 5 {
		c, err := control.Dial(dir, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	for _, garbage := range []string{"hello\n", "{\"proto\":1,\"until_ms\":5,\"rm\":true}\n", "{\"proto\":2}\n", "{\"proto\":1,\"until_ms\":-1}\n", "[]\n"} {
		c, err := control.Dial(dir, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(30 * time.Second))
		fmt.Fprint(c, garbage)
		line, err := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if err != nil || !strings.Contains(line, `"code":"bad_frame"`) {
			t.Fatalf("garbage %q answered %q %v", garbage, line, err)
		}
	}
	// An endless line without a newline is cut off at the frame bound.
	c, err := control.Dial(dir, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	go func() {
		chunk := []byte(strings.Repeat("z", 64<<10))
		for {
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	}()
	line, _ := bufio.NewReader(c).ReadString('\n')
	c.Close()
	if !strings.Contains(line, "frame too large") {
		t.Fatalf("endless frame answered %q", line)
	}
	before := len(readLog(t, m, id))
	res, err := m.Send(ctx, id, agentexec.SendOptions{Parts: text("valid\n"), WaitForOutput: &agentexec.OutputCondition{Pattern: "got valid"}, Until: 30 * time.Second})
	if err != nil || res.Matched == nil || !*res.Matched {
		t.Fatalf("valid send among abusers: %+v %v", res, err)
	}
	w := waitTerminal(t, m, id)
	if !w.TimedOut || w.State != agentexec.StateKilled {
		t.Fatalf("timeout not honoured: %+v", w)
	}
	if after := strings.Count(readLog(t, m, id), "tick"); after <= strings.Count(readLog(t, m, id)[:before], "tick") {
		t.Fatalf("logs stopped growing: %d ticks", after)
	}
	full, err := os.ReadFile(filepath.Join(dir, "full.log"))
	if err != nil || !strings.Contains(string(full), "[STDOUT] got valid") || strings.Count(string(full), "tick") < 2 {
		t.Fatalf("full.log not followed: %v\n%s", err, full)
	}
	// The job's end closed the channel.
	if _, err := control.Dial(dir, time.Second); err == nil {
		t.Fatal("control socket still answers after the job ended")
	}
}
