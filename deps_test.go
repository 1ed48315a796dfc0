package agentexec_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyDirection keeps the layering of STYLE.md: the typed root
// package owns behaviour, adapters only talk to it, leaves import nothing
// internal.
func TestDependencyDirection(t *testing.T) {
	list := func(format, pkg string) []string {
		out, err := exec.Command("go", "list", "-f", format, pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		return strings.Fields(strings.Trim(strings.TrimSpace(string(out)), "[]"))
	}
	const mod = "github.com/agentexec/agentexec"
	forbid := func(pkg string, deps []string, bad ...string) {
		for _, d := range deps {
			for _, b := range bad {
				if d == b || strings.HasPrefix(d, b+"/") {
					t.Errorf("%s must not depend on %s", pkg, d)
				}
			}
		}
	}
	for _, adapter := range []string{mod + "/internal/httpapi", mod + "/internal/mcpserver"} {
		forbid(adapter, list("{{.Imports}}", adapter), mod+"/internal/store", mod+"/internal/proc", mod+"/internal/cli", mod+"/internal/supervisor")
	}
	forbid(mod, list("{{.Deps}}", mod), "github.com/spf13/cobra", "net/http", mod+"/internal/cli", mod+"/internal/httpapi", mod+"/internal/mcpserver", mod+"/internal/supervisor")
	for _, leaf := range []string{mod + "/internal/store", mod + "/internal/proc", mod + "/internal/tail", mod + "/internal/duration"} {
		forbid(leaf, list("{{.Imports}}", leaf), mod+"/internal")
	}
}
