package agentexec_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agentexec/agentexec"
	"github.com/agentexec/agentexec/internal/duration"
	"github.com/agentexec/agentexec/internal/store"
)

// gcJob describes a job directory written directly to disk, so tests can
// choose its state and age freely.
type gcJob struct {
	id       string
	status   string // created, running, exited, killed, failed; "garbage" = unreadable state.json
	finished string // finished_at; "" = absent
	updated  string // updated_at; "" = finished, else created time
	cwd      string // meta.cwd; "" = absent
	logBytes int    // size of stdout.log
	child    *store.Process
	super    *store.Process
}

const (
	old2020 = "2020-01-01T00:00:00Z"
	old2021 = "2021-01-01T00:00:00Z"
	old2022 = "2022-01-01T00:00:00Z"
)

func gcID(n int) string { return fmt.Sprintf("01AAAAAAAAAAAAAAAAAAAAAA%02d", n) }

// writeGCJob writes the job directory and returns its size in bytes (sum of
// the regular files written).
func writeGCJob(t testing.TB, root string, j gcJob) int64 {
	t.Helper()
	dir := filepath.Join(root, j.id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	meta := map[string]any{
		"job": map[string]string{"id": j.id}, "schema_version": "0.1", "command": []string{"true"},
		"created_at": old2020, "root": root, "env_keys": []string{}, "tags": []string{}, "inherit_env": true,
		"timeout_ms": 0, "kill_after_ms": 0, "progress_every_ms": 0, "shell_wrapper": []string{"sh", "-lc"},
	}
	if j.cwd != "" {
		meta["cwd"] = j.cwd
	}
	st := &store.State{Job: store.StateJob{ID: j.id, Status: j.status}, FinishedAt: j.finished, UpdatedAt: j.updated,
		Child: j.child, Supervisor: j.super}
	if st.UpdatedAt == "" {
		st.UpdatedAt = j.finished
	}
	if st.UpdatedAt == "" {
		st.UpdatedAt = old2020
	}
	if j.status != "created" {
		st.Job.StartedAt = old2020
	}
	if j.status == "exited" {
		zero := 0
		st.Result.ExitCode = &zero
	}
	if j.status == "failed" {
		lost := "supervisor_lost"
		st.Result.Error = &lost
	}
	mb, _ := json.MarshalIndent(meta, "", "  ")
	sb, _ := st.Encode()
	if j.status == "garbage" {
		sb = []byte("{not json")
	}
	files := map[string][]byte{
		"meta.json": mb, "state.json": sb, "stdout.log": make([]byte, j.logBytes),
		"stderr.log": nil, "full.log": nil, ".lock": nil,
	}
	var size int64
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
		size += int64(len(data))
	}
	return size
}

// gcManager opens a manager on a fresh root whose process cwd is a fresh
// directory; it returns the manager and the canonical cwd.
func gcManager(t *testing.T) (*agentexec.Manager, string) {
	return gcManagerAt(t, nil)
}

// gcManagerAt is gcManager with a fixed clock (nil = the real one).
func gcManagerAt(t *testing.T, now func() time.Time) (*agentexec.Manager, string) {
	t.Helper()
	cwd := agentexec.CanonicalDir("", t.TempDir())
	return openTestManager(t, agentexec.Options{Cwd: cwd, Now: now}), cwd
}

func exists(p string) bool { _, err := os.Lstat(p); return err == nil }

// runSleeper launches a real job that runs until killed.
func runSleeper(t *testing.T, m *agentexec.Manager) string {
	t.Helper()
	res, err := m.Run(context.Background(), agentexec.RunRequest{
		Spec: agentexec.JobSpec{Command: []string{"sleep", "60"}}, Observe: agentexec.ObserveOptions{NoWait: true}})
	if err != nil {
		t.Fatal(err)
	}
	if res.State != agentexec.StateRunning {
		t.Fatalf("sleeper state %s", res.State)
	}
	return res.JobID
}

func gcOpts(raw string) agentexec.GCOptions {
	d, err := duration.Parse(raw, time.Second)
	if err != nil {
		panic(err)
	}
	return agentexec.GCOptions{OlderThan: d, OlderThanRaw: raw, OlderThanSource: "flag"}
}

