package proc

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// formatTimeval formats a timeval as <seconds>.<microseconds>, the
// microseconds zero-padded to six digits (SPEC §2.4).
func formatTimeval(sec int64, usec int64) string {
	return fmt.Sprintf("%d.%06d", sec, usec)
}

var bootID = sync.OnceValue(func() string {
	tv, err := unix.SysctlTimeval("kern.boottime")
	if err != nil || (tv.Sec == 0 && tv.Usec == 0) {
		return ""
	}
	return formatTimeval(int64(tv.Sec), int64(tv.Usec))
})

// BootID returns the id of the current boot: on macOS sysctl kern.boottime as
// <seconds>.<microseconds>, or "" if it cannot be read. The value is read once
// and cached.
func BootID() string { return bootID() }

// kinfo reads sysctl kern.proc.pid.<pid>. The kernel answers a pid that does
// not exist with an empty result, which SysctlKinfoProc reports as an error.
func kinfo(pid int) (*unix.KinfoProc, bool) {
	if pid <= 0 {
		return nil, false
	}
	kp, err := unix.SysctlKinfoProc("kern.proc.pid", pid)
	if err != nil || int(kp.Proc.P_pid) != pid {
		return nil, false
	}
	return kp, true
}

// StartTime returns the start time of pid as an opaque string (macOS:
// p_starttime of sysctl kern.proc.pid.<pid> as <seconds>.<microseconds>). ok is
// false if the process does not exist or the value cannot be read.
func StartTime(pid int) (string, bool) {
	kp, ok := kinfo(pid)
	if !ok {
		return "", false
	}
	tv := kp.Proc.P_starttime
	return formatTimeval(int64(tv.Sec), int64(tv.Usec)), true
}

// p_stat values from <sys/proc.h>.
const (
	sIDL   = 1
	sRUN   = 2
	sSLEEP = 3
	sSTOP  = 4
	sZOMB  = 5
)

// ProcState returns the state of pid as a Linux-style character ('R' running,
// 'S' sleeping, 'T' stopped, 'Z' zombie, 'I' being created; '?' otherwise) and
// its process group id, from sysctl kern.proc.pid.<pid>. ok is false if the
// process does not exist or the values cannot be read.
func ProcState(pid int) (state byte, pgid int, ok bool) {
	kp, ok := kinfo(pid)
	if !ok {
		return 0, 0, false
	}
	switch kp.Proc.P_stat {
	case sIDL:
		state = 'I'
	case sRUN:
		state = 'R'
	case sSLEEP:
		state = 'S'
	case sSTOP:
		state = 'T'
	case sZOMB:
		state = 'Z'
	default:
		state = '?'
	}
	return state, int(kp.Eproc.Pgid), true
}

// WaitExit blocks until process pid (which need not be a child of the caller)
// has exited, or ctx is done. It returns nil once the process has exited (a
// zombie counts as exited, and so does a pid that no longer exists) and
// ctx.Err() if ctx ends first. Exit is detected with a kqueue EVFILT_PROC
// NOTE_EXIT event; ctx is checked every 50 ms.
//
// Note that a pid reused by a new process after the original one was reaped is
// waited for as if it were the original; callers check identity with [Gone]
// before waiting.
func WaitExit(ctx context.Context, pid int) error {
	if pid <= 0 {
		return fmt.Errorf("wait for process %d: invalid pid", pid)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	kq, err := unix.Kqueue()
	if err != nil {
		return fmt.Errorf("wait for process %d: kqueue: %w", pid, err)
	}
	defer unix.Close(kq)

	var ev unix.Kevent_t
	unix.SetKevent(&ev, pid, unix.EVFILT_PROC, unix.EV_ADD|unix.EV_ONESHOT)
	ev.Fflags = unix.NOTE_EXIT
	for {
		_, err = unix.Kevent(kq, []unix.Kevent_t{ev}, nil, nil)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("wait for process %d: kevent: %w", pid, err)
	}
	// A process that was already a zombie may never deliver NOTE_EXIT.
	if isZombie(pid) {
		return nil
	}

	events := make([]unix.Kevent_t, 1)
	for {
		ts := unix.NsecToTimespec((50 * time.Millisecond).Nanoseconds())
		n, err := unix.Kevent(kq, nil, events, &ts)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("wait for process %d: kevent: %w", pid, err)
		}
		if n > 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// HasStartTime says this platform provides process start times: a
// reading that fails is then an error, never "unknown".
const HasStartTime = true
