// Command gendoc writes docs/cli.md from the command definitions. Run it
// with `go generate ./internal/cli`.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/agentexec/agentexec/internal/cli"
)

func main() {
	out := flag.String("o", "docs/cli.md", "output file")
	flag.Parse()
	if err := os.WriteFile(*out, append(cli.Reference(), '\n'), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gendoc:", err)
		os.Exit(1)
	}
}
