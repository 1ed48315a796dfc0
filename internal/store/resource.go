package store

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// ResourceExhausted reports whether err is the system running out of
// something (descriptors, memory, buffers) rather than anything about the
// file: such a failure says nothing about the job and must never be shown
// as a damaged or missing one.
func ResourceExhausted(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOMEM) || errors.Is(err, syscall.ENOBUFS)
}

// Vanished reports whether err comes from a job directory that no longer
// exists — removed (or renamed away for removal) between a scan and a read
// — as opposed to a job directory that lacks the file.
func Vanished(dir string, err error) bool {
	if !errors.Is(err, fs.ErrNotExist) {
		return false
	}
	_, lerr := os.Lstat(dir)
	return errors.Is(lerr, fs.ErrNotExist)
}

// retryExhausted runs op, and again after short pauses while it fails for
// lack of a resource: under a low descriptor limit concurrent readers
// (list reads many jobs at once) free descriptors within microseconds.
func retryExhausted[T any](op func() (T, error)) (T, error) {
	v, err := op()
	for delay := time.Millisecond; err != nil && ResourceExhausted(err) && delay <= 64*time.Millisecond; delay *= 4 {
		time.Sleep(delay)
		v, err = op()
	}
	return v, err
}
