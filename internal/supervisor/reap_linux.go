package supervisor

import (
	"golang.org/x/sys/unix"
)

// becomeSubreaper makes the supervisor the reaper of every orphan among its
// descendants (PR_SET_CHILD_SUBREAPER), so that processes the job leaves
// behind — backgrounded, double-forked, setsid'd — are re-parented to it
// instead of to init and remain the job's (SPEC §11.4).
func becomeSubreaper() bool {
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == nil
}

// reapPID reaps pid if it is an exited child and returns its rusage.
func reapPID(pid int) (usage, bool) {
	var ws unix.WaitStatus
	var ru unix.Rusage
	got, err := unix.Wait4(pid, &ws, unix.WNOHANG, &ru)
	if err != nil || got != pid {
		return usage{}, false
	}
	return usage{
		maxRSSKB: ru.Maxrss, // KiB on Linux
		userMS:   ru.Utime.Sec*1000 + int64(ru.Utime.Usec)/1000,
		sysMS:    ru.Stime.Sec*1000 + int64(ru.Stime.Usec)/1000,
	}, true
}
