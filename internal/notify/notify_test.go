//go:build unix

package notify

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agentexec/agentexec/internal/store"
)

func intp(i int) *int       { return &i }
func int64p(i int64) *int64 { return &i }
func strp(s string) *string { return &s }

func TestFinishedKeyOrder(t *testing.T) {
	st := &store.State{
		Job:        store.StateJob{ID: "J1", Status: "exited", StartedAt: "2025-01-15T10:00:00Z"},
		Result:     store.Result{ExitCode: intp(0), DurationMS: int64p(2)},
		FinishedAt: "2025-01-15T10:00:01Z",
	}
	meta := &store.Meta{Command: []string{"true"}, Cwd: "/home/u/proj"}
	got := string(Encode(NewFinished("/tmp/r/J1", st, meta)))
	want := `{"schema_version":"0.1","event_type":"job.finished","job_id":"J1","state":"exited","command":["true"],"cwd":"/home/u/proj","started_at":"2025-01-15T10:00:00Z","finished_at":"2025-01-15T10:00:01Z","duration_ms":2,"exit_code":0,"stdout_log_path":"/tmp/r/J1/stdout.log","stderr_log_path":"/tmp/r/J1/stderr.log"}`
	if got != want {
		t.Fatalf("exited event\n got %s\nwant %s", got, want)
	}

	// killed by a timeout: no exit_code, signal by name, timed_out last; no cwd.
	st = &store.State{
		Job:        store.StateJob{ID: "J1", Status: "killed", StartedAt: "2025-01-15T10:00:00Z"},
		Result:     store.Result{Signal: strp("TERM"), DurationMS: int64p(1003), TimedOut: true},
		FinishedAt: "2025-01-15T10:00:01Z",
	}
	got = string(Encode(NewFinished("/r/J1", st, &store.Meta{Command: []string{"sleep", "10"}})))
	want = `{"schema_version":"0.1","event_type":"job.finished","job_id":"J1","state":"killed","command":["sleep","10"],"started_at":"2025-01-15T10:00:00Z","finished_at":"2025-01-15T10:00:01Z","duration_ms":1003,"signal":"TERM","stdout_log_path":"/r/J1/stdout.log","stderr_log_path":"/r/J1/stderr.log","timed_out":true}`
	if got != want {
		t.Fatalf("killed event\n got %s\nwant %s", got, want)
	}
}

func TestMatchedRecord(t *testing.T) {
	m, err := NewMatcher(&store.OutputMatch{Pattern: "<b>", MatchType: "contains", Stream: "either"})
	if err != nil {
		t.Fatal(err)
	}
	ev := m.Event("/r/J", "J", "stderr", []byte("a <b> & c"))
	res := []Result{
		{SinkType: "command", Target: "cat", Success: true, AttemptedAt: "2025-01-15T10:00:00Z"},
		{SinkType: "file", Target: "/x", Error: "open error: boom", AttemptedAt: "2025-01-15T10:00:00Z"},
	}
	got := string(Record(ev, res))
	want := `{"schema_version":"0.1","event_type":"job.output.matched","job_id":"J","pattern":"<b>","match_type":"contains","stream":"stderr","line":"a <b> & c","stdout_log_path":"/r/J/stdout.log","stderr_log_path":"/r/J/stderr.log","delivery_results":[{"sink_type":"command","target":"cat","success":true,"attempted_at":"2025-01-15T10:00:00Z"},{"sink_type":"file","target":"/x","success":false,"error":"open error: boom","attempted_at":"2025-01-15T10:00:00Z"}]}`
	if got != want {
		t.Fatalf("record\n got %s\nwant %s", got, want)
	}
	if got := string(Record(ev, nil)); !strings.HasSuffix(got, `,"delivery_results":[]}`) {
		t.Fatalf("nil results: %s", got)
	}
}

