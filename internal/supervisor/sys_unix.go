//go:build unix

package supervisor

import "syscall"

func getpgrp() int { return syscall.Getpgrp() }
