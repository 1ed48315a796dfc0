package mcpserver

import "testing"

// TestTailCursor: every excerpt's cursor, handed back as tail.cursor, gives
// exactly what was written after it (SPEC §11.1).
func TestTailCursor(t *testing.T) {
	e := newEnv(t, Options{})
	run := e.ok("run", map[string]any{"command": []string{"printf 'one\\ntwo\\n'; printf 'E\\n' >&2"}, "until_ms": 20000}, "run")
	id := run["job_id"].(string)
	snap := run["snapshot"].(map[string]any)
	wantField(t, snap, "cursor", "8.2")

	tl := e.ok("tail", map[string]any{"job_id": id, "cursor": "4.0", "max_bytes": 2}, "tail")
	wantField(t, tl, "state", "exited")
	wantField(t, tl, "stdout", "tw")
	wantField(t, tl, "stderr", "E\n")
	wantField(t, tl, "stdout_from", 4.0)
	wantField(t, tl, "stdout_next_offset", 6.0)
	wantField(t, tl, "stdout_remaining_bytes", 2.0)
	wantField(t, tl, "stderr_remaining_bytes", 0.0)
	wantField(t, tl, "more", true)
	wantField(t, tl, "cursor", "6.2")
	wantAbsent(t, tl, "stdout_tail", "truncated")

	tl = e.ok("tail", map[string]any{"job_id": id}, "tail")
	wantField(t, tl, "cursor", "8.2")
	w := e.ok("wait", map[string]any{"job_id": id}, "wait")
	wantField(t, w, "cursor", "8.2")

	e.fail("tail", map[string]any{"job_id": id, "cursor": "x.0"}, "invalid_argument")
}

// TestWaitForOutput: run.wait_for_output and wait.for_output (SPEC §11.2).
func TestWaitForOutput(t *testing.T) {
	e := newEnv(t, Options{})
	run := e.ok("run", map[string]any{"command": []string{"echo boot; sleep 0.3; echo 'READY 1'; echo 'READY 2' >&2; sleep 30"},
		"wait_for_output": "READY", "until_ms": 20000}, "run")
	id := run["job_id"].(string)
	wantField(t, run, "state", "running")
	wantField(t, run, "matched", true)
	wantField(t, run, "match", map[string]any{"stream": "stdout", "line": "READY 1", "offset": 5.0})

	w := e.ok("wait", map[string]any{"job_id": id, "for_output": "^READY", "match_type": "regex", "stream": "stderr"}, "wait")
	wantField(t, w, "matched", true)
	wantField(t, w, "match", map[string]any{"stream": "stderr", "line": "READY 2", "offset": 0.0})
	wantField(t, w, "cursor", "13.8")
	w = e.ok("wait", map[string]any{"job_id": id, "for_output": "READY", "cursor": "13.8", "until_ms": 50}, "wait")
	wantField(t, w, "matched", false)
	wantAbsent(t, w, "match")

	e.fail("wait", map[string]any{"job_id": id, "for_output": "(", "match_type": "regex"}, "invalid_argument")
	e.fail("wait", map[string]any{"job_id": id, "for_output": "x", "cursor": "-1.0"}, "invalid_argument")
	e.fail("wait", map[string]any{"job_id": id, "cursor": "0.0"}, "invalid_argument")
	e.ok("kill", map[string]any{"job_id": id}, "kill")
}
