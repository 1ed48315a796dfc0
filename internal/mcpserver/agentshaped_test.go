package mcpserver

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Tests of SPEC §11.8 as MCP serves it: bounded results, settle, terminal
// rendering and the agent environment by default.

// resultSize is the size of a tool result as it goes over the wire.
func resultSize(t *testing.T, e *env, name string, args map[string]any) (int, map[string]any) {
	t.Helper()
	res, env := e.call(name, args)
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	return len(b), env
}

// 400 KB of base64, as lines or as one line, gives results under 48 KiB
// with the defaults (max_bytes 16384, tail_lines 40, render terminal).
func TestRunResultsStayBounded(t *testing.T) {
	e := newEnv(t, Options{})
	for _, wrap := range []string{"76", "0"} {
		n, env := resultSize(t, e, "run", map[string]any{"command": []string{"sh", "-c", "head -c 300000 /dev/zero | base64 -w " + wrap}})
		fs := env["snapshot"].(map[string]any)
		if env["state"] != "exited" || fs["stdout_observed_bytes"].(float64) < 400000 || fs["truncated"] != true {
			t.Fatalf("wrap %s: %v", wrap, env)
		}
		if n >= 48<<10 {
			t.Errorf("run of 400 KB base64 (wrap %s): result of %d bytes", wrap, n)
		}
		id := env["job_id"].(string)
		for _, tool := range []string{"tail", "wait"} {
			if n, _ := resultSize(t, e, tool, map[string]any{"job_id": id}); n >= 48<<10 {
				t.Errorf("%s (wrap %s): result of %d bytes", tool, wrap, n)
			}
		}
		if wrap == "76" {
			lines := strings.Count(fs["stdout_tail"].(string), "\n") + 1
			if lines != 40 || fs["stdout_included_bytes"] != 39.0*76+12+39 { // the last line has 400000 % 76 = 12 characters
				t.Errorf("default tail: %d lines, %v bytes", lines, fs["stdout_included_bytes"])
			}
		} else if fs["stdout_included_bytes"] != float64(1000+len("…[14884 bytes cut]…")+500) {
			// one line: the last 16384 bytes, cut to 1000 + 500 around the marker
			t.Errorf("one long line: %v bytes: %.80q", fs["stdout_included_bytes"], fs["stdout_tail"])
		}
	}
}

func TestRunSettles(t *testing.T) {
	e := newEnv(t, Options{})
	run := e.ok("run", map[string]any{"command": []string{"sh", "-c", "echo listening; exec sleep 30"}}, "run")
	snap := run["snapshot"].(map[string]any)
	if run["state"] != "running" || snap["stdout_tail"] != "listening" || run["waited_ms"].(float64) >= 9000 {
		t.Fatalf("run: %v", run)
	}
	run = e.ok("run", map[string]any{"command": []string{"sh", "-c", "echo listening; exec sleep 30"}, "until_ms": 1000, "settle_ms": 0}, "run")
	if snap := run["snapshot"].(map[string]any); snap["stdout_tail"] != "listening" || run["waited_ms"].(float64) < 1000 {
		t.Fatalf("settle_ms 0: %v", run)
	}
}

func TestRenderTerminalByDefault(t *testing.T) {
	e := newEnv(t, Options{})
	cmd := []string{"sh", "-c", `printf '\033[31mred\033[0m 10%%\r100%%\n'`}
	run := e.ok("run", map[string]any{"command": cmd}, "run")
	if tail := run["snapshot"].(map[string]any)["stdout_tail"]; tail != "100%" {
		t.Fatalf("terminal snapshot %q", tail)
	}
	id := run["job_id"].(string)
	if tl := e.ok("tail", map[string]any{"job_id": id}, "tail"); tl["stdout_tail"] != "100%" {
		t.Fatalf("terminal tail %q", tl["stdout_tail"])
	}
	if w := e.ok("wait", map[string]any{"job_id": id, "render": "raw"}, "wait"); w["stdout_tail"] != "\x1b[31mred\x1b[0m 10%\r100%" {
		t.Fatalf("raw wait %q", w["stdout_tail"])
	}
	if tl := e.ok("tail", map[string]any{"job_id": id, "render": "raw"}, "tail"); tl["stdout_included_bytes"] != 21.0 {
		t.Fatalf("raw tail %v", tl)
	}
}

func TestAgentEnvByDefault(t *testing.T) {
	e := newEnv(t, Options{})
	cmd := []string{"sh", "-c", `echo "$NO_COLOR $TERM $PAGER $GIT_PAGER $GIT_TERMINAL_PROMPT"`}
	run := e.ok("run", map[string]any{"command": cmd, "env": map[string]string{"PAGER": "less"}}, "run")
	if tail := run["snapshot"].(map[string]any)["stdout_tail"]; tail != "1 dumb less cat 0" {
		t.Fatalf("agent env: %q", tail)
	}
	run = e.ok("run", map[string]any{"command": cmd, "agent_env": false}, "run")
	meta, err := os.ReadFile(filepath.Join(e.m.Root(), run["job_id"].(string), "meta.json"))
	if err != nil || strings.Contains(string(meta), "agent_env") {
		t.Fatalf("agent_env false stored: %s %v", meta, err)
	}
}
