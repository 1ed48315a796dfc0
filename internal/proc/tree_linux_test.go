package proc

import (
	"net"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

func TestParseSockAddr(t *testing.T) {
	tests := []struct {
		in   string
		addr string
		port int
		ok   bool
	}{
		{"0100007F:1F90", "127.0.0.1", 8080, true},
		{"00000000:0050", "0.0.0.0", 80, true},
		{"00000000000000000000000000000000:47E6", "::", 18406, true},
		{"00000000000000000000000001000000:0016", "::1", 22, true},
		{"0000000000000000FFFF00000100007F:01BB", "::ffff:127.0.0.1", 443, true},
		{"0100007F", "", 0, false},
		{"XYZ:0050", "", 0, false},
		{"0100007F:FFFFF", "", 0, false},
		{"01007F:0050", "", 0, false},
	}
	for _, tt := range tests {
		addr, port, ok := parseSockAddr(tt.in)
		if addr != tt.addr || port != tt.port || ok != tt.ok {
			t.Errorf("parseSockAddr(%q) = %q %d %v, want %q %d %v", tt.in, addr, port, ok, tt.addr, tt.port, tt.ok)
		}
	}
}

func TestParseUsage(t *testing.T) {
	line := "4242 (a b) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 30 0 0 20 0 1 0 8804515 10000000 900 18446744073709551615"
	u, s, rss, ok := parseUsage([]byte(line))
	if !ok || u != 250 || s != 30 || rss != 900 {
		t.Fatalf("parseUsage = %d %d %d %v", u, s, rss, ok)
	}
	if _, _, _, ok := parseUsage([]byte("4242 (x) S 1 2")); ok {
		t.Fatal("short stat parsed")
	}
}

func TestStartedBefore(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{{"5", "10", true}, {"10", "10", false}, {"11", "10", false}, {"5", "", false}, {"x", "10", false}} {
		if got := startedBefore(tt.a, tt.b); got != tt.want {
			t.Errorf("startedBefore(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
}

// TestJobTreeAndListening: a real child with a grandchild, one of them
// listening, found from the recorded child; a wrong start time finds
// nothing; SignalVerified refuses a changed start time.
func TestJobTreeAndListening(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	f, _ := l.(*net.TCPListener).File()
	l.Close()
	defer f.Close()
	// The listening socket is handed to the grandchild as fd 3.
	cmd := exec.Command("sh", "-c", "sleep 60 & wait")
	cmd.ExtraFiles = []*os.File{f}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	defer func() { syscall.Kill(-pid, syscall.SIGKILL); cmd.Wait() }()
	f.Close()
	st, _ := StartTime(pid)
	var members []Member
	deadline := time.Now().Add(10 * time.Second)
	for len(members) < 2 && time.Now().Before(deadline) {
		members = JobTree(TreeSpec{BootID: BootID(), Child: Identity{PID: pid, PGID: pid, StartTime: st}, NotBefore: st})
		time.Sleep(10 * time.Millisecond)
	}
	if len(members) != 2 || members[0].PID != pid || members[1].PGID != pid {
		t.Fatalf("members %+v", members)
	}
	ls := Listening(members)
	if len(ls) != 1 || ls[0].Port != port || ls[0].Address != "127.0.0.1" {
		t.Fatalf("listening %+v (port %d)", ls, port)
	}
	if u := Usage(members); u.RSSKB <= 0 {
		t.Fatalf("usage %+v", u)
	}
	if got := JobTree(TreeSpec{Child: Identity{PID: pid, StartTime: st + "0"}}); len(got) != 0 {
		t.Fatalf("wrong start time found %+v", got)
	}
	if got := JobTree(TreeSpec{Child: Identity{PID: pid, StartTime: st}, Limit: 1}); len(got) != 1 {
		t.Fatalf("limit 1: %+v", got)
	}
	if ok, err := SignalVerified(Identity{PID: pid, StartTime: st + "0"}, syscall.SIGKILL); ok || err != nil {
		t.Fatalf("SignalVerified with a wrong start time: %v %v", ok, err)
	}
	if ok, _ := SignalVerified(Identity{PID: pid, StartTime: ""}, syscall.SIGKILL); ok {
		t.Fatal("SignalVerified without a start time signalled")
	}
	if ok, err := SignalVerified(members[1].Identity(), syscall.SIGKILL); !ok || err != nil {
		t.Fatalf("SignalVerified of a verified member: %v %v", ok, err)
	}
}
