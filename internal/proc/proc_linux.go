package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

var bootID = sync.OnceValue(func() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
})

// BootID returns the id of the current boot: on Linux the trimmed content of
// /proc/sys/kernel/random/boot_id, or "" if it cannot be read. The value is
// read once and cached.
func BootID() string { return bootID() }

// statFields holds the fields of /proc/<pid>/stat that this package uses.
type statFields struct {
	state     byte   // field 3
	pgrp      int    // field 5
	startTime string // field 22, decimal clock ticks since boot
}

// parseStat parses the content of /proc/<pid>/stat. The command name (field 2)
// is enclosed in parentheses but may itself contain spaces and parentheses, so
// the remaining fields are taken from after the last ')'.
func parseStat(data []byte) (statFields, error) {
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return statFields{}, errors.New("parse stat: no ')' after comm")
	}
	// fields[0] is field 3 (state), fields[i] is field i+3. Split without
	// allocating: supervisors holding trees parse this every second.
	var fields [20][]byte
	if n := splitFields(data[end+1:], fields[:]); n < 20 {
		return statFields{}, fmt.Errorf("parse stat: %d fields after comm, want at least 20", n)
	}
	if len(fields[0]) != 1 || !isASCIILetter(fields[0][0]) {
		return statFields{}, fmt.Errorf("parse stat: bad state %q", fields[0])
	}
	pgrp, err := strconv.Atoi(string(fields[2]))
	if err != nil {
		return statFields{}, fmt.Errorf("parse stat: pgrp: %w", err)
	}
	start := string(fields[19])
	if !isDigits(start) {
		return statFields{}, fmt.Errorf("parse stat: bad starttime %q", start)
	}
	return statFields{state: fields[0][0], pgrp: pgrp, startTime: start}, nil
}

// splitFields fills out with the whitespace-separated fields of data (at
// most len(out)) and returns how many it found.
func splitFields(data []byte, out [][]byte) int {
	n, i := 0, 0
	for n < len(out) {
		for i < len(data) && isSpace(data[i]) {
			i++
		}
		if i == len(data) {
			break
		}
		start := i
		for i < len(data) && !isSpace(data[i]) {
			i++
		}
		out[n] = data[start:i]
		n++
	}
	return n
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f'
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// readStat reads and parses /proc/<pid>/stat.
func readStat(pid int) (statFields, bool) {
	if pid <= 0 {
		return statFields{}, false
	}
	buf := procBufs.Get().(*[4096]byte)
	defer procBufs.Put(buf)
	data, err := readSmall("/proc/"+strconv.Itoa(pid)+"/stat", buf[:])
	if err != nil {
		return statFields{}, false
	}
	st, err := parseStat(data)
	if err != nil {
		return statFields{}, false
	}
	return st, true
}

// StartTime returns the start time of pid as an opaque string (Linux: field 22
// of /proc/<pid>/stat, clock ticks since boot, in decimal). ok is false if the
// process does not exist or the value cannot be read. Zombies still have one.
func StartTime(pid int) (string, bool) {
	st, ok := readStat(pid)
	return st.startTime, ok
}

// ProcState returns the state character (Linux: field 3 of /proc/<pid>/stat,
// e.g. 'R', 'S', 'T', 'Z') and the process group id (field 5) of pid. ok is
// false if the process does not exist or the values cannot be read.
func ProcState(pid int) (state byte, pgid int, ok bool) {
	st, ok := readStat(pid)
	return st.state, st.pgrp, ok
}

// WaitExit blocks until process pid (which need not be a child of the caller)
// has exited, or ctx is done. It returns nil once the process has exited
// (a zombie counts as exited, and so does a pid that no longer exists),
// ctx.Err() if ctx ends first, and an error wrapping [ErrUnsupported] when the
// kernel cannot provide a process file descriptor (pidfd_open, Linux 5.3+); the
// caller then falls back to polling [Gone]. The wait is event-driven: the
// pidfd becomes readable when the process exits.
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
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if errors.Is(err, unix.EINVAL) {
		// PIDFD_NONBLOCK needs Linux 5.10; set O_NONBLOCK ourselves.
		fd, err = unix.PidfdOpen(pid, 0)
		if err == nil {
			if err = unix.SetNonblock(fd, true); err != nil {
				unix.Close(fd)
			}
		}
	}
	switch {
	case errors.Is(err, unix.ESRCH):
		return nil
	case errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EPERM), errors.Is(err, unix.EINVAL):
		// ENOSYS: kernel older than 5.3; EPERM: typically a seccomp filter.
		return fmt.Errorf("wait for process %d: pidfd_open: %w (%w)", pid, ErrUnsupported, err)
	case err != nil:
		return fmt.Errorf("wait for process %d: pidfd_open: %w", pid, err)
	}

	// A non-blocking fd handed to os.NewFile is registered with the runtime
	// poller, so the wait parks a goroutine rather than a thread, and a read
	// deadline interrupts it when ctx ends.
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return fmt.Errorf("wait for process %d: %w", pid, err)
	}
	stop := context.AfterFunc(ctx, func() { _ = f.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()

	exited := false
	var pollErr error
	err = rc.Read(func(fd uintptr) bool {
		exited, pollErr = pidfdReadable(int(fd), 0)
		return exited || pollErr != nil
	})
	switch {
	case exited:
		return nil
	case pollErr != nil:
		return fmt.Errorf("wait for process %d: poll pidfd: %w", pid, pollErr)
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		// The runtime poller refused the fd: wait with poll(2) instead, in
		// short slices so that ctx is honoured.
		return pollExit(ctx, int(f.Fd()), pid)
	}
	return nil
}

// pidfdReadable polls a pidfd once, waiting at most timeoutMs milliseconds, and
// reports whether it is readable (the process has exited).
func pidfdReadable(fd, timeoutMs int) (bool, error) {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, timeoutMs)
	if errors.Is(err, unix.EINTR) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return n > 0, nil
}

// pollExit waits for a pidfd to become readable with blocking poll(2) calls of
// at most 50 ms, checking ctx between them.
func pollExit(ctx context.Context, fd, pid int) error {
	for {
		exited, err := pidfdReadable(fd, 50)
		if err != nil {
			return fmt.Errorf("wait for process %d: poll pidfd: %w", pid, err)
		}
		if exited {
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