func TestGCByAge(t *testing.T) {
	ctx := context.Background()
	m, _ := gcManager(t)
	root := m.Root()
	now := store.Timestamp(time.Now())
	oldSize := writeGCJob(t, root, gcJob{id: gcID(1), status: "exited", finished: old2020, logBytes: 1000})
	writeGCJob(t, root, gcJob{id: gcID(2), status: "killed", finished: now})
	writeGCJob(t, root, gcJob{id: gcID(3), status: "created"})
	writeGCJob(t, root, gcJob{id: gcID(4), status: "garbage"})
	// A legacy terminal job without finished_at is dated by updated_at.
	legacySize := writeGCJob(t, root, gcJob{id: gcID(5), status: "failed", updated: old2021})
	running := runSleeper(t, m)
	os.WriteFile(filepath.Join(root, "stray-file"), []byte("x"), 0o600)

	res, err := m.GC(ctx, gcOpts("7d"))
	if err != nil {
		t.Fatal(err)
	}
	want := []agentexec.GCEntry{
		{JobID: gcID(1), State: "exited", Action: "deleted", Reason: "older_than_7d", Bytes: oldSize},
		{JobID: gcID(2), State: "killed", Action: "skipped", Reason: "too_recent"},
		{JobID: gcID(3), State: "created", Action: "skipped", Reason: "non_terminal_status"},
		{JobID: gcID(4), State: "unknown", Action: "skipped", Reason: "state_unreadable"},
		{JobID: gcID(5), State: "failed", Action: "deleted", Reason: "older_than_7d", Bytes: legacySize},
		{JobID: running, State: "running", Action: "skipped", Reason: "running"},
	}
	if got, w := compact(res.Jobs), compact(want); got != w {
		t.Errorf("jobs\n got %s\nwant %s", got, w)
	}
	if res.Root != root || res.DryRun || res.OlderThan != "7d" || res.OlderThanSource != "flag" ||
		res.Deleted != 2 || res.Skipped != 4 || res.FreedBytes != oldSize+legacySize || res.MaxJobs != 0 || res.MaxBytes != 0 {
		t.Errorf("summary %s", compact(res))
	}
	for _, n := range []int{1, 5} {
		if exists(filepath.Join(root, gcID(n))) {
			t.Errorf("job %s still exists", gcID(n))
		}
	}
	for _, id := range []string{gcID(2), gcID(3), gcID(4), running} {
		if !exists(filepath.Join(root, id)) {
			t.Errorf("job %s was removed", id)
		}
	}
}

