package agentexec_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/agentexec/agentexec"
)

// TestConcurrentAutoGCLeavesNoHusks: several launchers' automatic GCs race
// over the same old jobs; every job is removed exactly once and no
// directory holding only a recreated .lock is left behind (each removal
// renames the job away under its lock before deleting it).
func TestConcurrentAutoGCLeavesNoHusks(t *testing.T) {
	for round := 0; round < 10; round++ {
		m, _ := gcManager(t)
		root := m.Root()
		for i := 0; i < 30; i++ {
			writeGCJob(t, root, gcJob{id: gcID(i), status: "exited", finished: old2020})
		}
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				m.AutoGC(context.Background(), agentexec.AutoGCOptions{OlderThan: time.Hour, ScanLimit: 200, DeleteLimit: 30})
			}()
		}
		wg.Wait()
		left, _ := os.ReadDir(root)
		for _, e := range left {
			t.Errorf("round %d: %s left in the root", round, e.Name())
		}
	}
}
