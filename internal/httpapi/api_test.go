package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agentexec/agentexec"
)

func TestHealth(t *testing.T) {
	e := newEnv(t)
	r := e.do(http.MethodGet, "/health", "")
	wantOK(t, r, "health")
	if r.body != `{"schema_version":"0.1","ok":true,"type":"health"}`+"\n" {
		t.Fatalf("body %q", r.body)
	}
}

// TestExecOriginalBody sends the v0.1.18 body {command,cwd,env,timeout_ms,
// wait} unchanged and checks the launch response field by field.
func TestExecOriginalBody(t *testing.T) {
	e := newEnv(t)
	r := e.post("/exec", `{"command":["echo \"$B $A\"; pwd"],"cwd":"sub","env":{"B":"2","A":"1"},"timeout_ms":0,"wait":true}`)
	wantOK(t, r, "run")
	id := r.str("job_id")
	wantKeys := []string{"schema_version", "ok", "type", "job_id", "state", "tags", "stdout_log_path", "stderr_log_path",
		"waited_ms", "elapsed_ms", "exit_code", "finished_at", "final_snapshot", "duration_ms", "resources"}
	if got := topKeys(t, r.body); strings.Join(got, ",") != strings.Join(wantKeys, ",") {
		t.Fatalf("keys %v\nwant %v", got, wantKeys)
	}
	checks := map[string]any{
		"state":                                "exited",
		"exit_code":                            0.0,
		"stdout_log_path":                      filepath.Join(e.root, id, "stdout.log"),
		"stderr_log_path":                      filepath.Join(e.root, id, "stderr.log"),
		"final_snapshot.stdout_tail":           "2 1\n" + filepath.Join(e.cwd, "sub"),
		"final_snapshot.stderr_tail":           "",
		"final_snapshot.truncated":             false,
		"final_snapshot.encoding":              "utf-8-lossy",
		"final_snapshot.stderr_observed_bytes": 0.0,
	}
	for k, want := range checks {
		if got, _ := r.field(k); got != want {
			t.Errorf("%s = %#v; want %#v", k, got, want)
		}
	}
	if tags, _ := r.field("tags"); fmt.Sprint(tags) != "[]" {
		t.Errorf("tags = %v", tags)
	}
	// env is stored in key order, unmasked.
	var meta struct {
		EnvVars []string `json:"env_vars"`
		Cwd     string   `json:"cwd"`
	}
	data, err := os.ReadFile(filepath.Join(e.root, id, "meta.json"))
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(data, &meta)
	if strings.Join(meta.EnvVars, " ") != "A=1 B=2" || meta.Cwd != filepath.Join(e.cwd, "sub") {
		t.Fatalf("meta env_vars %v cwd %s", meta.EnvVars, meta.Cwd)
	}
}

// topKeys returns the top-level keys of a JSON object in document order.
func topKeys(t *testing.T, body string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", body)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func TestExecNoWait(t *testing.T) {
	e := newEnv(t)
	r := e.post("/exec", `{"command":["sleep 30"],"tags":["ci.build","ci.build"]}`)
	wantOK(t, r, "run")
	if r.str("state") != "running" {
		t.Fatalf("state %s", r.body)
	}
	for _, k := range []string{"snapshot", "final_snapshot", "exit_code", "finished_at", "env_vars"} {
		if _, ok := r.field(k); ok {
			t.Errorf("%s present: %s", k, r.body)
		}
	}
	if w, _ := r.field("waited_ms"); w != 0.0 {
		t.Errorf("waited_ms = %v", w)
	}
	if tags, _ := r.field("tags"); fmt.Sprint(tags) != "[ci.build]" {
		t.Errorf("tags = %v", tags)
	}
}

func TestExecTimeouts(t *testing.T) {
	e := newEnv(t)
	for _, body := range []string{
		`{"command":["sleep 30"],"timeout_ms":100,"wait":true}`,
		`{"command":["sleep 30"],"timeout":0.1,"wait":true}`,
	} {
		r := e.post("/exec", body)
		wantOK(t, r, "run")
		if r.str("state") != "killed" || r.str("signal") != "TERM" || r.json["timed_out"] != true {
			t.Fatalf("%s → %s", body, r.body)
		}
		if _, ok := r.field("final_snapshot"); !ok {
			t.Fatalf("no final_snapshot: %s", r.body)
		}
		var meta struct {
			TimeoutMS int64 `json:"timeout_ms"`
		}
		data, _ := os.ReadFile(filepath.Join(e.root, r.str("job_id"), "meta.json"))
		if err := json.Unmarshal(data, &meta); err != nil || meta.TimeoutMS != 100 {
			t.Fatalf("meta: %s", data)
		}
	}
}

