//go:build !linux

package proc

// HoldersSince returns nothing on this platform: it has no portable way to
// list the processes holding a file. Launchers then rely on the supervisor
// announcing its child (SPEC §3.1 step 4).
func HoldersSince(path, since string) []int { return nil }

// KillHoldersSince does nothing on this platform (see [HoldersSince]).
func KillHoldersSince(path, since string) int { return 0 }
