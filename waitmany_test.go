package agentexec_test

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/agentexec/agentexec"
)

func runSpec(t *testing.T, m *agentexec.Manager, spec agentexec.JobSpec) string {
	t.Helper()
	res, err := m.Run(context.Background(), agentexec.RunRequest{Spec: spec, Observe: noWait()})
	if err != nil {
		t.Fatal(err)
	}
	return res.JobID
}

func states(r *agentexec.WaitManyResult) []agentexec.State {
	var out []agentexec.State
	for _, j := range r.Jobs {
		out = append(out, j.State)
	}
	return out
}

func TestWaitManyAnyAll(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	// The first job in argument order is the long one, so argument order
	// differs from finishing order.
	slow := runSpec(t, m, agentexec.JobSpec{Command: []string{"sleep", "30"}, Tags: []string{"grp"}})
	quick := runSpec(t, m, agentexec.JobSpec{Command: []string{"sh", "-c", "sleep 0.3; echo bye; exit 3"}, Tags: []string{"grp"}, Name: "quick"})
	poll := 5 * time.Second // fallback only: wake-ups are event-driven
	res, err := m.WaitMany(ctx, agentexec.WaitManyOptions{IDs: []string{slow, "@quick"}, Any: true, Forever: true, Poll: poll, TailLines: 10, MaxBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Jobs) != 2 || res.Jobs[0].JobID != slow || res.Jobs[1].JobID != quick {
		t.Fatalf("jobs not in argument order: %+v", res.Jobs)
	}
	if s := states(res); s[0] != agentexec.StateRunning || s[1] != agentexec.StateExited || res.AllTerminal || !res.AnyTerminal {
		t.Fatalf("--any: states %v all %v any %v", s, res.AllTerminal, res.AnyTerminal)
	}
	if j := res.Jobs[1]; *j.ExitCode != 3 || j.StdoutTail != "bye" || j.FinishedAt == "" {
		t.Fatalf("quick payload %+v", j)
	}
	if got := res.ExitStatus(); got != 3 {
		t.Fatalf("--any exit status %d, want 3 (the running job is passed over)", got)
	}
	// --all with a deadline: returns at the deadline, not before the
	// running job ends; the first non-zero in argument order is the
	// running job's 124.
	res, err = m.WaitMany(ctx, agentexec.WaitManyOptions{Tags: []string{"grp"}, Until: 200 * time.Millisecond, Poll: poll})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Jobs) != 2 || res.Jobs[0].JobID != slow || res.AllTerminal || !res.AnyTerminal || res.ExitStatus() != agentexec.ExitDeadline {
		t.Fatalf("--all deadline: %v all %v any %v status %d", states(res), res.AllTerminal, res.AnyTerminal, res.ExitStatus())
	}
	// --all returns once every job is terminal: kill the slow one while
	// the wait is under way.
	done := make(chan *agentexec.WaitManyResult, 1)
	go func() {
		r, err := m.WaitMany(ctx, agentexec.WaitManyOptions{IDs: []string{quick, slow}, Forever: true, Poll: poll})
		if err != nil {
			t.Error(err)
		}
		done <- r
	}()
	if _, err := m.Kill(ctx, slow, agentexec.KillOptions{Signal: "KILL", NoWait: true}); err != nil {
		t.Fatal(err)
	}
	select {
	case res = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("--all did not return after the last job ended")
	}
	if res == nil || !res.AllTerminal || states(res)[1] != agentexec.StateKilled {
		t.Fatalf("--all: %+v", res)
	}
	// The first non-zero in argument order: quick's 3 before slow's 137.
	if got := res.ExitStatus(); got != 3 {
		t.Fatalf("exit status %d, want 3", got)
	}
	// A name selects every job of that name; with tags, those matching both.
	if r, err := m.WaitMany(ctx, agentexec.WaitManyOptions{Name: "quick", Tags: []string{"grp"}}); err != nil || len(r.Jobs) != 1 || r.Jobs[0].JobID != quick {
		t.Fatalf("--name --tag: %+v %v", r, err)
	}
	if _, err := m.WaitMany(ctx, agentexec.WaitManyOptions{Name: "nosuch"}); !errors.Is(err, agentexec.ErrJobNotFound) {
		t.Fatalf("--name nosuch: %v", err)
	}
	if _, err := m.WaitMany(ctx, agentexec.WaitManyOptions{Tags: []string{"bad!"}}); err == nil || agentexec.AsError(err).Code != agentexec.CodeInvalidTag {
		t.Fatalf("bad tag: %v", err)
	}
	if _, err := m.WaitMany(ctx, agentexec.WaitManyOptions{IDs: []string{quick, "NOPE"}}); !errors.Is(err, agentexec.ErrJobNotFound) {
		t.Fatalf("missing id: %v", err)
	}
}

func TestWaitManyCancel(t *testing.T) {
	m := newManager(t)
	a := runSpec(t, m, agentexec.JobSpec{Command: []string{"sleep", "30"}})
	b := runSpec(t, m, agentexec.JobSpec{Command: []string{"sleep", "30"}})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := m.WaitMany(ctx, agentexec.WaitManyOptions{IDs: []string{a, b}, Forever: true, Poll: time.Second})
		errc <- err
	}()
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("cancelled wait did not return")
	}
}

func TestWaitExitStatus(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	wait := func(id string, until time.Duration) *agentexec.WaitResult {
		t.Helper()
		r, err := m.Wait(ctx, id, agentexec.WaitOptions{Until: until, Poll: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	exit0 := runSpec(t, m, agentexec.JobSpec{Command: []string{"true"}})
	exit3 := runSpec(t, m, agentexec.JobSpec{Command: []string{"sh", "-c", "exit 3"}})
	term := runSpec(t, m, agentexec.JobSpec{Command: []string{"sleep", "30"}})
	usr1 := runSpec(t, m, agentexec.JobSpec{Command: []string{"sleep", "30"}})
	if _, err := m.Kill(ctx, term, agentexec.KillOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Kill(ctx, usr1, agentexec.KillOptions{Signal: "USR1"}); err != nil {
		t.Fatal(err)
	}
	_, err := m.Run(ctx, agentexec.RunRequest{Spec: agentexec.JobSpec{Command: []string{"true"}, Cwd: "/nonexistent/dir"}, Observe: noWait()})
	var failed string
	if ae := agentexec.AsError(err); ae.Code == agentexec.CodeLaunchFailed {
		failed = ae.Details.(*agentexec.LaunchFailedDetails).JobID
	} else {
		t.Fatalf("launch in a missing cwd: %v", err)
	}
	running := runSpec(t, m, agentexec.JobSpec{Command: []string{"sleep", "30"}})
	for _, c := range []struct {
		id   string
		want int
	}{
		{exit0, 0}, {exit3, 3}, {term, 128 + int(syscall.SIGTERM)}, {usr1, 128 + int(syscall.SIGUSR1)},
		{failed, 125}, {running, 124},
	} {
		until := 30 * time.Second
		if c.id == running {
			until = 0
		}
		if got := wait(c.id, until).ExitStatus(); got != c.want {
			t.Errorf("job %s: exit status %d, want %d", c.id, got, c.want)
		}
	}
}
