package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/agentexec/agentexec"
)

// TestMain lets the test binary act as the supervisor: launches re-execute
// os.Executable() with "_supervise", exactly as the real binary does.
// It also removes the agent-exec binary the stdio tests build.
func TestMain(m *testing.M) {
	agentexec.SuperviseMain()
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// env is one MCP session against a real Manager on a temporary root.
type env struct {
	t    *testing.T
	m    *agentexec.Manager
	root string
	cwd  string // the server's cwd
	cs   *mcp.ClientSession
	done chan error // Serve's result
	stop context.CancelFunc
}

func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	return newEnvWith(t, opts, agentexec.Options{})
}

// newEnvWith is newEnv with Manager options (Cwd and LongLived are set here).
func newEnvWith(t *testing.T, opts Options, mopts agentexec.Options) *env {
	t.Helper()
	dir := t.TempDir()
	cwd := filepath.Join(dir, "work")
	if err := os.Mkdir(cwd, 0o755); err != nil {
		t.Fatal(err)
	}
	cwd, _ = filepath.EvalSymlinks(cwd)
	root := filepath.Join(dir, "jobs")
	mopts.Cwd, mopts.LongLived = cwd, true
	m, err := agentexec.Open(root, mopts)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Cwd == "" {
		opts.Cwd = cwd
	}
	if opts.Version == "" {
		opts.Version = "1.2.3-test"
	}
	ctx, stop := context.WithCancel(context.Background())
	st, ct := mcp.NewInMemoryTransports()
	e := &env{t: t, m: m, root: root, cwd: cwd, done: make(chan error, 1), stop: stop}
	go func() { e.done <- Serve(ctx, m, opts, st) }()
	client := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "1"}, nil)
	cs, err := client.Connect(ctx, ct, nil)
	if err != nil {
		stop()
		t.Fatal(err)
	}
	e.cs = cs
	t.Cleanup(func() {
		killAll(t, m)
		cs.Close()
		stop()
		select {
		case <-e.done:
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after cancel")
		}
		m.Close()
	})
	return e
}

// killAll kills every job still running under the manager's root.
func killAll(t *testing.T, m *agentexec.Manager) {
	ctx := context.Background()
	res, err := m.List(ctx, agentexec.ListOptions{All: true})
	if err != nil {
		t.Logf("cleanup list: %v", err)
		return
	}
	for _, j := range res.Jobs {
		if j.State == agentexec.StateRunning {
			if _, err := m.Kill(ctx, j.JobID, agentexec.KillOptions{Signal: "KILL"}); err != nil {
				t.Logf("cleanup kill %s: %v", j.JobID, err)
			}
		}
	}
}

// call invokes a tool and returns the result and its envelope. It checks the
// result shape every tool result must have: one text item whose JSON equals
// structuredContent, and isError exactly when ok is false.
func (e *env) call(name string, args map[string]any) (*mcp.CallToolResult, map[string]any) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := e.cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		e.t.Fatalf("call %s: %v", name, err)
	}
	if len(res.Content) != 1 {
		e.t.Fatalf("call %s: %d content items, want 1", name, len(res.Content))
	}
	text, ok := res.Content[0].(*mcp.TextContent)
	if !ok {
		e.t.Fatalf("call %s: content is %T", name, res.Content[0])
	}
	var env map[string]any
	if err := json.Unmarshal([]byte(text.Text), &env); err != nil {
		e.t.Fatalf("call %s: text is not JSON: %v: %s", name, err, text.Text)
	}
	if strings.ContainsAny(text.Text, "\n") || !strings.HasPrefix(text.Text, `{"schema_version":"0.1","ok":`) {
		e.t.Fatalf("call %s: text is not a compact envelope: %s", name, text.Text)
	}
	if !reflect.DeepEqual(res.StructuredContent, any(env)) {
		e.t.Fatalf("call %s: structuredContent %v differs from text %s", name, res.StructuredContent, text.Text)
	}
	if res.IsError != (env["ok"] == false) {
		e.t.Fatalf("call %s: isError %v with ok %v", name, res.IsError, env["ok"])
	}
	return res, env
}

// ok calls a tool that must succeed with the given response type.
func (e *env) ok(name string, args map[string]any, typ string) map[string]any {
	e.t.Helper()
	_, env := e.call(name, args)
	if env["ok"] != true || env["type"] != typ {
		e.t.Fatalf("call %s: want ok type %s, got %v", name, typ, env)
	}
	return env
}

