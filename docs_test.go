package agentexec_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocsStayInRepository checks the user documentation (README.md and
// docs/*.md): every relative link names a file of the repository, and no
// page refers to the project's internal specification, which is not part
// of it (issue #14: the README pointed at a SPEC.md nobody could open).
func TestDocsStayInRepository(t *testing.T) {
	pages, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	pages = append(pages, "README.md")
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for _, page := range pages {
		data, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		text := string(data)
		if i := strings.Index(text, "SPEC"); i >= 0 {
			t.Errorf("%s refers to the specification (%q), which is not in the repository: describe the behaviour or link a page under docs/", page, excerpt(text, i))
		}
		if i := strings.Index(text, "§"); i >= 0 {
			t.Errorf("%s cites a specification section (%q): link a page under docs/ instead", page, excerpt(text, i))
		}
		for _, m := range link.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "#") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			target, _, _ = strings.Cut(target, "#")
			if _, err := os.Stat(filepath.Join(filepath.Dir(page), target)); err != nil {
				t.Errorf("%s links to %s, which is not in the repository", page, m[1])
			}
		}
	}
}

func excerpt(s string, i int) string {
	lo, hi := max(0, i-30), min(len(s), i+30)
	return s[lo:hi]
}
