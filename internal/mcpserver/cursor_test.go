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
