package proc

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/sys/windows"
)

// Windows has no signals in the POSIX sense. The names and numbers below are
// those of the syscall package (the Linux numbering), so that parsing and
// naming behave as on Linux; USR1 and USR2, which syscall does not define, take
// their Linux numbers. Sending any of them is not supported (SignalGroup).
const (
	sigTERM = syscall.SIGTERM
	sigINT  = syscall.SIGINT
	sigKILL = syscall.SIGKILL
	sigHUP  = syscall.SIGHUP
	sigQUIT = syscall.SIGQUIT
	sigUSR1 = syscall.Signal(10)
	sigUSR2 = syscall.Signal(12)
)

// signalNames maps the signal numbers known on Windows to their names.
var signalNames = map[syscall.Signal]string{
	syscall.SIGHUP:  "HUP",
	syscall.SIGINT:  "INT",
	syscall.SIGQUIT: "QUIT",
	syscall.SIGILL:  "ILL",
	syscall.SIGTRAP: "TRAP",
	syscall.SIGABRT: "ABRT",
	syscall.SIGBUS:  "BUS",
	syscall.SIGFPE:  "FPE",
	syscall.SIGKILL: "KILL",
	sigUSR1:         "USR1",
	syscall.SIGSEGV: "SEGV",
	sigUSR2:         "USR2",
	syscall.SIGPIPE: "PIPE",
	syscall.SIGALRM: "ALRM",
	syscall.SIGTERM: "TERM",
}

// signalName returns the name of sig without "SIG", or "" if it has none.
func signalName(sig syscall.Signal) string { return signalNames[sig] }

// signalByName returns the signal called name (without "SIG"), or 0.
func signalByName(name string) syscall.Signal {
	for sig, n := range signalNames {
		if n == name {
			return sig
		}
	}
	return 0
}

// stillActive is STILL_ACTIVE, the exit code GetExitCodeProcess reports for a
// process that is still running.
const stillActive = 259

// pidExists reports whether a process with this pid is running. A process that
// cannot be opened for lack of rights counts as existing; one that has exited
// but whose process object is still held open by a handle does not.
func pidExists(pid int) bool {
	if pid <= 0 {
		return false
	}
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		return !errors.Is(err, windows.ERROR_INVALID_PARAMETER)
	}
	defer windows.CloseHandle(h)
	var code uint32
	if err := windows.GetExitCodeProcess(h, &code); err != nil {
		return true
	}
	return code == stillActive
}

// BootID returns "": Windows provides no boot id to this package.
func BootID() string { return "" }

// StartTime reports ok=false on Windows: SPEC §2.4 defines no start-time format
// for it, so none is recorded and start-time checks are skipped.
func StartTime(pid int) (string, bool) { return "", false }

// ProcState reports ok=false on Windows: there are no process groups or zombie
// states to report.
func ProcState(pid int) (state byte, pgid int, ok bool) { return 0, 0, false }

// SignalGroup is not supported on Windows; it returns an error wrapping
// [ErrUnsupported] (or [ErrInvalidGroup] for a pgid ≤ 1).
func SignalGroup(pgid int, sig syscall.Signal) error {
	if pgid <= 1 {
		return fmt.Errorf("signal process group %d: %w", pgid, ErrInvalidGroup)
	}
	return fmt.Errorf("signal process group %d: %w", pgid, ErrUnsupported)
}

// GroupAlive reports whether the process whose pid equals pgid is running
// (Windows has no process groups in the POSIX sense). A pgid ≤ 1 is never
// alive.
func GroupAlive(pgid int) bool {
	return pgid > 1 && pidExists(pgid)
}

// DetachedAttr returns the process attributes for a detached process: a new
// process group and no console window.
func DetachedAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{
		CreationFlags: windows.CREATE_NEW_PROCESS_GROUP | windows.CREATE_NO_WINDOW,
	}
}

// ExitOutcome decodes a wait status: on Windows a process always exits with a
// code, so signal is always "".
func ExitOutcome(ws syscall.WaitStatus) (exitCode *int, signal string) {
	code := ws.ExitStatus()
	return &code, ""
}

// WaitExit is not supported on Windows; it returns an error wrapping
// [ErrUnsupported] and the caller falls back to polling [Gone].
func WaitExit(ctx context.Context, pid int) error {
	return fmt.Errorf("wait for process %d: %w", pid, ErrUnsupported)
}

// HasStartTime says this platform provides no process start times.
const HasStartTime = false
