package agentexec

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/agentexec/agentexec/internal/proc"
	"github.com/agentexec/agentexec/internal/store"
)

// GCOptions control gc (SPEC §4.12).
type GCOptions struct {
	// OlderThan is the minimum age of a terminal job's gc timestamp
	// (finished_at, else updated_at). duration.Never means nothing is old
	// enough.
	OlderThan time.Duration
	// OlderThanRaw is the value as given (after trimming); it is echoed in
	// the response and in the reason older_than_<raw>.
	OlderThanRaw string
	// OlderThanSource is "default" or "flag".
	OlderThanSource string
	// DryRun reports without deleting.
	DryRun bool
	// MaxJobs keeps at most this many terminal jobs; 0 = no cap.
	MaxJobs int64
	// MaxBytes keeps the total size of all job directories at most this
	// many bytes; 0 = no cap.
	MaxBytes int64
}

// Actions and reasons reported by gc and delete.
const (
	ActionDeleted     = "deleted"
	ActionWouldDelete = "would_delete"
	ActionSkipped     = "skipped"

	reasonStateUnreadable = "state_unreadable"
	reasonRunning         = "running"
	reasonNonTerminal     = "non_terminal_status"
	reasonTooRecent       = "too_recent"
	reasonMaxJobs         = "max_jobs"
	reasonMaxBytes        = "max_bytes"
	reasonLocked          = "locked"
	reasonDeleteFailed    = "delete_failed: "
	reasonTreeAlive       = "tree_alive" // a terminal job whose process tree lives (SPEC §11.4)
)

// gcJob is one job directory as seen by the examination pass.
type gcJob struct {
	id     string
	dir    string
	state  State
	reason string    // skip reason or candidate reason
	cand   bool      // a deletion candidate
	ts     time.Time // gc timestamp; zero when unknown
	bytes  int64     // size, computed when needed (-1 = not yet)
	gone   bool      // removed by someone else since the scan
	err    error     // reading it ran out of a resource
}

// examined drops the jobs that vanished since the scan (a concurrent gc or
// delete: they are simply not reported) and fails with internal_error when
// the system ran out of a resource while reading one: that says nothing
// about the job and must not be reported as state_unreadable.
func examined(jobs []gcJob) ([]gcJob, error) {
	kept := jobs[:0]
	for _, g := range jobs {
		if g.err != nil {
			return nil, newError(CodeInternal, "examine job %s: %v", g.id, g.err)
		}
		if !g.gone {
			kept = append(kept, g)
		}
	}
	return kept, nil
}

// GC removes terminal jobs by age, count and size across the whole root
// (ignoring cwd), in job-id order. Jobs another operation holds locked are
// skipped, never waited for. Entries crashed writers left behind (staging
// directories, unfinished removals, temporary files) are reclaimed once
// nothing uses them and reported in Leftovers.
func (m *Manager) GC(ctx context.Context, o GCOptions) (*GCResult, error) {
	res := &GCResult{
		Root: m.root, DryRun: o.DryRun, OlderThan: o.OlderThanRaw, OlderThanSource: o.OlderThanSource,
		Jobs: []GCEntry{}, MaxJobs: o.MaxJobs, MaxBytes: o.MaxBytes,
	}
	if res.OlderThanSource == "" {
		res.OlderThanSource = "default"
	}
	names, reserved, err := store.ScanRoot(m.root)
	if err != nil {
		return nil, internalError(err)
	}
	slices.Sort(reserved)
	for _, name := range reserved {
		if l, ok := rootLeftover(m.root, name, o.DryRun); ok {
			res.Leftovers = append(res.Leftovers, l)
		}
	}
	slices.Sort(names)
	jobs, err := examined(m.examineJobs(ctx, names, o.OlderThan, o.OlderThanRaw, o.MaxBytes > 0))
	if err != nil {
		return nil, err
	}
	applyCaps(jobs, o.MaxJobs, o.MaxBytes, "")

	res.Jobs = make([]GCEntry, len(jobs))
	temps := make([][]Leftover, len(jobs))
	parallel(len(jobs), func(i int) {
		g := &jobs[i]
		e := GCEntry{JobID: g.id, State: g.state, Action: ActionSkipped, Reason: g.reason}
		if g.cand {
			e = m.gcCandidate(g, o.DryRun)
		}
		res.Jobs[i] = e
		if e.Action == ActionSkipped {
			temps[i] = tempLeftovers(jobRef{id: g.id, dir: g.dir}, o.DryRun)
		}
	})
	for _, t := range temps {
		res.Leftovers = append(res.Leftovers, t...)
	}
	if !o.DryRun {
		// Names whose jobs are all gone (now or before) leave no files
		// behind; a crashed index write's temporary file goes after tempMaxAge.
		store.PruneNames(m.root, tempMaxAge)
	}
	for _, e := range res.Jobs {
		switch e.Action {
		case ActionDeleted:
			res.Deleted++
			res.FreedBytes += e.Bytes
		case ActionWouldDelete:
			res.FreedBytes += e.Bytes
		default:
			res.Skipped++
		}
	}
	return res, nil
}

