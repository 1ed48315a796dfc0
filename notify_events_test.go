//go:build unix

package agentexec_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agentexec/agentexec"
)

// These tests drive real supervisors: events are checked in the files the
// contract names (SPEC §7).

func ndjson(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var v map[string]any
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("bad NDJSON line %q: %v", sc.Text(), err)
		}
		out = append(out, v)
	}
	return out
}

// keysInOrder returns the top-level keys of a JSON object in file order.
func keysInOrder(t *testing.T, data []byte) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.Token()
	var keys []string
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var skip json.RawMessage
		dec.Decode(&skip)
	}
	return keys
}

func TestOutputMatchBothStreams(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	envOut := filepath.Join(t.TempDir(), "env")
	sinkFile := filepath.Join(t.TempDir(), "sink", "m.ndjson")
	res, err := m.Run(ctx, agentexec.RunRequest{
		Spec: agentexec.JobSpec{
			Command: []string{"sh", "-c", `echo "hit 1"; echo miss; printf 'hit 2\r\n' >&2; printf 'hit \377 3'`},
			Notification: &agentexec.Notification{OnOutputMatch: &agentexec.OutputMatch{
				Pattern: "hit", Command: `env | grep '^AGENT_EXEC_' | sort > ` + envOut, File: sinkFile}},
		},
		Observe: waitOpts(),
	})
	if err != nil {
		t.Fatal(err)
	}
	waitSupervisorExit(t, m, res.JobID)
	dir := filepath.Join(m.Root(), res.JobID)
	path := filepath.Join(dir, "notification_events.ndjson")
	recs := ndjson(t, path)
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3", len(recs))
	}
	byLine := map[string]map[string]any{}
	for _, r := range recs {
		byLine[r["line"].(string)] = r
	}
	for line, stream := range map[string]string{"hit 1": "stdout", "hit 2\r": "stderr", "hit \uFFFD 3": "stdout"} {
		r := byLine[line]
		if r == nil || r["stream"] != stream || r["event_type"] != "job.output.matched" || r["job_id"] != res.JobID ||
			r["pattern"] != "hit" || r["match_type"] != "contains" || r["stdout_log_path"] != filepath.Join(dir, "stdout.log") {
			t.Fatalf("record for %q: %v", line, r)
		}
		results := r["delivery_results"].([]any)
		if len(results) != 2 || results[0].(map[string]any)["sink_type"] != "command" || results[1].(map[string]any)["sink_type"] != "file" {
			t.Fatalf("results %v", results)
		}
	}
	data, _ := os.ReadFile(path)
	first, _, _ := strings.Cut(string(data), "\n")
	want := []string{"schema_version", "event_type", "job_id", "pattern", "match_type", "stream", "line", "stdout_log_path", "stderr_log_path", "delivery_results"}
	if got := keysInOrder(t, []byte(first)); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("key order %v", got)
	}
	env, _ := os.ReadFile(envOut)
	wantEnv := "AGENT_EXEC_EVENT_PATH=" + path + "\nAGENT_EXEC_EVENT_TYPE=job.output.matched\nAGENT_EXEC_JOB_ID=" + res.JobID + "\n"
	if string(env) != wantEnv {
		t.Fatalf("sink env\n%s\nwant\n%s", env, wantEnv)
	}
	if n := len(ndjson(t, sinkFile)); n != 3 {
		t.Fatalf("file sink got %d events", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "completion_event.json")); err == nil {
		t.Fatal("completion_event.json written without a completion sink")
	}
}

