//go:build !linux

package proc

import "syscall"

// TreeSupported reports whether this platform can find a job's tree: not
// here. Without /proc (macOS, other Unixes, Windows) a job's tree is its
// direct child's process group only, as in v1; status has no live object.
const TreeSupported = false

// Children reports nothing on this platform.
func Children(pid int) []int { return nil }

// LeaderChildren reports nothing on this platform.
func LeaderChildren(pid int) []int { return nil }

// JobTree reports an empty tree on this platform.
func JobTree(spec TreeSpec) []Member { return nil }

// SignalVerified signals nothing on this platform (there is no way to pin a
// pid while comparing its start time).
func SignalVerified(id Identity, sig syscall.Signal) (bool, error) { return false, nil }

// Usage reports nothing on this platform.
func Usage(members []Member) TreeUsage { return TreeUsage{} }

// Listening reports nothing on this platform.
func Listening(members []Member) []Listener { return nil }
