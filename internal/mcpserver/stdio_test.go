package mcpserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/agentexec/agentexec"
)

// buildBinary builds cmd/agent-exec once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go toolchain not available to build the binary")
	}
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "agent-exec-mcp-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "agent-exec")
		out, err := exec.Command(gobin, "build", "-o", binPath, "github.com/agentexec/agentexec/cmd/agent-exec").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// stdioServer is `agent-exec mcp` running as a child process, spoken to in
// raw JSON-RPC lines.
type stdioServer struct {
	t          *testing.T
	cmd        *exec.Cmd
	stdin      io.WriteCloser
	lines      chan string // every stdout line
	stderr     *bytes.Buffer
	root       string
	transcript []string
	pending    map[float64]map[string]any // responses read while looking for another id
}

func startStdio(t *testing.T, extraEnv ...string) *stdioServer {
	t.Helper()
	bin := buildBinary(t)
	dir := t.TempDir()
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "jobs")
	cmd := exec.Command(bin, "mcp")
	cmd.Dir = work
	var envv []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AGENT_EXEC_") && !strings.HasPrefix(kv, "XDG_") && !strings.HasPrefix(kv, "HOME=") {
			envv = append(envv, kv)
		}
	}
	cmd.Env = append(envv, append([]string{"AGENT_EXEC_ROOT=" + root, "HOME=" + dir}, extraEnv...)...)
	s := &stdioServer{t: t, cmd: cmd, lines: make(chan string, 100), stderr: &bytes.Buffer{}, root: root, pending: map[float64]map[string]any{}}
	cmd.Stderr = s.stderr
	var err error
	if s.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines)
	}()
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
			s.cmd.Wait()
		}
		m, err := agentexec.Open(root, agentexec.Options{})
		if err == nil {
			killAll(t, m)
			m.Close()
		}
	})
	return s
}

func (s *stdioServer) send(line string) {
	s.t.Helper()
	s.transcript = append(s.transcript, "→ "+line)
	if _, err := io.WriteString(s.stdin, line+"\n"); err != nil {
		s.t.Fatalf("write to server: %v", err)
	}
}

// response reads stdout lines until the response with the given id; every
// line must be a JSON-RPC 2.0 frame.
func (s *stdioServer) response(id float64) map[string]any {
	s.t.Helper()
	if r, ok := s.pending[id]; ok {
		delete(s.pending, id)
		return r
	}
	timeout := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				s.t.Fatalf("stdout closed while waiting for id %v; stderr:\n%s", id, s.stderr)
			}
			s.transcript = append(s.transcript, "← "+line)
			var msg map[string]any
			if err := json.Unmarshal([]byte(line), &msg); err != nil || msg["jsonrpc"] != "2.0" {
				s.t.Fatalf("stdout line is not a JSON-RPC frame: %q", line)
			}
			got, _ := msg["id"].(float64)
			if got == id {
				return msg
			}
			s.pending[got] = msg
		case <-timeout:
			s.t.Fatalf("no response with id %v; stderr:\n%s", id, s.stderr)
		}
	}
}

