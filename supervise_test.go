package agentexec_test

import (
	"context"
	"os"
	"testing"

	"github.com/agentexec/agentexec"
)

// TestMain lets the test binary act as the supervisor: launches re-execute
// os.Executable() with "_supervise", exactly as the real binary does. With
// AGENTEXEC_TEST_LAUNCH_ROOT set it is instead a launcher that tests kill
// mid-launch (see launchHelper).
func TestMain(m *testing.M) {
	agentexec.SuperviseMain()
	if root := os.Getenv("AGENTEXEC_TEST_LAUNCH_ROOT"); root != "" {
		os.Exit(launchHelper(root, os.Getenv("AGENTEXEC_TEST_RESTART")))
	}
	os.Exit(m.Run())
}

// launchHelper runs one launch in this process: restart of the given job,
// or else run of a long sleep.
func launchHelper(root, restartID string) int {
	m, err := agentexec.Open(root, agentexec.Options{})
	if err != nil {
		return 1
	}
	ctx := context.Background()
	observe := agentexec.ObserveOptions{NoWait: true}
	if restartID != "" {
		_, err = m.Restart(ctx, restartID, agentexec.RestartOptions{Observe: observe})
	} else {
		_, err = m.Run(ctx, agentexec.RunRequest{Spec: agentexec.JobSpec{Command: []string{"sleep", "300"}}, Observe: observe})
	}
	if err != nil {
		return 1
	}
	return 0
}
