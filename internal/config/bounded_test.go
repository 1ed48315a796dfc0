package config_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/agentexec/agentexec/internal/config"
	"github.com/agentexec/agentexec/internal/userfile"
)

// loadWithin runs Load and fails the test if it does not return within 20 s
// (issue #14: a FIFO, /dev/zero or a deeply nested document hung or
// exhausted every launching command).
func loadWithin(t *testing.T, explicit string, getenv func(string) string, home string) (config.Config, error) {
	t.Helper()
	type result struct {
		c   config.Config
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := config.Load(explicit, getenv, home)
		done <- result{c, err}
	}()
	select {
	case r := <-done:
		return r.c, r.err
	case <-time.After(20 * time.Second):
		t.Fatal("config.Load did not return within 20s")
		return config.Config{}, nil
	}
}

func wantConfigError(t *testing.T, err error, path, suffix string) {
	t.Helper()
	cerr, ok := errors.AsType[*config.Error](err)
	if !ok || cerr.Path != path {
		t.Fatalf("error = %v; want *config.Error for %s", err, path)
	}
	if want := "invalid config file " + path + ": " + suffix; err.Error() != want {
		t.Fatalf("message = %q\nwant      %q", err.Error(), want)
	}
}

func TestLoadDevZero(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip(err)
	}
	_, err := loadWithin(t, "/dev/zero", env(nil), "")
	wantConfigError(t, err, "/dev/zero", "read file: not a regular file (a character device)")
	if !errors.Is(err, userfile.ErrNotRegular) {
		t.Fatalf("error %v does not wrap ErrNotRegular", err)
	}
}

func TestLoadTooLarge(t *testing.T) {
	content := "# " + strings.Repeat("x", config.MaxFileSize) + "\n"
	_, path, err := loadString(t, content)
	wantConfigError(t, err, path, "read file: file too large: larger than 262144 bytes")
}

func TestLoadDeepNestingRefusedFast(t *testing.T) {
	const n = 50000
	tests := []struct{ name, content string }{
		{"inline tables", "a = " + strings.Repeat("{a=", n) + "1" + strings.Repeat("}", n) + "\n"},
		{"arrays", "a = " + strings.Repeat("[", n) + "1" + strings.Repeat("]", n) + "\n"},
		{"dotted key", strings.Repeat("a.", n) + "a = 1\n"},
		{"table header", "[" + strings.Repeat("a.", n) + "a]\n"},
		{"dotted keys in inline tables", "a = " + strings.Repeat("{b.c.d=", n/3) + "1" + strings.Repeat("}", n/3) + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, t.TempDir(), "config.toml", tt.content)
			_, err := loadWithin(t, path, env(nil), "")
			wantConfigError(t, err, path, "nested more than 16 levels deep")
		})
	}
}

func TestLoadModerateNestingAccepted(t *testing.T) {
	tests := []string{
		// Brackets, quotes and dots inside strings and comments do not count.
		"[gc] # [[[[ {{{{ a.b.c.d.e.f\nauto = false\n[shell]\nunix = [\"" + strings.Repeat("[{.", 100) + "\", '" + strings.Repeat("{.", 100) + "']\n",
		"x = \"\"\"\n" + strings.Repeat("{[.", 100) + "\"\"\"\ny = '''" + strings.Repeat("[.", 100) + "'''\n[gc]\nauto = false\n",
		// A value with many floats on one line is not a deep key.
		"nums = [" + strings.Repeat("1.5, ", 200) + "2.5]\n[gc]\nauto = false\n",
		// 14 levels is deeper than any real file and still accepted.
		"a = " + strings.Repeat("{a=", 14) + "1" + strings.Repeat("}", 14) + "\n[gc]\nauto = false\n",
	}
	for i, content := range tests {
		c, _, err := loadString(t, content)
		if err != nil || c.GCAuto {
			t.Fatalf("case %d: Load = %+v, %v; want gc.auto false", i, c, err)
		}
	}
}
