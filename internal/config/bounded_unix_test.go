//go:build unix

package config_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestLoadFIFONeverBlocks(t *testing.T) {
	home := t.TempDir()
	def := filepath.Join(home, ".config", "agent-exec", "config.toml")
	if err := os.MkdirAll(filepath.Dir(def), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(def, 0o600); err != nil {
		t.Skip("mkfifo:", err)
	}
	// The default file and an explicit --config alike.
	_, err := loadWithin(t, "", env(nil), home)
	wantConfigError(t, err, def, "read file: not a regular file (a named pipe)")
	_, err = loadWithin(t, def, env(nil), "")
	wantConfigError(t, err, def, "read file: not a regular file (a named pipe)")
}
