package agentexec

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/agentexec/agentexec/internal/proc"
	"github.com/agentexec/agentexec/internal/store"
)

// WaitManyOptions select the jobs of a wait on several jobs (SPEC §11.6)
// and say when it returns.
type WaitManyOptions struct {
	// IDs are ids, unique prefixes or "@name" references, in argument order.
	IDs []string
	// Tags are filter patterns (ANDed, as list --tag): every job of the
	// root that matches them is added, oldest first.
	Tags []string
	// Name adds every job called Name, oldest first (with Tags: those that
	// match both).
	Name string
	// Any returns as soon as one job is terminal; otherwise the wait lasts
	// until every job is (or the deadline passes).
	Any bool
	// Until, Forever, Poll, TailLines, MaxBytes and Render are as for Wait.
	Until     time.Duration
	Forever   bool
	Poll      time.Duration
	TailLines int
	MaxBytes  int64
	Render    Render
}

// WaitManyResult is the payload of wait with several jobs (type
// "wait_many").
type WaitManyResult struct {
	// Jobs holds one wait payload per selected job: the IDs in argument
	// order, then the jobs selected by Tags/Name not already listed.
	Jobs        []WaitResult `json:"jobs"`
	AllTerminal bool         `json:"all_terminal"`
	AnyTerminal bool         `json:"any_terminal"`

	satisfied bool // the return condition (all or any terminal) was met
}

// WaitMany waits on several jobs at once: with Any until one is terminal,
// otherwise until all are, or until the deadline. Each job is watched the
// way Wait watches one (state.json changes and supervisor exits wake it,
// polling is only the fallback). Cancelling ctx abandons the wait.
func (m *Manager) WaitMany(ctx context.Context, o WaitManyOptions) (*WaitManyResult, error) {
	for _, p := range o.Tags {
		if err := ValidateTagPattern(p); err != nil {
			return nil, &Error{Code: CodeInvalidTag, Message: "invalid tag pattern " + quote(p) + ": " + err.Error()}
		}
	}
	if o.Name != "" {
		if err := ValidateName(o.Name); err != nil {
			return nil, err
		}
	}
	// Checked now, not when the payloads are read after a long wait.
	if _, err := ParseRender(string(o.Render)); err != nil {
		return nil, err
	}
	jobs, err := m.selectJobs(ctx, o)
	if err != nil {
		return nil, err
	}
	var deadline time.Time
	if !o.Forever {
		deadline = time.Now().Add(o.Until)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type done struct {
		terminal bool
		err      error
	}
	ch := make(chan done, len(jobs))
	for _, j := range jobs {
		go func() {
			st, err := m.waitState(wctx, j, deadline, o.Poll)
			ch <- done{terminal: err == nil && store.Terminal(st.Job.Status), err: err}
		}()
	}
	var firstErr error
	for range jobs { // every goroutine reports, so none outlives the call
		d := <-ch
		switch {
		case d.err != nil && wctx.Err() == nil:
			firstErr = d.err
			cancel()
		case d.terminal && o.Any:
			cancel()
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if firstErr != nil {
		return nil, firstErr
	}
	// The payloads are read after the wait, each exactly as wait --until 0
	// would report it.
	res := &WaitManyResult{Jobs: make([]WaitResult, 0, len(jobs)), AllTerminal: true}
	for _, j := range jobs {
		r, err := m.Wait(ctx, j.id, WaitOptions{Poll: o.Poll, TailLines: o.TailLines, MaxBytes: o.MaxBytes, Render: o.Render})
		if err != nil {
			return nil, err
		}
		t := r.State.Terminal()
		res.AllTerminal = res.AllTerminal && t
		res.AnyTerminal = res.AnyTerminal || t
		res.Jobs = append(res.Jobs, *r)
	}
	res.satisfied = res.AllTerminal || o.Any && res.AnyTerminal
	return res, nil
}

// selectJobs resolves the explicit references in order, then appends the
// jobs selected by name and tags (oldest first) that are not listed yet.
func (m *Manager) selectJobs(ctx context.Context, o WaitManyOptions) ([]jobRef, error) {
	var jobs []jobRef
	listed := map[string]bool{}
	for _, id := range o.IDs {
		j, err := m.resolve(id)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, j)
		listed[j.id] = true
	}
	if o.Name == "" && len(o.Tags) == 0 {
		if len(jobs) == 0 {
			return nil, newError(CodeInvalidArgument, "no job to wait for: give ids, tags or a name")
		}
		return jobs, nil
	}
	var selected []jobRef
	keep := func(meta *store.Meta) bool {
		for _, p := range o.Tags {
			if !matchTagPattern(meta.Tags, p) {
				return false
			}
		}
		return o.Name == "" || meta.Name == o.Name
	}
	if o.Name != "" {
		named, err := m.namedJobs(o.Name)
		if err != nil {
			return nil, err
		}
		for _, n := range named {
			if n.meta != nil && keep(n.meta) {
				selected = append(selected, n.j)
			}
		}
	} else {
		names, err := store.JobNames(m.root)
		if err != nil {
			return nil, internalError(err)
		}
		slices.Sort(names) // ids sort by creation time
		match := make([]bool, len(names))
		parallel(len(names), func(i int) {
			meta, err := store.ReadMeta(store.Dir(m.root, names[i]))
			match[i] = err == nil && keep(meta)
		})
		for i, n := range names {
			if match[i] {
				selected = append(selected, jobRef{id: n, dir: store.Dir(m.root, n)})
			}
		}
	}
	for _, j := range selected {
		if !listed[j.id] {
			jobs = append(jobs, j)
			listed[j.id] = true
		}
	}
	if len(jobs) == 0 {
		var what []string
		if o.Name != "" {
			what = append(what, "--name "+o.Name)
		}
		for _, p := range o.Tags {
			what = append(what, "--tag "+p)
		}
		return nil, newError(CodeJobNotFound, "job not found: no job matches %s", strings.Join(what, " "))
	}
	return jobs, nil
}

// Exit statuses of wait --exit-code (SPEC §11.6), after the shell's
// conventions (timeout(1) uses 124 and 125 likewise).
const (
	ExitDeadline = 124 // the deadline passed with the job not terminal
	ExitFailed   = 125 // the job failed (launch failure, lost supervisor)
	exitSignal   = 128 // + the signal number of a killed job
)

// ExitStatus maps the payload to the process exit status of wait
// --exit-code: the job's exit code, 128+n for a job killed by signal n,
// 125 for a failed job and 124 for a job that is not terminal.
func (r *WaitResult) ExitStatus() int {
	switch r.State {
	case StateExited:
		if r.ExitCode != nil {
			return *r.ExitCode
		}
		return 0
	case StateKilled:
		if n := proc.SignalNumber(r.Signal); n > 0 {
			return exitSignal + n
		}
		return ExitFailed
	case StateFailed, StateUnknown:
		return ExitFailed
	}
	return ExitDeadline
}

// ExitStatus is the first non-zero ExitStatus of the jobs in order. A job
// that is not terminal counts (124) only when the wait ended at its
// deadline; after an --any wait that was satisfied it is still running and
// is passed over.
func (r *WaitManyResult) ExitStatus() int {
	for i := range r.Jobs {
		j := &r.Jobs[i]
		if r.satisfied && !j.State.Terminal() {
			continue
		}
		if c := j.ExitStatus(); c != 0 {
			return c
		}
	}
	return 0
}
