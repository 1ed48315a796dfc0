package agentexec_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentexec/agentexec"
	"github.com/agentexec/agentexec/internal/store"
)

// syncBuffer is a bytes.Buffer safe for the logger's writes and the test's
// reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLockWaitIsLogged: an operation queued behind another one on the same
// job says so at debug level (issue #14: -vv explained nothing), and
// proceeds once the lock is free.
func TestLockWaitIsLogged(t *testing.T) {
	var logs syncBuffer
	m := openTestManager(t, agentexec.Options{Cwd: t.TempDir(),
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	ctx := context.Background()
	c, err := m.Create(ctx, agentexec.JobSpec{Command: []string{"true"}})
	if err != nil {
		t.Fatal(err)
	}
	lock, err := store.TryLock(filepath.Join(m.Root(), c.JobID))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := m.TagSet(ctx, c.JobID, []string{"x"})
		done <- err
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(logs.String(), `msg="job lock busy; waiting" job=`+c.JobID) {
		if time.Now().After(deadline) {
			lock.Unlock()
			t.Fatalf("no lock-wait line within 20s; logs:\n%s", logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	lock.Unlock()
	if err := <-done; err != nil {
		t.Fatalf("tag set after the wait: %v", err)
	}
	if !strings.Contains(logs.String(), `msg="job lock wait ended" job=`+c.JobID) || !strings.Contains(logs.String(), "acquired=true") {
		t.Fatalf("no end-of-wait line; logs:\n%s", logs.String())
	}
}
