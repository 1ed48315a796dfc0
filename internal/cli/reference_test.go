package cli

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestCLIReferenceUpToDate fails while docs/cli.md differs from the
// command definitions (issue #14: user documentation that cannot drift).
func TestCLIReferenceUpToDate(t *testing.T) {
	got, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bytes.TrimRight(got, "\n"), Reference()) {
		t.Fatal("docs/cli.md is stale: run `go generate ./internal/cli` and commit the result")
	}
}

func TestCLIReferenceContent(t *testing.T) {
	s := string(Reference())
	for _, want := range []string{
		"| [`run`](#cmd-run) |",
		"<a id=\"cmd-tag-set\"></a>\n## `tag set`\n",
		"```\nagent-exec status <ID>\n```",
		"Alias: `rm`.",
		"| `--older-than` | string | `30d` |",
		"| `-v`, `--verbose` |",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("reference lacks %q", want)
		}
	}
	if strings.Contains(s, "_supervise") {
		t.Error("reference shows the hidden supervisor command")
	}
}
