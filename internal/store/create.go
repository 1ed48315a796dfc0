package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// NewJob is everything a creator writes for a new job.
type NewJob struct {
	Meta  *Meta  // Job.ID is filled in by Create
	Stdin []byte // nil: no stdin.bin
	Now   func() time.Time
	// Launching, when set, is the launch lease written into the created
	// state (State.Launching): the job is being created to be launched.
	Launching *Process
	// BeforeCommit, when set, runs with the new id after the directory is
	// complete and before it appears under its id (the name index records
	// the id first, so a crash never leaves a named job unindexed). An
	// error abandons the creation.
	BeforeCommit func(id string) error
}

// ErrIDCollision is returned when no free id was found in 16 attempts.
var ErrIDCollision = errors.New("could not allocate a unique job id")

// Create makes a job appear atomically: it builds the complete directory
// (meta.json, state.json in created state, empty logs, stdin.bin, .lock) as
// <root>/.new-<id>-<random>, takes the job lock there, and renames it to
// <root>/<id>. The lock stays held (the descriptor follows the inode) and is
// returned to the caller. The root is created 0700 if missing.
func Create(root string, nj NewJob) (id string, lock *Lock, err error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return "", nil, fmt.Errorf("create root %s: %w", root, err)
	}
	for attempt := 0; attempt < maxCreateAttempt; attempt++ {
		now := nj.Now()
		id = NewID(now)
		staging := filepath.Join(root, stagingPrefix+id+"-"+randomHex(4))
		lock, err = buildJob(staging, id, now, nj)
		if err != nil {
			os.RemoveAll(staging)
			// gc reclaims a staging directory whose lock is free; a
			// creator caught before taking it loses the directory or the
			// lock race, and simply starts over under a new id.
			if errors.Is(err, ErrLockBusy) || errors.Is(err, fs.ErrNotExist) && rootExists(root) {
				continue
			}
			return "", nil, err
		}
		target := filepath.Join(root, id)
		// rename(2) replaces an empty directory silently, so check first;
		// ULIDs make a collision practically impossible anyway.
		if _, statErr := os.Lstat(target); statErr == nil {
			lock.Unlock()
			os.RemoveAll(staging)
			continue
		}
		if nj.BeforeCommit != nil {
			if err := nj.BeforeCommit(id); err != nil {
				lock.Unlock()
				os.RemoveAll(staging)
				return "", nil, err
			}
		}
		if err := os.Rename(staging, target); err != nil {
			lock.Unlock()
			os.RemoveAll(staging)
			if errors.Is(err, fs.ErrExist) || errors.Is(err, errNotEmpty) || errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return "", nil, fmt.Errorf("create job directory: %w", err)
		}
		return id, lock, nil
	}
	return "", nil, ErrIDCollision
}

func buildJob(dir, id string, now time.Time, nj NewJob) (*Lock, error) {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create job directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil { // independent of the umask
		return nil, fmt.Errorf("create job directory: %w", err)
	}
	lock, err := TryLock(dir)
	if err != nil {
		return nil, fmt.Errorf("lock new job: %w", err)
	}
	fail := func(err error) (*Lock, error) { lock.Unlock(); return nil, err }
	meta := *nj.Meta
	meta.Job.ID = id
	meta.SchemaVersion = SchemaVersion
	meta.CreatedAt = Timestamp(now)
	if nj.Stdin != nil {
		meta.StdinFile = StdinFile
		if err := writeNew(filepath.Join(dir, StdinFile), nj.Stdin); err != nil {
			return fail(err)
		}
	}
	for _, name := range []string{StdoutLog, StderrLog, FullLog} {
		if err := writeNew(filepath.Join(dir, name), nil); err != nil {
			return fail(err)
		}
	}
	// The staging directory is invisible until renamed into the root, so
	// its files need neither a temporary name nor an fsync; and the job's
	// appearance is not made durable either (no fsync of the root): both
	// were on the critical path of every launch (issue #12), and the spec
	// asks for atomic appearance, which the rename gives.
	mb, err := meta.Encode()
	if err != nil {
		return fail(err)
	}
	if len(mb) > MaxJSONFile {
		return fail(&MetaSizeError{Size: len(mb)})
	}
	if err := writeNew(filepath.Join(dir, MetaFile), mb); err != nil {
		return fail(err)
	}
	created := CreatedState(id, now)
	created.Launching = nj.Launching
	sb, err := created.Encode()
	if err != nil {
		return fail(err)
	}
	if err := writeNew(filepath.Join(dir, StateFile), sb); err != nil {
		return fail(err)
	}
	*nj.Meta = meta
	return lock, nil
}

// CreatedState is transition S0/S6: created, no pid, result null/false.
func CreatedState(id string, now time.Time) *State {
	return &State{Job: StateJob{ID: id, Status: "created"}, UpdatedAt: Timestamp(now)}
}

func writeNew(path string, data []byte) error {
	f, err := OpenJobFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", filepath.Base(path), err)
	}
	f.Chmod(0o600)
	if len(data) > 0 {
		if _, err := f.Write(data); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", filepath.Base(path), err)
		}
	}
	return f.Close()
}

// TruncateLogs empties stdout.log, stderr.log and full.log (creating them
// 0600 when missing).
func TruncateLogs(dir string) error {
	for _, name := range []string{StdoutLog, StderrLog, FullLog} {
		if err := writeNew(filepath.Join(dir, name), nil); err != nil {
			return err
		}
	}
	return nil
}

func rootExists(root string) bool {
	fi, err := os.Stat(root)
	return err == nil && fi.IsDir()
}

// ResetRun clears what a previous run left in a job directory before the
// next run starts (SPEC §4.4 step 3): the logs are truncated, the completion
// and output-match records and the process-tree file removed. Missing
// files are fine.
func ResetRun(dir string) error {
	if err := TruncateLogs(dir); err != nil {
		return err
	}
	for _, name := range []string{CompletionEvent, NotificationLog, TreeFile} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}
