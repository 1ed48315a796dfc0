package agentexec_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentexec/agentexec"
)

func runNamed(t *testing.T, m *agentexec.Manager, name string, ensure bool, spec agentexec.JobSpec) *agentexec.LaunchResult {
	t.Helper()
	spec.Name = name
	res, err := m.Run(context.Background(), agentexec.RunRequest{Spec: spec, Observe: noWait(), Ensure: ensure})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func boolField(p *bool) string {
	if p == nil {
		return "absent"
	}
	if *p {
		return "true"
	}
	return "false"
}

func TestEnsureReusesLiveJob(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	sleep := agentexec.JobSpec{Command: []string{"sleep", "30"}, Env: []string{"A=1", "B=2"}}
	first := runNamed(t, m, "web", true, sleep)
	if boolField(first.Reused) != "false" || first.CommandDiffers != nil || first.State != agentexec.StateRunning {
		t.Fatalf("first ensure: reused %s differs %s state %s", boolField(first.Reused), boolField(first.CommandDiffers), first.State)
	}
	cases := []struct {
		name    string
		spec    agentexec.JobSpec
		differs string
	}{
		{"same", sleep, "false"},
		{"env keys reordered, values changed", agentexec.JobSpec{Command: []string{"sleep", "30"}, Env: []string{"B=9", "A=8"}}, "false"},
		{"other command", agentexec.JobSpec{Command: []string{"sleep", "31"}, Env: []string{"A=1", "B=2"}}, "true"},
		{"other cwd", agentexec.JobSpec{Command: []string{"sleep", "30"}, Env: []string{"A=1", "B=2"}, Cwd: t.TempDir()}, "true"},
		{"other env keys", agentexec.JobSpec{Command: []string{"sleep", "30"}, Env: []string{"A=1"}}, "true"},
	}
	for _, c := range cases {
		res := runNamed(t, m, "web", true, c.spec)
		if res.JobID != first.JobID || boolField(res.Reused) != "true" || boolField(res.CommandDiffers) != c.differs {
			t.Errorf("%s: job %s reused %s differs %s; want %s true %s", c.name, res.JobID, boolField(res.Reused), boolField(res.CommandDiffers), first.JobID, c.differs)
		}
		if res.State != agentexec.StateRunning || len(res.Tags) != 0 {
			t.Errorf("%s: state %s tags %v", c.name, res.State, res.Tags)
		}
	}
	// create --ensure reuses the running job too, reporting its real state.
	cr, err := m.Ensure(ctx, agentexec.JobSpec{Command: []string{"sleep", "30"}, Name: "web"})
	if err != nil {
		t.Fatal(err)
	}
	if cr.JobID != first.JobID || cr.State != agentexec.StateRunning || boolField(cr.Reused) != "true" || boolField(cr.CommandDiffers) != "true" {
		t.Fatalf("create --ensure: %+v", cr)
	}
	// Without --ensure a second job of the name is created, and @web now
	// means it.
	second := runNamed(t, m, "web", false, sleep)
	if second.JobID == first.JobID || second.Reused != nil || second.CommandDiffers != nil {
		t.Fatalf("plain run: %+v", second)
	}
	if st, err := m.Status(ctx, "@web"); err != nil || st.JobID != second.JobID || st.Name != "web" {
		t.Fatalf("status @web: %+v %v", st, err)
	}
	// Once no job of the name is live, --ensure starts a new one.
	for _, id := range []string{first.JobID, second.JobID} {
		if _, err := m.Kill(ctx, id, agentexec.KillOptions{Signal: "KILL"}); err != nil {
			t.Fatal(err)
		}
	}
	third := runNamed(t, m, "web", true, sleep)
	if third.JobID == first.JobID || third.JobID == second.JobID || boolField(third.Reused) != "false" {
		t.Fatalf("ensure after the jobs ended: %+v", third)
	}
	// A created job counts as live.
	created, err := m.Ensure(ctx, agentexec.JobSpec{Command: []string{"true"}, Name: "later"})
	if err != nil || created.State != agentexec.StateCreated || boolField(created.Reused) != "false" {
		t.Fatalf("ensure create: %+v %v", created, err)
	}
	again := runNamed(t, m, "later", true, agentexec.JobSpec{Command: []string{"true"}})
	if again.JobID != created.JobID || again.State != agentexec.StateCreated || boolField(again.Reused) != "true" {
		t.Fatalf("ensure of a created job: %+v", again)
	}
}

func TestNameValidation(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	for _, bad := range []string{"", "a b", "x/y", "é", strings.Repeat("a", 65), "a@b", "a\x00"} {
		if err := agentexec.ValidateName(bad); !errors.Is(err, agentexec.ErrInvalidArg) {
			t.Errorf("ValidateName(%q) = %v", bad, err)
		}
		if bad == "" {
			continue // an empty name means unnamed
		}
		_, err := m.Run(ctx, agentexec.RunRequest{Spec: agentexec.JobSpec{Command: []string{"true"}, Name: bad}, Observe: noWait()})
		if !errors.Is(err, agentexec.ErrInvalidArg) {
			t.Errorf("run --name %q: %v", bad, err)
		}
	}
	for _, good := range []string{"a", "..", ".", "web.dev_1-x", strings.Repeat("Z", 64)} {
		if err := agentexec.ValidateName(good); err != nil {
			t.Errorf("ValidateName(%q) = %v", good, err)
		}
	}
	if _, err := m.Run(ctx, agentexec.RunRequest{Spec: agentexec.JobSpec{Command: []string{"true"}}, Observe: noWait(), Ensure: true}); !errors.Is(err, agentexec.ErrInvalidArg) {
		t.Errorf("ensure without a name: %v", err)
	}
	// Nothing was created, not even the root.
	if _, err := os.Stat(m.Root()); !os.IsNotExist(err) {
		t.Fatalf("root created by invalid requests: %v", err)
	}
	// "." and ".." are names like any other: they never address the
	// directories themselves.
	for _, n := range []string{".", ".."} {
		res := runNamed(t, m, n, true, agentexec.JobSpec{Command: []string{"true"}})
		if st, err := m.Status(ctx, "@"+n); err != nil || st.JobID != res.JobID || st.Name != n {
			t.Fatalf("@%s: %+v %v", n, st, err)
		}
	}
}

func TestNameResolution(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	var ids []string
	for range 3 {
		res := runNamed(t, m, "build", false, agentexec.JobSpec{Command: []string{"true"}})
		ids = append(ids, res.JobID)
	}
	other := runNamed(t, m, "build2", false, agentexec.JobSpec{Command: []string{"true"}})
	for _, ref := range []string{"@build", "@build2"} {
		if _, err := m.Wait(ctx, ref, agentexec.WaitOptions{Forever: true, Poll: 50 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
	}
	want := func(ref, id string) {
		t.Helper()
		st, err := m.Status(ctx, ref)
		if err != nil || st.JobID != id {
			t.Fatalf("status %s = %+v, %v; want %s", ref, st, err, id)
		}
	}
	want("@build", ids[2])
	want("@build2", other.JobID)
	// Every id-taking operation resolves names: tail, wait, tag set, list.
	if r, err := m.Tail(ctx, "@build", agentexec.TailOptions{TailLines: 5, MaxBytes: 100}); err != nil || r.JobID != ids[2] {
		t.Fatalf("tail @build: %+v %v", r, err)
	}
	if r, err := m.TagSet(ctx, "@build", []string{"x"}); err != nil || r.JobID != ids[2] {
		t.Fatalf("tag set @build: %+v %v", r, err)
	}
	// The name survives a meta.json rewrite.
	want("@build", ids[2])
	list, err := m.List(ctx, agentexec.ListOptions{All: true})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, j := range list.Jobs {
		names[j.JobID] = j.Name
	}
	if names[ids[0]] != "build" || names[other.JobID] != "build2" || len(names) != 4 {
		t.Fatalf("list names %v", names)
	}
	// Deleting the newest job makes @build the previous one; deleting all
	// of them makes it job_not_found.
	del := func(ref string) {
		t.Helper()
		if _, err := m.Delete(ctx, agentexec.DeleteOptions{ID: ref}); err != nil {
			t.Fatal(err)
		}
	}
	del("@build")
	want("@build", ids[1])
	del(ids[0])
	want("@build", ids[1])
	del("@build")
	for _, ref := range []string{"@build", "@nosuch", "@bad name", "@", "@../x"} {
		if _, err := m.Status(ctx, ref); !errors.Is(err, agentexec.ErrJobNotFound) || err.Error() != "job not found: "+ref {
			t.Errorf("status %s: %v", ref, err)
		}
	}
	want("@build2", other.JobID)
	// The index drops deleted jobs at the next creation of the name.
	last := runNamed(t, m, "build", false, agentexec.JobSpec{Command: []string{"true"}})
	data, err := os.ReadFile(filepath.Join(m.Root(), ".names", "build.ids"))
	if err != nil || string(data) != last.JobID+"\n" {
		t.Fatalf("index %q %v; want %s only", data, err, last.JobID)
	}
	// The names directory is invisible to list, gc and delete --all.
	list, err = m.List(ctx, agentexec.ListOptions{All: true})
	if err != nil || list.Skipped != 0 || len(list.Jobs) != 2 {
		t.Fatalf("list after names: %+v %v", list, err)
	}
	if _, err := m.Wait(ctx, "@build", agentexec.WaitOptions{Forever: true, Poll: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	gc, err := m.GC(ctx, agentexec.GCOptions{OlderThanRaw: "0s", OlderThanSource: "flag"})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range gc.Jobs {
		if strings.HasPrefix(e.JobID, ".") {
			t.Fatalf("gc reported %s", e.JobID)
		}
	}
	if _, err := os.Stat(filepath.Join(m.Root(), ".names")); err != nil {
		t.Fatalf("gc removed the names directory: %v", err)
	}
}

// TestEnsureConcurrent races many --ensure callers, each with its own
// Manager (as separate processes would have), on one root: exactly one job
// is created and every caller gets it.
func TestEnsureConcurrent(t *testing.T) {
	root := filepath.Join(t.TempDir(), "jobs")
	cwd := t.TempDir()
	const n = 20
	ids := make([]string, n)
	reused := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		m, err := agentexec.Open(root, agentexec.Options{Cwd: cwd})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := m.Run(context.Background(), agentexec.RunRequest{
				Spec: agentexec.JobSpec{Command: []string{"sleep", "30"}, Name: "srv"}, Observe: noWait(), Ensure: true})
			if err != nil {
				errs[i] = err
				return
			}
			ids[i], reused[i] = res.JobID, *res.Reused
		}()
	}
	wg.Wait()
	m := openTestManagerAt(t, root, cwd)
	fresh := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Errorf("caller %d got %s, caller 0 %s", i, ids[i], ids[0])
		}
		if !reused[i] {
			fresh++
		}
	}
	list, err := m.List(context.Background(), agentexec.ListOptions{All: true})
	if err != nil {
		t.Fatal(err)
	}
	if fresh != 1 || len(list.Jobs) != 1 {
		t.Fatalf("%d callers created a job; %d jobs exist", fresh, len(list.Jobs))
	}
}

// openTestManagerAt opens a Manager on an existing root and kills its
// running jobs at cleanup.
func openTestManagerAt(t *testing.T, root, cwd string) *agentexec.Manager {
	t.Helper()
	m, err := agentexec.Open(root, agentexec.Options{Cwd: cwd})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		res, err := m.List(context.Background(), agentexec.ListOptions{All: true, State: agentexec.StateRunning})
		if err == nil {
			for _, j := range res.Jobs {
				m.Kill(context.Background(), j.JobID, agentexec.KillOptions{Signal: "KILL"})
			}
		}
		m.Close()
	})
	return m
}

