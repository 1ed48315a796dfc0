//go:build linux

package httpapi_test

import (
	"net"
	"os/exec"
	"strconv"
	"testing"
)

// TestWaitForPort: POST /exec wait_for_port and GET /wait/{id}?for_port=
// (SPEC §11.2, §11.4) report the port a backgrounded listener holds.
func TestWaitForPort(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	e := newEnv(t)
	listener := `python3 -c 'import socket, time; s = socket.socket(); s.bind((\"127.0.0.1\", ` + port + `)); s.listen(); time.sleep(60)' &`
	r := e.post("/exec", `{"command":["`+listener+`"],"wait_for_port":`+port+`,"until_ms":20000}`)
	wantOK(t, r, "run")
	id := r.str("job_id")
	for k, want := range map[string]any{"matched": true, "match.port": float64(mustAtoi(t, port)), "match.address": "127.0.0.1"} {
		if got, _ := r.field(k); got != want {
			t.Errorf("/exec %s = %v, want %v: %s", k, got, want, r.body)
		}
	}
	r = e.do("GET", "/wait/"+id+"?for_port="+port+"&until_ms=20000", "")
	wantOK(t, r, "wait")
	if got, _ := r.field("match.port"); got != float64(mustAtoi(t, port)) {
		t.Errorf("/wait match: %s", r.body)
	}
	wantError(t, e.do("GET", "/wait/"+id+"?for_port=70000", ""), 400, "invalid_argument", "")
	wantError(t, e.do("GET", "/wait/"+id+"?for_port=x", ""), 400, "invalid_argument", "")
	wantError(t, e.do("GET", "/wait/"+id+"?for_port="+port+"&for_output=x", ""), 400, "invalid_argument", "")
	wantError(t, e.post("/exec", `{"command":["true"],"wait_for_port":0}`), 400, "invalid_argument", "")
	r = e.post("/kill/"+id, "")
	wantOK(t, r, "kill")
	if got, _ := r.field("descendants_signalled"); got != 1.0 {
		t.Errorf("kill: %s", r.body)
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
