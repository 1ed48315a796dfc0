package httpapi_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/agentexec/agentexec"
	"github.com/agentexec/agentexec/internal/httpapi"
)

func TestHostCheck(t *testing.T) {
	e := newEnv(t, func(c *envConfig) { c.opts.AllowHosts = []string{"Agent.Internal"} })
	tests := []struct {
		host string
		ok   bool
		msg  string
	}{
		{e.addr, true, ""},
		{"127.0.0.1", true, ""},
		{"127.1.2.3:80", true, ""},
		{"[::1]:9", true, ""},
		{"[::1]", true, ""},
		{"localhost:1234", true, ""},
		{"LocalHost", true, ""},
		{"agent.internal:80", true, ""},
		{"AGENT.INTERNAL", true, ""},
		{"evil.example:19263", false, `host "evil.example" is not allowed`},
		{"evil.example", false, `host "evil.example" is not allowed`},
		{"localhost.evil.example", false, ""},
		{"10.0.0.1:80", false, `host "10.0.0.1" is not allowed`},
		{"[2001:db8::1]:80", false, `host "2001:db8::1" is not allowed`},
		{"127.0.0.1.nip.io", false, ""},
	}
	for _, tc := range tests {
		for _, path := range []string{"/health", "/jobs", "/nope"} {
			r := e.do(http.MethodGet, path, "", withHost(tc.host))
			if tc.ok {
				if r.status == http.StatusForbidden {
					t.Errorf("Host %q %s refused: %s", tc.host, path, r.body)
				}
				continue
			}
			wantError(t, r, 403, "forbidden", tc.msg)
		}
	}
	// An exec with a foreign Host creates nothing.
	r := e.post("/exec", `{"command":["true"]}`, withHost("evil.example"))
	wantError(t, r, 403, "forbidden", "")
	if e.jobCount() != 0 {
		t.Fatal("job created")
	}
}

// TestHostCheckUnspecified: bound to 0.0.0.0 any IP literal is accepted,
// host names still are not.
func TestHostCheckUnspecified(t *testing.T) {
	m, err := agentexec.Open(t.TempDir(), agentexec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, bind := range []string{"0.0.0.0:80", "[::]:80", "10.1.2.3:80"} {
		srv, err := httpapi.New(m, httpapi.Options{Bind: netip.MustParseAddrPort(bind)})
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		unspecified := bind != "10.1.2.3:80"
		for host, want := range map[string]bool{"10.1.2.3:80": true, "192.168.0.9": unspecified, "[2001:db8::1]": unspecified, "example.com": false} {
			rec := httptest.NewRecorder()
			req, _ := http.NewRequest(http.MethodGet, "/health", nil)
			req.Host = host
			srv.ServeHTTP(rec, req)
			if got := rec.Code != http.StatusForbidden; got != want {
				t.Errorf("bind %s host %s: allowed=%v want %v", bind, host, got, want)
			}
		}
	}
}

func TestOriginAndCORS(t *testing.T) {
	e := newEnv(t, func(c *envConfig) { c.opts.AllowOrigins = []string{"https://App.Example:8443"} })
	same := "http://" + e.addr
	tests := []struct {
		origin string
		status int
		acao   string
	}{
		{same, 200, ""},
		{"https://app.example:8443", 200, "https://app.example:8443"},
		{"http://app.example:8443", 403, ""},
		{"https://app.example", 403, ""},
		{"null", 403, ""},
		{"http://evil.example", 403, ""},
		{"https://" + e.addr, 403, ""},
		{"http://127.0.0.1:1", 403, ""},
		{"", 403, ""},
	}
	for _, tc := range tests {
		r := e.do(http.MethodGet, "/health", "", withHeader("Origin", tc.origin))
		if r.status != tc.status || r.header.Get("Access-Control-Allow-Origin") != tc.acao {
			t.Errorf("Origin %q: %d ACAO %q; want %d %q", tc.origin, r.status, r.header.Get("Access-Control-Allow-Origin"), tc.status, tc.acao)
		}
		if tc.status == 403 {
			wantError(t, r, 403, "forbidden", "origin \""+tc.origin+"\" is not allowed")
		}
		if tc.acao != "" && r.header.Get("Vary") != "Origin" {
			t.Errorf("Vary = %q", r.header.Get("Vary"))
		}
		if r.header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("credentials allowed")
		}
	}
	// A cross-site exec (the CSRF case) is refused and creates nothing.
	r := e.post("/exec", `{"command":["true"]}`, withHeader("Origin", "http://evil.example"))
	wantError(t, r, 403, "forbidden", "")
	r = e.do(http.MethodPost, "/exec", `{"command":["true"]}`, withHeader("Origin", "null"), withHeader("Content-Type", "text/plain"))
	wantError(t, r, 403, "forbidden", "")
	if e.jobCount() != 0 {
		t.Fatal("job created")
	}

	// Preflight: 204 with the CORS headers for the allowed origin only.
	r = e.do(http.MethodOptions, "/exec", "", withHeader("Origin", "https://app.example:8443"),
		withHeader("Access-Control-Request-Method", "POST"), withHeader("Access-Control-Request-Headers", "content-type"))
	if r.status != 204 || r.body != "" {
		t.Fatalf("preflight: %d %s", r.status, r.body)
	}
	for k, v := range map[string]string{
		"Access-Control-Allow-Origin":  "https://app.example:8443",
		"Access-Control-Allow-Methods": "GET, POST",
		"Access-Control-Allow-Headers": "Authorization, Content-Type",
		"Access-Control-Max-Age":       "600",
		"Vary":                         "Origin",
	} {
		if got := r.header.Get(k); got != v {
			t.Errorf("preflight %s = %q; want %q", k, got, v)
		}
	}
	for _, origin := range []string{"", same, "http://evil.example"} {
		var opts []reqOpt
		if origin != "" {
			opts = append(opts, withHeader("Origin", origin))
		}
		wantError(t, e.do(http.MethodOptions, "/exec", "", opts...), 403, "forbidden", "")
	}
}

