package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// ErrLockTimeout is returned when a lock could not be taken within its bound.
var ErrLockTimeout = errors.New("timed out waiting for the lock")

// ErrLockBusy is returned by TryLock when another process holds the lock.
var ErrLockBusy = errors.New("lock busy")

// ErrLockGone is returned when the job's .lock was unlinked or replaced
// while we locked it: the job is being (or was) deleted. It matches
// fs.ErrNotExist.
var ErrLockGone = fmt.Errorf("job directory removed: %w", fs.ErrNotExist)

// Lock is a held exclusive flock on a job's .lock file. The descriptor is
// opened O_CLOEXEC (Go's default), so it is never inherited by children.
type Lock struct {
	f *os.File
}

func openLockFile(dir string) (*os.File, error) {
	return OpenJobFile(dir+"/"+LockFile, os.O_RDWR|os.O_CREATE, 0o600)
}

// TryLock takes the lock of the job directory dir without waiting.
func TryLock(dir string) (*Lock, error) {
	f, err := openLockFile(dir)
	if err != nil {
		return nil, err
	}
	return lockOpened(dir, f)
}

// TryLockExisting is TryLock for a .lock that must already exist (an
// fs.ErrNotExist error otherwise): it probes whether a directory is in use
// without creating anything in it.
func TryLockExisting(dir string) (*Lock, error) {
	f, err := OpenJobFile(dir+"/"+LockFile, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	return lockOpened(dir, f)
}

func lockOpened(dir string, f *os.File) (*Lock, error) {
	if err := tryLockFile(f); err != nil {
		f.Close()
		return nil, err
	}
	// A deleter may have unlinked .lock (and our O_CREATE made a new one, or
	// we locked the old inode): a lock on a file that is no longer the job's
	// .lock protects nothing.
	held, err := f.Stat()
	cur, serr := os.Lstat(dir + "/" + LockFile)
	if err != nil || serr != nil || !os.SameFile(held, cur) {
		f.Close()
		return nil, ErrLockGone
	}
	return &Lock{f: f}, nil
}

// LockWait takes the lock of the job directory dir, waiting at most max.
// flock(2) has no timeout, so it polls with a short backoff; waits are rare
// and short (another command's read-modify-write or launch).
func LockWait(ctx context.Context, dir string, max time.Duration) (*Lock, error) {
	deadline := time.Now().Add(max)
	delay := time.Millisecond
	for {
		l, err := TryLock(dir)
		if err == nil {
			return l, nil
		}
		if !errors.Is(err, ErrLockBusy) {
			return nil, err
		}
		if !time.Now().Before(deadline) {
			return nil, ErrLockTimeout
		}
		t := time.NewTimer(min(delay, time.Until(deadline)))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		delay = min(delay*2, 20*time.Millisecond)
	}
}

// File is the locked descriptor. A launcher hands it to the supervisor it
// starts (inherited, so both hold the same flock) so that the lock stays
// held until the supervisor has recorded the launch outcome, even if the
// launcher dies first.
func (l *Lock) File() *os.File { return l.f }

// AdoptLock wraps a descriptor on which the job lock is already held (one
// inherited from a launcher, see File).
func AdoptLock(f *os.File) *Lock { return &Lock{f: f} }

// Unlock releases the lock. Safe on a nil lock.
func (l *Lock) Unlock() {
	if l == nil || l.f == nil {
		return
	}
	l.f.Close() // closing the descriptor releases the flock
	l.f = nil
}
