//go:build !linux

package supervisor

// becomeSubreaper is not available here: descendants that outlive the
// direct child are re-parented to init and are no longer the job's (the v1
// behaviour). SPEC §11.4 is implemented on Linux only.
func becomeSubreaper() bool { return false }

// reapPID reaps nothing: without a subreaper no orphan is our child.
func reapPID(pid int) (usage, bool) { return usage{}, false }