// fail calls a tool that must fail with the given error code.
func (e *env) fail(name string, args map[string]any, code string) map[string]any {
	e.t.Helper()
	_, env := e.call(name, args)
	errObj, _ := env["error"].(map[string]any)
	if env["ok"] != false || env["type"] != "error" || errObj == nil || errObj["code"] != code || errObj["retryable"] != false {
		e.t.Fatalf("call %s: want error %s, got %v", name, code, env)
	}
	return errObj
}

func (e *env) jobCount() int {
	e.t.Helper()
	res, err := e.m.List(context.Background(), agentexec.ListOptions{All: true})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(res.Jobs) + res.Skipped
}

func wantField(t *testing.T, env map[string]any, key string, want any) {
	t.Helper()
	if got, ok := env[key]; !ok || !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v (present %v), want %#v in %v", key, got, ok, want, env)
	}
}

func wantAbsent(t *testing.T, env map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if v, ok := env[k]; ok {
			t.Errorf("%s present (%v), want absent", k, v)
		}
	}
}

func TestInitialize(t *testing.T) {
	e := newEnv(t, Options{Version: "9.8.7"})
	ir := e.cs.InitializeResult()
	if ir.ServerInfo.Name != "agent-exec" || ir.ServerInfo.Version != "9.8.7" {
		t.Errorf("server info = %+v", ir.ServerInfo)
	}
	if ir.Capabilities.Tools == nil || ir.Capabilities.Resources != nil || ir.Capabilities.Prompts != nil {
		t.Errorf("capabilities = %+v, want tools only", ir.Capabilities)
	}
}

