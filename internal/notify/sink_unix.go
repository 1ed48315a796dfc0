//go:build unix

package notify

import (
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// groupAttr puts a command sink in a process group of its own, so a
// timeout can kill it together with everything it started.
func groupAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// killGroup SIGKILLs the process group led by pid (> 1 only).
func killGroup(pid int) {
	if pid > 1 {
		unix.Kill(-pid, unix.SIGKILL)
	}
}

// exitError describes a finished sink: "" for exit status 0, otherwise
// "exited with status N" or "killed by signal NAME".
func exitError(ps *os.ProcessState) string {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	switch {
	case ok && ws.Signaled():
		return "killed by signal " + signalName(ws.Signal())
	case ps.ExitCode() == 0:
		return ""
	default:
		return "exited with status " + strconv.Itoa(ps.ExitCode())
	}
}

// signalName is the conventional name without "SIG" (SPEC §3.7), or the
// number for a signal without a name.
func signalName(sig syscall.Signal) string {
	if n := unix.SignalName(sig); len(n) > 3 {
		return n[3:]
	}
	return strconv.Itoa(int(sig))
}
