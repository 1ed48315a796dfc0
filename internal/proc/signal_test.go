//go:build unix

package proc

import (
	"strconv"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseSignal(t *testing.T) {
	num := func(s syscall.Signal) string { return strconv.Itoa(int(s)) }
	tests := []struct {
		in   string
		sig  syscall.Signal
		name string
		ok   bool
	}{
		{"TERM", unix.SIGTERM, "TERM", true},
		{"term", unix.SIGTERM, "TERM", true},
		{"SIGTERM", unix.SIGTERM, "TERM", true},
		{"SigTerm", unix.SIGTERM, "TERM", true},
		{"INT", unix.SIGINT, "INT", true},
		{"sigint", unix.SIGINT, "INT", true},
		{"KILL", unix.SIGKILL, "KILL", true},
		{"sigkill", unix.SIGKILL, "KILL", true},
		{"hup", unix.SIGHUP, "HUP", true},
		{"SIGQUIT", unix.SIGQUIT, "QUIT", true},
		{"USR1", unix.SIGUSR1, "USR1", true},
		{"SIGusr1", unix.SIGUSR1, "USR1", true},
		{"usr2", unix.SIGUSR2, "USR2", true},
		{num(unix.SIGTERM), unix.SIGTERM, "TERM", true},
		{num(unix.SIGINT), unix.SIGINT, "INT", true},
		{num(unix.SIGKILL), unix.SIGKILL, "KILL", true},
		{num(unix.SIGHUP), unix.SIGHUP, "HUP", true},
		{num(unix.SIGQUIT), unix.SIGQUIT, "QUIT", true},
		{num(unix.SIGUSR1), unix.SIGUSR1, "USR1", true},
		{num(unix.SIGUSR2), unix.SIGUSR2, "USR2", true},
		{"09", unix.SIGKILL, "KILL", true},

		{"", 0, "", false},
		{"0", 0, "", false},
		{"00", 0, "", false},
		{"STOP", 0, "", false},
		{"SIGSTOP", 0, "", false},
		{num(unix.SIGSTOP), 0, "", false},
		{"CONT", 0, "", false},
		{"SIG", 0, "", false},
		{"SIGSIGTERM", 0, "", false},
		{"TERMX", 0, "", false},
		{" TERM", 0, "", false},
		{"TERM ", 0, "", false},
		{"-15", 0, "", false},
		{"+15", 0, "", false},
		{"15.0", 0, "", false},
		{"64", 0, "", false},
		{"99999999999999999999", 0, "", false},
		{"ＴＥＲＭ", 0, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			sig, name, ok := ParseSignal(tt.in)
			if sig != tt.sig || name != tt.name || ok != tt.ok {
				t.Errorf("ParseSignal(%q) = (%d, %q, %v), want (%d, %q, %v)",
					tt.in, sig, name, ok, tt.sig, tt.name, tt.ok)
			}
		})
	}
}

func TestSignalName(t *testing.T) {
	tests := []struct {
		sig  syscall.Signal
		want string
	}{
		{unix.SIGTERM, "TERM"},
		{syscall.Signal(15), "TERM"},
		{unix.SIGKILL, "KILL"},
		{unix.SIGINT, "INT"},
		{unix.SIGHUP, "HUP"},
		{unix.SIGQUIT, "QUIT"},
		{unix.SIGUSR1, "USR1"},
		{unix.SIGUSR2, "USR2"},
		{unix.SIGSEGV, "SEGV"},
		{unix.SIGSTOP, "STOP"},
		{unix.SIGCHLD, "CHLD"},
		{unix.SIGWINCH, "WINCH"},
		{syscall.Signal(0), "0"},
		{syscall.Signal(200), "200"},
	}
	for _, tt := range tests {
		if got := SignalName(tt.sig); got != tt.want {
			t.Errorf("SignalName(%d) = %q, want %q", tt.sig, got, tt.want)
		}
	}
}

func TestNormalizeSignalField(t *testing.T) {
	tests := []struct{ in, want string }{
		{"15", "TERM"},
		{"9", "KILL"},
		{strconv.Itoa(int(unix.SIGSTOP)), "STOP"},
		{strconv.Itoa(int(unix.SIGSEGV)), "SEGV"},
		{"TERM", "TERM"},
		{"SIGTERM", "TERM"},
		{"SIGKILL", "KILL"},
		{"sigusr1", "USR1"},
		{"term", "TERM"},
		{"200", "200"},
		{"0", "0"},
		{"", ""},
		{"SIG", "SIG"},
		{"weird", "weird"},
		{"SIGweird", "weird"},
	}
	for _, tt := range tests {
		if got := NormalizeSignalField(tt.in); got != tt.want {
			t.Errorf("NormalizeSignalField(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// Every accepted signal round-trips through SignalName and ParseSignal.
func TestAcceptedSignalsRoundTrip(t *testing.T) {
	for _, a := range acceptedSignals {
		if got := SignalName(a.sig); got != a.name {
			t.Errorf("SignalName(%d) = %q, want %q", a.sig, got, a.name)
		}
		sig, name, ok := ParseSignal(SignalName(a.sig))
		if !ok || sig != a.sig || name != a.name {
			t.Errorf("ParseSignal(%q) = (%d, %q, %v)", a.name, sig, name, ok)
		}
	}
}