// TestNotifySetDuringRun: a pattern set while the job runs applies only to
// lines completed afterwards (no replay), and a completion command set
// while it runs is used at completion.
func TestNotifySetDuringRun(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	tmp := t.TempDir()
	gate, seen := filepath.Join(tmp, "gate"), filepath.Join(tmp, "seen.json")
	res, err := m.Run(ctx, agentexec.RunRequest{
		Spec: agentexec.JobSpec{Command: []string{"sh", "-c",
			// The pause after the gate outlasts the 100 ms configuration age.
			`echo MATCH-old; while [ ! -e "$GATE" ]; do sleep 0.01; done; sleep 0.3; echo MATCH-new; echo other`},
			Env: []string{"GATE=" + gate}},
		Observe: noWait(),
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(m.Root(), res.JobID)
	// full.log is written as the supervisor processes lines: once it holds
	// the old line, that line was evaluated under the old configuration.
	waitUntilTrue(t, func() bool {
		data, _ := os.ReadFile(filepath.Join(dir, "full.log"))
		return strings.Contains(string(data), "[STDOUT] MATCH-old")
	})
	if _, err := m.NotifySet(ctx, res.JobID, agentexec.NotifyUpdate{OutputPattern: sp("MATCH"), Command: sp("cat > " + seen)}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(gate, nil, 0o600)
	if _, err := m.Wait(ctx, res.JobID, agentexec.WaitOptions{Forever: true}); err != nil {
		t.Fatal(err)
	}
	waitSupervisorExit(t, m, res.JobID)
	recs := ndjson(t, filepath.Join(dir, "notification_events.ndjson"))
	if len(recs) != 1 || recs[0]["line"] != "MATCH-new" {
		t.Fatalf("records %v: want only the line after notify set", recs)
	}
	data, err := os.ReadFile(filepath.Join(dir, "completion_event.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"schema_version", "event_type", "job_id", "state", "command", "cwd", "started_at", "finished_at", "duration_ms", "exit_code", "stdout_log_path", "stderr_log_path", "resources", "delivery_results"}
	if got := keysInOrder(t, data); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("completion_event.json keys %v", got)
	}
	var ev struct {
		State   string `json:"state"`
		Results []struct {
			SinkType string `json:"sink_type"`
			Success  bool   `json:"success"`
		} `json:"delivery_results"`
	}
	json.Unmarshal(data, &ev)
	if ev.State != "exited" || len(ev.Results) != 1 || !ev.Results[0].Success || ev.Results[0].SinkType != "command" {
		t.Fatalf("completion event %s", data)
	}
	stdinEv, _ := os.ReadFile(seen)
	if strings.Contains(string(stdinEv), "delivery_results") || strings.HasSuffix(string(stdinEv), "\n") {
		t.Fatalf("sink stdin %q", stdinEv)
	}
}

func waitUntilTrue(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 1000 && !cond(); i++ {
		pollPause()
	}
	if !cond() {
		t.Fatal("condition not reached within 10 s")
	}
}

// TestNotifySetTerminalRunsNothing: notify set on a finished job only edits
// metadata.
func TestNotifySetTerminalRunsNothing(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	marker := filepath.Join(t.TempDir(), "marker")
	res, err := m.Run(ctx, agentexec.RunRequest{Spec: agentexec.JobSpec{Command: []string{"echo MATCH"}}, Observe: waitOpts()})
	if err != nil {
		t.Fatal(err)
	}
	waitSupervisorExit(t, m, res.JobID)
	if _, err := m.NotifySet(ctx, res.JobID, agentexec.NotifyUpdate{Command: sp("touch " + marker),
		OutputPattern: sp("MATCH"), OutputCommand: sp("touch " + marker)}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(m.Root(), res.JobID)
	for _, p := range []string{marker, filepath.Join(dir, "completion_event.json"), filepath.Join(dir, "notification_events.ndjson")} {
		if _, err := os.Stat(p); err == nil {
			t.Fatalf("%s exists: notify set ran something", p)
		}
	}
}

// TestCompletionTimeoutFromConfig: [notify] timeout_ms bounds the command
// sink, whose failure is recorded without changing the job's state.
func TestCompletionTimeoutFromConfig(t *testing.T) {
	cfgHome := t.TempDir()
	os.MkdirAll(filepath.Join(cfgHome, "agent-exec"), 0o700)
	os.WriteFile(filepath.Join(cfgHome, "agent-exec", "config.toml"), []byte("[notify]\ntimeout_ms = 200\n"), 0o600)
	root := filepath.Join(t.TempDir(), "jobs")
	m, err := agentexec.Open(root, agentexec.Options{Env: append(os.Environ(), "XDG_CONFIG_HOME="+cfgHome)})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	res, err := m.Run(ctx, agentexec.RunRequest{
		Spec: agentexec.JobSpec{Command: []string{"sh", "-c", "exit 4"},
			Notification: &agentexec.Notification{NotifyCommand: "sleep 30", NotifyFile: filepath.Join(t.TempDir(), "a", "done")}},
		Observe: waitOpts(),
	})
	if err != nil {
		t.Fatal(err)
	}
	waitSupervisorExit(t, m, res.JobID)
	data, _ := os.ReadFile(filepath.Join(root, res.JobID, "completion_event.json"))
	var ev struct {
		ExitCode int `json:"exit_code"`
		Results  []struct {
			SinkType, Error string
			Success         bool
		} `json:"delivery_results"`
	}
	json.Unmarshal(data, &ev)
	if ev.ExitCode != 4 || len(ev.Results) != 2 || ev.Results[0].Error != "timed out after 200 ms" || !ev.Results[1].Success {
		t.Fatalf("completion event %s", data)
	}
	st, _ := m.Status(ctx, res.JobID)
	if st.State != agentexec.StateExited || *st.ExitCode != 4 {
		t.Fatalf("status %+v", st)
	}
}

func pollPause() { time.Sleep(10 * time.Millisecond) }