func TestToken(t *testing.T) {
	const token = "s3cret-token"
	e := newEnv(t, func(c *envConfig) {
		c.opts.Token = token
		c.opts.AllowOrigins = []string{"http://app.example"}
	})
	id := e.startSleeperAuth(token)
	tests := []struct {
		method, path, auth string
		status             int
	}{
		{"GET", "/health", "", 200},
		{"GET", "/health", "Bearer wrong", 200},
		{"GET", "/jobs", "", 401},
		{"GET", "/jobs", "Bearer wrong", 401},
		{"GET", "/jobs", "Bearer " + token + "x", 401},
		{"GET", "/jobs", "Basic " + token, 401},
		{"GET", "/jobs", token, 401},
		{"GET", "/jobs", "Bearer", 401},
		{"GET", "/jobs", "Bearer " + token, 200},
		{"GET", "/jobs", "bearer " + token, 200},
		{"GET", "/jobs", "BEARER " + token, 200},
		{"GET", "/status/" + id, "", 401},
		{"GET", "/status/" + id, "Bearer " + token, 200},
		{"GET", "/tail/" + id, "", 401},
		{"GET", "/wait/" + id + "?until_ms=0", "", 401},
		{"POST", "/kill/" + id, "", 401},
		{"POST", "/exec", "", 401},
		{"GET", "/nope", "", 401},
		{"GET", "/nope", "Bearer " + token, 404},
		{"POST", "/health", "", 401},
		{"HEAD", "/health", "", 401},
		{"GET", "/exec", "Bearer " + token, 405},
	}
	for _, tc := range tests {
		opts := []reqOpt{jsonCT}
		if tc.auth != "" {
			opts = append(opts, withHeader("Authorization", tc.auth))
		}
		r := e.do(tc.method, tc.path, "", opts...)
		if r.status != tc.status {
			t.Errorf("%s %s auth %q: %d %s; want %d", tc.method, tc.path, tc.auth, r.status, r.body, tc.status)
			continue
		}
		if tc.status == 401 {
			if tc.method != "HEAD" {
				wantError(t, r, 401, "unauthorized", "missing or invalid bearer token")
			}
			if r.header.Get("WWW-Authenticate") != "Bearer" {
				t.Errorf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
			}
		}
	}
	// Host and Origin are checked before the token; a preflight needs none.
	wantError(t, e.do("GET", "/jobs", "", withHost("evil.example")), 403, "forbidden", "")
	r := e.do(http.MethodOptions, "/jobs", "", withHeader("Origin", "http://app.example"))
	if r.status != 204 {
		t.Fatalf("preflight with token: %d", r.status)
	}
	if st, _ := e.m.Status(t.Context(), id); st.State != agentexec.StateRunning {
		t.Fatal("an unauthorized kill signalled the job")
	}
}