func TestExecUntilAndKill(t *testing.T) {
	e := newEnv(t)
	r := e.post("/exec", `{"command":["echo started; sleep 30"],"wait":true,"until_ms":200,"tail_lines":1,"max_bytes":100}`)
	wantOK(t, r, "run")
	if r.str("state") != "running" {
		t.Fatalf("state: %s", r.body)
	}
	if _, ok := r.field("final_snapshot"); ok {
		t.Fatalf("final_snapshot on a running job: %s", r.body)
	}
	if w, _ := r.field("waited_ms"); w.(float64) < 200 {
		t.Fatalf("waited_ms %v < 200", w)
	}
	id := r.str("job_id")
	k := e.post("/kill/"+id[:10], "")
	wantOK(t, k, "kill")
	if k.body != fmt.Sprintf(`{"schema_version":"0.1","ok":true,"type":"kill","job_id":"%s","signal":"TERM","state":"killed"}`+"\n", id) {
		t.Fatalf("kill: %s", k.body)
	}
	// Killing a terminal job is a no-op reporting its state.
	k = e.post("/kill/"+id, `{"signal":"sigkill"}`)
	wantOK(t, k, "kill")
	if k.str("signal") != "KILL" || k.str("state") != "killed" {
		t.Fatalf("kill again: %s", k.body)
	}
}

func TestExecStdin(t *testing.T) {
	e := newEnv(t)
	r := e.post("/exec", `{"command":["cat"],"stdin":"a<b>&c","wait":true}`)
	wantOK(t, r, "run")
	if r.str("final_snapshot.stdout_tail") != "a<b>&c" || !strings.Contains(r.body, `"stdout_tail":"a<b>&c"`) {
		t.Fatalf("stdin not forwarded or HTML-escaped: %s", r.body)
	}
}

func TestExecStdinTooLarge(t *testing.T) {
	e := newEnv(t, func(c *envConfig) { c.mopts.StdinMaxBytes = 4 })
	r := e.post("/exec", `{"command":["cat"],"stdin":"hello"}`)
	wantError(t, r, http.StatusRequestEntityTooLarge, "stdin_too_large", "stdin exceeds 4 bytes")
	if n := e.jobCount(); n != 0 {
		t.Fatalf("%d jobs created", n)
	}
}

func TestExecLaunchFailed(t *testing.T) {
	e := newEnv(t)
	r := e.post("/exec", `{"command":["true"],"cwd":"/nonexistent/dir"}`)
	wantError(t, r, http.StatusUnprocessableEntity, "launch_failed", "")
	if !strings.HasPrefix(r.str("error.message"), "launch_failed: ") {
		t.Fatalf("message %q", r.str("error.message"))
	}
	id := r.str("error.details.job_id")
	if r.str("error.details.state") != "failed" || id == "" {
		t.Fatalf("details: %s", r.body)
	}
	s := e.do(http.MethodGet, "/status/"+id, "")
	wantOK(t, s, "status")
	if s.str("state") != "failed" {
		t.Fatalf("status: %s", s.body)
	}
}