func TestGCDryRunAndDefaults(t *testing.T) {
	m, _ := gcManager(t)
	size := writeGCJob(t, m.Root(), gcJob{id: gcID(1), status: "exited", finished: old2020, logBytes: 10})
	res, err := m.GC(context.Background(), agentexec.GCOptions{OlderThan: 30 * 24 * time.Hour, OlderThanRaw: "30d", DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"root":"` + m.Root() + `","dry_run":true,"older_than":"30d","older_than_source":"default","deleted":0,"skipped":0,"freed_bytes":` +
		fmt.Sprint(size) + `,"jobs":[{"job_id":"` + gcID(1) + `","state":"exited","action":"would_delete","reason":"older_than_30d","bytes":` + fmt.Sprint(size) + `}]}`
	if got := compact(res); got != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
	if !exists(filepath.Join(m.Root(), gcID(1))) {
		t.Error("dry run removed the job")
	}
}

func TestGCMissingRoot(t *testing.T) {
	m, _ := gcManager(t)
	res, err := m.GC(context.Background(), gcOpts("0"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Jobs) != 0 || res.Deleted != 0 || res.Skipped != 0 || compact(res.Jobs) != "[]" {
		t.Errorf("got %s", compact(res))
	}
	if exists(m.Root()) {
		t.Error("gc created the root")
	}
}

func TestGCMaxJobs(t *testing.T) {
	// The clock stands at October 2021: only job 5 (2020) is older than 365d.
	m, _ := gcManagerAt(t, func() time.Time { return time.Date(2021, 10, 1, 0, 0, 0, 0, time.UTC) })
	root := m.Root()
	// Remaining terminal ages: 1 and 4 share the oldest timestamp (the id
	// breaks the tie), then 2, then 3.
	writeGCJob(t, root, gcJob{id: gcID(1), status: "exited", finished: old2021})
	writeGCJob(t, root, gcJob{id: gcID(2), status: "exited", finished: "2021-06-01T00:00:00Z"})
	writeGCJob(t, root, gcJob{id: gcID(3), status: "exited", finished: "2021-09-30T00:00:00Z"})
	writeGCJob(t, root, gcJob{id: gcID(4), status: "killed", finished: old2021})
	writeGCJob(t, root, gcJob{id: gcID(5), status: "exited", finished: old2020})
	writeGCJob(t, root, gcJob{id: gcID(6), status: "created"})
	o := gcOpts("365d")
	o.MaxJobs = 2
	res, err := m.GC(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, e := range res.Jobs {
		reasons[e.JobID] = e.Action + "/" + e.Reason
	}
	want := map[string]string{
		gcID(1): "deleted/max_jobs", gcID(2): "skipped/too_recent", gcID(3): "skipped/too_recent",
		gcID(4): "deleted/max_jobs", gcID(5): "deleted/older_than_365d", gcID(6): "skipped/non_terminal_status",
	}
	if fmt.Sprint(reasons) != fmt.Sprint(want) {
		t.Errorf("got  %v\nwant %v", reasons, want)
	}
	if res.MaxJobs != 2 || res.Deleted != 3 || res.Skipped != 3 {
		t.Errorf("summary %s", compact(res))
	}
}

func TestGCMaxBytes(t *testing.T) {
	m, _ := gcManager(t)
	root := m.Root()
	s1 := writeGCJob(t, root, gcJob{id: gcID(1), status: "exited", finished: old2020, logBytes: 5000})
	s2 := writeGCJob(t, root, gcJob{id: gcID(2), status: "exited", finished: old2021, logBytes: 5000})
	s3 := writeGCJob(t, root, gcJob{id: gcID(3), status: "exited", finished: old2022, logBytes: 5000})
	// A created job cannot be removed but its size counts.
	s4 := writeGCJob(t, root, gcJob{id: gcID(4), status: "created", logBytes: 5000})
	o := gcOpts("36500d")
	o.MaxBytes = s3 + s4 // room for exactly the newest terminal job and the created one
	res, err := m.GC(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	want := []agentexec.GCEntry{
		{JobID: gcID(1), State: "exited", Action: "deleted", Reason: "max_bytes", Bytes: s1},
		{JobID: gcID(2), State: "exited", Action: "deleted", Reason: "max_bytes", Bytes: s2},
		{JobID: gcID(3), State: "exited", Action: "skipped", Reason: "too_recent"},
		{JobID: gcID(4), State: "created", Action: "skipped", Reason: "non_terminal_status"},
	}
	if got, w := compact(res.Jobs), compact(want); got != w {
		t.Errorf("jobs\n got %s\nwant %s", got, w)
	}
	if res.FreedBytes != s1+s2 || res.MaxBytes != o.MaxBytes {
		t.Errorf("summary %s", compact(res))
	}
}

func TestGCSkipsLockedJobs(t *testing.T) {
	m, _ := gcManager(t)
	writeGCJob(t, m.Root(), gcJob{id: gcID(1), status: "exited", finished: old2020})
	lock, err := store.TryLock(filepath.Join(m.Root(), gcID(1)))
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()
	res, err := m.GC(context.Background(), gcOpts("1d"))
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"job_id":"` + gcID(1) + `","state":"exited","action":"skipped","reason":"locked","bytes":0}]`
	if got := compact(res.Jobs); got != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
	if res.Skipped != 1 || res.FreedBytes != 0 {
		t.Errorf("summary %s", compact(res))
	}
}

func TestGCRemovesStaleStaging(t *testing.T) {
	m, _ := gcManager(t)
	root := m.Root()
	stale := filepath.Join(root, ".new-"+gcID(1)+"-abcd")
	fresh := filepath.Join(root, ".new-"+gcID(2)+"-abcd")
	for _, d := range []string{stale, fresh} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-2 * time.Hour)
	os.Chtimes(stale, past, past)

	res, err := m.GC(context.Background(), agentexec.GCOptions{OlderThan: time.Hour, OlderThanRaw: "1h", DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if !exists(stale) || len(res.Jobs) != 0 {
		t.Fatalf("dry run: stale removed=%v, jobs=%s", !exists(stale), compact(res.Jobs))
	}
	if res, err = m.GC(context.Background(), agentexec.GCOptions{OlderThan: time.Hour, OlderThanRaw: "1h"}); err != nil {
		t.Fatal(err)
	}
	if exists(stale) || !exists(fresh) || len(res.Jobs) != 0 {
		t.Errorf("stale exists=%v fresh exists=%v jobs=%s", exists(stale), exists(fresh), compact(res.Jobs))
	}
}

func TestDeleteOne(t *testing.T) {
	ctx := context.Background()
	m, _ := gcManager(t)
	root := m.Root()
	writeGCJob(t, root, gcJob{id: gcID(1), status: "exited", finished: old2020})
	writeGCJob(t, root, gcJob{id: gcID(2), status: "created"})
	writeGCJob(t, root, gcJob{id: gcID(3), status: "garbage"})

	res, err := m.Delete(ctx, agentexec.DeleteOptions{ID: gcID(1), DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"root":"` + root + `","dry_run":true,"deleted":0,"skipped":0,"jobs":[{"job_id":"` + gcID(1) + `","state":"exited","action":"would_delete","reason":"explicit_delete"}]}`
	if got := compact(res); got != want {
		t.Errorf("dry run\n got %s\nwant %s", got, want)
	}
	if !exists(filepath.Join(root, gcID(1))) {
		t.Fatal("dry run removed the job")
	}
	tests := []struct {
		given string
		state string
	}{
		{gcID(1), "exited"},
		{gcID(2), "created"},
		{gcID(3), "unknown"},
	}
	for _, tt := range tests {
		res, err := m.Delete(ctx, agentexec.DeleteOptions{ID: tt.given})
		if err != nil {
			t.Fatalf("delete %s: %v", tt.given, err)
		}
		want := `{"root":"` + root + `","dry_run":false,"deleted":1,"skipped":0,"jobs":[{"job_id":"` + tt.given + `","state":"` + tt.state + `","action":"deleted","reason":"explicit_delete"}]}`
		if got := compact(res); got != want {
			t.Errorf("\n got %s\nwant %s", got, want)
		}
		if exists(filepath.Join(root, tt.given)) {
			t.Errorf("%s still exists", tt.given)
		}
	}
	if _, err := m.Delete(ctx, agentexec.DeleteOptions{ID: gcID(1)}); !errors.Is(err, agentexec.ErrJobNotFound) {
		t.Errorf("second delete: %v", err)
	}
	if _, err := m.Delete(ctx, agentexec.DeleteOptions{ID: "../x"}); !errors.Is(err, agentexec.ErrJobNotFound) {
		t.Errorf("invalid id: %v", err)
	}
}

func TestDeleteByPrefixAndAmbiguous(t *testing.T) {
	ctx := context.Background()
	m, _ := gcManager(t)
	writeGCJob(t, m.Root(), gcJob{id: gcID(11), status: "exited", finished: old2020})
	writeGCJob(t, m.Root(), gcJob{id: gcID(12), status: "exited", finished: old2020})
	if _, err := m.Delete(ctx, agentexec.DeleteOptions{ID: "01AAAA"}); !errors.Is(err, agentexec.ErrAmbiguousJobID) {
		t.Fatalf("ambiguous prefix: %v", err)
	}
	res, err := m.Delete(ctx, agentexec.DeleteOptions{ID: gcID(12)[:25]})
	if !errors.Is(err, agentexec.ErrAmbiguousJobID) {
		t.Fatalf("prefix of both: %v %v", res, err)
	}
	if res, err = m.Delete(ctx, agentexec.DeleteOptions{ID: gcID(12)}); err != nil || res.Jobs[0].JobID != gcID(12) {
		t.Fatalf("exact id: %v %v", res, err)
	}
	if res, err = m.Delete(ctx, agentexec.DeleteOptions{ID: "01AAAA"}); err != nil || res.Jobs[0].JobID != gcID(11) {
		t.Fatalf("unique prefix: %v %v", compact(res), err)
	}
}

func TestDeleteRunningJob(t *testing.T) {
	ctx := context.Background()
	m, _ := gcManager(t)
	id := runSleeper(t, m)
	_, err := m.Delete(ctx, agentexec.DeleteOptions{ID: id})
	var ae *agentexec.Error
	if !errors.As(err, &ae) || ae.Code != agentexec.CodeInvalidState ||
		ae.Message != "invalid job state: cannot delete job "+id+": job is currently running" {
		t.Fatalf("delete running: %v", err)
	}
	if _, err := m.Kill(ctx, id, agentexec.KillOptions{}); err != nil {
		t.Fatal(err)
	}
	// Right after the terminal state the supervisor may still be exiting;
	// delete waits for it instead of failing.
	res, err := m.Delete(ctx, agentexec.DeleteOptions{ID: id})
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted != 1 || res.Jobs[0].State != agentexec.StateKilled || exists(filepath.Join(m.Root(), id)) {
		t.Errorf("got %s", compact(res))
	}
}

func TestDeleteRightAfterRun(t *testing.T) {
	ctx := context.Background()
	m, _ := gcManager(t)
	for i := 0; i < 5; i++ {
		r, err := m.Run(ctx, agentexec.RunRequest{Spec: agentexec.JobSpec{Command: []string{"true"}}, Observe: waitOpts()})
		if err != nil {
			t.Fatal(err)
		}
		res, err := m.Delete(ctx, agentexec.DeleteOptions{ID: r.JobID})
		if err != nil || res.Deleted != 1 {
			t.Fatalf("delete after run: %v %v", res, err)
		}
	}
}

func TestDeleteAll(t *testing.T) {
	ctx := context.Background()
	m, cwd := gcManager(t)
	root := m.Root()
	writeGCJob(t, root, gcJob{id: gcID(1), status: "exited", finished: old2020, cwd: cwd})
	writeGCJob(t, root, gcJob{id: gcID(2), status: "created", cwd: cwd})
	writeGCJob(t, root, gcJob{id: gcID(3), status: "garbage", cwd: cwd})
	writeGCJob(t, root, gcJob{id: gcID(4), status: "exited", finished: old2020, cwd: "/somewhere/else"})
	writeGCJob(t, root, gcJob{id: gcID(5), status: "failed", finished: store.Timestamp(time.Now()), cwd: cwd})
	writeGCJob(t, root, gcJob{id: gcID(6), status: "killed", finished: old2020, cwd: cwd})
	writeGCJob(t, root, gcJob{id: gcID(7), status: "exited", finished: old2020}) // no cwd: out of scope
	running := runSleeper(t, m)
	lock, err := store.TryLock(filepath.Join(root, gcID(6)))
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()

	entries := func(dryRun bool) string {
		var b strings.Builder
		act := "deleted"
		if dryRun {
			act = "would_delete"
		}
		fmt.Fprintf(&b, `[{"job_id":"%s","state":"exited","action":"%s","reason":"terminal_in_cwd"},`, gcID(1), act)
		fmt.Fprintf(&b, `{"job_id":"%s","state":"created","action":"skipped","reason":"created"},`, gcID(2))
		fmt.Fprintf(&b, `{"job_id":"%s","state":"unknown","action":"skipped","reason":"state_unreadable"},`, gcID(3))
		fmt.Fprintf(&b, `{"job_id":"%s","state":"failed","action":"%s","reason":"terminal_in_cwd"},`, gcID(5), act)
		fmt.Fprintf(&b, `{"job_id":"%s","state":"killed","action":"skipped","reason":"locked"},`, gcID(6))
		fmt.Fprintf(&b, `{"job_id":"%s","state":"running","action":"skipped","reason":"running"}]`, running)
		return b.String()
	}
	res, err := m.Delete(ctx, agentexec.DeleteOptions{All: true, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"root":"` + root + `","dry_run":true,"deleted":0,"skipped":4,"jobs":` + entries(true) + `}`
	if got := compact(res); got != want {
		t.Errorf("dry run\n got %s\nwant %s", got, want)
	}
	if res, err = m.Delete(ctx, agentexec.DeleteOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	want = `{"root":"` + root + `","dry_run":false,"deleted":2,"skipped":4,"jobs":` + entries(false) + `}`
	if got := compact(res); got != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
	for n, kept := range map[int]bool{1: false, 2: true, 3: true, 4: true, 5: false, 6: true, 7: true} {
		if exists(filepath.Join(root, gcID(n))) != kept {
			t.Errorf("job %d exists=%v, want %v", n, !kept, kept)
		}
	}
}

func TestDeleteAllMissingRoot(t *testing.T) {
	m, _ := gcManager(t)
	res, err := m.Delete(context.Background(), agentexec.DeleteOptions{All: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := compact(res); got != `{"root":"`+m.Root()+`","dry_run":false,"deleted":0,"skipped":0,"jobs":[]}` {
		t.Errorf("got %s", got)
	}
}

func TestAutoGCBounds(t *testing.T) {
	ctx := context.Background()
	m, _ := gcManager(t)
	root := m.Root()
	for i := 1; i <= 30; i++ {
		writeGCJob(t, root, gcJob{id: gcID(i), status: "exited", finished: old2020})
	}
	writeGCJob(t, root, gcJob{id: gcID(31), status: "created"})
	remaining := func() int {
		names, _ := store.JobNames(root)
		return len(names)
	}
	// Only the first 5 entries (oldest ids) are examined; the just-launched
	// job (id 1) is never a candidate.
	m.AutoGC(ctx, agentexec.AutoGCOptions{OlderThan: 24 * time.Hour, ScanLimit: 5, DeleteLimit: 20, JustLaunched: gcID(1)})
	if n := remaining(); n != 31-4 {
		t.Fatalf("after scan limit 5: %d jobs remain, want 27", n)
	}
	if !exists(filepath.Join(root, gcID(1))) || exists(filepath.Join(root, gcID(5))) || !exists(filepath.Join(root, gcID(6))) {
		t.Error("wrong jobs removed under the scan limit")
	}
	// The delete limit caps removals.
	m.AutoGC(ctx, agentexec.AutoGCOptions{OlderThan: 24 * time.Hour, ScanLimit: 200, DeleteLimit: 20})
	if n := remaining(); n != 7 {
		t.Fatalf("after delete limit 20: %d jobs remain, want 7", n)
	}
	// Recent, created and unreadable jobs stay; DeleteLimit 0 deletes nothing.
	m.AutoGC(ctx, agentexec.AutoGCOptions{OlderThan: 24 * time.Hour, ScanLimit: 200})
	if n := remaining(); n != 7 {
		t.Fatalf("delete limit 0 removed jobs: %d remain", n)
	}
	m.AutoGC(ctx, agentexec.AutoGCOptions{OlderThan: 100000 * 24 * time.Hour, ScanLimit: 200, DeleteLimit: 20})
	if n := remaining(); n != 7 {
		t.Fatalf("too-recent jobs removed: %d remain", n)
	}
	m.AutoGC(ctx, agentexec.AutoGCOptions{OlderThan: 24 * time.Hour, ScanLimit: 200, DeleteLimit: 20})
	names, _ := store.JobNames(root)
	if len(names) != 1 || names[0] != gcID(31) {
		t.Fatalf("left %v, want only the created job", names)
	}
}

// TestAutoGCCaps: config gc.max_jobs and gc.max_bytes apply to automatic GC
// as gc --max-jobs/--max-bytes do — oldest terminal jobs first (gc
// timestamp, then id), within the delete limit, never the just-launched
// job (issue #14: they were silently ignored).
func TestAutoGCCaps(t *testing.T) {
	ctx := context.Background()
	m, _ := gcManager(t)
	root := m.Root()
	finished := map[int]string{1: "2020-01-05", 2: "2020-01-04", 3: "2020-01-01", 4: "2020-01-02", 5: "2020-01-03", 6: "2020-01-06"}
	size := map[int]int64{}
	for n, day := range finished {
		size[n] = writeGCJob(t, root, gcJob{id: gcID(n), status: "exited", finished: day + "T00:00:00Z"})
	}
	size[7] = writeGCJob(t, root, gcJob{id: gcID(7), status: "created"})
	left := func(want ...int) {
		t.Helper()
		var ids []string
		for _, n := range want {
			ids = append(ids, gcID(n))
		}
		if names, _ := store.JobNames(root); !reflect.DeepEqual(sorted(names), ids) {
			t.Fatalf("jobs left %v, want %v", sorted(names), ids)
		}
	}
	never := 100000 * 24 * time.Hour // the age pass deletes nothing
	// Six terminal jobs, max_jobs 2, two deletions allowed: the two oldest
	// by finished_at (3, then 4) go, whatever their ids.
	m.AutoGC(ctx, agentexec.AutoGCOptions{OlderThan: never, ScanLimit: 200, DeleteLimit: 2, MaxJobs: 2, JustLaunched: gcID(6)})
	left(1, 2, 5, 6, 7)
	// The rest down to two terminal jobs; the just-launched one counts but
	// stays, the created one does not count.
	m.AutoGC(ctx, agentexec.AutoGCOptions{OlderThan: never, ScanLimit: 200, DeleteLimit: 20, MaxJobs: 2, JustLaunched: gcID(6)})
	left(1, 6, 7)
	// The count cap is met: nothing more goes.
	m.AutoGC(ctx, agentexec.AutoGCOptions{OlderThan: never, ScanLimit: 200, DeleteLimit: 20, MaxJobs: 2})
	left(1, 6, 7)

	// max_bytes: oldest first until the root fits.
	size[8] = writeGCJob(t, root, gcJob{id: gcID(8), status: "exited", finished: "2020-01-07T00:00:00Z", logBytes: 4000})
	size[9] = writeGCJob(t, root, gcJob{id: gcID(9), status: "exited", finished: "2020-01-08T00:00:00Z", logBytes: 4000})
	m.AutoGC(ctx, agentexec.AutoGCOptions{OlderThan: never, ScanLimit: 200, DeleteLimit: 20, MaxBytes: size[7] + size[9] + size[8] + size[6]})
	left(6, 7, 8, 9)
	m.AutoGC(ctx, agentexec.AutoGCOptions{OlderThan: never, ScanLimit: 200, DeleteLimit: 20, MaxBytes: size[7] + size[9]})
	left(7, 9)
	// Without a delete budget the caps delete nothing either.
	m.AutoGC(ctx, agentexec.AutoGCOptions{OlderThan: never, ScanLimit: 200, MaxJobs: 0, MaxBytes: 1})
	left(7, 9)
}

// TestAutoGCPrunesNames: automatic GC drops the name index of names whose
// jobs it deleted, as gc does, and keeps the index of a name with a job
// left.
func TestAutoGCPrunesNames(t *testing.T) {
	ctx := context.Background()
	m, _ := gcManager(t)
	root := m.Root()
	writeGCJob(t, root, gcJob{id: gcID(1), status: "exited", finished: old2020})
	writeGCJob(t, root, gcJob{id: gcID(2), status: "created"})
	for _, n := range []struct{ name, id string }{{"gone", gcID(1)}, {"kept", gcID(2)}} {
		lock, err := store.LockName(ctx, root, n.name, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		err = store.AddNameID(root, n.name, n.id)
		lock.Unlock()
		if err != nil {
			t.Fatal(err)
		}
	}
	m.AutoGC(ctx, agentexec.AutoGCOptions{OlderThan: 24 * time.Hour, ScanLimit: 200, DeleteLimit: 20})
	if exists(filepath.Join(root, gcID(1))) {
		t.Fatal("the old job was not deleted")
	}
	ents, err := os.ReadDir(filepath.Join(root, store.NamesDir))
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range ents {
		files = append(files, e.Name())
	}
	if want := []string{"kept.ids", "kept.lock"}; !reflect.DeepEqual(sorted(files), want) {
		t.Errorf("name index files %v, want %v", files, want)
	}
	if ids, err := store.NameIDs(root, "kept"); err != nil || !reflect.DeepEqual(ids, []string{gcID(2)}) {
		t.Errorf("kept index %v %v", ids, err)
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
