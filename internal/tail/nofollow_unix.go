//go:build unix

package tail

import "syscall"

const noFollow = syscall.O_NOFOLLOW | syscall.O_NONBLOCK