// examineJobs reads and reconciles the jobs named (sorted), classifying
// each as gc's age pass does: a candidate when terminal and its gc
// timestamp is strictly older than olderThan, else skipped with its reason.
// Candidates are measured; with measureAll (a size cap) every job is.
func (m *Manager) examineJobs(ctx context.Context, names []string, olderThan time.Duration, olderThanRaw string, measureAll bool) []gcJob {
	now := m.now()
	jobs := make([]gcJob, len(names))
	parallel(len(names), func(i int) {
		j := jobRef{id: names[i], dir: store.Dir(m.root, names[i])}
		g := &jobs[i]
		g.id, g.dir, g.bytes = j.id, j.dir, -1
		st, err := store.ReadState(j.dir)
		switch {
		case err != nil && store.ResourceExhausted(err):
			g.err = err
		case err != nil && store.Vanished(j.dir, err):
			g.gone = true
		case err != nil:
			g.state, g.reason = StateUnknown, reasonStateUnreadable
		default:
			st = m.reconcile(ctx, j, st, false)
			g.state, g.ts = State(st.Job.Status), gcTimestamp(st)
			switch {
			case g.state == StateRunning:
				g.reason = reasonRunning
			case !g.state.Terminal():
				g.reason = reasonNonTerminal
			case treeOutlivesChild(j, st):
				g.reason = reasonTreeAlive
			case g.ts.IsZero() || now.Sub(g.ts) <= olderThan:
				g.reason = reasonTooRecent
			default:
				g.reason, g.cand = "older_than_"+olderThanRaw, true
			}
		}
		// The size cap needs the size of every job directory, running
		// ones included; otherwise only candidates are measured.
		if measureAll || g.cand {
			g.bytes = dirBytes(j.dir)
		}
	})
	return jobs
}

// applyCaps marks further candidates, oldest first (gc timestamp, then id),
// treating the age candidates as already gone: first while more than
// maxJobs terminal jobs remain, then while the root's total size exceeds
// maxBytes. The job named keep (automatic GC's just-launched job) counts
// towards both caps but is never taken. It returns the jobs it marked, in
// the order it marked them (oldest first).
func applyCaps(jobs []gcJob, maxJobs, maxBytes int64, keep string) []*gcJob {
	if maxJobs <= 0 && maxBytes <= 0 {
		return nil
	}
	var remaining []*gcJob
	var total, kept int64
	for i := range jobs {
		g := &jobs[i]
		if !g.cand && g.bytes > 0 {
			total += g.bytes
		}
		if !g.cand && g.state.Terminal() {
			if g.id == keep {
				kept++
				continue
			}
			remaining = append(remaining, g)
		}
	}
	slices.SortFunc(remaining, func(a, b *gcJob) int {
		// Jobs without a usable timestamp count as the newest: age is
		// the only evidence that a job is safe to remove.
		switch {
		case a.ts.IsZero() != b.ts.IsZero():
			if a.ts.IsZero() {
				return 1
			}
			return -1
		case !a.ts.Equal(b.ts):
			return a.ts.Compare(b.ts)
		}
		return strings.Compare(a.id, b.id)
	})
	var taken []*gcJob
	take := func(g *gcJob, reason string) {
		g.cand, g.reason = true, reason
		if g.bytes < 0 {
			g.bytes = dirBytes(g.dir)
		}
		total -= g.bytes
		taken = append(taken, g)
	}
	if maxJobs > 0 {
		for int64(len(remaining))+kept > maxJobs && len(remaining) > 0 {
			take(remaining[0], reasonMaxJobs)
			remaining = remaining[1:]
		}
	}
	if maxBytes > 0 {
		for total > maxBytes && len(remaining) > 0 {
			take(remaining[0], reasonMaxBytes)
			remaining = remaining[1:]
		}
	}
	return taken
}

