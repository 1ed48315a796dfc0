//go:build unix

package agentexec_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentexec/agentexec"
	"github.com/agentexec/agentexec/internal/store"
)

func wantCode(t *testing.T, what string, err error, code agentexec.Code) *agentexec.Error {
	t.Helper()
	var ae *agentexec.Error
	if !errors.As(err, &ae) || ae.Code != code {
		t.Fatalf("%s: err = %v, want %s", what, err, code)
	}
	return ae
}

func mustNotExist(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s exists (err %v): something followed a planted link", path, err)
	}
}

// TestLockSymlinkCreatesNothingOutside: a .lock replaced by a symbolic link
// to a path outside the root makes every locking operation fail with
// internal_error, and none of them creates the link's target.
func TestLockSymlinkCreatesNothingOutside(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	c, err := m.Create(ctx, agentexec.JobSpec{Command: []string{"true"}})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(m.Root(), c.JobID)
	outside := filepath.Join(t.TempDir(), "planted")
	os.Remove(filepath.Join(dir, store.LockFile))
	if err := os.Symlink(outside, filepath.Join(dir, store.LockFile)); err != nil {
		t.Fatal(err)
	}
	_, err = m.TagSet(ctx, c.JobID, []string{"a"})
	ae := wantCode(t, "tag set", err, agentexec.CodeInternal)
	if !strings.Contains(ae.Message, "symbolic link") {
		t.Errorf("tag set message %q does not name the cause", ae.Message)
	}
	cmd := "echo hi"
	_, err = m.NotifySet(ctx, c.JobID, agentexec.NotifyUpdate{Command: &cmd})
	wantCode(t, "notify set", err, agentexec.CodeInternal)
	_, err = m.Start(ctx, c.JobID, agentexec.ObserveOptions{NoWait: true})
	wantCode(t, "start", err, agentexec.CodeInternal)
	_, err = m.Restart(ctx, c.JobID, agentexec.RestartOptions{Observe: agentexec.ObserveOptions{NoWait: true}})
	wantCode(t, "restart", err, agentexec.CodeInternal)
	_, err = m.Delete(ctx, agentexec.DeleteOptions{ID: c.JobID})
	wantCode(t, "delete", err, agentexec.CodeInternal)
	if _, err := m.GC(ctx, agentexec.GCOptions{OlderThanRaw: "0s"}); err != nil {
		t.Fatal(err)
	}
	mustNotExist(t, outside)
	if st, err := m.Status(ctx, c.JobID); err != nil || st.State != agentexec.StateCreated {
		t.Fatalf("status %+v %v", st, err)
	}
}

// TestJobFileSymlinksNotFollowed: job files that are symbolic links are
// neither read nor written through: meta.json → the job is unreadable
// (internal_error, list skipped), stdout.log → tail shows nothing and a
// launch fails without truncating the target.
func TestJobFileSymlinksNotFollowed(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	outside := t.TempDir()

	a, err := m.Create(ctx, agentexec.JobSpec{Command: []string{"true"}})
	if err != nil {
		t.Fatal(err)
	}
	adir := filepath.Join(m.Root(), a.JobID)
	copied := filepath.Join(outside, "meta.json")
	if err := os.Rename(filepath.Join(adir, store.MetaFile), copied); err != nil {
		t.Fatal(err)
	}
	os.Symlink(copied, filepath.Join(adir, store.MetaFile))
	_, err = m.Status(ctx, a.JobID)
	if ae := wantCode(t, "status", err, agentexec.CodeInternal); !strings.Contains(ae.Message, "meta.json") {
		t.Errorf("status message %q does not name meta.json", ae.Message)
	}
	l, err := m.List(ctx, agentexec.ListOptions{All: true})
	if err != nil || l.Skipped != 1 || len(l.Jobs) != 0 {
		t.Fatalf("list %+v %v", l, err)
	}

	b, err := m.Create(ctx, agentexec.JobSpec{Command: []string{"true"}})
	if err != nil {
		t.Fatal(err)
	}
	bdir := filepath.Join(m.Root(), b.JobID)
	secret := filepath.Join(outside, "secret")
	os.WriteFile(secret, []byte("secret\n"), 0o600)
	os.Remove(filepath.Join(bdir, store.StdoutLog))
	os.Symlink(secret, filepath.Join(bdir, store.StdoutLog))
	tl, err := m.Tail(ctx, b.JobID, agentexec.TailOptions{TailLines: 10, MaxBytes: 1000})
	if err != nil || tl.StdoutTail != "" || tl.StdoutObservedBytes != 0 {
		t.Fatalf("tail read through the link: %+v %v", tl, err)
	}
	_, err = m.Start(ctx, b.JobID, agentexec.ObserveOptions{NoWait: true})
	if ae := wantCode(t, "start", err, agentexec.CodeLaunchFailed); !strings.Contains(ae.Message, "symbolic link") {
		t.Errorf("launch_failed message %q does not name the cause", ae.Message)
	}
	if got, _ := os.ReadFile(secret); string(got) != "secret\n" {
		t.Fatalf("the link target was written: %q", got)
	}
}

// TestSymlinkedJobDirectoryRefused: <root>/<id> being a symbolic link to a
// real job directory elsewhere is not a job: lookups do not find it, list,
// gc and delete --all ignore it, and nothing is written through it.
func TestSymlinkedJobDirectoryRefused(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	c, err := m.Create(ctx, agentexec.JobSpec{Command: []string{"true"}})
	if err != nil {
		t.Fatal(err)
	}
	elsewhere := filepath.Join(t.TempDir(), c.JobID)
	if err := os.Rename(filepath.Join(m.Root(), c.JobID), elsewhere); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, filepath.Join(m.Root(), c.JobID)); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(elsewhere, store.StateFile))
	_, err = m.Status(ctx, c.JobID)
	wantCode(t, "status", err, agentexec.CodeJobNotFound)
	_, err = m.Status(ctx, c.JobID[:20])
	wantCode(t, "status by prefix", err, agentexec.CodeJobNotFound)
	_, err = m.TagSet(ctx, c.JobID, []string{"x"})
	wantCode(t, "tag set", err, agentexec.CodeJobNotFound)
	_, err = m.Start(ctx, c.JobID, agentexec.ObserveOptions{NoWait: true})
	wantCode(t, "start", err, agentexec.CodeJobNotFound)
	l, err := m.List(ctx, agentexec.ListOptions{All: true})
	if err != nil || l.Skipped != 0 || len(l.Jobs) != 0 {
		t.Fatalf("list %+v %v", l, err)
	}
	g, err := m.GC(ctx, agentexec.GCOptions{OlderThanRaw: "0s"})
	if err != nil || len(g.Jobs) != 0 {
		t.Fatalf("gc %+v %v", g, err)
	}
	after, _ := os.ReadFile(filepath.Join(elsewhere, store.StateFile))
	if string(before) != string(after) {
		t.Fatal("state.json behind the link changed")
	}
}