func TestToolsList(t *testing.T) {
	e := newEnv(t, Options{})
	res, err := e.cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	type prop struct {
		typ string
		def any // nil = no default advertised
	}
	want := map[string]struct {
		required []string
		props    map[string]prop
	}{
		"run": {[]string{"command"}, map[string]prop{
			"command": {"array", nil}, "cwd": {"string", nil}, "env": {"object", nil},
			"timeout_ms": {"integer", nil}, "kill_after_ms": {"integer", nil}, "tags": {"array", nil},
			"stdin": {"string", nil}, "stdin_file": {"string", nil}, "until_ms": {"integer", 10000.0},
			"tail_lines": {"integer", 40.0}, "max_bytes": {"integer", 16384.0}, "settle_ms": {"integer", 500.0},
			"render": {"string", "terminal"}, "agent_env": {"boolean", true},
			"wait_for_output": {"string", nil}, "match_type": {"string", "contains"}, "stream": {"string", "either"},
			"name": {"string", nil}, "ensure": {"boolean", false}, "backend": {"string", nil},
			"descendants": {"string", "leave"}, "idle_timeout_ms": {"integer", nil}, "wait_for_port": {"integer", nil},
			"interactive": {"boolean", false}, "pty": {"boolean", false}}},
		"status": {[]string{"job_id"}, map[string]prop{"job_id": {"string", nil}}},
		"screen": {[]string{"job_id"}, map[string]prop{"job_id": {"string", nil}}},
		"tail": {[]string{"job_id"}, map[string]prop{"job_id": {"string", nil},
			"tail_lines": {"integer", 40.0}, "max_bytes": {"integer", 16384.0}, "render": {"string", "terminal"}, "cursor": {"string", nil}}},
		"wait": {[]string{"job_id"}, map[string]prop{"job_id": {"string", nil}, "until_ms": {"integer", 30000.0},
			"tail_lines": {"integer", 40.0}, "max_bytes": {"integer", 16384.0}, "render": {"string", "terminal"},
			"for_output": {"string", nil}, "match_type": {"string", "contains"}, "stream": {"string", "either"}, "cursor": {"string", nil},
			"for_port": {"integer", nil}}},
		"kill": {[]string{"job_id"}, map[string]prop{"job_id": {"string", nil}, "signal": {"string", "TERM"}}},
		"send": {[]string{"job_id"}, map[string]prop{"job_id": {"string", nil}, "text": {"string", nil},
			"newline": {"boolean", false}, "keys": {"array", nil}, "eof": {"boolean", false}, "until_ms": {"integer", 5000.0},
			"wait_for_output": {"string", nil}, "match_type": {"string", "contains"}, "stream": {"string", "either"},
			"max_bytes": {"integer", 16384.0}, "render": {"string", "terminal"}}},
		"wait_many": {nil, map[string]prop{"job_ids": {"array", nil}, "tags": {"array", nil}, "name": {"string", nil},
			"any": {"boolean", false}, "until_ms": {"integer", 30000.0}, "tail_lines": {"integer", 40.0}, "max_bytes": {"integer", 16384.0},
			"render": {"string", "terminal"}}},
		"list": {nil, map[string]prop{"state": {"string", nil}, "tags": {"array", nil},
			"limit": {"integer", 50.0}, "cwd": {"string", nil}, "all": {"boolean", false}}},
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
		w, ok := want[tool.Name]
		if !ok {
			t.Errorf("unexpected tool %q", tool.Name)
			continue
		}
		if tool.Description == "" {
			t.Errorf("%s: no description", tool.Name)
		}
		b, _ := json.Marshal(tool.InputSchema)
		var s struct {
			Type                 string                    `json:"type"`
			AdditionalProperties *bool                     `json:"additionalProperties"`
			Required             []string                  `json:"required"`
			Properties           map[string]map[string]any `json:"properties"`
		}
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		if s.Type != "object" || s.AdditionalProperties == nil || *s.AdditionalProperties {
			t.Errorf("%s: schema type %q additionalProperties %v", tool.Name, s.Type, s.AdditionalProperties)
		}
		if !slices.Equal(s.Required, w.required) {
			t.Errorf("%s: required %v, want %v", tool.Name, s.Required, w.required)
		}
		var gotProps []string
		for name := range s.Properties {
			gotProps = append(gotProps, name)
		}
		var wantProps []string
		for name := range w.props {
			wantProps = append(wantProps, name)
		}
		slices.Sort(gotProps)
		slices.Sort(wantProps)
		if !slices.Equal(gotProps, wantProps) {
			t.Errorf("%s: properties %v, want %v", tool.Name, gotProps, wantProps)
		}
		for name, p := range w.props {
			ps := s.Properties[name]
			if ps == nil {
				continue
			}
			if ps["type"] != p.typ {
				t.Errorf("%s.%s: type %v, want %s", tool.Name, name, ps["type"], p.typ)
			}
			if d, ok := ps["default"]; ok != (p.def != nil) || ok && d != p.def {
				t.Errorf("%s.%s: default %v (present %v), want %v", tool.Name, name, d, ok, p.def)
			}
			wantMin := 0.0
			if strings.HasSuffix(name, "_port") { // a TCP port: 1-65535
				wantMin = 1.0
			}
			if p.typ == "integer" && ps["minimum"] != wantMin {
				t.Errorf("%s.%s: minimum %v, want %v", tool.Name, name, ps["minimum"], wantMin)
			}
			if ps["description"] == nil {
				t.Errorf("%s.%s: no description", tool.Name, name)
			}
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"kill", "list", "run", "screen", "send", "status", "tail", "wait", "wait_many"}) {
		t.Errorf("tools = %v", names)
	}
	// Spot checks of the constraints that are not types.
	schema := func(name string) map[string]any {
		for _, tool := range res.Tools {
			if tool.Name == name {
				b, _ := json.Marshal(tool.InputSchema)
				var m map[string]any
				json.Unmarshal(b, &m)
				return m["properties"].(map[string]any)
			}
		}
		return nil
	}
	cmd := schema("run")["command"].(map[string]any)
	if cmd["minItems"] != 1.0 || !reflect.DeepEqual(cmd["items"], map[string]any{"type": "string"}) {
		t.Errorf("run.command = %v", cmd)
	}
	envp := schema("run")["env"].(map[string]any)
	if !reflect.DeepEqual(envp["additionalProperties"], map[string]any{"type": "string"}) {
		t.Errorf("run.env = %v", envp)
	}
	state := schema("list")["state"].(map[string]any)
	if !reflect.DeepEqual(state["enum"], []any{"created", "running", "exited", "killed", "failed", "unknown"}) {
		t.Errorf("list.state = %v", state)
	}
}

