//go:build unix

package proc

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// TestCloseInheritedOnExec: a descriptor inherited without close-on-exec
// (like a caller's pipe on fd 3) gets the flag, so supervisors and jobs do
// not keep the caller's pipe open.
func TestCloseInheritedOnExec(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	fd := int(w.Fd())
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0); err != nil {
		t.Fatal(err)
	}
	CloseInheritedOnExec()
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil {
		t.Fatal(err)
	}
	if flags&unix.FD_CLOEXEC == 0 {
		t.Fatalf("fd %d still inheritable", fd)
	}
	for _, std := range []int{0, 1, 2} {
		if f, err := unix.FcntlInt(uintptr(std), unix.F_GETFD, 0); err == nil && f&unix.FD_CLOEXEC != 0 {
			t.Fatalf("stdio fd %d was marked close-on-exec", std)
		}
	}
}