func TestExecRequestErrors(t *testing.T) {
	e := newEnv(t)
	big := `{"command":["true"],"pad":"` + strings.Repeat("x", 1<<20) + `"}`
	tests := []struct {
		name, ct, body string
		status         int
		code, msg      string
	}{
		{"empty", "application/json", "", 400, "invalid_request", "request body is required"},
		{"too large", "application/json", big, 400, "invalid_request", "failed to read request body"},
		{"not json", "application/json", "command=ls", 400, "invalid_request", ""},
		{"truncated", "application/json", `{"command":["ls"]`, 400, "invalid_request", ""},
		{"array", "application/json", `[]`, 400, "invalid_request", "invalid JSON: expected a JSON object"},
		{"trailing", "application/json", `{"command":["ls"]} {}`, 400, "invalid_request", ""},
		{"no command", "application/json", `{"cwd":"/"}`, 400, "invalid_request", "command field is required and must be non-empty"},
		{"null command", "application/json", `{"command":null}`, 400, "invalid_request", "command field is required and must be non-empty"},
		{"empty command", "application/json", `{"command":[]}`, 400, "invalid_request", "command field is required and must be non-empty"},
		{"case-sensitive", "application/json", `{"Command":["ls"]}`, 400, "invalid_request", "command field is required and must be non-empty"},
		{"command string", "application/json", `{"command":"ls"}`, 400, "invalid_request", `invalid JSON: field "command": expected an array of strings`},
		{"command number", "application/json", `{"command":["ls",1]}`, 400, "invalid_request", `invalid JSON: field "command": expected an array of strings`},
		{"negative timeout_ms", "application/json", `{"command":["ls"],"timeout_ms":-1}`, 400, "invalid_request", `invalid JSON: field "timeout_ms": expected a non-negative integer`},
		{"fraction timeout_ms", "application/json", `{"command":["ls"],"timeout_ms":1.5}`, 400, "invalid_request", `invalid JSON: field "timeout_ms": expected a non-negative integer`},
		{"string timeout_ms", "application/json", `{"command":["ls"],"timeout_ms":"5"}`, 400, "invalid_request", `invalid JSON: field "timeout_ms": expected a non-negative integer`},
		{"huge timeout_ms", "application/json", `{"command":["ls"],"timeout_ms":18446744073709551616}`, 400, "invalid_request", `invalid JSON: field "timeout_ms": expected a non-negative integer`},
		{"wait string", "application/json", `{"command":["ls"],"wait":"yes"}`, 400, "invalid_request", `invalid JSON: field "wait": expected a boolean`},
		{"cwd number", "application/json", `{"command":["ls"],"cwd":1}`, 400, "invalid_request", `invalid JSON: field "cwd": expected a string`},
		{"env array", "application/json", `{"command":["ls"],"env":["A=1"]}`, 400, "invalid_request", `invalid JSON: field "env": expected an object of strings`},
		{"env number", "application/json", `{"command":["ls"],"env":{"A":1}}`, 400, "invalid_request", `invalid JSON: field "env": expected an object of strings`},
		{"negative timeout", "application/json", `{"command":["ls"],"timeout":-0.5}`, 400, "invalid_request", `invalid JSON: field "timeout": expected a non-negative number`},
		{"both timeouts", "application/json", `{"command":["ls"],"timeout":1,"timeout_ms":1000}`, 400, "invalid_request", "timeout and timeout_ms are mutually exclusive"},
		{"until string", "application/json", `{"command":["ls"],"until_ms":"1"}`, 400, "invalid_request", `invalid JSON: field "until_ms": expected a non-negative integer`},
		{"tail_lines negative", "application/json", `{"command":["ls"],"tail_lines":-1}`, 400, "invalid_request", `invalid JSON: field "tail_lines": expected a non-negative integer`},
		{"max_bytes bool", "application/json", `{"command":["ls"],"max_bytes":true}`, 400, "invalid_request", `invalid JSON: field "max_bytes": expected a non-negative integer`},
		{"kill_after string", "application/json", `{"command":["ls"],"kill_after_ms":"1"}`, 400, "invalid_request", `invalid JSON: field "kill_after_ms": expected a non-negative integer`},
		{"tags string", "application/json", `{"command":["ls"],"tags":"a"}`, 400, "invalid_request", `invalid JSON: field "tags": expected an array of strings`},
		{"stdin number", "application/json", `{"command":["ls"],"stdin":5}`, 400, "invalid_request", `invalid JSON: field "stdin": expected a string`},
		{"bad tag", "application/json", `{"command":["ls"],"tags":["a..b"]}`, 400, "invalid_tag", ""},
		{"wildcard tag", "application/json", `{"command":["ls"],"tags":["ci.*"]}`, 400, "invalid_tag", ""},
		{"env key with =", "application/json", `{"command":["ls"],"env":{"A=B":"x"}}`, 400, "invalid_argument", `invalid env key "A=B": must not contain '='`},
		{"env empty key", "application/json", `{"command":["ls"],"env":{"":"x"}}`, 400, "invalid_argument", ""},
		{"env NUL value", "application/json", `{"command":["ls"],"env":{"A":"x\u0000y"}}`, 400, "invalid_argument", ""},
		{"form post", "application/x-www-form-urlencoded", `{"command":["id"]}`, 415, "invalid_request", "Content-Type must be application/json"},
		{"text/plain", "text/plain", `{"command":["id"]}`, 415, "invalid_request", "Content-Type must be application/json"},
		{"multipart", "multipart/form-data; boundary=x", `{"command":["id"]}`, 415, "invalid_request", "Content-Type must be application/json"},
		{"no content type", "", `{"command":["id"]}`, 415, "invalid_request", "Content-Type must be application/json"},
		{"json suffix", "application/json-seq", `{"command":["id"]}`, 415, "invalid_request", "Content-Type must be application/json"},
		{"415 before empty body", "text/plain", "", 415, "invalid_request", "Content-Type must be application/json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var opts []reqOpt
			if tc.ct != "" {
				opts = append(opts, withHeader("Content-Type", tc.ct))
			}
			r := e.do(http.MethodPost, "/exec", tc.body, opts...)
			wantError(t, r, tc.status, tc.code, tc.msg)
			if tc.msg == "" && tc.code == "invalid_request" && !strings.HasPrefix(r.str("error.message"), "invalid JSON: ") {
				t.Fatalf("message %q", r.str("error.message"))
			}
		})
	}
	if n := e.jobCount(); n != 0 {
		t.Fatalf("rejected requests created %d jobs", n)
	}
}

