package store

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestValidName(t *testing.T) {
	for _, ok := range []string{"a", "A-b_c.9", ".", "..", strings.Repeat("x", 64)} {
		if !ValidName(ok) {
			t.Errorf("ValidName(%q) = false", ok)
		}
	}
	for _, bad := range []string{"", "a b", "a/b", `a\b`, "é", "@a", strings.Repeat("x", 65), "a\x00", "a\n"} {
		if ValidName(bad) {
			t.Errorf("ValidName(%q) = true", bad)
		}
	}
}

// mkJob makes a directory standing for a job.
func mkJob(t *testing.T, root, id string) {
	t.Helper()
	if err := os.MkdirAll(Dir(root, id), 0o700); err != nil {
		t.Fatal(err)
	}
}

func names(t *testing.T, root string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(root, NamesDir))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	slices.Sort(out)
	return out
}

func TestNameIndex(t *testing.T) {
	root := filepath.Join(t.TempDir(), "jobs")
	ctx := context.Background()
	add := func(name, id string) {
		t.Helper()
		l, err := LockName(ctx, root, name, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Unlock()
		mkJob(t, root, id)
		if err := AddNameID(root, name, id); err != nil {
			t.Fatal(err)
		}
	}
	add("web", "01A")
	add("web", "01B")
	add("once", "01C")
	add("gone", "01D")
	if ids, err := NameIDs(root, "web"); err != nil || strings.Join(ids, ",") != "01A,01B" {
		t.Fatalf("web ids %v %v", ids, err)
	}
	if ids, err := NameIDs(root, "nosuch"); err != nil || ids != nil {
		t.Fatalf("unknown name: %v %v", ids, err)
	}
	if fi, err := os.Stat(filepath.Join(root, NamesDir)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("names dir: %v %v", fi, err)
	}
	// A new entry drops the ids whose job directory is gone.
	os.RemoveAll(Dir(root, "01A"))
	add("web", "01E")
	if ids, _ := NameIDs(root, "web"); strings.Join(ids, ",") != "01B,01E" {
		t.Fatalf("compacted ids %v", ids)
	}
	// Pruning: "gone" has no job left (files removed), "web" loses 01B,
	// "once" is busy (a creation holds its lock) and stays as it is.
	os.RemoveAll(Dir(root, "01D"))
	os.RemoveAll(Dir(root, "01B"))
	os.RemoveAll(Dir(root, "01C"))
	busy, err := LockName(ctx, root, "once", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(root, NamesDir, TempPrefix+"old")
	fresh := filepath.Join(root, NamesDir, TempPrefix+"new")
	os.WriteFile(stale, nil, 0o600)
	os.WriteFile(fresh, nil, 0o600)
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(stale, old, old)
	PruneNames(root, time.Hour)
	busy.Unlock()
	want := []string{TempPrefix + "new", "once.ids", "once.lock", "web.ids", "web.lock"}
	if got := names(t, root); !slices.Equal(got, want) {
		t.Fatalf("after prune: %v, want %v", got, want)
	}
	if ids, _ := NameIDs(root, "web"); strings.Join(ids, ",") != "01E" {
		t.Fatalf("web after prune %v", ids)
	}
	PruneNames(root, time.Hour)
	want = []string{TempPrefix + "new", "web.ids", "web.lock"}
	if got := names(t, root); !slices.Equal(got, want) {
		t.Fatalf("after second prune: %v, want %v", got, want)
	}
	// The name is usable again after its files went.
	add("once", "01F")
	if ids, _ := NameIDs(root, "once"); strings.Join(ids, ",") != "01F" {
		t.Fatalf("once after reuse %v", ids)
	}
}

// TestNameLockExclusive: one holder at a time, and a waiter still gets the
// lock (of the file now at the path) when the holder pruned the file before
// releasing it. (The narrow window in which a waiter has opened the old file
// but not yet locked it is closed by tryLockName's same-file check, which
// this test cannot force.)
func TestNameLockExclusive(t *testing.T) {
	root := filepath.Join(t.TempDir(), "jobs")
	ctx := context.Background()
	l, err := LockName(ctx, root, "n", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LockName(ctx, root, "n", 50*time.Millisecond); err != ErrLockTimeout {
		t.Fatalf("second lock while held: %v", err)
	}
	got := make(chan *Lock, 1)
	go func() {
		l2, err := LockName(ctx, root, "n", 10*time.Second)
		if err != nil {
			t.Error(err)
		}
		got <- l2
	}()
	// Prune's removal of the lock file while holding it (as for a name
	// without jobs), then release: the waiter must end up holding the
	// file that is at the path.
	os.Remove(filepath.Join(root, NamesDir, "n.lock"))
	l.Unlock()
	l2 := <-got
	defer l2.Unlock()
	held, _ := l2.f.Stat()
	cur, err := os.Lstat(filepath.Join(root, NamesDir, "n.lock"))
	if err != nil || !os.SameFile(held, cur) {
		t.Fatalf("waiter holds a lock file that is not the name's: %v", err)
	}
	if _, err := LockName(ctx, root, "n", 50*time.Millisecond); err != ErrLockTimeout {
		t.Fatalf("third lock while the waiter holds it: %v", err)
	}
}
