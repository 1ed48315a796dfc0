//go:build unix && !linux

package supervisor

import "golang.org/x/sys/unix"

func dupTo(oldfd, newfd int) { unix.Dup2(oldfd, newfd) }
