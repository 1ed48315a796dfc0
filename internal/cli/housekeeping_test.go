package cli

import (
	"bytes"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/agentexec/agentexec"
)

func TestParseGCOlderThan(t *testing.T) {
	tests := []struct {
		in   string
		raw  string
		want time.Duration
		ok   bool
	}{
		{"30d", "30d", 30 * 24 * time.Hour, true},
		{" 7d\t", "7d", 7 * 24 * time.Hour, true},
		{"3600", "3600", time.Hour, true}, // bare number = seconds
		{"0", "0", 0, true},
		{"250ms", "250ms", 250 * time.Millisecond, true},
		{"3x", "3x", 0, false},
		{"1h30m", "1h30m", 0, false},
		{"-1s", "-1s", 0, false},
		{"", "", 0, false},
		{"1.5h", "1.5h", 0, false},
	}
	for _, tt := range tests {
		raw, d, err := parseGCOlderThan(tt.in)
		if raw != tt.raw || (err == nil) != tt.ok || tt.ok && d != tt.want {
			t.Errorf("parseGCOlderThan(%q) = %q, %v, %v", tt.in, raw, d, err)
		}
		if err != nil {
			var ae *agentexec.Error
			if !errors.As(err, &ae) || ae.Code != agentexec.CodeInvalidArgument ||
				ae.Message != "invalid duration: "+tt.raw+"; expected formats: 30d, 24h, 60m, 3600s" {
				t.Errorf("parseGCOlderThan(%q) error %#v", tt.in, err)
			}
		}
	}
}

// TestAttachCompletions checks every command taking a job id gets dynamic
// completion, and that attaching twice is harmless.
func TestAttachCompletions(t *testing.T) {
	a := &app{sys: System{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Getenv: os.Getenv, Environ: os.Environ, Cwd: t.TempDir()}}
	root := newRootCmd(a)
	attachCompletions(root, a)
	attachCompletions(root, a)
	for _, path := range [][]string{{"start"}, {"status"}, {"tail"}, {"wait"}, {"kill"}, {"send"}, {"screen"}, {"delete"}, {"rm"}, {"restart"}, {"tag", "set"}, {"notify", "set"}} {
		c, _, err := root.Find(path)
		if err != nil || c == root {
			t.Logf("command %v not present (yet)", path)
			continue
		}
		if c.ValidArgsFunction == nil {
			t.Errorf("%v has no job-id completion", path)
		}
	}
	if c, _, _ := root.Find([]string{"send"}); c != nil {
		if _, ok := c.GetFlagCompletionFunc("key"); !ok {
			t.Error("send --key has no completion")
		}
	}
	if c, _, _ := root.Find([]string{"kill"}); c != nil {
		if _, ok := c.GetFlagCompletionFunc("signal"); !ok {
			t.Error("kill --signal has no completion")
		}
	}
}

func TestBashScriptWorksWithoutBashCompletionPackage(t *testing.T) {
	var out bytes.Buffer
	a := &app{sys: System{Stdout: &out, Stderr: &bytes.Buffer{}, Getenv: os.Getenv, Environ: os.Environ, Cwd: t.TempDir()}}
	root := newRootCmd(a)
	root.SetArgs([]string{"completions", "bash"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out.Bytes(), []byte("words=(\"${COMP_WORDS[@]}\")")) {
		t.Error("bash script lacks the fallback for a bash without the bash-completion package")
	}
}
