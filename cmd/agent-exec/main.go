// Command agent-exec runs commands as detached, persistent jobs for AI
// agents. See the README and SPEC for the contract.
package main

import (
	"context"
	"os"

	"github.com/agentexec/agentexec/internal/cli"
	"github.com/agentexec/agentexec/internal/supervisor"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "_supervise" {
		os.Exit(supervisor.Main(os.Args[2:], os.Stdin, os.Stdout))
	}
	os.Exit(cli.Main(context.Background(), os.Args[1:], cli.OSSystem()))
}
