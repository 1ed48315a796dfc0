package agentexec_test

import (
	"os"
	"testing"

	"github.com/agentexec/agentexec/internal/supervisor"
)

// TestMain lets the test binary act as the supervisor: launches re-execute
// os.Executable() with "_supervise", exactly as the real binary does.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "_supervise" {
		os.Exit(supervisor.Main(os.Args[2:], os.Stdin, os.Stdout))
	}
	os.Exit(m.Run())
}
