//go:build unix

package store

import "syscall"

const syscallNonblock = syscall.O_NONBLOCK
