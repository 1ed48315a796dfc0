//go:build unix

package supervisor

import "syscall"

func getpgrp() int { return syscall.Getpgrp() }

// sigChild wakes the tree keeper when a child exits.
const sigChild = syscall.SIGCHLD

func closeOnExec(fd int) { syscall.CloseOnExec(fd) }
