package agentexec

import (
	"context"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/agentexec/agentexec/internal/store"
)

// AutoGCOptions bound the automatic cleanup after a launch (SPEC §3.12).
type AutoGCOptions struct {
	OlderThan    time.Duration // 0 = the default, 30d
	ScanLimit    int           // root entries examined; ≤ 0 = the default, 200
	DeleteLimit  int           // jobs deleted at most; ≤ 0 = none (config gc.delete_limit = 0)
	JustLaunched string        // never a candidate
	// MaxJobs and MaxBytes are the caps of config gc.max_jobs and
	// gc.max_bytes (0 = no cap), applied after the age pass as gc
	// --max-jobs/--max-bytes apply them, within DeleteLimit. A count or a
	// size is a property of the whole root, so when a cap is set every job
	// is examined (ScanLimit bounds the age pass only).
	MaxJobs, MaxBytes int64
}

// Defaults of AutoGCOptions (SPEC §8).
const (
	DefaultAutoGCOlderThan   = 30 * 24 * time.Hour
	DefaultAutoGCScanLimit   = 200
	DefaultAutoGCDeleteLimit = 20
)

// autoGCBatch is how many directory entries are read per getdents batch.
const autoGCBatch = 1024

// AutoGC performs the bounded, best-effort cleanup run after launches: it
// examines at most ScanLimit entries of the root, oldest ids first, and
// deletes at most DeleteLimit terminal jobs whose gc timestamp is older than
// OlderThan, with gc's eligibility and locking rules (busy jobs are skipped,
// never waited for). It ignores all errors and reports nothing. Zero fields
// OlderThan and ScanLimit take their defaults; DeleteLimit ≤ 0 deletes
// nothing, so callers pass the configured limit (config.Default has 20).
// Then, when MaxJobs or MaxBytes is set, it deletes the oldest terminal
// jobs beyond those caps (SPEC §3.12 since v1.1), still within DeleteLimit.
// Serve and MCP call it in the background, at most one at a time.
func (m *Manager) AutoGC(ctx context.Context, o AutoGCOptions) {
	if o.OlderThan <= 0 {
		o.OlderThan = DefaultAutoGCOlderThan
	}
	if o.ScanLimit <= 0 {
		o.ScanLimit = DefaultAutoGCScanLimit
	}
	if o.DeleteLimit <= 0 {
		return
	}
	names := m.autoGCNames(o.ScanLimit)
	now := m.now()
	deleted := 0
	for _, name := range names {
		if deleted >= o.DeleteLimit || ctx.Err() != nil {
			break
		}
		dir := filepath.Join(m.root, name)
		if strings.HasPrefix(name, store.StagingPrefix) || strings.HasPrefix(name, store.DeletingPrefix) {
			if fi, err := os.Lstat(dir); err == nil && fi.IsDir() {
				rootLeftover(m.root, name, false)
			}
			continue
		}
		if name == o.JustLaunched || !store.ValidID(name) {
			continue
		}
		if m.autoGCOne(dir, now, o.OlderThan) {
			deleted++
		}
	}
	capped := 0
	if deleted < o.DeleteLimit && ctx.Err() == nil {
		capped = m.autoGCCaps(ctx, o, o.DeleteLimit-deleted)
	}
	if deleted+capped > 0 {
		// As after gc: names whose jobs are all gone leave no index
		// behind, or one-off names (build-1, build-2, …) would pile up.
		store.PruneNames(m.root, tempMaxAge)
	}
	m.log.Debug("auto gc done", "examined", len(names), "deleted_by_age", deleted, "deleted_by_caps", capped,
		"older_than", o.OlderThan.String(), "max_jobs", o.MaxJobs, "max_bytes", o.MaxBytes)
}

// autoGCCaps deletes at most budget of the oldest terminal jobs beyond the
// MaxJobs and MaxBytes caps, with gc's ordering and locking (applyCaps,
// gcCandidate).
// It returns how many jobs it deleted.
func (m *Manager) autoGCCaps(ctx context.Context, o AutoGCOptions, budget int) (deleted int) {
	if o.MaxJobs <= 0 && o.MaxBytes <= 0 {
		return 0
	}
	names, err := store.JobNames(m.root)
	if err != nil || o.MaxBytes <= 0 && int64(len(names)) <= o.MaxJobs {
		return 0 // no more jobs of any state than the count cap allows
	}
	slices.Sort(names)
	jobs, err := examined(m.examineJobs(ctx, names, math.MaxInt64, "", o.MaxBytes > 0))
	if err != nil {
		return // out of resources: try again at the next launch
	}
	for _, g := range applyCaps(jobs, o.MaxJobs, o.MaxBytes, o.JustLaunched) {
		if deleted >= budget || ctx.Err() != nil {
			break
		}
		if m.gcCandidate(g, false).Action == ActionDeleted {
			deleted++
		}
	}
	return deleted
}

// autoGCNames returns the names of at most limit root entries. Names are
// read in batches (reading a name costs no file access) and the oldest job
// ids are examined first: ULIDs sort by creation time, so the jobs most
// likely to be old enough come first instead of an arbitrary directory
// order that would re-examine the same entries on every launch.
func (m *Manager) autoGCNames(limit int) []string {
	d, err := os.Open(m.root)
	if err != nil {
		return nil
	}
	defer d.Close()
	var names []string
	for {
		batch, err := d.Readdirnames(autoGCBatch)
		names = append(names, batch...)
		if err != nil {
			if !errors.Is(err, io.EOF) && len(names) == 0 {
				return nil
			}
			break
		}
	}
	slices.Sort(names)
	if len(names) > limit {
		names = names[:limit]
	}
	return names
}

// autoGCOne deletes one job directory if it is an unlocked, terminal job
// with no live process, whose gc timestamp is older than olderThan.
func (m *Manager) autoGCOne(dir string, now time.Time, olderThan time.Duration) bool {
	eligible := func(st *store.State) bool {
		ts := gcTimestamp(st)
		return store.Terminal(st.Job.Status) && !ts.IsZero() && now.Sub(ts) > olderThan
	}
	st, err := store.ReadState(dir)
	if err != nil || !eligible(st) {
		return false
	}
	lock, err := store.TryLock(dir)
	if err != nil {
		return false
	}
	defer lock.Unlock()
	if st, err = store.ReadState(dir); err != nil || !eligible(st) || processAlive(st) {
		return false
	}
	return removeJobDir(dir) == nil
}