// callTool sends tools/call and returns the result's structuredContent and
// isError.
func (s *stdioServer) callTool(id float64, name string, args string) (map[string]any, bool) {
	s.t.Helper()
	s.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%v,"method":"tools/call","params":{"name":%q,"arguments":%s}}`, id, name, args))
	msg := s.response(id)
	res, _ := msg["result"].(map[string]any)
	if res == nil {
		s.t.Fatalf("tools/call %s: no result: %v", name, msg)
	}
	isError, _ := res["isError"].(bool)
	sc, _ := res["structuredContent"].(map[string]any)
	content, _ := res["content"].([]any)
	if len(content) != 1 {
		s.t.Fatalf("tools/call %s: content %v", name, content)
	}
	if sc != nil {
		var fromText map[string]any
		json.Unmarshal([]byte(content[0].(map[string]any)["text"].(string)), &fromText)
		if fmt.Sprint(fromText) != fmt.Sprint(sc) {
			s.t.Fatalf("tools/call %s: text %v differs from structuredContent %v", name, fromText, sc)
		}
	}
	return sc, isError
}

// waitExit waits for the process to exit and returns its exit code and how
// long that took.
func (s *stdioServer) waitExit(limit time.Duration) (int, time.Duration) {
	s.t.Helper()
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		// Drain stdout first: Wait closes the pipe.
		for line := range s.lines {
			s.transcript = append(s.transcript, "← "+line)
			var msg map[string]any
			if err := json.Unmarshal([]byte(line), &msg); err != nil || msg["jsonrpc"] != "2.0" {
				s.t.Errorf("stdout line is not a JSON-RPC frame: %q", line)
			}
		}
		done <- s.cmd.Wait()
	}()
	select {
	case <-done:
	case <-time.After(limit + 5*time.Second):
		s.t.Fatalf("server did not exit; stderr:\n%s", s.stderr)
	}
	return s.cmd.ProcessState.ExitCode(), time.Since(start)
}

func (s *stdioServer) initialize() {
	s.t.Helper()
	s.send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw-test","version":"1"}}}`)
	init := s.response(1)
	info := init["result"].(map[string]any)["serverInfo"].(map[string]any)
	if info["name"] != "agent-exec" || info["version"] != "0.0.0-dev" {
		s.t.Errorf("serverInfo = %v", info)
	}
	s.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
}

func (s *stdioServer) jobState(id string) agentexec.State {
	s.t.Helper()
	m, err := agentexec.Open(s.root, agentexec.Options{})
	if err != nil {
		s.t.Fatal(err)
	}
	defer m.Close()
	st, err := m.Status(context.Background(), id)
	if err != nil {
		s.t.Fatalf("status %s: %v", id, err)
	}
	return st.State
}

// TestStdioSession drives the real binary over stdio with raw JSON-RPC
// lines: only frames on stdout, tools work, end of input exits 0 promptly
// and leaves jobs running.
func TestStdioSession(t *testing.T) {
	s := startStdio(t)
	s.initialize()

	s.send(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	tools := s.response(2)["result"].(map[string]any)["tools"].([]any)
	var names []string
	for _, tool := range tools {
		names = append(names, tool.(map[string]any)["name"].(string))
	}
	slices.Sort(names)
	if want := []string{"kill", "list", "run", "screen", "send", "status", "tail", "wait", "wait_many"}; !slices.Equal(names, want) {
		t.Errorf("tools/list: %v, want %v", names, want)
	}

	run, isErr := s.callTool(3, "run", `{"command":["sh","-c","echo hi; sleep 1; echo done"],"until_ms":100}`)
	if isErr || run["state"] != "running" || run["type"] != "run" {
		t.Fatalf("run = %v (isError %v)", run, isErr)
	}
	id := run["job_id"].(string)

	// arguments: null is "no arguments", not a crash.
	list, isErr := s.callTool(4, "list", `null`)
	if isErr || list["type"] != "list" || len(list["jobs"].([]any)) != 1 {
		t.Errorf("list with null arguments = %v (isError %v)", list, isErr)
	}

	wait, isErr := s.callTool(5, "wait", fmt.Sprintf(`{"job_id":%q,"until_ms":20000}`, id))
	if isErr || wait["state"] != "exited" || wait["stdout_tail"] != "hi\ndone" {
		t.Errorf("wait = %v (isError %v)", wait, isErr)
	}

	st, isErr := s.callTool(6, "status", `{"job_id":"NOPE"}`)
	if !isErr || st["ok"] != false || st["error"].(map[string]any)["code"] != "job_not_found" {
		t.Errorf("status NOPE = %v (isError %v)", st, isErr)
	}

	// A schema violation is rejected and the server keeps serving.
	s.send(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"run","arguments":{"command":"echo x"}}}`)
	if r := s.response(7); r["error"] == nil && r["result"].(map[string]any)["isError"] != true {
		t.Errorf("schema violation accepted: %v", r)
	}

	long, isErr := s.callTool(8, "run", `{"command":["sleep","30"],"until_ms":0}`)
	if isErr || long["state"] != "running" {
		t.Fatalf("run sleep = %v", long)
	}
	longID := long["job_id"].(string)

	// End of input: exit 0 within 1 s; the job survives the server.
	s.stdin.Close()
	code, took := s.waitExit(time.Second)
	if code != 0 || took > time.Second {
		t.Errorf("after end of input: exit %d after %v, want 0 within 1s; stderr:\n%s", code, took, s.stderr)
	}
	if st := s.jobState(longID); st != agentexec.StateRunning {
		t.Errorf("job after server exit: %s, want running", st)
	}
	t.Logf("transcript:\n%s", strings.Join(s.transcript, "\n"))
}

// TestStdioSignal checks that SIGTERM during an in-flight wait exits 0
// within 1 s without touching the job.
func TestStdioSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			s := startStdio(t)
			s.initialize()
			run, isErr := s.callTool(2, "run", `{"command":["sleep","30"],"until_ms":0}`)
			if isErr {
				t.Fatalf("run = %v", run)
			}
			id := run["job_id"].(string)
			s.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"wait","arguments":{"job_id":%q,"until_ms":50000}}}`, id))
			// A later call answered proves the wait was read and is pending.
			s.callTool(4, "status", fmt.Sprintf(`{"job_id":%q}`, id))
			if err := s.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			code, took := s.waitExit(time.Second)
			if code != 0 || took > time.Second {
				t.Errorf("after %v: exit %d after %v, want 0 within 1s; stderr:\n%s", sig, code, took, s.stderr)
			}
			if st := s.jobState(id); st != agentexec.StateRunning {
				t.Errorf("job after server exit: %s, want running", st)
			}
		})
	}
}

