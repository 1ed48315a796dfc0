package agentexec

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/agentexec/agentexec/internal/store"
)

// Leftover is an entry a crashed writer left behind and gc reclaims: a
// staging directory of a creator that died before renaming it, a job
// directory a deleter renamed away but did not finish removing, or a
// temporary file of an atomic write that never got renamed.
type Leftover struct {
	// Path is relative to the root: ".new-<id>-<hex>", ".del-<id>-<hex>" or
	// "<id>/.tmp-<hex>".
	Path string `json:"path"`
	// Kind is LeftoverStaging, LeftoverDeleting or LeftoverTemp.
	Kind string `json:"kind"`
	// Action is deleted, would_delete (dry run) or skipped (removal failed).
	Action string `json:"action"`
	Bytes  int64  `json:"bytes"`
}

// Leftover kinds.
const (
	LeftoverStaging  = "staging"
	LeftoverDeleting = "deleting"
	LeftoverTemp     = "temp"
)

// leftoverGrace is how long an entry whose owner cannot be asked (no .lock
// to probe) must have been left untouched before it counts as abandoned.
// The windows it covers (mkdir → lock; a removal in progress) last
// microseconds to milliseconds.
const leftoverGrace = 10 * time.Second

// tempMaxAge is the age past which a temporary file counts as abandoned
// even while its job's processes live: an atomic write takes milliseconds.
const tempMaxAge = time.Hour

// rootLeftover judges one reserved root entry (.new-/.del-) and, unless
// dryRun, removes it when abandoned. Its owner holds the entry's .lock from
// creation until the entry is gone (a creator until the rename, a deleter
// until the removal), so a free lock means the owner is dead; only an entry
// without a .lock (a creator killed between mkdir and lock, or a removal
// that already unlinked it) falls back to its age. Ages use the file
// clock, never the Manager's. ok is false for an entry in use.
func rootLeftover(root, name string, dryRun bool) (l Leftover, ok bool) {
	dir := filepath.Join(root, name)
	l = Leftover{Path: name, Kind: LeftoverStaging}
	if strings.HasPrefix(name, store.DeletingPrefix) {
		l.Kind = LeftoverDeleting
	}
	lock, err := store.TryLockExisting(dir)
	switch {
	case err == nil:
		defer lock.Unlock()
	case errors.Is(err, fs.ErrNotExist):
		fi, serr := os.Lstat(dir)
		if serr != nil || !fi.IsDir() || time.Since(fi.ModTime()) <= leftoverGrace {
			return l, false
		}
	default:
		return l, false // busy: its owner is at work
	}
	l.Bytes = dirBytes(dir)
	if dryRun {
		l.Action = ActionWouldDelete
		return l, true
	}
	// Rename first, under the lock: a creator that had not yet taken it
	// then fails cleanly on a missing path and retries under a new id.
	target := dir
	if l.Kind == LeftoverStaging {
		target = filepath.Join(root, store.DeletingPrefix+strings.TrimPrefix(name, store.StagingPrefix)+"-"+randomSuffix())
		if os.Rename(dir, target) != nil {
			l.Action = ActionSkipped
			return l, true
		}
	}
	l.Action = ActionDeleted
	if os.RemoveAll(target) != nil {
		l.Action = ActionSkipped
	}
	return l, true
}

// tempLeftovers judges the temporary files in one job directory. They are
// all abandoned when the job's lock is free and none of its processes is
// alive (nobody else writes job files), otherwise only those older than an
// hour. Unless dryRun they are removed.
func tempLeftovers(j jobRef, dryRun bool) []Leftover {
	d, err := os.Open(j.dir)
	if err != nil {
		return nil
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	var temps []string
	for _, n := range names {
		if strings.HasPrefix(n, store.TempPrefix) {
			temps = append(temps, n)
		}
	}
	if len(temps) == 0 {
		return nil
	}
	quiet := false
	if lock, err := store.TryLock(j.dir); err == nil {
		defer lock.Unlock()
		st, err := store.ReadState(j.dir)
		quiet = err == nil && !processAlive(st) // an unreadable state proves nothing
	}
	slices.Sort(temps)
	var out []Leftover
	for _, n := range temps {
		p := filepath.Join(j.dir, n)
		fi, err := os.Lstat(p)
		if err != nil || !quiet && time.Since(fi.ModTime()) <= tempMaxAge {
			continue
		}
		l := Leftover{Path: j.id + "/" + n, Kind: LeftoverTemp, Action: ActionWouldDelete}
		if fi.Mode().IsRegular() {
			l.Bytes = fi.Size()
		}
		if !dryRun {
			l.Action = ActionDeleted
			if os.Remove(p) != nil {
				l.Action = ActionSkipped
			}
		}
		out = append(out, l)
	}
	return out
}

// countRootLeftovers counts the abandoned reserved root entries without
// touching them (list reports the number; gc reclaims them).
func countRootLeftovers(root string, reserved []string) int {
	n := 0
	for _, name := range reserved {
		if _, ok := rootLeftover(root, name, true); ok {
			n++
		}
	}
	return n
}