func TestMatcher(t *testing.T) {
	tests := []struct {
		name   string
		om     store.OutputMatch
		stream string
		line   string
		want   bool
	}{
		{"contains", store.OutputMatch{Pattern: "ERR", MatchType: "contains", Stream: "either"}, "stdout", "an ERROR here", true},
		{"contains miss", store.OutputMatch{Pattern: "ERR", MatchType: "contains", Stream: "either"}, "stdout", "all fine", false},
		{"contains is literal", store.OutputMatch{Pattern: "a.c", MatchType: "contains", Stream: "either"}, "stdout", "abc", false},
		{"regex unanchored", store.OutputMatch{Pattern: `b+c$`, MatchType: "regex", Stream: "either"}, "stderr", "abbc", true},
		{"regex miss", store.OutputMatch{Pattern: `^b`, MatchType: "regex", Stream: "either"}, "stderr", "abbc", false},
		{"stream filter stdout", store.OutputMatch{Pattern: "x", MatchType: "contains", Stream: "stdout"}, "stderr", "x", false},
		{"stream filter stderr", store.OutputMatch{Pattern: "x", MatchType: "contains", Stream: "stderr"}, "stderr", "x", true},
		{"defaults", store.OutputMatch{Pattern: "x"}, "stderr", "x", true},
		{"lossy decode", store.OutputMatch{Pattern: "a\uFFFDb", MatchType: "contains", Stream: "either"}, "stdout", "a\xffb", true},
		{"maximal subparts", store.OutputMatch{Pattern: "^a\uFFFD\uFFFDb$", MatchType: "regex", Stream: "either"}, "stdout", "a\xe2\x82\xffb", true},
		{"not per byte", store.OutputMatch{Pattern: "\uFFFD\uFFFD\uFFFD", MatchType: "contains", Stream: "either"}, "stdout", "a\xe2\x82\xffb", false},
		{"cr kept", store.OutputMatch{Pattern: "x\r$", MatchType: "regex", Stream: "either"}, "stdout", "x\r", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewMatcher(&tc.om)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Match(tc.stream, []byte(tc.line)); got != tc.want {
				t.Fatalf("Match(%q, %q) = %v, want %v", tc.stream, tc.line, got, tc.want)
			}
			// The block pre-filter may only rule out blocks with no match.
			if tc.want && !m.MayMatch(tc.stream, []byte("before\n"+tc.line+"\nafter\n")) {
				t.Fatalf("MayMatch ruled out a block whose line %q matches", tc.line)
			}
		})
	}
	if m, err := NewMatcher(&store.OutputMatch{Pattern: ""}); m != nil || err != nil {
		t.Fatalf("empty pattern: %v %v", m, err)
	}
	if _, err := NewMatcher(&store.OutputMatch{Pattern: "(", MatchType: "regex"}); err == nil {
		t.Fatal("bad regex accepted")
	}
	a := &store.OutputMatch{Pattern: "x", MatchType: "contains", Stream: "either", Command: "c"}
	m, _ := NewMatcher(a)
	if !m.Same(a) || !m.Same(&store.OutputMatch{Pattern: "x", Command: "c"}) {
		t.Fatal("Same: equal configuration reported different")
	}
	if m.Same(&store.OutputMatch{Pattern: "x", MatchType: "contains", Stream: "either"}) {
		t.Fatal("Same: sink change not noticed")
	}
	var none *Matcher
	if !none.Same(nil) || !none.Same(&store.OutputMatch{}) || none.Same(a) {
		t.Fatal("Same on nil matcher")
	}
}

