// Package userfile reads files that a user named (a configuration file, an
// env file, a job input file) without trusting what the name points at.
//
// A path given by a user may name a FIFO with no writer (opening or reading
// it would block for ever), a character device such as /dev/zero (reading
// it would never end) or a regular file far larger than anything the caller
// needs. Read accepts only regular files, opens them without blocking and
// reads at most a caller-chosen number of bytes, so every such read is
// bounded by construction (STYLE.md, "Bounded by construction").
package userfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ErrNotRegular is wrapped by the error Read returns for anything but a
// regular file (a FIFO, a device, a directory, a socket).
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is wrapped by the error Read returns for a file larger than
// its limit.
var ErrTooLarge = errors.New("file too large")

// Read returns the contents of the regular file at path, which must hold at
// most limit bytes. Symlinks are followed (users legitimately link their
// configuration). The file is opened non-blocking and without becoming a
// controlling terminal, then checked with fstat before any read, so a FIFO
// or device is refused at once. Errors: the open error (an *fs.PathError,
// e.g. wrapping fs.ErrNotExist), or an error wrapping ErrNotRegular or
// ErrTooLarge whose text does not repeat the path.
func Read(path string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w (%s)", ErrNotRegular, kind(fi.Mode()))
	}
	if fi.Size() > limit {
		return nil, tooLarge(limit)
	}
	// The size can change between fstat and read (and some special
	// filesystems report 0): read one byte past the limit to notice.
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, tooLarge(limit)
	}
	return data, nil
}

// NoBlock is added to the os.OpenFile flags of a file written on a user's
// behalf (a --log path, a notification file): a FIFO without a reader then
// fails at once with ENXIO instead of blocking the writer for ever, and a
// terminal never becomes the controlling one. Go's poller makes later
// writes to a FIFO wait as usual; regular files are unaffected.
const NoBlock = openFlags

func tooLarge(limit int64) error {
	return fmt.Errorf("%w: larger than %d bytes", ErrTooLarge, limit)
}

// kind names a non-regular file mode for messages.
func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "an irregular file"
}

// Describe returns err's text without the path an *fs.PathError repeats,
// for messages that already name the file.
func Describe(err error) string {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err.Error()
	}
	return err.Error()
}
