//go:build unix

package mcpserver

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Issue #14: stdin_file naming a FIFO without a writer, or a device, is
// refused at once as invalid_argument instead of hanging the call (each call
// is bounded by env.call's deadline) or reading without end.
func TestRunStdinFileNotRegular(t *testing.T) {
	e := newEnv(t, Options{})
	fifo := filepath.Join(e.cwd, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("mkfifo:", err)
	}
	before := e.jobCount()
	for path, kind := range map[string]string{"fifo": "a named pipe", "/dev/zero": "a character device"} {
		errObj := e.fail("run", map[string]any{"command": []string{"cat"}, "stdin_file": path}, "invalid_argument")
		if msg, _ := errObj["message"].(string); !strings.HasPrefix(msg, "cannot read stdin_file ") || !strings.HasSuffix(msg, ": not a regular file ("+kind+")") {
			t.Errorf("message = %q; want it to name %s", msg, kind)
		}
	}
	if n := e.jobCount(); n != before {
		t.Errorf("refused runs created jobs: %d, want %d", n, before)
	}
}