func TestRunWaitTailStatus(t *testing.T) {
	e := newEnv(t, Options{})
	run := e.ok("run", map[string]any{"command": []string{"sh", "-c", "echo hi; sleep 1; echo done"}, "until_ms": 100}, "run")
	wantField(t, run, "state", "running")
	wantField(t, run, "tags", []any{})
	if _, ok := run["snapshot"].(map[string]any); !ok {
		t.Errorf("run with until_ms 100: no snapshot in %v", run)
	}
	wantAbsent(t, run, "exit_code", "finished_at", "final_snapshot")
	id := run["job_id"].(string)
	wantField(t, run, "stdout_log_path", filepath.Join(e.root, id, "stdout.log"))

	w := e.ok("wait", map[string]any{"job_id": id, "until_ms": 20000}, "wait")
	wantField(t, w, "job_id", id)
	wantField(t, w, "state", "exited")
	wantField(t, w, "exit_code", 0.0)
	wantField(t, w, "stdout_tail", "hi\ndone")
	wantField(t, w, "stderr_tail", "")
	wantField(t, w, "truncated", false)
	wantField(t, w, "encoding", "utf-8-lossy")

	tl := e.ok("tail", map[string]any{"job_id": id[:10], "tail_lines": 1}, "tail")
	wantField(t, tl, "job_id", id)
	wantField(t, tl, "stdout_tail", "done")
	wantField(t, tl, "truncated", true)
	wantField(t, tl, "stdout_observed_bytes", 8.0)
	wantField(t, tl, "stdout_included_bytes", 4.0)

	tl = e.ok("tail", map[string]any{"job_id": id, "max_bytes": 0}, "tail")
	wantField(t, tl, "stdout_tail", "")
	wantField(t, tl, "truncated", true)

	st := e.ok("status", map[string]any{"job_id": id}, "status")
	wantField(t, st, "state", "exited")
	wantField(t, st, "exit_code", 0.0)
	for _, k := range []string{"created_at", "started_at", "finished_at", "updated_at", "duration_ms"} {
		if _, ok := st[k]; !ok {
			t.Errorf("status: %s missing in %v", k, st)
		}
	}
}

func TestRunFinishesEarly(t *testing.T) {
	e := newEnv(t, Options{})
	start := time.Now()
	run := e.ok("run", map[string]any{"command": []string{"sh", "-c", "echo out; echo err >&2; exit 3"}, "until_ms": 20000}, "run")
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("run took %v although the job ended at once", d)
	}
	wantField(t, run, "state", "exited")
	wantField(t, run, "exit_code", 3.0)
	snap := run["snapshot"].(map[string]any)
	wantField(t, snap, "stdout_tail", "out")
	wantField(t, snap, "stderr_tail", "err")
	wantAbsent(t, run, "final_snapshot")
	if _, ok := run["finished_at"]; !ok {
		t.Errorf("finished_at missing: %v", run)
	}
}

func TestRunUntilZero(t *testing.T) {
	e := newEnv(t, Options{})
	run := e.ok("run", map[string]any{"command": []string{"sleep", "30"}, "until_ms": 0}, "run")
	wantField(t, run, "state", "running")
	wantField(t, run, "waited_ms", 0.0)
	wantAbsent(t, run, "snapshot", "final_snapshot", "exit_code")
}

