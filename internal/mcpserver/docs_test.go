package mcpserver

import (
	"context"
	"os"
	"strings"
	"testing"
)

// TestToolsDocumented keeps docs/mcp.md in step with the server: every tool
// that tools/list advertises has a row in its tools table (issue #14).
func TestToolsDocumented(t *testing.T) {
	data, err := os.ReadFile("../../docs/mcp.md")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, Options{})
	res, err := e.cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Tools) == 0 {
		t.Fatal("no tools listed")
	}
	for _, tool := range res.Tools {
		if !strings.Contains(string(data), "| `"+tool.Name+"` |") {
			t.Errorf("docs/mcp.md does not document the tool %s", tool.Name)
		}
	}
}
