//go:build windows

package supervisor

import (
	"os"
	"syscall"
)

// Windows has no process groups or fd duplication onto 0/1 in this form;
// process control there is not supported yet (SPEC §0.1).
func dupTo(oldfd, newfd int) {}

func getpgrp() int { return os.Getpid() }

// sigChild keeps the tree keeper building; process trees are not supported
// on Windows, so it is never waited for.
const sigChild = syscall.Signal(0x11)

func closeOnExec(fd int) {}
