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

func TestModifiedReportsWritesToAFile(t *testing.T) {
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
	if err := w.Add(path, Modified); err != nil {
		t.Fatal(err)
	}
	f.WriteString("listening\n")
	if got := next(t, w); got != path {
		t.Fatalf("event for %q, want %q", got, path)
	}
}
