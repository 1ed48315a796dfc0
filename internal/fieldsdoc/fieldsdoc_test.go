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
