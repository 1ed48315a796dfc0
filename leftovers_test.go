//go:build unix

package agentexec_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/agentexec/agentexec"
	"github.com/agentexec/agentexec/internal/store"
)

// makeReserved makes a reserved root entry as a crashed creator or deleter
// leaves it: a directory with a .lock (unless noLock) and a file.
func makeReserved(t *testing.T, root, name string, noLock bool) string {
	t.Helper()
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, store.MetaFile), []byte("{}"), 0o600)
	if !noLock {
		os.WriteFile(filepath.Join(dir, store.LockFile), nil, 0o600)
	}
	return dir
}

// TestGCReclaimsLeftovers: staging directories and unfinished removals
// whose lock is free, lock-less ones untouched for a while, and temporary
// files of quiet jobs are reclaimed at once and reported; entries in use —
// a held lock, a fresh lock-less directory, a fresh temporary file of a job
// whose supervisor runs — stay. list counts the root entries first.
func TestGCReclaimsLeftovers(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	done, err := m.Run(ctx, agentexec.RunRequest{Spec: agentexec.JobSpec{Command: []string{"true"}}, Observe: waitOpts()})
	if err != nil {
		t.Fatal(err)
	}
	running, err := m.Run(ctx, agentexec.RunRequest{Spec: agentexec.JobSpec{Command: []string{"sleep", "300"}}, Observe: agentexec.ObserveOptions{NoWait: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Kill(ctx, running.JobID, agentexec.KillOptions{Signal: "KILL"})
	root := m.Root()
	// Wait until the finished job's supervisor is gone (it lingers briefly).
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, _ := store.ReadState(filepath.Join(root, done.JobID))
		if st != nil && syscallGone(st.Supervisor.PID) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}

	abandoned := makeReserved(t, root, ".new-01AAAAAAAAAAAAAAAAAAAAAAAA-0001", false)
	removal := makeReserved(t, root, ".del-01AAAAAAAAAAAAAAAAAAAAAAAB-0002", false)
	oldNoLock := makeReserved(t, root, ".new-01AAAAAAAAAAAAAAAAAAAAAAAC-0003", true)
	old := time.Now().Add(-time.Minute)
	os.Chtimes(oldNoLock, old, old)
	freshNoLock := makeReserved(t, root, ".new-01AAAAAAAAAAAAAAAAAAAAAAAD-0004", true)
	inUse := makeReserved(t, root, ".new-01AAAAAAAAAAAAAAAAAAAAAAAE-0005", false)
	held, err := store.TryLock(inUse)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Unlock()
	quietTemp := filepath.Join(root, done.JobID, ".tmp-00000001")
	os.WriteFile(quietTemp, []byte("partial"), 0o600)
	busyTemp := filepath.Join(root, running.JobID, ".tmp-00000002")
	os.WriteFile(busyTemp, []byte("x"), 0o600)
	staleTemp := filepath.Join(root, running.JobID, ".tmp-00000003")
	os.WriteFile(staleTemp, []byte("xy"), 0o600)
	ancient := time.Now().Add(-2 * time.Hour)
	os.Chtimes(staleTemp, ancient, ancient)

	l, err := m.List(ctx, agentexec.ListOptions{All: true})
	if err != nil || l.Leftovers != 3 || l.Skipped != 0 || len(l.Jobs) != 2 {
		t.Fatalf("list: %+v %v", l, err)
	}
	dry, err := m.GC(ctx, agentexec.GCOptions{OlderThan: time.Hour, OlderThanRaw: "1h", DryRun: true})
	if err != nil || len(dry.Leftovers) != 5 || dry.Leftovers[0].Action != agentexec.ActionWouldDelete || !exists(abandoned) || !exists(quietTemp) {
		t.Fatalf("dry run: %+v %v", dry, err)
	}
	g, err := m.GC(ctx, agentexec.GCOptions{OlderThan: time.Hour, OlderThanRaw: "1h"})
	if err != nil {
		t.Fatal(err)
	}
	want := []agentexec.Leftover{
		{Path: ".del-01AAAAAAAAAAAAAAAAAAAAAAAB-0002", Kind: "deleting", Action: "deleted", Bytes: 2},
		{Path: ".new-01AAAAAAAAAAAAAAAAAAAAAAAA-0001", Kind: "staging", Action: "deleted", Bytes: 2},
		{Path: ".new-01AAAAAAAAAAAAAAAAAAAAAAAC-0003", Kind: "staging", Action: "deleted", Bytes: 2},
	}
	temps := map[string]agentexec.Leftover{
		done.JobID:    {Path: done.JobID + "/.tmp-00000001", Kind: "temp", Action: "deleted", Bytes: 7},
		running.JobID: {Path: running.JobID + "/.tmp-00000003", Kind: "temp", Action: "deleted", Bytes: 2},
	}
	if done.JobID < running.JobID {
		want = append(want, temps[done.JobID], temps[running.JobID])
	} else {
		want = append(want, temps[running.JobID], temps[done.JobID])
	}
	if len(g.Leftovers) != len(want) {
		t.Fatalf("leftovers %+v, want %+v", g.Leftovers, want)
	}
	for i := range want {
		if g.Leftovers[i] != want[i] {
			t.Fatalf("leftover %d = %+v, want %+v", i, g.Leftovers[i], want[i])
		}
	}
	for _, p := range []string{abandoned, removal, oldNoLock, quietTemp, staleTemp} {
		if exists(p) {
			t.Errorf("%s not reclaimed", p)
		}
	}
	for _, p := range []string{freshNoLock, inUse, busyTemp} {
		if !exists(p) {
			t.Errorf("%s in use but removed", p)
		}
	}
	if l, err := m.List(ctx, agentexec.ListOptions{All: true}); err != nil || l.Leftovers != 0 {
		t.Fatalf("list after gc: %+v %v", l, err)
	}
}

func syscallGone(pid int) bool {
	_, err := os.Stat(filepath.Join("/proc", itoa(pid)))
	return err != nil
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestGCRacesCreatesSafely: gc running back to back while jobs are
// created never breaks a creation — a creator whose staging directory gc
// judged abandoned starts over — and never leaves a half-built job.
func TestGCRacesCreatesSafely(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	stop := make(chan struct{})
	var gcErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := m.GC(ctx, agentexec.GCOptions{OlderThan: time.Hour, OlderThanRaw: "1h"}); err != nil {
				gcErr = err
				return
			}
		}
	}()
	var cwg sync.WaitGroup
	errs := make(chan error, 40)
	for range 40 {
		cwg.Add(1)
		go func() {
			defer cwg.Done()
			c, err := m.Create(ctx, agentexec.JobSpec{Command: []string{"true"}})
			if err == nil {
				_, err = m.Status(ctx, c.JobID)
			}
			errs <- err
		}()
	}
	cwg.Wait()
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("create: %v", err)
		}
	}
	if gcErr != nil {
		t.Fatal(gcErr)
	}
	if l, err := m.List(ctx, agentexec.ListOptions{All: true}); err != nil || len(l.Jobs) != 40 || l.Skipped != 0 {
		t.Fatalf("list %d jobs, %d skipped, %v", len(l.Jobs), l.Skipped, err)
	}
}
