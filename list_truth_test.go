package agentexec_test

import (
	"context"
	"sync"
	"testing"

	"github.com/agentexec/agentexec"
)

// TestListDuringDeletesSkipsNothing: jobs that a concurrent delete removes
// between list's scan and its reads are simply not listed; skipped stays
// for damaged directories and is 0 throughout.
func TestListDuringDeletesSkipsNothing(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	var ids []string
	for range 60 {
		c, err := m.Create(ctx, agentexec.JobSpec{Command: []string{"true"}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.JobID)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, id := range ids {
			if _, err := m.Delete(ctx, agentexec.DeleteOptions{ID: id}); err != nil {
				t.Errorf("delete %s: %v", id, err)
			}
		}
	}()
	lists := 0
	for {
		l, err := m.List(ctx, agentexec.ListOptions{All: true})
		if err != nil {
			t.Fatal(err)
		}
		lists++
		if l.Skipped != 0 {
			t.Fatalf("list %d: skipped %d while jobs were being deleted", lists, l.Skipped)
		}
		if len(l.Jobs) == 0 {
			break
		}
	}
	wg.Wait()
}
