//go:build linux

package mcpserver

import (
	"net"
	"os/exec"
	"strconv"
	"testing"
)

// TestWaitForPort: run.wait_for_port and wait.for_port (SPEC §11.2, §11.4).
func TestWaitForPort(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	e := newEnv(t, Options{})
	listener := "python3 -c 'import socket, time; s = socket.socket(); s.bind((\"127.0.0.1\", " + strconv.Itoa(port) + ")); s.listen(); time.sleep(60)' &"
	run := e.ok("run", map[string]any{"command": []string{listener}, "wait_for_port": port, "until_ms": 20000}, "run")
	id := run["job_id"].(string)
	wantField(t, run, "matched", true)
	m, _ := run["match"].(map[string]any)
	if m["port"] != float64(port) || m["address"] != "127.0.0.1" || m["pid"] == nil {
		t.Fatalf("run match %v", run["match"])
	}
	w := e.ok("wait", map[string]any{"job_id": id, "for_port": port, "until_ms": 20000}, "wait")
	wantField(t, w, "matched", true)
	wantField(t, w, "match", m)
	e.fail("wait", map[string]any{"job_id": id, "for_port": port, "for_output": "x"}, "invalid_argument")
	k := e.ok("kill", map[string]any{"job_id": id}, "kill")
	wantField(t, k, "descendants_signalled", 1.0)
}
