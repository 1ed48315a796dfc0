package mcpserver

import (
	"strings"
	"testing"
)

// TestStatusDescribesJob: the status tool carries what the job is (command,
// cwd, tags, log paths), from the core like the CLI (issue #14).
func TestStatusDescribesJob(t *testing.T) {
	e := newEnv(t, Options{})
	run := e.ok("run", map[string]any{"command": []string{"sh", "-c", "echo hi"}, "tags": []string{"ci"}, "until_ms": 20000}, "run")
	id := run["job_id"].(string)
	st := e.ok("status", map[string]any{"job_id": id}, "status")
	wantField(t, st, "command", []any{"sh", "-c", "echo hi"})
	wantField(t, st, "tags", []any{"ci"})
	wantField(t, st, "cwd", e.cwd)
	if p, _ := st["stdout_log_path"].(string); !strings.HasSuffix(p, "/"+id+"/stdout.log") {
		t.Errorf("stdout_log_path = %q", p)
	}
	if p, _ := st["stderr_log_path"].(string); !strings.HasSuffix(p, "/"+id+"/stderr.log") {
		t.Errorf("stderr_log_path = %q", p)
	}
}