func (e *testEnv) startSleeperAuth(token string) string {
	e.t.Helper()
	r := e.post("/exec", `{"command":["sleep 30"]}`, withHeader("Authorization", "Bearer "+token))
	wantOK(e.t, r, "run")
	return r.str("job_id")
}

func TestParseBind(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"127.0.0.1:19263", "127.0.0.1:19263"},
		{"0.0.0.0:0", "0.0.0.0:0"},
		{"[::1]:80", "[::1]:80"},
		{"[::]:8080", "[::]:8080"},
		{"localhost:80", ""},
		{"example.com:80", ""},
		{"127.0.0.1", ""},
		{":8080", ""},
		{"::1:80", ""},
		{"127.0.0.1:65536", ""},
		{"127.0.0.1:-1", ""},
		{"127.0.0.01:80", ""},
		{"", ""},
	}
	for _, tc := range tests {
		ap, err := httpapi.ParseBind(tc.in)
		if tc.want == "" {
			var ae *agentexec.Error
			if !errors.As(err, &ae) || ae.Code != agentexec.CodeInvalidArgument {
				t.Errorf("ParseBind(%q) = %v, %v; want invalid_argument", tc.in, ap, err)
			}
			continue
		}
		if err != nil || ap.String() != tc.want {
			t.Errorf("ParseBind(%q) = %v, %v; want %s", tc.in, ap, err, tc.want)
		}
	}
}

func TestCheckBind(t *testing.T) {
	tests := []struct {
		bind     string
		insecure bool
		token    string
		ok       bool
	}{
		{"127.0.0.1:1", false, "", true},
		{"127.9.9.9:1", false, "", true},
		{"[::1]:1", false, "", true},
		{"0.0.0.0:19263", false, "", false},
		{"0.0.0.0:19263", true, "", false},
		{"0.0.0.0:19263", false, "t", false},
		{"0.0.0.0:19263", true, "t", true},
		{"[::]:1", true, "t", true},
		{"[::]:1", true, "", false},
		{"192.168.1.2:1", false, "t", false},
	}
	for _, tc := range tests {
		err := httpapi.CheckBind(netip.MustParseAddrPort(tc.bind), tc.insecure, tc.token)
		if tc.ok != (err == nil) {
			t.Errorf("CheckBind(%s, %v, %q) = %v", tc.bind, tc.insecure, tc.token, err)
		}
		if err != nil {
			var ae *agentexec.Error
			if !errors.As(err, &ae) || ae.Code != agentexec.CodeServeUnsafeBind {
				t.Errorf("code: %v", err)
			}
		}
	}
	err := httpapi.CheckBind(netip.MustParseAddrPort("0.0.0.0:19263"), false, "t")
	if want := "refusing to bind non-loopback address 0.0.0.0:19263 without --insecure and AGENT_EXEC_SERVE_TOKEN"; err.Error() != want {
		t.Errorf("message %q", err)
	}
}

func TestValidateOrigin(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://localhost:3000", "http://localhost:3000"},
		{"https://App.Example", "https://app.example"},
		{"HTTP://a.b:1", "http://a.b:1"},
		{"http://[::1]:8080", "http://[::1]:8080"},
		{"*", ""},
		{"http://*.example", ""},
		{"http://a.example/", ""},
		{"http://a.example/path", ""},
		{"http://a.example?x", ""},
		{"http://a.example#f", ""},
		{"http://user@a.example", ""},
		{"ftp://a.example", ""},
		{"a.example", ""},
		{"http://", ""},
		{"http://a.example:", ""},
		{"http://a.example:99999", ""},
		{"null", ""},
		{"", ""},
	}
	for _, tc := range tests {
		got, err := httpapi.ValidateOrigin(tc.in)
		if tc.want == "" {
			var ae *agentexec.Error
			if !errors.As(err, &ae) || ae.Code != agentexec.CodeInvalidConfig {
				t.Errorf("ValidateOrigin(%q) = %q, %v; want invalid_config", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ValidateOrigin(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	m, _ := agentexec.Open(t.TempDir(), agentexec.Options{})
	defer m.Close()
	if _, err := httpapi.New(m, httpapi.Options{AllowOrigins: []string{"*"}}); err == nil {
		t.Fatal("New accepted *")
	}
}
