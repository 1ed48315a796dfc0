//go:build unix

package userfile

import "syscall"

// openFlags: O_NONBLOCK so that opening a FIFO without a writer returns at
// once (it is then refused by fstat); O_NOCTTY so that a supervisor (a
// session leader without a terminal) never acquires a named tty.
const openFlags = syscall.O_NONBLOCK | syscall.O_NOCTTY