func TestRunDefinition(t *testing.T) {
	e := newEnv(t, Options{})
	sub := filepath.Join(e.cwd, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	_, env := e.call("run", map[string]any{
		"command":    []string{`echo "$B$A"; cat; pwd`},
		"cwd":        "sub",
		"env":        map[string]string{"B": "2", "A": "<1>"},
		"tags":       []string{"ci.build", "x", "x"},
		"stdin":      "in & <out>\n",
		"until_ms":   20000,
		"timeout_ms": 60000,
	})
	if env["ok"] != true {
		t.Fatalf("run: %v", env)
	}
	wantField(t, env, "state", "exited")
	wantField(t, env, "tags", []any{"ci.build", "x"})
	wantField(t, env, "env_vars", []any{"A=<1>", "B=2"})
	wantField(t, env["snapshot"].(map[string]any), "stdout_tail", "2<1>\nin & <out>\n"+sub)

	// The text is the CLI's rendering: documented key order, no HTML escaping.
	res, _ := e.call("status", map[string]any{"job_id": env["job_id"]})
	text := res.Content[0].(*mcp.TextContent).Text
	if !strings.HasPrefix(text, `{"schema_version":"0.1","ok":true,"type":"status","job_id":"`+env["job_id"].(string)+`","state":"exited","exit_code":0,"created_at":`) {
		t.Errorf("status text = %s", text)
	}
	res, _ = e.call("tail", map[string]any{"job_id": env["job_id"]})
	if text := res.Content[0].(*mcp.TextContent).Text; !strings.Contains(text, `in & <out>`) {
		t.Errorf("tail text escapes HTML: %s", text)
	}
}

func TestRunStdinFile(t *testing.T) {
	e := newEnv(t, Options{StdinMaxBytes: 8})
	if err := os.WriteFile(filepath.Join(e.cwd, "in.txt"), []byte("a\nb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.cwd, "big.txt"), []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := e.ok("run", map[string]any{"command": []string{"wc", "-l"}, "stdin_file": "in.txt", "until_ms": 20000}, "run")
	wantField(t, run, "state", "exited")
	if got := strings.TrimSpace(run["snapshot"].(map[string]any)["stdout_tail"].(string)); got != "2" {
		t.Errorf("wc -l of stdin_file = %q, want 2", got)
	}
	// The literal "-" has no special meaning.
	run = e.ok("run", map[string]any{"command": []string{"cat"}, "stdin": "-", "until_ms": 20000}, "run")
	wantField(t, run["snapshot"].(map[string]any), "stdout_tail", "-")

	before := e.jobCount()
	e.fail("run", map[string]any{"command": []string{"cat"}, "stdin": "x", "stdin_file": "in.txt"}, "invalid_argument")
	e.fail("run", map[string]any{"command": []string{"cat"}, "stdin_file": "missing.txt"}, "invalid_argument")
	e.fail("run", map[string]any{"command": []string{"cat"}, "stdin_file": e.cwd}, "invalid_argument")
	msg := e.fail("run", map[string]any{"command": []string{"cat"}, "stdin_file": "big.txt"}, "stdin_too_large")
	wantField(t, msg, "message", "stdin exceeds 8 bytes")
	e.fail("run", map[string]any{"command": []string{"cat"}, "stdin": "0123456789"}, "stdin_too_large")
	if n := e.jobCount(); n != before {
		t.Errorf("failed runs created jobs: %d, want %d", n, before)
	}
}

func TestSemanticErrors(t *testing.T) {
	e := newEnv(t, Options{})
	before := e.jobCount()
	e.fail("run", map[string]any{"command": []string{"true"}, "tags": []string{"bad!tag"}}, "invalid_tag")
	e.fail("run", map[string]any{"command": []string{"true"}, "env": map[string]string{"A=B": "1"}}, "invalid_argument")
	e.fail("run", map[string]any{"command": []string{"true"}, "env": map[string]string{"": "1"}}, "invalid_argument")
	e.fail("run", map[string]any{"command": []string{"true"}, "env": map[string]string{"A": "x\x00y"}}, "invalid_argument")
	if n := e.jobCount(); n != before {
		t.Errorf("rejected runs created jobs: %d, want %d", n, before)
	}

	errObj := e.fail("run", map[string]any{"command": []string{"true"}, "cwd": "/nonexistent/dir"}, "launch_failed")
	details, _ := errObj["details"].(map[string]any)
	if details == nil || details["state"] != "failed" || details["job_id"] == "" {
		t.Errorf("launch_failed details = %v", errObj)
	}
	if msg, _ := errObj["message"].(string); !strings.HasPrefix(msg, "launch_failed: ") {
		t.Errorf("launch_failed message = %q", msg)
	}

	msg := e.fail("status", map[string]any{"job_id": "NOPE"}, "job_not_found")
	wantField(t, msg, "message", "job not found: NOPE")
	wantAbsent(t, msg, "details")
	e.fail("status", map[string]any{"job_id": "../etc"}, "job_not_found")
	e.fail("tail", map[string]any{"job_id": "NOPE"}, "job_not_found")
	e.fail("wait", map[string]any{"job_id": "NOPE", "until_ms": 0}, "job_not_found")
	e.fail("kill", map[string]any{"job_id": "NOPE"}, "job_not_found")
	// Validation happens before the lookup.
	e.fail("kill", map[string]any{"job_id": "NOPE", "signal": "STOP"}, "invalid_argument")
	e.fail("list", map[string]any{"cwd": e.cwd, "all": true}, "invalid_argument")
	e.fail("list", map[string]any{"tags": []string{"bad!"}}, "invalid_tag")
}

func TestSchemaViolations(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	cases := []struct {
		tool string
		args any
	}{
		{"run", map[string]any{"command": "echo hi"}},
		{"run", map[string]any{}},
		{"run", nil},
		{"run", map[string]any{"command": []string{}}},
		{"run", map[string]any{"command": []any{"echo", 1}}},
		{"run", map[string]any{"command": []string{"true"}, "bogus": 1}},
		{"run", map[string]any{"command": []string{"true"}, "until_ms": -1}},
		{"run", map[string]any{"command": []string{"true"}, "until_ms": 1.5}},
		{"run", map[string]any{"command": []string{"true"}, "timeout_ms": "10"}},
		{"run", map[string]any{"command": []string{"true"}, "env": map[string]any{"A": 1}}},
		{"run", map[string]any{"command": []string{"true"}, "tags": "x"}},
		{"status", map[string]any{}},
		{"status", map[string]any{"job_id": 42}},
		{"status", map[string]any{"job_id": "X", "extra": true}},
		{"tail", map[string]any{"job_id": "X", "tail_lines": -5}},
		{"wait", map[string]any{"until_ms": 10}},
		{"kill", map[string]any{"job_id": "X", "signal": 9}},
		{"list", map[string]any{"state": "done"}},
		{"list", map[string]any{"all": "yes"}},
		{"list", map[string]any{"limit": -1}},
	}
	for _, c := range cases {
		res, err := e.cs.CallTool(ctx, &mcp.CallToolParams{Name: c.tool, Arguments: c.args})
		switch {
		case err != nil:
			// A JSON-RPC invalid-params error is equally acceptable.
		case !res.IsError:
			t.Errorf("%s %v: accepted: %+v", c.tool, c.args, res.StructuredContent)
		default:
			// The error envelope, with a readable message (no "-1/1"
			// rationals, no SDK prefixes).
			b, _ := json.Marshal(res.StructuredContent)
			var env struct {
				OK    bool `json:"ok"`
				Error struct {
					Code    string `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			json.Unmarshal(b, &env)
			if env.OK || env.Error.Code != "invalid_argument" || !strings.HasPrefix(env.Error.Message, "invalid arguments: ") ||
				strings.Contains(env.Error.Message, "/1") || strings.Contains(env.Error.Message, "validating") {
				t.Errorf("%s %v: result %s, want the invalid_argument envelope", c.tool, c.args, b)
			}
		}
	}
	if n := e.jobCount(); n != 0 {
		t.Errorf("invalid calls created %d jobs", n)
	}
	// A huge value where another type belongs is not echoed back whole.
	res, err := e.cs.CallTool(ctx, &mcp.CallToolParams{Name: "run", Arguments: map[string]any{"command": strings.Repeat("é", 1<<19)}})
	if err != nil || !res.IsError {
		t.Fatalf("run with a 1 MiB string command: %v %v", res, err)
	}
	b, _ := json.Marshal(res.StructuredContent)
	if len(b) > 2000 || !strings.Contains(string(b), `has type \"string\", want \"array\"`) || !strings.Contains(string(b), "invalid_argument") {
		t.Errorf("run with a 1 MiB string command: %d-byte result %.300s", len(b), b)
	}
	// Unknown tool: a protocol error.
	if _, err := e.cs.CallTool(ctx, &mcp.CallToolParams{Name: "restart", Arguments: map[string]any{}}); err == nil {
		t.Error("unknown tool accepted")
	}
	// The server keeps serving.
	e.ok("list", map[string]any{"all": true}, "list")
}

func TestWaitCapped(t *testing.T) {
	e := newEnv(t, Options{MaxUntil: 300 * time.Millisecond})
	run := e.ok("run", map[string]any{"command": []string{"sleep", "30"}, "until_ms": 60000}, "run")
	wantField(t, run, "state", "running")
	if w := run["waited_ms"].(float64); w < 250 || w > 5000 {
		t.Errorf("run waited %v ms, want about the 300 ms cap", w)
	}
	id := run["job_id"].(string)
	for _, args := range []map[string]any{{"job_id": id, "until_ms": 60000}, {"job_id": id}} {
		start := time.Now()
		w := e.ok("wait", args, "wait")
		d := time.Since(start)
		wantField(t, w, "state", "running")
		if d < 250*time.Millisecond || d > 5*time.Second {
			t.Errorf("wait %v returned after %v, want about the 300 ms cap", args, d)
		}
	}
}

func TestDefaultUntil(t *testing.T) {
	e := newEnv(t, Options{DefaultUntil: 200 * time.Millisecond})
	start := time.Now()
	run := e.ok("run", map[string]any{"command": []string{"sleep", "30"}}, "run")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("run without until_ms took %v, want about 200 ms", d)
	}
	wantField(t, run, "state", "running")
	if _, ok := run["snapshot"]; !ok {
		t.Errorf("no snapshot: %v", run)
	}
	start = time.Now()
	e.ok("wait", map[string]any{"job_id": run["job_id"]}, "wait")
	if d := time.Since(start); d < 150*time.Millisecond || d > 5*time.Second {
		t.Errorf("wait without until_ms took %v, want about 200 ms", d)
	}
}

func TestDefaultUntilExplicitWins(t *testing.T) {
	// With a long configured default, an explicit until_ms still decides.
	e := newEnv(t, Options{DefaultUntil: 40 * time.Second})
	run := e.ok("run", map[string]any{"command": []string{"sleep", "30"}, "until_ms": 0}, "run")
	wantField(t, run, "waited_ms", 0.0)
	start := time.Now()
	w := e.ok("wait", map[string]any{"job_id": run["job_id"], "until_ms": 0}, "wait")
	wantField(t, w, "state", "running")
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("wait until_ms 0 took %v", d)
	}
}

func TestKill(t *testing.T) {
	e := newEnv(t, Options{})
	run := e.ok("run", map[string]any{"command": []string{"sleep", "30"}, "until_ms": 0}, "run")
	id := run["job_id"].(string)
	k := e.ok("kill", map[string]any{"job_id": id}, "kill")
	wantField(t, k, "job_id", id)
	wantField(t, k, "signal", "TERM")
	wantField(t, k, "state", "killed")
	k = e.ok("kill", map[string]any{"job_id": id, "signal": "sigkill"}, "kill")
	wantField(t, k, "signal", "KILL")
	wantField(t, k, "state", "killed")
	st := e.ok("status", map[string]any{"job_id": id}, "status")
	wantField(t, st, "signal", "TERM")
}

func TestList(t *testing.T) {
	e := newEnv(t, Options{})
	other := t.TempDir()
	a := e.ok("run", map[string]any{"command": []string{"true"}, "tags": []string{"ci.build"}, "until_ms": 20000}, "run")
	b := e.ok("run", map[string]any{"command": []string{"sleep", "30"}, "tags": []string{"ci.test"}, "until_ms": 0}, "run")
	c := e.ok("run", map[string]any{"command": []string{"true"}, "cwd": other, "until_ms": 20000}, "run")

	ids := func(l map[string]any) []string {
		var out []string
		for _, j := range l["jobs"].([]any) {
			out = append(out, j.(map[string]any)["job_id"].(string))
		}
		slices.Sort(out)
		return out
	}
	sorted := func(s ...string) []string { slices.Sort(s); return s }
	aid, bid, cid := a["job_id"].(string), b["job_id"].(string), c["job_id"].(string)

	l := e.ok("list", nil, "list")
	wantField(t, l, "root", e.root)
	wantField(t, l, "truncated", false)
	wantField(t, l, "skipped", 0.0)
	if got := ids(l); !slices.Equal(got, sorted(aid, bid)) {
		t.Errorf("list (server cwd) = %v, want %v", got, sorted(aid, bid))
	}
	if got := ids(e.ok("list", map[string]any{"all": true}, "list")); !slices.Equal(got, sorted(aid, bid, cid)) {
		t.Errorf("list all = %v", got)
	}
	if got := ids(e.ok("list", map[string]any{"cwd": other}, "list")); !slices.Equal(got, []string{cid}) {
		t.Errorf("list cwd = %v", got)
	}
	if got := ids(e.ok("list", map[string]any{"all": true, "tags": []string{"ci.*"}, "state": "running"}, "list")); !slices.Equal(got, []string{bid}) {
		t.Errorf("list tags+state = %v", got)
	}
	l = e.ok("list", map[string]any{"all": true, "limit": 1}, "list")
	wantField(t, l, "truncated", true)
	if n := len(l["jobs"].([]any)); n != 1 {
		t.Errorf("limit 1 gave %d jobs", n)
	}
	job := e.ok("list", map[string]any{"all": true, "state": "running"}, "list")["jobs"].([]any)[0].(map[string]any)
	wantField(t, job, "command", []any{"sleep", "30"})
	wantField(t, job, "tags", []any{"ci.test"})
}

// TestConcurrentAndCancelled checks that calls run concurrently and that a
// cancelled call only abandons its own wait: the job and the session live on.
func TestConcurrentAndCancelled(t *testing.T) {
	e := newEnv(t, Options{})
	run := e.ok("run", map[string]any{"command": []string{"sleep", "30"}, "until_ms": 0}, "run")
	id := run["job_id"].(string)

	ctx, cancel := context.WithCancel(context.Background())
	waitDone := make(chan error, 1)
	go func() {
		_, err := e.cs.CallTool(ctx, &mcp.CallToolParams{Name: "wait", Arguments: map[string]any{"job_id": id, "until_ms": 50000}})
		waitDone <- err
	}()
	// While the wait is pending, other calls are answered.
	start := time.Now()
	e.ok("status", map[string]any{"job_id": id}, "status")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("status blocked behind a pending wait for %v", d)
	}
	cancel()
	select {
	case err := <-waitDone:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled wait returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancelled wait did not return")
	}
	st := e.ok("status", map[string]any{"job_id": id}, "status")
	wantField(t, st, "state", "running")
}

// TestServeStops checks that cancelling Serve's context ends it promptly even
// with a wait in flight, without touching the job.
func TestServeStops(t *testing.T) {
	e := newEnv(t, Options{})
	run := e.ok("run", map[string]any{"command": []string{"sleep", "30"}, "until_ms": 0}, "run")
	id := run["job_id"].(string)
	go e.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "wait", Arguments: map[string]any{"job_id": id, "until_ms": 50000}})
	// Let the wait reach the server: a status answered after it was sent
	// proves the wait call was read (frames are read in order).
	e.ok("status", map[string]any{"job_id": id}, "status")
	start := time.Now()
	e.stop()
	select {
	case err := <-e.done:
		if err != nil {
			t.Errorf("Serve = %v", err)
		}
		e.done <- nil // for the cleanup
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not stop")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Serve took %v to stop", d)
	}
	st, err := e.m.Status(context.Background(), id)
	if err != nil || st.State != agentexec.StateRunning {
		t.Errorf("job after server stop: %+v, %v", st, err)
	}
}

