//go:build unix && !linux && !darwin

package proc

import (
	"context"
	"fmt"
)

// BootID returns "": this platform provides no boot id to this package.
func BootID() string { return "" }

// StartTime reports ok=false: this platform provides no start time to this
// package, so start-time checks are skipped.
func StartTime(pid int) (string, bool) { return "", false }

// ProcState reports ok=false: this platform provides no process state to this
// package, so zombie and process-group checks are skipped.
func ProcState(pid int) (state byte, pgid int, ok bool) { return 0, 0, false }

// WaitExit returns an error wrapping [ErrUnsupported] on this platform; the
// caller falls back to polling [Gone].
func WaitExit(ctx context.Context, pid int) error {
	return fmt.Errorf("wait for process %d: %w", pid, ErrUnsupported)
}

// HasStartTime says this platform provides no process start times.
const HasStartTime = false
