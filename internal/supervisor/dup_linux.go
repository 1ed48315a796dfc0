//go:build linux

package supervisor

import "golang.org/x/sys/unix"

func dupTo(oldfd, newfd int) { unix.Dup3(oldfd, newfd, 0) }