// TestAutoGC checks that a successful run triggers the bounded cleanup in
// the background: a terminal job older than older_than goes, the job just
// launched stays.
func TestAutoGC(t *testing.T) {
	// The Manager's clock runs two days ahead, so jobs that finished just now
	// are older than one day by the time the cleanup looks at them.
	ahead := func() time.Time { return time.Now().Add(48 * time.Hour) }
	e := newEnvWith(t, Options{AutoGC: &agentexec.AutoGCOptions{OlderThan: 24 * time.Hour, ScanLimit: 200, DeleteLimit: 20}},
		agentexec.Options{Now: ahead})
	first := e.ok("run", map[string]any{"command": []string{"true"}, "until_ms": 20000}, "run")
	wantField(t, first, "state", "exited")
	firstDir := filepath.Join(e.root, first["job_id"].(string))
	// Each later run triggers a cleanup; the first job goes as soon as its
	// supervisor has exited (a job with a live process is never removed).
	deadline := time.Now().Add(10 * time.Second)
	for runs := 1; ; runs++ {
		run := e.ok("run", map[string]any{"command": []string{"true"}, "until_ms": 20000}, "run")
		wantField(t, run, "state", "exited")
		if _, err := os.Stat(filepath.Join(e.root, run["job_id"].(string))); err != nil {
			t.Fatalf("the job just launched is gone: %v", err)
		}
		if _, err := os.Stat(firstDir); errors.Is(err, os.ErrNotExist) {
			t.Logf("old job removed after %d more runs", runs)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the old job %s was not cleaned up", first["job_id"])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestAutoGCDisabled(t *testing.T) {
	ahead := func() time.Time { return time.Now().Add(48 * time.Hour) }
	e := newEnvWith(t, Options{}, agentexec.Options{Now: ahead})
	first := e.ok("run", map[string]any{"command": []string{"true"}, "until_ms": 20000}, "run")
	e.ok("run", map[string]any{"command": []string{"true"}, "until_ms": 20000}, "run")
	// Nothing runs in the background to wait for: the server has no AutoGC.
	if _, err := os.Stat(filepath.Join(e.root, first["job_id"].(string))); err != nil {
		t.Errorf("job removed without auto-GC: %v", err)
	}
}
