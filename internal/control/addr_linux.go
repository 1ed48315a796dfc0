package control

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
)

// maxDirect is the longest socket path used as is; sun_path holds 108
// bytes including the terminating NUL.
const maxDirect = 100

// withAddr calls f with an address naming the socket of dir. A path too
// long for sun_path goes through /proc/self/fd of an open descriptor of
// dir, which the kernel resolves at bind and connect time: short, and
// free of anything another user could swap in.
func withAddr(dir string, f func(addr string) error) error {
	p := filepath.Join(dir, SocketName)
	if len(p) <= maxDirect {
		return f(p)
	}
	d, err := os.OpenFile(dir, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer d.Close()
	return f(fmt.Sprintf("/proc/self/fd/%d/%s", d.Fd(), SocketName))
}

// PeerAllowed reports whether the process at the other end of conn runs as
// this process's user (SO_PEERCRED).
func PeerAllowed(conn net.Conn) bool {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return false
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return false
	}
	allowed := false
	raw.Control(func(fd uintptr) {
		cred, err := syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
		allowed = err == nil && int(cred.Uid) == os.Getuid()
	})
	return allowed
}
