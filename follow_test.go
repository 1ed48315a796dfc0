package agentexec_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentexec/agentexec"
)

func followJob(t *testing.T, m *agentexec.Manager, o agentexec.ObserveOptions, tags []string, argv ...string) string {
	t.Helper()
	res, err := m.Run(context.Background(), agentexec.RunRequest{Spec: agentexec.JobSpec{Command: argv, Tags: tags}, Observe: o})
	if err != nil {
		t.Fatal(err)
	}
	return res.JobID
}

func launchNoWait() agentexec.ObserveOptions {
	o := agentexec.DefaultObserve()
	o.NoWait = true
	return o
}

// render is an event as a compact string for exact comparisons.
func renderEvent(e *agentexec.FollowEvent) string {
	switch e.Type {
	case "output":
		return fmt.Sprintf("output %s %d %q cut=%v", e.Stream, *e.Offset, *e.Line, e.Cut)
	case "state":
		if e.ExitCode != nil {
			return fmt.Sprintf("state %s %d", e.State, *e.ExitCode)
		}
		return "state " + string(e.State)
	case "dropped":
		return fmt.Sprintf("dropped %s %d %d", e.Stream, *e.Lines, *e.Bytes)
	}
	return e.Type
}

func TestFollowEventsOfOneJob(t *testing.T) {
	m := newManager(t)
	long := strings.Repeat("é", 3000) // 6000 bytes: cut to 4 KiB
	id := followJob(t, m, launchNoWait(), nil, "sh", "-c", "echo a; sleep 0.3; echo b >&2; echo "+long+"; printf 'no-nl'; exit 2")
	var got []string
	err := m.Follow(context.Background(), agentexec.FollowOptions{IDs: []string{id[:12]}}, func(e *agentexec.FollowEvent) error {
		if e.Type != "end" && e.JobID != id {
			t.Errorf("event for %q", e.JobID)
		}
		s := renderEvent(e)
		if e.Type == "output" && len(*e.Line) > 100 {
			s = fmt.Sprintf("output %s %d len=%d cut=%v", e.Stream, *e.Offset, len(*e.Line), e.Cut)
		}
		got = append(got, s)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Lines of the two streams interleave as the reads happen to see
	// them; each stream's order and the state events are fixed.
	var stdout, stderr, other []string
	for _, g := range got {
		switch {
		case strings.HasPrefix(g, "output stdout"):
			stdout = append(stdout, g)
		case strings.HasPrefix(g, "output stderr"):
			stderr = append(stderr, g)
		default:
			other = append(other, g)
		}
	}
	wantOut := `output stdout 0 "a" cut=false|output stdout 2 len=4096 cut=true|output stdout 6003 "no-nl" cut=false`
	if strings.Join(stdout, "|") != wantOut || strings.Join(stderr, "|") != `output stderr 0 "b" cut=false` ||
		strings.Join(other, "|") != "state running|state exited 2|end" || got[0] != "state running" || got[len(got)-2] != "state exited 2" {
		t.Fatalf("events:\n%s", strings.Join(got, "\n"))
	}
	js, _ := agentexec.EventJSON(&agentexec.FollowEvent{Type: "end"})
	if string(js) != `{"schema_version":"0.1","type":"end"}` {
		t.Errorf("EventJSON = %s", js)
	}
}

func TestFollowRateLimitAndMatch(t *testing.T) {
	m := newManager(t)
	id := followJob(t, m, waitOpts(), nil, "seq", "1", "500")
	var got []string
	err := m.Follow(context.Background(), agentexec.FollowOptions{IDs: []string{id}, MaxLinesPerSecond: 3},
		func(e *agentexec.FollowEvent) error { got = append(got, renderEvent(e)); return nil })
	if err != nil {
		t.Fatal(err)
	}
	// Lines 4..500 are dropped: 6 of one digit, 90 of two, 401 of three.
	want := "state exited 0|output stdout 0 \"1\" cut=false|output stdout 2 \"2\" cut=false|output stdout 4 \"3\" cut=false|dropped stdout 497 1389|end"
	if g := strings.Join(got, "|"); g != want {
		t.Fatalf("got  %s\nwant %s", g, want)
	}

	got = nil
	err = m.Follow(context.Background(), agentexec.FollowOptions{IDs: []string{id}, Match: &agentexec.OutputCondition{Pattern: "^49[0-9]$", MatchType: "regex"}},
		func(e *agentexec.FollowEvent) error { got = append(got, renderEvent(e)); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(strings.Join(got, "|"), "output"); n != 10 || !strings.Contains(got[1], `"490"`) {
		t.Fatalf("matched lines: %v", got)
	}
	got = nil
	m.Follow(context.Background(), agentexec.FollowOptions{IDs: []string{id}, NoOutput: true},
		func(e *agentexec.FollowEvent) error { got = append(got, renderEvent(e)); return nil })
	if g := strings.Join(got, "|"); g != "state exited 0|end" {
		t.Fatalf("no output: %s", g)
	}
	var ae *agentexec.Error
	if err := m.Follow(context.Background(), agentexec.FollowOptions{IDs: []string{id}, Match: &agentexec.OutputCondition{Pattern: "(", MatchType: "regex"}},
		func(*agentexec.FollowEvent) error { return nil }); !errors.As(err, &ae) || ae.Code != agentexec.CodeInvalidArgument {
		t.Fatalf("invalid regex: %v", err)
	}
}

func TestFollowFindsJobsCreatedLater(t *testing.T) {
	m := newManager(t)
	followJob(t, m, waitOpts(), []string{"fl.x"}, "true") // existing: state only
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan struct{})
	var mu sync.Mutex // guards newID
	var newID string
	errc := make(chan error, 1)
	var got []string
	go func() {
		errc <- m.Follow(ctx, agentexec.FollowOptions{All: true, Tags: []string{"fl.*"}, Started: func() { close(started) }},
			func(e *agentexec.FollowEvent) error {
				mu.Lock()
				id := newID
				mu.Unlock()
				if e.JobID == id && id != "" {
					got = append(got, renderEvent(e))
					if e.State == agentexec.StateExited {
						cancel()
					}
				}
				return nil
			})
	}()
	<-started
	// Follow may discover the job before followJob returns its id: the
	// lock holds the callback until the id is known, so none of the new
	// job's events is skipped.
	mu.Lock()
	newID = followJob(t, m, launchNoWait(), []string{"fl.y"}, "sh", "-c", "echo hello")
	mu.Unlock()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Follow: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the new job's end was not reported")
	}
	g := strings.Join(got, "|")
	if !strings.HasSuffix(g, `output stdout 0 "hello" cut=false|state exited 0`) {
		t.Fatalf("events of the new job: %s", g)
	}
}

func TestFollowLogsRawBytes(t *testing.T) {
	m := newManager(t)
	id := followJob(t, m, launchNoWait(), nil, "sh", "-c", `printf 'A\342\202'; sleep 0.3; printf '\254B\377\n'; printf 'err' >&2`)
	var out, errb []byte
	var cursors []string
	final, err := m.FollowLogs(context.Background(), id, agentexec.FollowLogsOptions{Cursor: "0.0"}, func(c agentexec.LogChunk) error {
		if c.Stream == "stdout" {
			if c.Offset != int64(len(out)) {
				t.Errorf("stdout chunk at %d after %d bytes", c.Offset, len(out))
			}
			out = append(out, c.Data...)
		} else {
			errb = append(errb, c.Data...)
		}
		cursors = append(cursors, c.Cursor)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "A\xE2\x82\xACB\xFF\n" || string(errb) != "err" {
		t.Fatalf("bytes %q %q", out, errb)
	}
	if last := cursors[len(cursors)-1]; last != "7.3" {
		t.Fatalf("cursors %v", cursors)
	}
	if final.Type != "state" || final.State != agentexec.StateExited {
		t.Fatalf("final %+v", final)
	}
	// Default start: the last lines, like tail -f.
	out = nil
	m.FollowLogs(context.Background(), id, agentexec.FollowLogsOptions{TailLines: 1, MaxBytes: 65536}, func(c agentexec.LogChunk) error {
		if c.Stream == "stdout" {
			out = append(out, c.Data...)
		}
		return nil
	})
	if string(out) != "A\xE2\x82\xACB\xFF\n" {
		t.Fatalf("tail -f start: %q", out)
	}
}

// TestWaitForOutputScansLargeLog: a match after 8 MiB of output already
// present is found by scanning (64 KiB blocks), at its exact offset.
func TestWaitForOutputScansLargeLog(t *testing.T) {
	m := newManager(t)
	id := followJob(t, m, waitOpts(), nil, "sh", "-c", "head -c 8388608 /dev/zero | tr '\\0' x; echo; echo READY")
	res, err := m.Wait(context.Background(), id, agentexec.WaitOptions{Until: time.Minute, ForOutput: &agentexec.OutputCondition{Pattern: "READY"}, MaxBytes: 16})
	if err != nil {
		t.Fatal(err)
	}
	if res.Matched == nil || !*res.Matched || res.Match.Offset != 8388609 || res.Cursor != "8388615.0" {
		t.Fatalf("matched %v match %+v cursor %s", res.Matched, res.Match, res.Cursor)
	}
}