func TestExecContentTypeVariants(t *testing.T) {
	e := newEnv(t)
	for _, ct := range []string{"application/json; charset=utf-8", "Application/JSON", "application/json;charset=UTF-8"} {
		r := e.do(http.MethodPost, "/exec", `{"command":["true"],"wait":true,"unknown":{"x":1}}`, withHeader("Content-Type", ct))
		wantOK(t, r, "run")
		if r.str("state") != "exited" {
			t.Fatalf("%s: %s", ct, r.body)
		}
	}
}

func TestStatusTailWait(t *testing.T) {
	e := newEnv(t)
	r := e.post("/exec", `{"command":["printf 'line1\\nline2\\nline3\\nline4\\nline5\\n'; echo err >&2; exit 3"],"wait":true}`)
	wantOK(t, r, "run")
	id := r.str("job_id")

	s := e.do(http.MethodGet, "/status/"+id[:12], "")
	wantOK(t, s, "status")
	if s.str("job_id") != id || s.str("state") != "exited" || s.json["exit_code"] != 3.0 {
		t.Fatalf("status: %s", s.body)
	}
	wantKeys := "schema_version,ok,type,job_id,state,exit_code,created_at,started_at,finished_at,updated_at,duration_ms,command,cwd,tags,stdout_log_path,stderr_log_path,resources"
	if got := strings.Join(topKeys(t, s.body), ","); got != wantKeys {
		t.Fatalf("status keys %s", got)
	}

	tl := e.do(http.MethodGet, "/tail/"+id+"?tail_lines=2", "")
	wantOK(t, tl, "tail")
	want := fmt.Sprintf(`{"schema_version":"0.1","ok":true,"type":"tail","job_id":"%s","stdout_tail":"line4\nline5","stderr_tail":"err","truncated":true,"encoding":"utf-8-lossy","stdout_log_path":"%s","stderr_log_path":"%s","stdout_observed_bytes":30,"stderr_observed_bytes":4,"stdout_included_bytes":11,"stderr_included_bytes":3,"cursor":"30.4"}`+"\n",
		id, filepath.Join(e.root, id, "stdout.log"), filepath.Join(e.root, id, "stderr.log"))
	if tl.body != want {
		t.Fatalf("tail:\n%s\nwant\n%s", tl.body, want)
	}
	tl = e.do(http.MethodGet, "/tail/"+id+"?max_bytes=8&unknown=1", "")
	wantOK(t, tl, "tail")
	if tl.str("stdout_tail") != "4\nline5" || tl.json["truncated"] != true {
		t.Fatalf("tail max_bytes: %s", tl.body)
	}
	tl = e.do(http.MethodGet, "/tail/"+id, "")
	if tl.str("stdout_tail") != "line1\nline2\nline3\nline4\nline5" || tl.json["truncated"] != false {
		t.Fatalf("tail defaults: %s", tl.body)
	}

	w := e.do(http.MethodGet, "/wait/"+id+"?tail_lines=1", "")
	wantOK(t, w, "wait")
	if w.str("state") != "exited" || w.json["exit_code"] != 3.0 || w.str("stdout_tail") != "line5" || w.str("finished_at") == "" {
		t.Fatalf("wait: %s", w.body)
	}
}

