package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/agentexec/agentexec"
	"github.com/agentexec/agentexec/internal/httpapi"
)

func TestRouting(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		method, path string
		status       int
		code, msg    string
		allow        string
	}{
		{"GET", "/nope", 404, "invalid_request", "no route for /nope", ""},
		{"GET", "/", 404, "invalid_request", "no route for /", ""},
		{"GET", "/health/", 404, "invalid_request", "", ""},
		{"GET", "/Health", 404, "invalid_request", "", ""},
		{"GET", "/status/", 404, "invalid_request", "", ""},
		{"GET", "/status", 404, "invalid_request", "", ""},
		{"GET", "/status/a/b", 404, "invalid_request", "", ""},
		{"GET", "/jobs/x", 404, "invalid_request", "", ""},
		{"GET", "/exec", 405, "invalid_request", "method GET is not allowed for /exec; use POST", "POST"},
		{"PUT", "/exec", 405, "invalid_request", "", "POST"},
		{"POST", "/health", 405, "invalid_request", "", "GET"},
		{"DELETE", "/status/ABC", 405, "invalid_request", "", "GET"},
		{"GET", "/kill/ABC", 405, "invalid_request", "", "POST"},
		{"POST", "/jobs", 405, "invalid_request", "", "GET"},
		{"HEAD", "/health", 405, "", "", "GET"},
		// Traversal attempts never reach the filesystem: the decoded id
		// fails validation.
		{"GET", "/tail/..%2F..%2Fhome", 404, "job_not_found", `job not found: invalid job id "../../home": job ids contain only ASCII letters and digits`, ""},
		{"GET", "/status/%2e%2e", 404, "job_not_found", `job not found: invalid job id "..": job ids contain only ASCII letters and digits`, ""},
		{"GET", "/status/..", 404, "job_not_found", `job not found: invalid job id "..": job ids contain only ASCII letters and digits`, ""},
		{"GET", "/wait/%2Fetc%2Fpasswd", 404, "job_not_found", `job not found: invalid job id "/etc/passwd": job ids contain only ASCII letters and digits`, ""},
		{"GET", "/status/01JD4Z6V3F8M2Q7R9T0W1X2Y3Z", 404, "job_not_found", "job not found: 01JD4Z6V3F8M2Q7R9T0W1X2Y3Z", ""},
		{"GET", "/status/%41BC", 404, "job_not_found", "job not found: ABC", ""},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := e.do(tc.method, tc.path, "")
			if tc.method == "HEAD" {
				if r.status != tc.status || r.header.Get("Allow") != tc.allow {
					t.Fatalf("HEAD: %d allow %q", r.status, r.header.Get("Allow"))
				}
				return
			}
			wantError(t, r, tc.status, tc.code, tc.msg)
			if r.header.Get("Allow") != tc.allow {
				t.Fatalf("Allow = %q; want %q", r.header.Get("Allow"), tc.allow)
			}
		})
	}
}

