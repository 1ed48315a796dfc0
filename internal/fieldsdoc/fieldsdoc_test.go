package fieldsdoc_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/agentexec/agentexec/internal/fieldsdoc"
	"github.com/agentexec/agentexec/schema"
)

// TestFieldsDocUpToDate fails while docs/fields.md differs from what the
// embedded schema renders, so the field reference cannot drift from the
// responses (issue #14).
func TestFieldsDocUpToDate(t *testing.T) {
	want, err := fieldsdoc.Markdown(schema.JSON)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../docs/fields.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bytes.TrimRight(got, "\n"), want) {
		t.Fatal("docs/fields.md is stale: run `go generate ./internal/fieldsdoc` and commit the result")
	}
}

// TestFieldsDocContent spot-checks the rendering: every response type has
// a section, conditions become presence notes, and nothing points at a
// specification outside the repository.
func TestFieldsDocContent(t *testing.T) {
	md, err := fieldsdoc.Markdown(schema.JSON)
	if err != nil {
		t.Fatal(err)
	}
	s := string(md)
	for _, want := range []string{
		"### `status`\n",
		"### `error`\n",
		"| `exit_code` | integer | iff `state` is `\"exited\"` |",
		"| `error.code` | [errorCode](#def-errorcode) | always |",
		"| `stdout_log_path` | [absolutePath](#def-absolutepath) | always |",
		"| `skills[].name` | string (non-empty) | always |",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("rendering lacks %q", want)
		}
	}
	if strings.Contains(s, "SPEC") || strings.Contains(s, "§") {
		t.Error("rendering refers to a specification outside the repository")
	}
}

func TestMarkdownRejectsBadSchema(t *testing.T) {
	if _, err := fieldsdoc.Markdown([]byte("{")); err == nil {
		t.Fatal("Markdown accepted invalid JSON")
	}
}

func TestClean(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SPEC §4.5.", ""},
		{"list and ps (SPEC §4.9).", "list and ps."},
		{"Error envelope (exit 1; HTTP per SPEC §1.7).", "Error envelope (exit 1; HTTP)."},
		{"A job reused by create --ensure (§11.6) reports its state", "A job reused by create --ensure reports its state"},
		{"Install the skill into .agents/skills", "Install the skill into .agents/skills"},
		{"  spaced \n  text  ", "spaced text"},
		{"e.g. PENDING (added, SPEC §11.7).", "e.g. PENDING (added)."},
	}
	for _, tt := range tests {
		if got := fieldsdoc.Clean(tt.in); got != tt.want {
			t.Errorf("Clean(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}
