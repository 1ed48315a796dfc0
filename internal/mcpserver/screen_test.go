package mcpserver

import (
	"fmt"
	"testing"
)

// TestStdioPTYScreen: run with pty, answer a prompt with send keys, read
// the terminal through the screen tool; a plain job is refused.
func TestStdioPTYScreen(t *testing.T) {
	s := startStdio(t)
	s.initialize()
	run, isErr := s.callTool(2, "run", `{"command":["echo ready; read -p 'continue? ' a; echo \"answer $a\"; sleep 30"],"pty":true,"wait_for_output":"ready","until_ms":20000}`)
	if isErr || run["state"] != "running" {
		t.Fatalf("run: %v", run)
	}
	id := run["job_id"].(string)
	res, isErr := s.callTool(3, "send", fmt.Sprintf(`{"job_id":%q,"text":"y","keys":["Enter"],"wait_for_output":"answer y","until_ms":20000}`, id))
	if isErr || res["matched"] != true {
		t.Fatalf("send: %v", res)
	}
	sc, isErr := s.callTool(4, "screen", fmt.Sprintf(`{"job_id":%q}`, id))
	lines, _ := sc["lines"].([]any)
	if isErr || sc["type"] != "screen" || len(lines) != 40 || lines[1] != "continue? y" || lines[2] != "answer y" {
		t.Fatalf("screen: %v", sc)
	}
	s.callTool(5, "kill", fmt.Sprintf(`{"job_id":%q,"signal":"KILL"}`, id))
	plain, _ := s.callTool(6, "run", `{"command":["true"],"until_ms":0}`)
	res, isErr = s.callTool(7, "screen", fmt.Sprintf(`{"job_id":%q}`, plain["job_id"]))
	if !isErr || res["error"].(map[string]any)["code"] != "invalid_state" {
		t.Fatalf("screen of a plain job: %v", res)
	}
}