// TestStdioStartupError checks that an invalid cap variable is reported as
// one error envelope on stdout, exit 1, before any JSON-RPC traffic.
func TestStdioStartupError(t *testing.T) {
	for _, kv := range []string{"AGENT_EXEC_MCP_MAX_UNTIL_SECONDS=0", "AGENT_EXEC_MCP_DEFAULT_UNTIL_SECONDS=ten"} {
		t.Run(kv, func(t *testing.T) {
			s := startStdio(t, kv)
			var lines []string
			for line := range s.lines {
				lines = append(lines, line)
			}
			if err := s.cmd.Wait(); s.cmd.ProcessState.ExitCode() != 1 {
				t.Errorf("exit = %v, want 1", err)
			}
			if len(lines) != 1 {
				t.Fatalf("stdout = %q, want one envelope", lines)
			}
			var env struct {
				OK    bool `json:"ok"`
				Error struct {
					Code string `json:"code"`
				} `json:"error"`
			}
			if err := json.Unmarshal([]byte(lines[0]), &env); err != nil || env.OK || env.Error.Code != "invalid_config" {
				t.Errorf("stdout = %s", lines[0])
			}
		})
	}
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// TestStdioBrokenStdout checks that a broken stdout (the host closed its
// end) ends the server with exit 0 instead of SIGPIPE, while stdin is still
// open.
func TestStdioBrokenStdout(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, "mcp")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "AGENT_EXEC_ROOT="+filepath.Join(dir, "jobs"), "HOME="+dir, "XDG_CONFIG_HOME=")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = w
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	r.Close() // nobody reads the server's stdout any more
	io.WriteString(stdin, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw-test","version":"1"}}}`+"\n")
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if cmd.ProcessState.ExitCode() != 0 {
			t.Errorf("exit after broken stdout: %v (%v); stderr:\n%s", err, cmd.ProcessState, stderr.String())
		}
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("server kept running with a broken stdout; stderr:\n%s", stderr.String())
	}
}