// TestMatcherMayMatch: a block is ruled out by one substring search when
// no line can match, and kept whenever the needle is unreliable.
func TestMatcherMayMatch(t *testing.T) {
	block := []byte("alpha\nbeta\r\n\xffgamma\n")
	tests := []struct {
		name   string
		om     store.OutputMatch
		stream string
		want   bool
	}{
		{"contains absent", store.OutputMatch{Pattern: "NEVER", MatchType: "contains", Stream: "either"}, "stdout", false},
		{"contains present", store.OutputMatch{Pattern: "eta", MatchType: "contains", Stream: "either"}, "stdout", true},
		{"contains across lines is only a maybe", store.OutputMatch{Pattern: "a\nb", MatchType: "contains", Stream: "either"}, "stdout", true},
		{"other stream", store.OutputMatch{Pattern: "eta", MatchType: "contains", Stream: "stderr"}, "stdout", false},
		{"regex literal prefix absent", store.OutputMatch{Pattern: "NEVER$", MatchType: "regex", Stream: "either"}, "stdout", false},
		{"regex literal prefix present", store.OutputMatch{Pattern: "gam+a", MatchType: "regex", Stream: "either"}, "stderr", true},
		{"anchored regex literal absent", store.OutputMatch{Pattern: "^N", MatchType: "regex", Stream: "either"}, "stdout", false},
		{"regex without prefix", store.OutputMatch{Pattern: "[NM]ever", MatchType: "regex", Stream: "either"}, "stdout", true},
		{"case-folded regex", store.OutputMatch{Pattern: "(?i)never", MatchType: "regex", Stream: "either"}, "stdout", true},
		{"replacement character", store.OutputMatch{Pattern: "\uFFFDgamma", MatchType: "contains", Stream: "either"}, "stdout", true},
	}
	for _, tc := range tests {
		m, err := NewMatcher(&tc.om)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.MayMatch(tc.stream, block); got != tc.want {
			t.Errorf("%s: MayMatch = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// sh returns a Deliverer running sinks with sh -c.
func sh(t *testing.T, timeout time.Duration) *Deliverer {
	return &Deliverer{JobID: "JOB1", Wrapper: []string{"sh", "-c"}, Env: append(os.Environ(), "AGENT_EXEC_JOB_ID=stale"), Timeout: timeout}
}

func TestCommandSink(t *testing.T) {
	dir := t.TempDir()
	d := sh(t, 10*time.Second)
	payload := []byte(`{"a":1}`)
	out := filepath.Join(dir, "out")
	res := d.RunCommand(context.Background(), `cat > `+out+`; env | grep '^AGENT_EXEC_' | sort >> `+out+`; echo noise; echo noise >&2`, TypeOutputMatched, "/r/J/notification_events.ndjson", payload)
	if !res.Success || res.Error != "" || res.SinkType != "command" || res.AttemptedAt == "" {
		t.Fatalf("result %+v", res)
	}
	got, _ := os.ReadFile(out)
	want := `{"a":1}AGENT_EXEC_EVENT_PATH=/r/J/notification_events.ndjson
AGENT_EXEC_EVENT_TYPE=job.output.matched
AGENT_EXEC_JOB_ID=JOB1
`
	if string(got) != want {
		t.Fatalf("sink saw\n%q\nwant\n%q", got, want)
	}

	tests := []struct {
		name, cmd, want string
	}{
		{"exit status", "exit 3", "exited with status 3"},
		{"signal", "kill -USR1 $$", "killed by signal USR1"},
		{"empty", "  ", "empty shell command"},
		{"not reading stdin", "exit 0", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := d.RunCommand(context.Background(), tc.cmd, TypeFinished, "/p", make([]byte, 1<<20))
			if res.Error != tc.want || res.Success != (tc.want == "") {
				t.Fatalf("got %+v, want error %q", res, tc.want)
			}
		})
	}

	bad := &Deliverer{Wrapper: []string{filepath.Join(dir, "no-such-shell")}}
	if res := bad.RunCommand(context.Background(), "true", TypeFinished, "/p", nil); !strings.HasPrefix(res.Error, "spawn error: ") {
		t.Fatalf("spawn: %+v", res)
	}
	if res := (&Deliverer{}).RunCommand(context.Background(), "true", TypeFinished, "/p", nil); res.Error != "empty shell command" {
		t.Fatalf("no wrapper: %+v", res)
	}
}

// TestCommandSinkTimeoutKillsGroup checks that a timed-out sink's whole
// process group is SIGKILLed, including a background descendant.
func TestCommandSinkTimeoutKillsGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	d := sh(t, 300*time.Millisecond)
	start := time.Now()
	res := d.RunCommand(context.Background(), `sleep 60 & echo $! > `+pidFile+`; wait`, TypeFinished, "/p", nil)
	if res.Error != "timed out after 300 ms" || res.Success {
		t.Fatalf("result %+v", res)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("timeout took %v", el)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(pid, 0) == nil && !isZombie(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("background sleep %d survived the group kill", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func isZombie(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] == 'Z'
}

func TestFileSink(t *testing.T) {
	dir := t.TempDir()
	d := &Deliverer{}
	path := filepath.Join(dir, "a", "b", "ev.ndjson")
	for i := 0; i < 2; i++ {
		if res := d.WriteFile(path, []byte(`{"n":`+strconv.Itoa(i)+`}`)); !res.Success || res.SinkType != "file" || res.Target != path {
			t.Fatalf("write %d: %+v", i, res)
		}
	}
	got, _ := os.ReadFile(path)
	if string(got) != "{\"n\":0}\n{\"n\":1}\n" {
		t.Fatalf("file content %q", got)
	}
	fi, _ := os.Stat(path)
	di, _ := os.Stat(filepath.Dir(path))
	if fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
		t.Fatalf("modes file %v dir %v", fi.Mode(), di.Mode())
	}

	blocker := filepath.Join(dir, "plain")
	os.WriteFile(blocker, nil, 0o600)
	if res := d.WriteFile(filepath.Join(blocker, "x", "ev"), []byte("{}")); !strings.HasPrefix(res.Error, "create parent dir: ") || res.Success {
		t.Fatalf("parent: %+v", res)
	}
	if res := d.WriteFile(dir, []byte("{}")); !strings.HasPrefix(res.Error, "open error: ") {
		t.Fatalf("open: %+v", res)
	}
}

func TestDispatchFinished(t *testing.T) {
	dir := t.TempDir()
	evFile := filepath.Join(dir, "sink", "ev.ndjson")
	seen := filepath.Join(dir, "seen")
	ev := &Finished{SchemaVersion: "0.1", EventType: TypeFinished, JobID: "J", State: "exited", Command: []string{"true"}, ExitCode: intp(0)}
	d := sh(t, 0)
	// The command sink sees the first version of completion_event.json
	// (empty delivery results) at AGENT_EXEC_EVENT_PATH.
	cmd := `cat "$AGENT_EXEC_EVENT_PATH" > ` + seen
	if err := d.DispatchFinished(dir, ev, Sinks{Command: cmd, File: evFile}); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(seen)
	var v map[string]any
	if err := json.Unmarshal(first, &v); err != nil || len(v["delivery_results"].([]any)) != 0 {
		t.Fatalf("first version %s (%v)", first, err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, store.CompletionEvent))
	if strings.HasSuffix(string(data), "\n") || !strings.Contains(string(data), "\n  \"event_type\": \"job.finished\",") {
		t.Fatalf("completion_event.json not 2-space pretty JSON without trailing newline:\n%s", data)
	}
	var rec struct {
		EventType string   `json:"event_type"`
		Results   []Result `json:"delivery_results"`
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.Results) != 2 || rec.Results[0].SinkType != "command" || !rec.Results[0].Success ||
		rec.Results[1].SinkType != "file" || !rec.Results[1].Success || rec.Results[1].Target != evFile {
		t.Fatalf("results %+v", rec.Results)
	}
	line, _ := os.ReadFile(evFile)
	if string(line) != string(Encode(ev))+"\n" {
		t.Fatalf("file sink got %q", line)
	}
}

func readRecords(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v map[string]any
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("bad line %q: %v", sc.Text(), err)
		}
		out = append(out, v)
	}
	return out
}

func matched(i int) *Matched {
	return &Matched{SchemaVersion: "0.1", EventType: TypeOutputMatched, JobID: "J", Pattern: "x", MatchType: "contains", Stream: "stdout", Line: "line " + strconv.Itoa(i)}
}

func waitFile(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never appeared", path)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestQueueFullAndOrder blocks the worker on a gated command sink, fills
// the queue and checks that overflow is recorded at once as dropped, and
// that queued events are then delivered in order.
func TestQueueFullAndOrder(t *testing.T) {
	dir := t.TempDir()
	started, gate := filepath.Join(dir, "started"), filepath.Join(dir, "gate")
	sinkFile := filepath.Join(dir, "sink.ndjson")
	d := sh(t, 0)
	q := d.NewQueue(dir)
	q.Push(matched(0), Sinks{Command: `touch ` + started + `; while [ ! -e ` + gate + ` ]; do sleep 0.01; done`})
	waitFile(t, started) // the worker holds event 0; the channel is empty
	for i := 1; i <= QueueCapacity+10; i++ {
		q.Push(matched(i), Sinks{File: sinkFile, Command: map[bool]string{true: "true"}[i > QueueCapacity]})
	}
	path := filepath.Join(dir, store.NotificationLog)
	// The 10 overflowing events are recorded at once (within the drop
	// flush interval), while event 0 is still being delivered.
	waitFile(t, path)
	var recs []map[string]any
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if recs = readRecords(t, path); len(recs) >= 10 {
			break
		}
	}
	if len(recs) != 10 {
		t.Fatalf("%d records before the gate opened, want 10 dropped", len(recs))
	}
	for k, r := range recs {
		if r["line"] != "line "+strconv.Itoa(QueueCapacity+1+k) {
			t.Fatalf("dropped record %d is %v", k, r["line"])
		}
		res := r["delivery_results"].([]any)
		if len(res) != 2 {
			t.Fatalf("dropped record has %d results, want one per sink", len(res))
		}
		for _, x := range res {
			m := x.(map[string]any)
			if m["success"] != false || m["error"] != DroppedFull {
				t.Fatalf("dropped result %v", m)
			}
		}
	}
	os.WriteFile(gate, nil, 0o600)
	q.Close(time.Now().Add(time.Minute))
	recs = readRecords(t, path)
	if len(recs) != QueueCapacity+11 {
		t.Fatalf("%d records, want %d", len(recs), QueueCapacity+11)
	}
	for k, r := range recs[10:] {
		if r["line"] != "line "+strconv.Itoa(k) {
			t.Fatalf("delivery %d out of order: %v", k, r["line"])
		}
		for _, x := range r["delivery_results"].([]any) {
			if x.(map[string]any)["success"] != true {
				t.Fatalf("delivery %d failed: %v", k, x)
			}
		}
	}
	if n := len(readRecords(t, sinkFile)); n != QueueCapacity {
		t.Fatalf("file sink got %d events, want %d", n, QueueCapacity)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
}

// TestQueueCloseDeadline: events still queued at the deadline are recorded
// as dropped (supervisor exiting) and the running sink is killed.
func TestQueueCloseDeadline(t *testing.T) {
	dir := t.TempDir()
	started := filepath.Join(dir, "started")
	d := sh(t, 0)
	q := d.NewQueue(dir)
	q.Push(matched(0), Sinks{Command: `touch ` + started + `; exec sleep 60`})
	waitFile(t, started)
	q.Push(matched(1), Sinks{Command: "true"})
	q.Push(matched(2), Sinks{})
	start := time.Now()
	q.Close(time.Now().Add(200 * time.Millisecond))
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("Close took %v", el)
	}
	recs := readRecords(t, filepath.Join(dir, store.NotificationLog))
	if len(recs) != 3 {
		t.Fatalf("%d records", len(recs))
	}
	r0 := recs[0]["delivery_results"].([]any)[0].(map[string]any)
	if !strings.HasPrefix(r0["error"].(string), "timed out after ") {
		t.Fatalf("in-flight sink: %v", r0)
	}
	r1 := recs[1]["delivery_results"].([]any)
	if len(r1) != 1 || r1[0].(map[string]any)["error"] != DroppedExiting {
		t.Fatalf("queued event: %v", r1)
	}
	if r2 := recs[2]["delivery_results"].([]any); len(r2) != 0 {
		t.Fatalf("no-sink event: %v", r2)
	}
}

// TestQueueNoSink: events without sinks are still recorded, with an empty
// result list, and nothing is created before the first event.
func TestQueueNoSink(t *testing.T) {
	dir := t.TempDir()
	q := (&Deliverer{}).NewQueue(dir)
	path := filepath.Join(dir, store.NotificationLog)
	if _, err := os.Stat(path); err == nil {
		t.Fatal("record file created before any event")
	}
	q.Push(matched(1), Sinks{})
	q.Close(time.Now().Add(time.Minute))
	recs := readRecords(t, path)
	if len(recs) != 1 || len(recs[0]["delivery_results"].([]any)) != 0 {
		t.Fatalf("records %v", recs)
	}
}
