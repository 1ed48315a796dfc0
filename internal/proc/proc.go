// Package proc answers questions about operating-system processes for
// agent-exec: who a process is (pid, process group, start time, boot id), whether
// a recorded process is still the one that was recorded, how to signal a job's
// process group, how to start a process detached, and how to decode its exit
// status.
//
// # Identity
//
// A pid alone does not identify a process: pids are reused. An [Identity]
// therefore records the pid, the process group and an opaque start time, and the
// system's boot id ([BootID]) is recorded next to it. A later reading is compared
// for equality only (SPEC §2.4):
//
//   - Linux: start time is field 22 (starttime, clock ticks since boot) of
//     /proc/<pid>/stat in decimal; the boot id is
//     /proc/sys/kernel/random/boot_id, trimmed.
//   - macOS: start time is p_starttime of sysctl kern.proc.pid.<pid> and the
//     boot id is sysctl kern.boottime, both as <seconds>.<microseconds> with
//     the microseconds zero-padded to six digits.
//   - Other platforms: not available ("" / ok=false); every check that needs
//     a missing value is skipped.
//
// # Liveness
//
// [Gone] implements the "supervisor gone" rules of SPEC §3.11, [LegacyGone] the
// rule for jobs written without a supervisor identity, and [VerifyGroup] the
// verification that precedes signalling a job's process group (SPEC §4.8 step
// 3). None of them ever signals a process other than with signal 0.
//
// # Signals
//
// [SignalName] gives the conventional name without "SIG" (SPEC §3.7),
// [ParseSignal] accepts only the signals a user may send (TERM INT KILL HUP QUIT
// USR1 USR2), and [SignalGroup] sends a signal to a whole process group, never to
// a group ≤ 1.
//
// On Windows the package builds but process-group signalling, start times,
// process states and boot ids are not available; see proc_windows.go.
package proc

import (
	"errors"
)

// ErrUnsupported is returned (possibly wrapped) by operations that the current
// platform cannot perform.
var ErrUnsupported = errors.New("not supported on this platform")

// ErrInvalidGroup is returned (wrapped) by [SignalGroup] when asked to signal a
// process group it must never signal: a group id ≤ 1 or the caller's own group.
var ErrInvalidGroup = errors.New("invalid process group")

// Identity identifies one process across time: its pid, its process group id
// and its start time as read by [StartTime] when it was recorded (empty when
// unknown). It mirrors the supervisor and child objects of state.json.
type Identity struct {
	PID       int
	PGID      int
	StartTime string
}

// bootChanged reports whether the boot id recorded with a process differs from
// the current one. An unknown value on either side never counts as a change.
func bootChanged(recorded string) bool {
	if recorded == "" {
		return false
	}
	cur := BootID()
	return cur != "" && cur != recorded
}

// startTimeChanged reports whether pid's current start time is readable and
// differs from the recorded one. An empty recorded value or an unreadable
// current value never counts as a change.
func startTimeChanged(pid int, recorded string) bool {
	if recorded == "" {
		return false
	}
	cur, ok := StartTime(pid)
	return ok && cur != recorded
}

// isZombie reports whether pid is known to have exited but not yet been reaped.
func isZombie(pid int) bool {
	state, _, ok := ProcState(pid)
	return ok && (state == 'Z' || state == 'X')
}

// Gone reports whether the process described by id (a job's supervisor) no
// longer exists, applying the rules of SPEC §3.11 in order:
//
//  1. bootID (the boot id recorded with id) is non-empty, the current [BootID]
//     is non-empty, and they differ;
//  2. id.PID ≤ 1, or kill(pid, 0) fails with ESRCH (EPERM counts as existing);
//  3. the process is a zombie (state Z, or the transient X);
//  4. id.StartTime is non-empty, a current [StartTime] for the pid is available,
//     and they differ (the pid was reused).
//
// id.PGID is not consulted.
func Gone(id Identity, bootID string) bool {
	switch {
	case bootChanged(bootID):
		return true
	case id.PID <= 1 || !pidExists(id.PID):
		return true
	case isZombie(id.PID):
		return true
	case startTimeChanged(id.PID, id.StartTime):
		return true
	}
	return false
}

// LegacyGone applies the liveness rule for jobs written without a supervisor
// identity (SPEC §3.11): a missing pid (≤ 0) or a pid ≤ 1 is judged alive, and
// otherwise the process is gone only if kill(pid, 0) fails with ESRCH.
func LegacyGone(pid int) bool {
	if pid <= 1 {
		return false
	}
	return !pidExists(pid)
}

// VerifyGroup reports whether the process group recorded in id still belongs to
// the recorded job, which is the precondition for signalling it (SPEC §4.8 step
// 3). All of the following must hold; a check whose current value is
// unavailable is skipped:
//
//   - id.PID > 1 and id.PGID > 1;
//   - the recorded bootID equals the current [BootID];
//   - the process exists: kill(pid, 0) does not fail with ESRCH;
//   - its current [StartTime] equals id.StartTime (skipped when id.StartTime
//     is empty);
//   - its current process group equals id.PGID.
//
// A zombie leader verifies: its pid cannot be reused until it is reaped, and its
// start time and process group are still readable, so the group id still names
// the job's group, whose remaining members (e.g. background processes of an
// exited shell) are exactly what a kill must reach. A leader that no longer
// exists at all does not verify, even if other members of its group remain:
// once the leader is reaped nothing ties the group id to the job any more (a new
// process may have reused the number and become the leader of an unrelated
// group), so signalling it could hit a stranger. This is the reading of SPEC
// §4.8 ("if verification fails the child is already gone").
//
// For legacy jobs without a recorded child the caller passes
// Identity{PID: pid, PGID: pid}.
func VerifyGroup(id Identity, bootID string) bool {
	if id.PID <= 1 || id.PGID <= 1 {
		return false
	}
	if bootChanged(bootID) {
		return false
	}
	if !pidExists(id.PID) {
		return false
	}
	if startTimeChanged(id.PID, id.StartTime) {
		return false
	}
	if _, pgid, ok := ProcState(id.PID); ok && pgid != id.PGID {
		return false
	}
	return true
}