// TestNameIndexRefusesLinks: a symbolic link planted where a named job's
// directory was is not that job, and a link in place of the names
// directory is refused rather than followed.
func TestNameIndexRefusesLinks(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	victim := runNamed(t, m, "v", false, agentexec.JobSpec{Command: []string{"true"}})
	other := runNamed(t, m, "other", false, agentexec.JobSpec{Command: []string{"true"}})
	for _, id := range []string{victim.JobID, other.JobID} {
		if _, err := m.Wait(ctx, id, agentexec.WaitOptions{Forever: true, Poll: 50 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(m.Root(), victim.JobID)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(m.Root(), other.JobID), dir); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Status(ctx, "@v"); !errors.Is(err, agentexec.ErrJobNotFound) {
		t.Fatalf("@v through a planted link: %v", err)
	}
	names := filepath.Join(m.Root(), ".names")
	elsewhere := t.TempDir()
	if err := os.RemoveAll(names); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, names); err != nil {
		t.Fatal(err)
	}
	_, err := m.Run(ctx, agentexec.RunRequest{Spec: agentexec.JobSpec{Command: []string{"true"}, Name: "x"}, Observe: noWait()})
	if err == nil || agentexec.AsError(err).Code != agentexec.CodeInternal {
		t.Fatalf("run --name with .names a link: %v", err)
	}
	if ents, _ := os.ReadDir(elsewhere); len(ents) != 0 {
		t.Fatalf("wrote through the link: %v", ents)
	}
}

// TestGCPrunesNames: once gc (or delete) removed every job of a name, gc
// also removes the name's index and lock files; names with jobs keep them.
func TestGCPrunesNames(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	for _, n := range []string{"build-1", "build-2", "keep"} {
		if _, err := m.Create(ctx, agentexec.JobSpec{Command: []string{"true"}, Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	for _, ref := range []string{"@build-1", "@build-2"} {
		if _, err := m.Delete(ctx, agentexec.DeleteOptions{ID: ref}); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(m.Root(), ".names")
	if _, err := m.GC(ctx, agentexec.GCOptions{OlderThanRaw: "30d", OlderThan: 30 * 24 * time.Hour, DryRun: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "build-1.ids")); err != nil {
		t.Fatalf("a dry run pruned: %v", err)
	}
	if _, err := m.GC(ctx, agentexec.GCOptions{OlderThanRaw: "30d", OlderThan: 30 * 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != "keep.ids,keep.lock" {
		t.Fatalf(".names after gc: %v", got)
	}
	if _, err := m.Status(ctx, "@keep"); err != nil {
		t.Fatal(err)
	}
	// A pruned name can be used again.
	if res, err := m.Ensure(ctx, agentexec.JobSpec{Command: []string{"true"}, Name: "build-1"}); err != nil || *res.Reused {
		t.Fatalf("reuse of a pruned name: %+v %v", res, err)
	}
}
