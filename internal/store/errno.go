package store

import "syscall"

var errNotEmpty error = syscall.ENOTEMPTY
