package agentexec_test

import (
	"os"
	"testing"

	"github.com/agentexec/agentexec"
)

// TestMain lets the test binary act as the supervisor: launches re-execute
// os.Executable() with "_supervise", exactly as the real binary does.
func TestMain(m *testing.M) {
	agentexec.SuperviseMain()
	os.Exit(m.Run())
}
