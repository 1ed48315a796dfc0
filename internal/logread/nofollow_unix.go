//go:build unix

package logread

import "syscall"

const noFollow = syscall.O_NOFOLLOW | syscall.O_NONBLOCK