func TestWaitRunning(t *testing.T) {
	e := newEnv(t)
	id := e.startSleeper()
	w := e.do(http.MethodGet, "/wait/"+id+"?until_ms=0", "")
	wantOK(t, w, "wait")
	if w.str("state") != "running" {
		t.Fatalf("wait until_ms=0: %s", w.body)
	}
	// Without until_ms the wait lasts until the job is terminal.
	r := e.post("/exec", `{"command":["sleep 0.3; echo done"]}`)
	id2 := r.str("job_id")
	start := time.Now()
	w = e.do(http.MethodGet, "/wait/"+id2, "")
	wantOK(t, w, "wait")
	if w.str("state") != "exited" || w.str("stdout_tail") != "done" || time.Since(start) > 10*time.Second {
		t.Fatalf("wait: %s", w.body)
	}
}

// TestWaitClientDisconnect: a client that goes away ends its wait; the job
// and the server are unaffected.
func TestWaitClientDisconnect(t *testing.T) {
	e := newEnv(t)
	id := e.startSleeper()
	for _, path := range []string{"/wait/" + id} {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.url+path, nil)
		_, err := http.DefaultClient.Do(req)
		cancel()
		if err == nil {
			t.Fatalf("%s answered before the job ended", path)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.url+"/exec", strings.NewReader(`{"command":["sleep 30"],"wait":true}`))
	req.Header.Set("Content-Type", "application/json")
	_, err := http.DefaultClient.Do(req)
	cancel()
	if err == nil {
		t.Fatal("/exec with wait answered before the job ended")
	}
	s := e.do(http.MethodGet, "/status/"+id, "")
	if s.str("state") != "running" {
		t.Fatalf("job affected: %s", s.body)
	}
	// The launched job of the abandoned /exec keeps running too. The
	// server may still be launching it when the client has gone.
	deadline := time.Now().Add(10 * time.Second)
	for {
		l := e.do(http.MethodGet, "/jobs?state=running", "")
		jobs, _ := l.field("jobs")
		if len(jobs.([]any)) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("running jobs: %s", l.body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestShutdownEndsWaits: cancelling Serve's context ends open waits at once
// (their connections close without a response) and Serve returns nil.
func TestShutdownEndsWaits(t *testing.T) {
	e := newEnv(t)
	id := e.startSleeper()
	errc := make(chan error, 2)
	written := make(chan struct{}, 2)
	for range 2 {
		go func() {
			// The trace tells when the request is on the wire, so the
			// shutdown below really races an open wait.
			trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { written <- struct{}{} }}
			req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, e.url+"/wait/"+id, nil)
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
				err = fmt.Errorf("got a response: %s", resp.Status)
			} else {
				err = nil
			}
			errc <- err
		}()
	}
	<-written
	<-written
	start := time.Now()
	e.stop()
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("shutdown took %v", d)
	}
	for range 2 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	if st, _ := e.m.Status(context.Background(), id); st.State != agentexec.StateRunning {
		t.Fatalf("shutdown affected the job: %s", st.State)
	}
}

// TestAutoGC: after a successful /exec the bounded cleanup runs in the
// background and removes old terminal jobs, never the job just launched.
func TestAutoGC(t *testing.T) {
	e := newEnv(t, func(c *envConfig) {
		c.opts.AutoGC = &agentexec.AutoGCOptions{OlderThan: time.Nanosecond, ScanLimit: 200, DeleteLimit: 20}
	})
	// The old job is launched through the library, so that only the /exec
	// below triggers a cleanup; its supervisor must be gone to be eligible.
	res, err := e.m.Run(context.Background(), agentexec.RunRequest{Spec: agentexec.JobSpec{Command: []string{"true"}},
		Observe: agentexec.ObserveOptions{Wait: true, Forever: true}})
	if err != nil || res.State != agentexec.StateExited {
		t.Fatalf("run: %v %v", res, err)
	}
	old := res.JobID
	var st struct {
		Supervisor struct{ PID int } `json:"supervisor"`
	}
	data, _ := os.ReadFile(filepath.Join(e.root, old, "state.json"))
	if err := json.Unmarshal(data, &st); err != nil || st.Supervisor.PID <= 1 {
		t.Fatalf("state.json: %s", data)
	}
	poll(t, "the supervisor to exit", 10*time.Second, func() bool {
		return syscall.Kill(st.Supervisor.PID, 0) == syscall.ESRCH
	})
	r := e.post("/exec", `{"command":["true"],"wait":true}`)
	wantOK(t, r, "run")
	fresh := r.str("job_id")
	poll(t, "auto-GC to delete the old job", 10*time.Second, func() bool {
		_, err := os.Stat(filepath.Join(e.root, old))
		return os.IsNotExist(err)
	})
	if _, err := os.Stat(filepath.Join(e.root, fresh)); err != nil {
		t.Fatalf("the job just launched was collected: %v", err)
	}
}

