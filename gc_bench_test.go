package agentexec_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/agentexec/agentexec"
)

// BenchmarkGC5000 measures gc over a root of 5,000 terminal jobs written
// directly to disk: a dry run (examination and sizing only) and a real run
// deleting every job.
func BenchmarkGC5000(b *testing.B) {
	const n = 5000
	prepare := func(b *testing.B) *agentexec.Manager {
		b.Helper()
		root := filepath.Join(b.TempDir(), "jobs")
		for i := 0; i < n; i++ {
			writeGCJob(b, root, gcJob{id: fmt.Sprintf("01BBBBBBBBBBBBBBBBBBBB%04d", i), status: "exited", finished: old2020, logBytes: 512})
		}
		m, err := agentexec.Open(root, agentexec.Options{})
		if err != nil {
			b.Fatal(err)
		}
		return m
	}
	opts := agentexec.GCOptions{OlderThan: 24 * time.Hour, OlderThanRaw: "1d"}
	b.Run("dry-run", func(b *testing.B) {
		m := prepare(b)
		o := opts
		o.DryRun = true
		for b.Loop() {
			res, err := m.GC(context.Background(), o)
			if err != nil || len(res.Jobs) != n {
				b.Fatalf("%v %d", err, len(res.Jobs))
			}
		}
	})
	b.Run("delete", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			m := prepare(b)
			b.StartTimer()
			res, err := m.GC(context.Background(), opts)
			if err != nil || res.Deleted != n {
				b.Fatalf("%v %d", err, res.Deleted)
			}
		}
	})
}
