package httpapi

import (
	"os"
	"strings"
	"testing"
)

// TestRoutesDocumented keeps docs/http.md in step with the route table:
// every route appears in its routes table (issue #14: user documentation
// that cannot silently fall behind).
func TestRoutesDocumented(t *testing.T) {
	data, err := os.ReadFile("../../docs/http.md")
	if err != nil {
		t.Fatal(err)
	}
	for name, rt := range routes {
		path := "/" + name
		if rt.withID {
			path += "/{id}"
		}
		if want := "`" + rt.method + " " + path; !strings.Contains(string(data), want) {
			t.Errorf("docs/http.md does not document %s %s (want a row starting %q)", rt.method, path, want)
		}
	}
}
