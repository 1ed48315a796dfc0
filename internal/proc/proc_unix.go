//go:build unix

package proc

import (
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

const (
	sigTERM = unix.SIGTERM
	sigINT  = unix.SIGINT
	sigKILL = unix.SIGKILL
	sigHUP  = unix.SIGHUP
	sigQUIT = unix.SIGQUIT
	sigUSR1 = unix.SIGUSR1
	sigUSR2 = unix.SIGUSR2
)

// signalName returns the name of sig without "SIG", or "" if it has none.
func signalName(sig syscall.Signal) string {
	name := unix.SignalName(sig)
	if len(name) > 3 && name[:3] == "SIG" {
		return name[3:]
	}
	return ""
}

// signalByName returns the signal called name (without "SIG"), or 0.
func signalByName(name string) syscall.Signal {
	if name == "" {
		return 0
	}
	return unix.SignalNum("SIG" + name)
}

// pidExists reports whether kill(pid, 0) finds the process. Only ESRCH means
// "no such process"; EPERM (and any other failure) counts as existing, so that
// an unexpected error never declares a live process dead. Zombies exist.
func pidExists(pid int) bool {
	if pid <= 0 {
		return false
	}
	return !errors.Is(unix.Kill(pid, 0), unix.ESRCH)
}

// SignalGroup sends sig to every member of process group pgid (kill(-pgid,
// sig)). It refuses, with an error wrapping [ErrInvalidGroup], a pgid ≤ 1
// (kill(0)/kill(-1) would hit the caller's group or every process) and the
// caller's own process group. ESRCH (the group no longer exists) is not an
// error; any other failure is returned wrapped.
func SignalGroup(pgid int, sig syscall.Signal) error {
	if pgid <= 1 {
		return fmt.Errorf("signal process group %d: %w", pgid, ErrInvalidGroup)
	}
	if pgid == unix.Getpgrp() {
		return fmt.Errorf("signal process group %d: %w: it is the caller's own group", pgid, ErrInvalidGroup)
	}
	err := unix.Kill(-pgid, sig)
	if err == nil || errors.Is(err, unix.ESRCH) {
		return nil
	}
	return fmt.Errorf("signal process group %d with %s: %w", pgid, SignalName(sig), err)
}

// GroupAlive reports whether process group pgid has any member: kill(-pgid, 0)
// succeeds or fails with EPERM. Members that are zombies count. A pgid ≤ 1 is
// never alive.
func GroupAlive(pgid int) bool {
	if pgid <= 1 {
		return false
	}
	err := unix.Kill(-pgid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}

// DetachedAttr returns the process attributes for a detached process: a new
// session (setsid), hence its own process group whose id is its pid, and no
// controlling terminal. It survives its parent exiting and signals sent to the
// parent's process group.
func DetachedAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setsid: true}
}

// ExitOutcome decodes a wait status (SPEC §3.7): a process that exited yields
// its exit code and an empty signal; one terminated by a signal yields a nil
// code and the signal's name ([SignalName]). Any other status (stopped,
// continued) yields nil and "".
func ExitOutcome(ws syscall.WaitStatus) (exitCode *int, signal string) {
	switch {
	case ws.Exited():
		code := ws.ExitStatus()
		return &code, ""
	case ws.Signaled():
		return nil, SignalName(ws.Signal())
	}
	return nil, ""
}
