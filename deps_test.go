package agentexec_test

import (
	"go/parser"
	"go/token"
	"os/exec"
	"slices"
	"strconv"
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
	// The root package may import internal/supervisor, and only for
	// SuperviseMain: an embedding program can call the supervisor entry
	// point only through the public package (SPEC §0.6). The supervisor in
	// turn stays below the root and away from the adapters, so it remains
	// the small detached process it is.
	forbid(mod, list("{{.Deps}}", mod), "github.com/spf13/cobra", "net/http", mod+"/internal/cli", mod+"/internal/httpapi", mod+"/internal/mcpserver")
	sup := mod + "/internal/supervisor"
	forbid(sup, list("{{.Deps}}", sup), "github.com/spf13/cobra", "net/http", mod+"/internal/cli", mod+"/internal/httpapi", mod+"/internal/mcpserver")
	for _, f := range list("{{.GoFiles}}", mod) {
		if imports := goFileImports(t, f); slices.Contains(imports, sup) && f != "supervise.go" {
			t.Errorf("%s imports %s: only supervise.go (SuperviseMain) may", f, sup)
		}
	}
	for _, leaf := range []string{mod + "/internal/store", mod + "/internal/proc", mod + "/internal/logread", mod + "/internal/duration", mod + "/internal/userfile", mod + "/internal/render", mod + "/internal/control", mod + "/internal/screen"} {
		forbid(leaf, list("{{.Imports}}", leaf), mod+"/internal")
	}
}

// goFileImports lists the import paths of one Go file of the root package.
func goFileImports(t *testing.T, name string) []string {
	f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		paths = append(paths, p)
	}
	return paths
}