// gcCandidate locks a candidate without waiting, re-checks it under the lock
// and deletes it (or reports would_delete).
func (m *Manager) gcCandidate(g *gcJob, dryRun bool) GCEntry {
	e := GCEntry{JobID: g.id, State: g.state, Action: ActionSkipped}
	lock, err := store.TryLock(g.dir)
	if err != nil {
		if errors.Is(err, store.ErrLockBusy) || errors.Is(err, fs.ErrNotExist) {
			e.Reason = reasonLocked // busy, or being deleted by another process
		} else {
			e.Reason, e.Bytes = reasonDeleteFailed+err.Error(), g.bytes
		}
		return e
	}
	defer lock.Unlock()
	// Another operation may have changed the job between the examination
	// and the lock (restart resets it to created).
	st, err := store.ReadState(g.dir)
	if err != nil {
		e.State, e.Reason = StateUnknown, reasonStateUnreadable
		return e
	}
	e.State = State(st.Job.Status)
	switch {
	case e.State == StateRunning:
		e.Reason = reasonRunning
		return e
	case !e.State.Terminal():
		e.Reason = reasonNonTerminal
		return e
	case treeOutlivesChild(jobRef{id: g.id, dir: g.dir}, st):
		e.Reason = reasonTreeAlive
		return e
	case processAlive(st):
		// A supervisor still delivering notifications, or an orphaned
		// child group of a lost supervisor: the job is not finished yet.
		e.Reason = reasonRunning
		return e
	}
	e.Reason, e.Bytes = g.reason, g.bytes
	if dryRun {
		e.Action = ActionWouldDelete
		return e
	}
	if err := removeJobDir(g.dir); err != nil {
		e.Reason = reasonDeleteFailed + err.Error()
		return e
	}
	e.Action = ActionDeleted
	return e
}

// removeJobDir removes a job directory recursively and checks it is gone.
// The job first disappears at once by a rename to a reserved .del- name
// (still under its lock), so no reader or locker ever sees a half-removed
// job and a concurrent O_CREATE of .lock cannot leave a husk behind; then
// the renamed tree is removed. gc removes .del- leftovers of a crash.
func removeJobDir(dir string) error {
	trash := filepath.Join(filepath.Dir(dir), deletingPrefix+filepath.Base(dir)+"-"+randomSuffix())
	if err := os.Rename(dir, trash); err != nil {
		return err
	}
	if err := os.RemoveAll(trash); err != nil {
		return err
	}
	if _, err := os.Lstat(dir); err == nil {
		return errors.New("directory still exists after removal")
	}
	return nil
}

// deletingPrefix names job directories being removed (SPEC §2.1: names
// starting with '.' are reserved and ignored by every lookup).
const deletingPrefix = store.DeletingPrefix

func randomSuffix() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// gcTimestamp is finished_at, else updated_at; zero when neither parses.
func gcTimestamp(st *store.State) time.Time {
	for _, s := range []string{st.FinishedAt, st.UpdatedAt} {
		if s == "" {
			continue
		}
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// processAlive reports whether a process of the job (its supervisor or its
// verified child group) still exists. Jobs written without identities
// (legacy) are judged by nothing: a bare pid of a long-finished job may
// have been reused.
func processAlive(st *store.State) bool {
	if st.Supervisor != nil && !proc.Gone(proc.Identity{PID: st.Supervisor.PID, PGID: st.Supervisor.PGID, StartTime: st.Supervisor.StartTime}, st.BootID) {
		return true
	}
	if st.Child != nil && proc.VerifyGroup(proc.Identity{PID: st.Child.PID, PGID: st.Child.PGID, StartTime: st.Child.StartTime}, st.BootID) {
		return true
	}
	return false
}

// waitProcessesGone polls until no process of the job is alive or max has
// passed. A supervisor lingers briefly after writing the terminal state
// (removing .reserve, finishing sink deliveries).
func waitProcessesGone(ctx context.Context, st *store.State, max time.Duration) bool {
	deadline := time.Now().Add(max)
	for processAlive(st) {
		if !time.Now().Before(deadline) || ctx.Err() != nil {
			return false
		}
		t := time.NewTimer(10 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
	return true
}

// dirBytes sums the sizes of the regular files under dir.
func dirBytes(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
