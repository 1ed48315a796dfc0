package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// ErrSymlink reports a symbolic link where a job directory or job file must
// be. It matches nothing else: callers show it as the damage it is.
var ErrSymlink = errors.New("is a symbolic link (refused)")

// OpenJobFile opens a file inside a job directory — every open of a job
// file goes through here. A job directory is data that anyone with write
// access to the root can shape, so the last path component is never
// followed if it is a symbolic link (O_NOFOLLOW: a planted link must not
// make us read, truncate or create a file elsewhere), the open never blocks
// (O_NONBLOCK: a FIFO in a file's place), and anything but a regular file
// is refused. O_NONBLOCK has no effect on regular files.
func OpenJobFile(path string, flag int, perm fs.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscallNoFollow|syscallNonblock, perm)
	if err != nil {
		if isSymlinkErr(path, err) {
			return nil, &fs.PathError{Op: "open", Path: path, Err: ErrSymlink}
		}
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file", filepath.Base(path))
	}
	return f, nil
}

// isSymlinkErr tells an O_NOFOLLOW refusal (ELOOP, or EMLINK/EFTYPE on some
// BSDs) from other failures by looking at the entry itself.
func isSymlinkErr(path string, err error) bool {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return false
	}
	fi, lerr := os.Lstat(path)
	return lerr == nil && fi.Mode()&fs.ModeSymlink != 0
}

// CheckJobDir refuses a job directory that is not a real directory: a
// symbolic link at <root>/<id> would redirect every write of the job to
// wherever it points.
func CheckJobDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return &fs.PathError{Op: "open", Path: dir, Err: ErrSymlink}
	}
	if !fi.IsDir() {
		return &fs.PathError{Op: "open", Path: dir, Err: syscall.ENOTDIR}
	}
	return nil
}