func TestAmbiguousPrefix(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var ids []string
	for range 2 {
		res, err := e.m.Create(ctx, agentexec.JobSpec{Command: []string{"true"}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.JobID)
	}
	for _, path := range []string{"/status/0", "/tail/0", "/wait/0?until_ms=0"} {
		r := e.do(http.MethodGet, path, "")
		wantError(t, r, 400, "ambiguous_job_id", "")
		cands, _ := r.field("error.details.candidates")
		if fmt.Sprint(cands) != fmt.Sprint([]any{ids[0], ids[1]}) && fmt.Sprint(cands) != fmt.Sprint([]any{ids[1], ids[0]}) {
			t.Fatalf("%s candidates %v", path, cands)
		}
		if tr, _ := r.field("error.details.truncated"); tr != false {
			t.Fatalf("truncated %v", tr)
		}
	}
	wantError(t, e.post("/kill/0", ""), 400, "ambiguous_job_id", "")
}

func TestKill(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	created, err := e.m.Create(ctx, agentexec.JobSpec{Command: []string{"true"}})
	if err != nil {
		t.Fatal(err)
	}
	id := e.startSleeper()
	tests := []struct {
		name, path, ct, body string
		status               int
		code, msg            string
	}{
		{"bad signal", "/kill/" + id, "application/json", `{"signal":"BOGUS"}`, 400, "invalid_argument", `unsupported signal "BOGUS"; use TERM, INT, KILL, HUP, QUIT, USR1 or USR2`},
		{"bad signal before lookup", "/kill/ZZZZ", "application/json", `{"signal":"STOP"}`, 400, "invalid_argument", ""},
		{"not json", "/kill/" + id, "application/json", `signal=KILL`, 400, "invalid_request", ""},
		{"array", "/kill/" + id, "application/json", `["KILL"]`, 400, "invalid_request", "invalid JSON: expected a JSON object"},
		{"signal number", "/kill/" + id, "application/json", `{"signal":9}`, 400, "invalid_request", `invalid JSON: field "signal": expected a string`},
		{"no content type", "/kill/" + id, "", ``, 415, "invalid_request", "Content-Type must be application/json"},
		{"text/plain", "/kill/" + id, "text/plain", `{}`, 415, "invalid_request", "Content-Type must be application/json"},
		{"created job", "/kill/" + created.JobID, "application/json", ``, 400, "invalid_state",
			"invalid job state: job " + created.JobID + " is in 'created' state and has not been started; cannot send signal"},
		{"missing job", "/kill/ZZZZ", "application/json", `{}`, 404, "job_not_found", "job not found: ZZZZ"},
		{"invalid id", "/kill/a-b", "application/json", `{}`, 404, "job_not_found", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var opts []reqOpt
			if tc.ct != "" {
				opts = append(opts, withHeader("Content-Type", tc.ct))
			}
			wantError(t, e.do(http.MethodPost, tc.path, tc.body, opts...), tc.status, tc.code, tc.msg)
		})
	}
	if st, _ := e.m.Status(ctx, id); st.State != agentexec.StateRunning {
		t.Fatalf("a rejected kill signalled the job: %s", st.State)
	}
	r := e.post("/kill/"+id, `{"signal":null,"other":1}`)
	wantOK(t, r, "kill")
	if r.str("signal") != "TERM" || r.str("state") != "killed" {
		t.Fatalf("kill: %s", r.body)
	}
	id2 := e.startSleeper()
	r = e.post("/kill/"+id2, ` {"signal":"9"} `)
	wantOK(t, r, "kill")
	if r.str("signal") != "KILL" || r.str("state") != "killed" {
		t.Fatalf("kill -9: %s", r.body)
	}
}