// TestTailCursor: GET /tail/{id}?cursor= reads forward (SPEC §11.1).
func TestTailCursor(t *testing.T) {
	e := newEnv(t)
	r := e.post("/exec", `{"command":["printf 'abc\\ndef\\n'"],"wait":true}`)
	wantOK(t, r, "run")
	id := r.str("job_id")
	if c, _ := r.field("final_snapshot.cursor"); c != "8.0" {
		t.Fatalf("final_snapshot.cursor = %v: %s", c, r.body)
	}
	r = e.do("GET", "/tail/"+id+"?cursor=4.0&max_bytes=3", "")
	wantOK(t, r, "tail")
	for k, want := range map[string]any{"stdout": "def", "stdout_from": 4.0, "stdout_next_offset": 7.0,
		"stdout_remaining_bytes": 1.0, "more": true, "cursor": "7.0", "state": "exited"} {
		if got, _ := r.field(k); got != want {
			t.Errorf("%s = %v, want %v", k, got, want)
		}
	}
	if got := topKeys(t, r.body); strings.Join(got, ",") != "schema_version,ok,type,job_id,state,stdout,stderr,stdout_from,stderr_from,"+
		"stdout_next_offset,stderr_next_offset,stdout_remaining_bytes,stderr_remaining_bytes,more,cursor,encoding,stdout_log_path,stderr_log_path" {
		t.Errorf("keys %v", got)
	}
	wantError(t, e.do("GET", "/tail/"+id+"?cursor=4", ""), 400, "invalid_argument", "")
}

// TestWaitForOutput: GET /wait/{id}?for_output= and POST /exec
// wait_for_output (SPEC §11.2).
func TestWaitForOutput(t *testing.T) {
	e := newEnv(t)
	r := e.post("/exec", `{"command":["echo boot; sleep 0.3; echo 'READY 1'; echo 'READY 2'; sleep 30"],"wait_for_output":"READY","until_ms":20000}`)
	wantOK(t, r, "run")
	id := r.str("job_id")
	for k, want := range map[string]any{"state": "running", "matched": true, "match.stream": "stdout", "match.line": "READY 1",
		"match.offset": 5.0} {
		if got, _ := r.field(k); got != want {
			t.Errorf("/exec %s = %v, want %v: %s", k, got, want, r.body)
		}
	}
	if _, ok := r.field("snapshot.cursor"); !ok {
		t.Errorf("/exec: no snapshot.cursor: %s", r.body)
	}
	r = e.do("GET", "/wait/"+id+"?for_output=READY&cursor=13.0&until_ms=20000", "")
	wantOK(t, r, "wait")
	for k, want := range map[string]any{"matched": true, "match.line": "READY 2", "match.offset": 13.0, "cursor": "21.0"} {
		if got, _ := r.field(k); got != want {
			t.Errorf("/wait %s = %v, want %v: %s", k, got, want, r.body)
		}
	}
	r = e.do("GET", "/wait/"+id+"?for_output=%5EREADY+%5Cd%24&match_type=regex&stream=stderr&until_ms=50", "")
	wantOK(t, r, "wait")
	if m, _ := r.field("matched"); m != false {
		t.Errorf("stderr has no READY: %s", r.body)
	}
	wantError(t, e.do("GET", "/wait/"+id+"?for_output=(&match_type=regex", ""), 400, "invalid_argument", "")
	wantError(t, e.do("GET", "/wait/"+id+"?for_output=x&cursor=", ""), 400, "invalid_argument", "")
	wantError(t, e.do("GET", "/wait/"+id+"?for_output=x&stream=both", ""), 400, "invalid_argument", "")
	wantError(t, e.do("GET", "/wait/"+id+"?cursor=0.0", ""), 400, "invalid_argument", "")
	wantError(t, e.post("/exec", `{"command":["true"],"stream":"stdout"}`), 400, "invalid_argument", "")
	wantError(t, e.post("/exec", `{"command":["true"],"wait_for_output":"x","match_type":"glob"}`), 400, "invalid_argument", "")
	e.post("/kill/"+id, "")
}
