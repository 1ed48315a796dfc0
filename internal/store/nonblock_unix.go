//go:build unix

package store

import "syscall"

const (
	syscallNonblock = syscall.O_NONBLOCK
	syscallNoFollow = syscall.O_NOFOLLOW
)
