package userfile_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agentexec/agentexec/internal/userfile"
)

// readWithin runs Read and fails the test if it does not return within 20 s
// (issue #14: a FIFO or a device must never hang a reader).
func readWithin(t *testing.T, path string, limit int64) ([]byte, error) {
	t.Helper()
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		data, err := userfile.Read(path, limit)
		done <- result{data, err}
	}()
	select {
	case r := <-done:
		return r.data, r.err
	case <-time.After(20 * time.Second):
		t.Fatalf("Read(%s) did not return within 20s", path)
		return nil, nil
	}
}

func TestReadRegular(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int64{5, 6, 1 << 20} {
		data, err := readWithin(t, p, limit)
		if err != nil || string(data) != "hello" {
			t.Fatalf("Read(limit %d) = %q, %v; want hello", limit, data, err)
		}
	}
	// Through a symlink: users link their configuration.
	link := filepath.Join(dir, "link")
	if err := os.Symlink(p, link); err != nil {
		t.Skip("no symlinks:", err)
	}
	if data, err := readWithin(t, link, 10); err != nil || string(data) != "hello" {
		t.Fatalf("Read(symlink) = %q, %v", data, err)
	}
}

func TestReadTooLarge(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := readWithin(t, p, 4)
	if !errors.Is(err, userfile.ErrTooLarge) || err.Error() != "file too large: larger than 4 bytes" {
		t.Fatalf("Read = %v; want ErrTooLarge with the limit", err)
	}
}

func TestReadMissing(t *testing.T) {
	_, err := readWithin(t, filepath.Join(t.TempDir(), "nope"), 10)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Read(missing) = %v; want fs.ErrNotExist", err)
	}
	if got := userfile.Describe(err); strings.Contains(got, "nope") {
		t.Fatalf("Describe = %q repeats the path", got)
	}
}

func TestReadNotRegular(t *testing.T) {
	tests := []struct {
		name string
		path func(t *testing.T) string
		want string
	}{
		{"directory", func(t *testing.T) string { return t.TempDir() }, "not a regular file (a directory)"},
		{"dev zero", func(t *testing.T) string { return "/dev/zero" }, "not a regular file (a character device)"},
		{"fifo without writer", mkfifo, "not a regular file (a named pipe)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.path(t)
			if _, err := os.Stat(p); err != nil {
				t.Skip(err)
			}
			data, err := readWithin(t, p, 1<<20)
			if !errors.Is(err, userfile.ErrNotRegular) || err.Error() != tt.want || data != nil {
				t.Fatalf("Read(%s) = %d bytes, %v; want %q", p, len(data), err, tt.want)
			}
		})
	}
}
