package httpapi_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// TestStatusDescribesJob: GET /status carries what the job is (command,
// cwd, tags, log paths), from the core like the CLI (issue #14).
func TestStatusDescribesJob(t *testing.T) {
	e := newEnv(t)
	r := e.post("/exec", `{"command":["sh","-c","echo hi"],"tags":["ci"],"wait":true}`)
	wantOK(t, r, "run")
	id := r.str("job_id")
	st := e.do(http.MethodGet, "/status/"+id, "")
	wantOK(t, st, "status")
	if cmd, _ := st.field("command"); !reflect.DeepEqual(cmd, []any{"sh", "-c", "echo hi"}) {
		t.Errorf("command = %v", cmd)
	}
	if tags, _ := st.field("tags"); !reflect.DeepEqual(tags, []any{"ci"}) {
		t.Errorf("tags = %v", tags)
	}
	if cwd := st.str("cwd"); cwd == "" {
		t.Error("cwd missing")
	}
	if p := st.str("stdout_log_path"); !strings.HasSuffix(p, "/"+id+"/stdout.log") {
		t.Errorf("stdout_log_path = %q", p)
	}
	if p := st.str("stderr_log_path"); !strings.HasSuffix(p, "/"+id+"/stderr.log") {
		t.Errorf("stderr_log_path = %q", p)
	}
}
