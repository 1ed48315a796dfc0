//go:build unix

package httpapi

import "syscall"

// fdLimit is the process's current descriptor limit (Go raises the soft
// limit to the hard one at startup).
func fdLimit() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 1024
	}
	return rl.Cur
}
