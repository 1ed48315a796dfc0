package httpapi

import (
	"os"
	"regexp"
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

// TestExecFieldsDocumented: every field POST /exec reads has a row in the
// body table of docs/http.md.
func TestExecFieldsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/http.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("exec.go")
	if err != nil {
		t.Fatal(err)
	}
	fields := regexp.MustCompile(`d\.get\("([a-z_]+)"`).FindAllStringSubmatch(string(src), -1)
	if len(fields) == 0 {
		t.Fatal("no fields found in exec.go")
	}
	for _, f := range fields {
		if !strings.Contains(string(doc), "`"+f[1]+"`") {
			t.Errorf("docs/http.md does not document the /exec field %s", f[1])
		}
	}
}
