package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agentexec/agentexec"
	"github.com/agentexec/agentexec/internal/httpapi"
)

// TestMain lets the test binary act as the supervisor: launches re-execute
// os.Executable() with "_supervise", exactly as the real binary does.
func TestMain(m *testing.M) {
	agentexec.SuperviseMain()
	os.Exit(m.Run())
}

// testEnv is a real Server on a loopback listener over a real Manager on a
// temporary root.
type testEnv struct {
	t    testing.TB
	m    *agentexec.Manager
	srv  *httpapi.Server
	root string
	cwd  string // the server's cwd
	addr string // host:port
	url  string // http://host:port

	stop func() // shuts the server down (idempotent)
	done chan error
}

type envConfig struct {
	opts  httpapi.Options
	mopts agentexec.Options
}

func newEnv(t testing.TB, cfgs ...func(*envConfig)) *testEnv {
	t.Helper()
	var c envConfig
	for _, f := range cfgs {
		f(&c)
	}
	dir := t.TempDir()
	e := &testEnv{t: t, root: filepath.Join(dir, "jobs"), cwd: filepath.Join(dir, "cwd")}
	if err := os.MkdirAll(filepath.Join(e.cwd, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Resolve symlinks (e.g. /tmp on macOS) so cwd comparisons are exact.
	e.cwd, _ = filepath.EvalSymlinks(e.cwd)
	c.mopts.Cwd = e.cwd
	c.mopts.LongLived = true
	m, err := agentexec.Open(e.root, c.mopts)
	if err != nil {
		t.Fatal(err)
	}
	e.m = m
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.opts.Bind = ln.Addr().(*net.TCPAddr).AddrPort()
	srv, err := httpapi.New(m, c.opts)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	e.addr = ln.Addr().String()
	e.url = "http://" + e.addr
	ctx, cancel := context.WithCancel(context.Background())
	e.done = make(chan error, 1)
	go func() { e.done <- srv.Serve(ctx, ln) }()
	var stopped bool
	e.stop = func() {
		if !stopped {
			stopped = true
			cancel()
			if err := <-e.done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		}
	}
	t.Cleanup(func() {
		e.stop()
		killAllJobs(t, e.root)
		m.Close()
		http.DefaultClient.CloseIdleConnections()
	})
	return e
}

// response is a decoded HTTP answer.
type response struct {
	status int
	header http.Header
	body   string
	json   map[string]any
}

type reqOpt func(*http.Request)

func withHeader(k, v string) reqOpt { return func(r *http.Request) { r.Header.Set(k, v) } }
func withHost(h string) reqOpt      { return func(r *http.Request) { r.Host = h } }

func jsonCT(r *http.Request) { r.Header.Set("Content-Type", "application/json") }

// do sends one request; path is sent as given (already escaped).
func (e *testEnv) do(method, path, body string, opts ...reqOpt) response {
	e.t.Helper()
	return e.doCtx(context.Background(), method, path, body, opts...)
}

func (e *testEnv) doCtx(ctx context.Context, method, path, body string, opts ...reqOpt) response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, o := range opts {
		o(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, body: string(b)}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &r.json); err != nil {
			e.t.Fatalf("%s %s: body is not one JSON object: %v\n%s", method, path, err, b)
		}
	}
	return r
}

// post sends a JSON POST.
func (e *testEnv) post(path, body string, opts ...reqOpt) response {
	e.t.Helper()
	return e.do(http.MethodPost, path, body, append([]reqOpt{jsonCT}, opts...)...)
}

// field follows a dotted path into the JSON body.
func (r response) field(path string) (any, bool) {
	var v any = r.json
	for _, p := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[p]; !ok {
			return nil, false
		}
	}
	return v, true
}

func (r response) str(path string) string {
	v, _ := r.field(path)
	s, _ := v.(string)
	return s
}

// wantError asserts an error envelope with status, code and (if non-empty)
// exact message.
func wantError(t testing.TB, r response, status int, code, msg string) {
	t.Helper()
	if r.status != status || r.str("error.code") != code || r.json["ok"] != false || r.json["type"] != "error" {
		t.Fatalf("got %d %s; want %d %s", r.status, r.body, status, code)
	}
	if msg != "" && r.str("error.message") != msg {
		t.Fatalf("message %q; want %q", r.str("error.message"), msg)
	}
	if r.json["schema_version"] != "0.1" {
		t.Fatalf("schema_version missing: %s", r.body)
	}
	if rt, _ := r.field("error.retryable"); rt != false {
		t.Fatalf("retryable = %v", rt)
	}
	wantJSONHeaders(t, r)
}

func wantJSONHeaders(t testing.TB, r response) {
	t.Helper()
	for k, v := range map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"} {
		if got := r.header.Get(k); got != v {
			t.Fatalf("header %s = %q; want %q", k, got, v)
		}
	}
}

func wantOK(t testing.TB, r response, typ string) {
	t.Helper()
	if r.status != http.StatusOK || r.json["ok"] != true || r.json["type"] != typ || r.json["schema_version"] != "0.1" {
		t.Fatalf("got %d %s; want 200 %s", r.status, r.body, typ)
	}
	wantJSONHeaders(t, r)
}

// startSleeper launches a long job through the API and returns its id.
func (e *testEnv) startSleeper() string {
	e.t.Helper()
	r := e.post("/exec", `{"command":["sleep 300"]}`)
	wantOK(e.t, r, "run")
	return r.str("job_id")
}

// jobCount is the number of job directories under the root.
func (e *testEnv) jobCount() int {
	ents, _ := os.ReadDir(e.root)
	n := 0
	for _, d := range ents {
		if d.IsDir() && !strings.HasPrefix(d.Name(), ".") {
			n++
		}
	}
	return n
}

// killAllJobs SIGKILLs the process group of every job and supervisor still
// recorded as running under root, then waits for the supervisors to be
// gone, so no test leaves a process behind.
func killAllJobs(t testing.TB, root string) {
	ents, _ := os.ReadDir(root)
	var sups []int
	for _, d := range ents {
		data, err := os.ReadFile(filepath.Join(root, d.Name(), "state.json"))
		if err != nil {
			continue
		}
		var st struct {
			Job        struct{ Status string } `json:"job"`
			Supervisor *struct{ PID int }      `json:"supervisor"`
			Child      *struct{ PGID int }     `json:"child"`
		}
		if json.Unmarshal(data, &st) != nil || st.Job.Status != "running" {
			continue
		}
		if st.Child != nil && st.Child.PGID > 1 {
			syscall.Kill(-st.Child.PGID, syscall.SIGKILL)
		}
		if st.Supervisor != nil && st.Supervisor.PID > 1 {
			syscall.Kill(st.Supervisor.PID, syscall.SIGKILL)
			sups = append(sups, st.Supervisor.PID)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, pid := range sups {
		for time.Now().Before(deadline) {
			if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) || isZombie(pid) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// isZombie reports whether pid is a zombie (Linux; false elsewhere).
func isZombie(pid int) bool {
	data, err := os.ReadFile("/proc/" + itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// poll retries cond until it holds or the deadline passes.
func poll(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
