//go:build !unix

package notify

import (
	"os"
	"strconv"
	"syscall"
)

// groupAttr: process groups are not available; the sink runs as a plain
// child.
func groupAttr() *syscall.SysProcAttr { return nil }

// killGroup kills the sink process itself.
func killGroup(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
	}
}

// exitError describes a finished sink: "" for exit status 0, otherwise
// "exited with status N".
func exitError(ps *os.ProcessState) string {
	if ps.ExitCode() == 0 {
		return ""
	}
	return "exited with status " + strconv.Itoa(ps.ExitCode())
}
