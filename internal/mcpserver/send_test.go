package mcpserver

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestStdioPythonREPL is an agent's session with a Python REPL through the
// real binary: start it interactive, evaluate in request/response turns,
// restart the MCP server in between (the job keeps its stdin), then end it
// with eof.
func TestStdioPythonREPL(t *testing.T) {
	s := startStdio(t)
	s.initialize()
	run, isErr := s.callTool(2, "run", `{"command":["python3","-u","-i","-q"],"interactive":true,"until_ms":0,"name":"py"}`)
	if isErr || run["state"] != "running" {
		t.Fatalf("run: %v", run)
	}
	id := run["job_id"].(string)
	turn := func(s *stdioServer, rpcID float64, args, want string) map[string]any {
		t.Helper()
		res, isErr := s.callTool(rpcID, "send", args)
		if isErr || res["type"] != "send" || res["matched"] != true {
			t.Fatalf("send %s: %v", args, res)
		}
		if out := res["snapshot"].(map[string]any)["stdout_tail"]; out != want {
			t.Fatalf("send %s: answer %q, want %q", args, out, want)
		}
		return res
	}
	turn(s, 3, fmt.Sprintf(`{"job_id":%q,"text":"6*7","newline":true,"wait_for_output":"42","stream":"stdout","until_ms":20000}`, id), "42\n")
	turn(s, 4, `{"job_id":"@py","text":"def sq(n):\n    return n*n\n\nprint(sq(12))","newline":true,"wait_for_output":"144","until_ms":20000}`, "144\n")
	// A job that was not started interactive is refused.
	plain, _ := s.callTool(5, "run", `{"command":["sleep","30"],"until_ms":0}`)
	res, isErr := s.callTool(6, "send", fmt.Sprintf(`{"job_id":%q,"text":"x"}`, plain["job_id"]))
	if !isErr || res["error"].(map[string]any)["code"] != "invalid_state" {
		t.Fatalf("send to a plain job: %v", res)
	}
	s.callTool(7, "kill", fmt.Sprintf(`{"job_id":%q,"signal":"KILL"}`, plain["job_id"]))
	s.stdin.Close()
	if code, _ := s.waitExit(5 * time.Second); code != 0 {
		t.Fatalf("mcp exit %d", code)
	}
	transcript := s.transcript

	// A new server: the REPL still has its state and its stdin.
	s2 := startStdio(t, "AGENT_EXEC_ROOT="+s.root)
	s2.initialize()
	turn(s2, 2, `{"job_id":"@py","text":"sq(7)","newline":true,"wait_for_output":"49","until_ms":20000}`, "49\n")
	res, isErr = s2.callTool(3, "send", `{"job_id":"@py","eof":true}`)
	if isErr || res["bytes_written"] != 0.0 {
		t.Fatalf("eof: %v", res)
	}
	w, _ := s2.callTool(4, "wait", `{"job_id":"@py","until_ms":20000}`)
	if w["state"] != "exited" || w["exit_code"] != 0.0 {
		t.Fatalf("after eof: %v", w)
	}
	res, isErr = s2.callTool(5, "send", `{"job_id":"@py","text":"1"}`)
	if !isErr || res["error"].(map[string]any)["code"] != "invalid_state" {
		t.Fatalf("send to an ended job: %v", res)
	}
	t.Logf("transcript:\n%s\n--- server restarted ---\n%s", strings.Join(transcript, "\n"), strings.Join(s2.transcript, "\n"))
}
