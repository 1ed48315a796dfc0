package watch

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func next(t *testing.T, w *Watcher) string {
	t.Helper()
	select {
	case p := <-w.Events:
		return p
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5s")
		return ""
	}
}

func TestReplacedReportsRenameIntoDirectory(t *testing.T) {
	dir := t.TempDir()
	w, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Add(dir, Replaced); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, ".tmp-x")
	os.WriteFile(tmp, []byte("{}"), 0o600)
	// The create of the temporary file comes first, then the rename.
	got := map[string]bool{}
	for !got[filepath.Join(dir, "state.json")] {
		if len(got) == 0 {
			os.Rename(tmp, filepath.Join(dir, "state.json"))
		}
		got[next(t, w)] = true
	}
}

func TestGrownIsOneShotUntilRearmed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stdout.log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Add(path, Grown); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		f.Write([]byte("x"))
	}
	if got := next(t, w); got != path {
		t.Fatalf("event for %q, want %q", got, path)
	}
	// A burst of writes gave one event; re-arming gives the next one.
	if err := w.Add(path, Grown); err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("y"))
	if got := next(t, w); got != path {
		t.Fatalf("event for %q after re-arm", got)
	}
	select {
	case p := <-w.Events:
		if p == path {
			t.Fatalf("more than one event per arming")
		}
	default:
	}
}
