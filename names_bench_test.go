package agentexec_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/agentexec/agentexec"
)

// BenchmarkNames10000 measures name look-ups on a root of 10,000 jobs:
// "@name" costs the index file plus the named jobs' meta.json, independent
// of the root's size; an id is the reference point.
func BenchmarkNames10000(b *testing.B) {
	root := filepath.Join(b.TempDir(), "jobs")
	for i := 0; i < 10000; i++ {
		writeGCJob(b, root, gcJob{id: fmt.Sprintf("01BBBBBBBBBBBBBBBBBBBB%04d", i), status: "exited", finished: old2020})
	}
	m, err := agentexec.Open(root, agentexec.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	var id string
	for range 3 { // three jobs of the name: @web is the newest
		res, err := m.Create(ctx, agentexec.JobSpec{Command: []string{"true"}, Name: "web"})
		if err != nil {
			b.Fatal(err)
		}
		id = res.JobID
	}
	b.Run("status-id", func(b *testing.B) {
		for b.Loop() {
			if res, err := m.Status(ctx, id); err != nil || res.JobID != id {
				b.Fatal(err)
			}
		}
	})
	b.Run("status-@name", func(b *testing.B) {
		for b.Loop() {
			if res, err := m.Status(ctx, "@web"); err != nil || res.JobID != id {
				b.Fatal(err)
			}
		}
	})
	b.Run("status-@unknown", func(b *testing.B) {
		for b.Loop() {
			if _, err := m.Status(ctx, "@nosuch"); err == nil {
				b.Fatal("found")
			}
		}
	})
	b.Run("create-ensure-reused", func(b *testing.B) {
		for b.Loop() {
			res, err := m.Ensure(ctx, agentexec.JobSpec{Command: []string{"true"}, Name: "web"})
			if err != nil || res.JobID != id || !*res.Reused {
				b.Fatal(err)
			}
		}
	})
}
