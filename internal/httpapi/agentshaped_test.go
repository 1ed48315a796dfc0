package httpapi_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// SPEC §11.8 over HTTP: the /exec deadline snapshot, render on /exec,
// /tail and /wait, agent_env and settle_ms on /exec.

func TestExecDeadlineSnapshot(t *testing.T) {
	e := newEnv(t)
	r := e.post("/exec", `{"command":["echo started; exec sleep 30"],"wait":true,"until_ms":1000}`)
	wantOK(t, r, "run")
	if r.str("state") != "running" || r.str("snapshot.stdout_tail") != "started" {
		t.Fatalf("deadline response: %s", r.body)
	}
	if _, ok := r.field("final_snapshot"); ok {
		t.Fatalf("final_snapshot on a running job: %s", r.body)
	}
}

func TestRenderParameter(t *testing.T) {
	e := newEnv(t)
	r := e.post("/exec", `{"command":["printf '\\033[1mbold\\033[0m 1%%\\r99%%\\n'"],"wait":true,"render":"terminal","settle_ms":0,"agent_env":true}`)
	wantOK(t, r, "run")
	if r.str("final_snapshot.stdout_tail") != "99%" {
		t.Fatalf("rendered /exec: %s", r.body)
	}
	id := r.str("job_id")
	if meta, err := os.ReadFile(filepath.Join(e.root, id, "meta.json")); err != nil || !strings.Contains(string(meta), `"agent_env": true`) {
		t.Fatalf("agent_env not stored: %s %v", meta, err)
	}
	for _, path := range []string{"/tail/" + id + "?render=terminal", "/wait/" + id + "?render=terminal&until_ms=0"} {
		r := e.do(http.MethodGet, path, "")
		if r.status != 200 || r.str("stdout_tail") != "99%" {
			t.Fatalf("%s: %s", path, r.body)
		}
		if f, _ := r.field("stdout_included_bytes"); f != 3.0 {
			t.Fatalf("%s: included %v", path, f)
		}
	}
	if r := e.do(http.MethodGet, "/tail/"+id, ""); r.str("stdout_tail") != "\x1b[1mbold\x1b[0m 1%\r99%" {
		t.Fatalf("raw tail: %s", r.body)
	}
	wantError(t, e.do(http.MethodGet, "/tail/"+id+"?render=fancy", ""), 400, "invalid_argument", `invalid render "fancy": use raw or terminal`)
	n := e.jobCount()
	wantError(t, e.post("/exec", `{"command":["true"],"render":"fancy"}`), 400, "invalid_argument", `invalid render "fancy": use raw or terminal`)
	wantError(t, e.post("/exec", `{"command":["true"],"settle_ms":-1}`), 400, "invalid_request", "")
	wantError(t, e.post("/exec", `{"command":["true"],"agent_env":"yes"}`), 400, "invalid_request", "")
	if e.jobCount() != n {
		t.Fatal("a rejected /exec created a job")
	}
}
