// Command agent-exec runs commands as detached, persistent jobs for AI
// agents. See the README and SPEC for the contract.
package main

import (
	"context"
	"os"

	"github.com/agentexec/agentexec"
	"github.com/agentexec/agentexec/internal/cli"
)

func main() {
	agentexec.SuperviseMain() // returns unless started as "_supervise …"
	os.Exit(cli.Main(context.Background(), os.Args[1:], cli.OSSystem()))
}
