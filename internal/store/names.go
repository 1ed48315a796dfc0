package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// NamesDir is the directory under the root that holds the job-name index:
// per name N, "N.ids" lists the ids of the jobs created with that name
// (oldest first, one per line) and "N.lock" is the target of the name lock
// that serialises their creation. Its name starts with '.', so every
// enumeration and id lookup ignores it (SPEC §2.1), and no id can name it.
//
// The index is what makes "@N" cheap on a root of many jobs: a lookup reads
// one small file and then only the meta.json of the jobs it lists, never
// every job's. It is maintained by every creator under the name lock; an
// entry whose directory is gone (deleted, gc'ed) is skipped by readers and
// dropped at the next creation with that name.
const NamesDir = ".names"

const (
	nameIndexSuffix = ".ids"
	nameLockSuffix  = ".lock"
	// maxNameIndex bounds the index read; compaction keeps it to the live
	// jobs of one name (27 bytes each).
	maxNameIndex = 4 << 20
)

// ValidName reports whether s is a valid job name: 1–64 characters, each an
// ASCII letter, digit, '.', '_' or '-'. The fixed suffixes of the index
// files mean no name ("." and ".." included) can address another path.
func ValidName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func nameIndexPath(root, name string) string {
	return filepath.Join(root, NamesDir, name+nameIndexSuffix)
}

// LockName takes the exclusive lock of a (valid) job name, waiting at most
// max. It creates the root and the names directory (0700) when missing:
// only creators take it.
func LockName(ctx context.Context, root, name string, max time.Duration) (*Lock, error) {
	dir := filepath.Join(root, NamesDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	// A symbolic link in its place would move the index elsewhere.
	if err := CheckJobDir(dir); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(max)
	delay := time.Millisecond
	for {
		l, err := tryLockName(dir, name)
		if err == nil {
			return l, nil
		}
		if errors.Is(err, errLockReplaced) {
			continue // gc removed the file we locked: lock the new one
		}
		if !errors.Is(err, ErrLockBusy) {
			return nil, fmt.Errorf("lock name %s: %w", name, err)
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

// errLockReplaced: the lock file was removed (or replaced) while we locked
// it; the lock protects nothing and is taken again.
var errLockReplaced = errors.New("name lock file replaced")

// tryLockName takes the lock of name without waiting. After locking it
// checks that the file is still the one at the path: PruneNames removes the
// lock file of a name without jobs while holding its lock, and a waiter
// that opened the old file must not believe it holds the new one.
func tryLockName(dir, name string) (*Lock, error) {
	path := filepath.Join(dir, name+nameLockSuffix)
	f, err := OpenJobFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := tryLockFile(f); err != nil {
		f.Close()
		return nil, err
	}
	held, err := f.Stat()
	cur, serr := os.Lstat(path)
	if err != nil || serr != nil || !os.SameFile(held, cur) {
		f.Close()
		return nil, errLockReplaced
	}
	return &Lock{f: f}, nil
}

// PruneNames drops index entries of jobs that no longer exist and removes
// the index and lock files of names no job has any more, so that names used
// once (build-1, build-2, …) do not accumulate after gc removed their jobs.
// A name whose lock is busy (a creation in progress) is left alone; so is a
// temporary file younger than staleTemp. It reports nothing: like staging
// directories, these files are bookkeeping, not jobs.
func PruneNames(root string, staleTemp time.Duration) {
	dir := filepath.Join(root, NamesDir)
	if CheckJobDir(dir) != nil {
		return
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	seen := map[string]bool{}
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, TempPrefix) {
			if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > staleTemp {
				os.Remove(filepath.Join(dir, n))
			}
			continue
		}
		name, ok := strings.CutSuffix(n, nameIndexSuffix)
		if !ok {
			name, ok = strings.CutSuffix(n, nameLockSuffix)
		}
		if !ok || !ValidName(name) || seen[name] {
			continue
		}
		seen[name] = true
		pruneName(root, dir, name)
	}
}

func pruneName(root, dir, name string) {
	lock, err := tryLockName(dir, name)
	if err != nil {
		return
	}
	defer lock.Unlock()
	ids, err := NameIDs(root, name)
	if err != nil {
		return // unreadable: the next creation of the name rewrites it
	}
	var live bytes.Buffer
	n := 0
	for _, id := range ids {
		if CheckJobDir(Dir(root, id)) == nil {
			live.WriteString(id)
			live.WriteByte('\n')
			n++
		}
	}
	switch {
	case n == 0:
		// Index first: a reader then finds no jobs, which is the truth.
		// The lock file goes while we hold it; tryLockName makes a waiter
		// that opened it start over.
		if err := os.Remove(nameIndexPath(root, name)); err == nil || errors.Is(err, fs.ErrNotExist) {
			os.Remove(filepath.Join(dir, name+nameLockSuffix))
		}
	case n < len(ids):
		WriteFileAtomic(nameIndexPath(root, name), live.Bytes())
	}
}

// NameIDs returns the ids recorded for name, oldest first. A missing index
// yields none. Entries that are not valid ids are skipped.
func NameIDs(root, name string) ([]string, error) {
	if err := CheckJobDir(filepath.Join(root, NamesDir)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	data, err := readBounded(nameIndexPath(root, name), maxNameIndex)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var ids []string
	for _, line := range bytes.Split(data, []byte("\n")) {
		if id := string(bytes.TrimSpace(line)); ValidID(id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// AddNameID appends id to the index of name, dropping entries whose job
// directory no longer exists. The caller holds the name lock. The index is
// replaced atomically, so a concurrent reader sees the old or the new list.
func AddNameID(root, name, id string) error {
	ids, err := NameIDs(root, name)
	if err != nil {
		ids = nil // an unreadable index is rebuilt from this job on
	}
	var b bytes.Buffer
	for _, old := range ids {
		if old == id {
			continue
		}
		if CheckJobDir(Dir(root, old)) == nil {
			b.WriteString(old)
			b.WriteByte('\n')
		}
	}
	b.WriteString(id)
	b.WriteByte('\n')
	return WriteFileAtomic(nameIndexPath(root, name), b.Bytes())
}

// readBounded reads a regular file of at most limit bytes, as job files are
// read (no symbolic link, no blocking on a FIFO put in its place).
func readBounded(path string, limit int64) ([]byte, error) {
	f, err := OpenJobFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", filepath.Base(path), limit)
	}
	return io.ReadAll(io.LimitReader(f, limit))
}
