package httpapi_test

import (
	"net/http"
	"net/url"
	"testing"
)

// TestExecNameEnsure: /exec name + ensure reuses the live job; every {id}
// route accepts @name; invalid names are 400 invalid_argument.
func TestExecNameEnsure(t *testing.T) {
	e := newEnv(t)
	r := e.post("/exec", `{"command":["sleep 30"],"name":"api","ensure":true,"env":{"B":"1","A":"2"}}`)
	wantOK(t, r, "run")
	id := r.str("job_id")
	if v, ok := r.field("reused"); !ok || v != false {
		t.Fatalf("first ensure: %s", r.body)
	}
	if _, ok := r.field("command_differs"); ok {
		t.Fatalf("command_differs on a new job: %s", r.body)
	}
	r = e.post("/exec", `{"command":["sleep 30"],"name":"api","ensure":true,"env":{"A":"x","B":"y"}}`)
	wantOK(t, r, "run")
	if r.str("job_id") != id || r.json["reused"] != true || r.json["command_differs"] != false {
		t.Fatalf("same definition: %s", r.body)
	}
	r = e.post("/exec", `{"command":["sleep 30"],"name":"api","ensure":true,"cwd":"sub","env":{"A":"x","B":"y"}}`)
	if r.str("job_id") != id || r.json["reused"] != true || r.json["command_differs"] != true {
		t.Fatalf("other cwd: %s", r.body)
	}
	if e.jobCount() != 1 {
		t.Fatalf("%d jobs", e.jobCount())
	}
	r = e.do(http.MethodGet, "/status/"+url.PathEscape("@api"), "")
	wantOK(t, r, "status")
	if r.str("job_id") != id || r.str("name") != "api" {
		t.Fatalf("status @api: %s", r.body)
	}
	r = e.do(http.MethodGet, "/wait/@api?until_ms=0", "")
	wantOK(t, r, "wait")
	if r.str("job_id") != id || r.str("state") != "running" {
		t.Fatalf("wait @api: %s", r.body)
	}
	wantError(t, e.do(http.MethodGet, "/status/@nosuch", ""), http.StatusNotFound, "job_not_found", "job not found: @nosuch")
	for _, body := range []string{
		`{"command":["true"],"name":"bad name"}`,
		`{"command":["true"],"name":""}`,
		`{"command":["true"],"name":"a/b"}`,
	} {
		wantError(t, e.post("/exec", body), http.StatusBadRequest, "invalid_argument", "")
	}
	wantError(t, e.post("/exec", `{"command":["true"],"ensure":true}`), http.StatusBadRequest, "invalid_request", "ensure requires name")
	wantError(t, e.post("/exec", `{"command":["true"],"name":1}`), http.StatusBadRequest, "invalid_request", "")
	wantError(t, e.post("/exec", `{"command":["true"],"name":"x","ensure":"yes"}`), http.StatusBadRequest, "invalid_request", "")
	if e.jobCount() != 1 {
		t.Fatalf("%d jobs after invalid requests", e.jobCount())
	}
}

func TestWaitManyRoute(t *testing.T) {
	e := newEnv(t)
	slow := e.startSleeper()
	r := e.post("/exec", `{"command":["sleep 0.2; exit 5"],"name":"q","tags":["grp"]}`)
	wantOK(t, r, "run")
	quick := r.str("job_id")
	r = e.do(http.MethodGet, "/wait_many?job_id="+slow+"&job_id=%40q&any=true&until_ms=20000", "")
	wantOK(t, r, "wait_many")
	jobs, _ := r.json["jobs"].([]any)
	if len(jobs) != 2 || jobs[0].(map[string]any)["job_id"] != slow || jobs[1].(map[string]any)["job_id"] != quick ||
		jobs[1].(map[string]any)["exit_code"] != 5.0 || r.json["all_terminal"] != false || r.json["any_terminal"] != true {
		t.Fatalf("wait_many: %s", r.body)
	}
	r = e.do(http.MethodGet, "/wait_many?tag=grp&until_ms=0", "")
	wantOK(t, r, "wait_many")
	if jobs, _ := r.json["jobs"].([]any); len(jobs) != 1 || r.json["all_terminal"] != true {
		t.Fatalf("wait_many tag: %s", r.body)
	}
	wantError(t, e.do(http.MethodGet, "/wait_many?name=nosuch", ""), http.StatusNotFound, "job_not_found", "")
	wantError(t, e.do(http.MethodGet, "/wait_many?name=a%20b", ""), http.StatusBadRequest, "invalid_argument", "")
	wantError(t, e.do(http.MethodGet, "/wait_many?job_id="+slow+"&any=maybe", ""), http.StatusBadRequest, "invalid_argument", "")
	wantError(t, e.do(http.MethodGet, "/wait_many?tag=bad!", ""), http.StatusBadRequest, "invalid_tag", "")
	wantError(t, e.do(http.MethodGet, "/wait_many?job_id="+slow+"&render=bogus", ""), http.StatusBadRequest, "invalid_argument", "")
	r = e.do(http.MethodGet, "/wait_many?job_id="+quick+"&render=terminal&until_ms=0", "")
	wantOK(t, r, "wait_many")
	wantError(t, e.do(http.MethodGet, "/wait_many", ""), http.StatusBadRequest, "invalid_argument", "")
	wantError(t, e.do(http.MethodPost, "/wait_many", ""), http.StatusMethodNotAllowed, "invalid_request", "")
}