func TestJobs(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mk := func(cwd string, tags ...string) string {
		res, err := e.m.Create(ctx, agentexec.JobSpec{Command: []string{"true"}, Cwd: cwd, Tags: tags})
		if err != nil {
			t.Fatal(err)
		}
		return res.JobID
	}
	here := mk("", "ci.build")
	sub := mk("sub", "ci.test")
	other := mk(t.TempDir(), "nightly")
	running := e.startSleeper()

	ids := func(r response) string {
		var out []string
		jobs, _ := r.field("jobs")
		for _, j := range jobs.([]any) {
			out = append(out, j.(map[string]any)["job_id"].(string))
		}
		return strings.Join(out, ",")
	}
	sorted := func(s ...string) string { return strings.Join(s, ",") }
	tests := []struct {
		query string
		want  string
	}{
		{"", sorted(running, other, sub, here)},
		{"?all=true", sorted(running, other, sub, here)},
		{"?all=false", sorted(running, here)},
		{"?cwd=sub", sorted(sub)},
		{"?cwd=" + e.cwd + "/sub&all=false", sorted(sub)},
		{"?state=running", sorted(running)},
		{"?state=created&tag=ci.*", sorted(sub, here)},
		{"?tag=ci.build&tag=ci.*", sorted(here)},
		{"?tag=nightly&state=exited", ""},
		{"?limit=2", sorted(running, other)},
		{"?limit=0", sorted(running, other, sub, here)},
	}
	for _, tc := range tests {
		r := e.do(http.MethodGet, "/jobs"+tc.query, "")
		wantOK(t, r, "list")
		if got := ids(r); got != tc.want {
			t.Errorf("/jobs%s = %s; want %s", tc.query, got, tc.want)
		}
		if r.str("root") != e.root {
			t.Errorf("root %s", r.str("root"))
		}
		if tr := r.json["truncated"]; tr != (tc.query == "?limit=2") {
			t.Errorf("/jobs%s truncated %v", tc.query, tr)
		}
	}
	errs := []struct {
		query, code, msg string
	}{
		{"?cwd=/tmp&all=true", "invalid_argument", "query parameters cwd and all=true conflict"},
		{"?all=yes", "invalid_argument", `invalid query parameter all="yes": use true or false`},
		{"?all=", "invalid_argument", ""},
		{"?state=done", "invalid_argument", ""},
		{"?state=", "invalid_argument", ""},
		{"?limit=-1", "invalid_argument", `invalid query parameter limit="-1": expected a non-negative decimal integer`},
		{"?limit=1.5", "invalid_argument", ""},
		{"?limit=", "invalid_argument", ""},
		{"?limit=%2B1", "invalid_argument", ""},
		{"?limit=9223372036854775808", "invalid_argument", ""},
		{"?tag=a..b", "invalid_tag", ""},
		{"?tag=*", "invalid_tag", ""},
	}
	for _, tc := range errs {
		wantError(t, e.do(http.MethodGet, "/jobs"+tc.query, ""), 400, tc.code, tc.msg)
	}
}

func TestJobsDefaultLimit(t *testing.T) {
	e := newEnv(t)
	for range 51 {
		if _, err := e.m.Create(context.Background(), agentexec.JobSpec{Command: []string{"true"}}); err != nil {
			t.Fatal(err)
		}
	}
	r := e.do(http.MethodGet, "/jobs", "")
	jobs, _ := r.field("jobs")
	if len(jobs.([]any)) != 50 || r.json["truncated"] != true {
		t.Fatalf("%d jobs, truncated %v", len(jobs.([]any)), r.json["truncated"])
	}
}

func TestQueryErrors(t *testing.T) {
	e := newEnv(t)
	id := e.startSleeper()
	for _, q := range []string{
		"/tail/" + id + "?tail_lines=abc", "/tail/" + id + "?max_bytes=-1", "/tail/" + id + "?tail_lines=",
		"/wait/" + id + "?until_ms=1s", "/wait/" + id + "?tail_lines=x", "/wait/" + id + "?max_bytes=1e3",
		"/wait/" + id + "?until_ms=",
	} {
		wantError(t, e.do(http.MethodGet, q, ""), 400, "invalid_argument", "")
	}
	// until_ms beyond time.Duration's range means no deadline, not an error.
	r := e.post("/exec", `{"command":["sleep 0.2"]}`)
	w := e.do(http.MethodGet, "/wait/"+r.str("job_id")+"?until_ms=18446744073709551615", "")
	wantOK(t, w, "wait")
	if w.str("state") != "exited" {
		t.Fatalf("wait: %s", w.body)
	}
}

// TestHeaderLimit: request headers beyond 64 KiB are refused by the server.
func TestHeaderLimit(t *testing.T) {
	e := newEnv(t)
	r := e.do(http.MethodGet, "/health", "", withHeader("X-Pad", strings.Repeat("a", 60<<10)))
	wantOK(t, r, "health")
	req, _ := http.NewRequest(http.MethodGet, e.url+"/health", nil)
	req.Header.Set("X-Pad", strings.Repeat("a", 80<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("80 KiB of headers: %s", resp.Status)
	}
}

// TestPanicRecovered: a panic inside a handler becomes a 500 internal_error
// envelope instead of a dropped connection.
func TestPanicRecovered(t *testing.T) {
	srv, err := httpapi.New(nil, httpapi.Options{}) // a nil Manager panics on use
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://127.0.0.1/status/ABC", nil))
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), `"code":"internal_error","message":"internal error: `) {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("headers %v", rec.Header())
	}
}
