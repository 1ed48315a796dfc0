package agentexec

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/agentexec/agentexec/internal/store"
)

// NamePrefix starts a job reference that is a name, not an id: "@web" is
// the newest job called web (SPEC §11.6). Ids never contain it.
const NamePrefix = "@"

// ValidateName checks a job name: 1–64 ASCII letters, digits, '.', '_' or
// '-' (SPEC §11.6).
func ValidateName(name string) error {
	if !store.ValidName(name) {
		return newError(CodeInvalidArgument, "invalid job name %q: use 1-64 ASCII letters, digits, '.', '_' or '-'", name)
	}
	return nil
}

// nameLockWait bounds the wait for a name lock. Its holders only look up
// jobs and create and launch one (the launch handshake is bounded at 5 s),
// so the bound is generous for a loaded machine.
const nameLockWait = 30 * time.Second

// lockName takes the lock that serialises the creation of jobs called name.
func (m *Manager) lockName(ctx context.Context, name string) (*store.Lock, error) {
	lock, err := store.LockName(ctx, m.root, name, nameLockWait)
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case errors.Is(err, store.ErrLockTimeout):
			return nil, newError(CodeInternal, "timed out waiting for the lock of job name %s", name)
		}
		return nil, internalError(err)
	}
	return lock, nil
}

// namedJob is one existing job called by a name; meta is nil when its
// meta.json is unreadable.
type namedJob struct {
	j    jobRef
	meta *store.Meta
}

// eachNamed calls f for every existing job called name, newest first, until
// f returns false. Only the name index and the listed jobs' meta.json are
// read. A listed job whose meta.json is readable but names another name
// (a case-insensitive filesystem shares index files) is skipped; one whose
// meta.json is unreadable is passed with a nil meta, so the caller's
// operation reports the damage instead of silently picking an older job.
func (m *Manager) eachNamed(name string, f func(namedJob) bool) error {
	ids, err := store.NameIDs(m.root, name)
	if err != nil {
		return internalError(err)
	}
	for i := len(ids) - 1; i >= 0; i-- {
		j := jobRef{id: ids[i], dir: store.Dir(m.root, ids[i])}
		if store.CheckJobDir(j.dir) != nil {
			continue // deleted, gc'ed, not yet committed, or a planted link
		}
		meta, err := store.ReadMeta(j.dir)
		if err == nil && meta.Name != name {
			continue
		}
		if err != nil {
			if store.CheckJobDir(j.dir) != nil {
				continue // removed while we looked
			}
			meta = nil
		}
		if !f(namedJob{j: j, meta: meta}) {
			return nil
		}
	}
	return nil
}

// resolveName resolves "@name" to the newest existing job called name.
func (m *Manager) resolveName(given string) (jobRef, error) {
	name := strings.TrimPrefix(given, NamePrefix)
	if !store.ValidName(name) {
		return jobRef{}, notFoundError(given)
	}
	var found *jobRef
	if err := m.eachNamed(name, func(n namedJob) bool {
		found = &n.j
		return false
	}); err != nil {
		return jobRef{}, err
	}
	if found == nil {
		return jobRef{}, notFoundError(given)
	}
	return *found, nil
}

// namedJobs returns every existing job called name, oldest first.
func (m *Manager) namedJobs(name string) ([]namedJob, error) {
	var out []namedJob
	err := m.eachNamed(name, func(n namedJob) bool {
		out = append(out, n)
		return true
	})
	slices.Reverse(out)
	return out, err
}

// reusable is a live job found by an --ensure look-up.
type reusable struct {
	j       jobRef
	meta    *store.Meta
	state   *store.State
	differs bool
}

// claimName prepares the creation of a named job (SPEC §11.6). Without a
// name it does nothing. With one it takes the name lock; with ensure it
// then looks for a created or running (reconciled) job called the name,
// newest first, and if one exists releases the lock and returns it, so
// nothing is created. Otherwise the caller creates the job and launches it
// while holding the lock and then calls unlock: the look-up and the
// creation are one step for every other creator of the name.
func (m *Manager) claimName(ctx context.Context, spec *JobSpec, ensure bool) (unlock func(), reuse *reusable, err error) {
	unlock = func() {}
	if spec.Name == "" {
		if ensure {
			return unlock, nil, newError(CodeInvalidArgument, "ensure requires a job name")
		}
		return unlock, nil, nil
	}
	// Validate the whole definition before touching the root.
	want, err := m.buildMeta(spec)
	if err != nil {
		return unlock, nil, err
	}
	lock, err := m.lockName(ctx, spec.Name)
	if err != nil {
		return unlock, nil, err
	}
	if ensure {
		err = m.eachNamed(spec.Name, func(n namedJob) bool {
			if n.meta == nil {
				return true
			}
			st, rerr := store.ReadState(n.j.dir)
			if rerr != nil {
				return true
			}
			st = m.reconcile(ctx, n.j, st, false)
			if st.Job.Status == "created" || st.Job.Status == "running" {
				reuse = &reusable{j: n.j, meta: n.meta, state: st, differs: definitionDiffers(n.meta, want)}
				return false
			}
			return true
		})
		if err != nil || reuse != nil {
			lock.Unlock()
			return func() {}, reuse, err
		}
	}
	return lock.Unlock, nil, nil
}

// definitionDiffers reports whether a reused job's command, working
// directory or environment keys differ from the requested ones. Keys are
// compared as sets: HTTP orders them by name, the CLI as given.
func definitionDiffers(have, want *store.Meta) bool {
	return !slices.Equal(have.Command, want.Command) || have.Cwd != want.Cwd || !sameKeys(have.EnvKeys, want.EnvKeys)
}

func sameKeys(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

func boolPtr(b bool) *bool { return &b }
