// Command gen writes docs/fields.md from the embedded JSON Schema. Run it
// with `go generate ./internal/fieldsdoc`.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/agentexec/agentexec/internal/fieldsdoc"
	"github.com/agentexec/agentexec/schema"
)

func main() {
	out := flag.String("o", "docs/fields.md", "output file")
	flag.Parse()
	md, err := fieldsdoc.Markdown(schema.JSON)
	if err == nil {
		err = os.WriteFile(*out, append(md, '\n'), 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fieldsdoc:", err)
		os.Exit(1)
	}
}
