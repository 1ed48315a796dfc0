//go:build unix

package proc

import (
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// CloseInheritedOnExec marks every descriptor above stderr close-on-exec.
// Go sets the flag on descriptors it opens, but not on ones the process
// inherited (a caller's pipe on fd 3, say); without this a detached
// supervisor and its job would hold such a pipe open and the caller would
// not see EOF until the job ended.
func CloseInheritedOnExec() {
	dir := "/proc/self/fd"
	if runtime.GOOS != "linux" {
		dir = "/dev/fd"
	}
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	names, _ := d.Readdirnames(-1)
	self := int(d.Fd())
	for _, n := range names {
		fd, err := strconv.Atoi(n)
		if err != nil || fd <= 2 || fd == self {
			continue
		}
		unix.CloseOnExec(fd)
	}
	d.Close()
}
