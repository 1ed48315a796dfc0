package agentexec

import (
	"cmp"
	"context"
	"syscall"
	"time"

	"github.com/agentexec/agentexec/internal/store"
)

// A backend starts a job's supervisor and answers for it afterwards (SPEC
// §11.7). The local backend re-executes this program as a detached process
// and judges it by pid, start time and boot id; the Slurm backend submits
// the same supervisor as a batch job and asks Slurm. Everything else — logs,
// matching, notifications, cursors, waits — is the supervisor's and the
// same for both.
type backend interface {
	// launch starts the supervisor of j; the caller holds the job lock and
	// state.json says created. Any failure ends the job failed (S2) and
	// returns launch_failed.
	launch(ctx context.Context, m *Manager, j jobRef, logPath string) (time.Time, error)
	// signal sends sig to the job's processes, reporting whether anything
	// was signalled.
	signal(ctx context.Context, j jobRef, st *store.State, sig syscall.Signal) (bool, error)
	// lost reports whether the job's supervisor can no longer record its
	// outcome, and the result.error to record then.
	lost(ctx context.Context, st *store.State) (bool, string)
}

// localBackend runs the supervisor on this machine (SPEC §3.1).
type localBackend struct{}

func (localBackend) launch(ctx context.Context, m *Manager, j jobRef, logPath string) (time.Time, error) {
	return m.launchLocal(ctx, j, logPath)
}

func (localBackend) signal(_ context.Context, _ jobRef, st *store.State, sig syscall.Signal) (bool, error) {
	return signalChild(st, sig)
}

func (localBackend) lost(_ context.Context, st *store.State) (bool, string) {
	if st.Job.Status != "running" {
		return false, "" // created jobs are never reconciled (SPEC §3.11)
	}
	return supervisorGone(st), "supervisor_lost"
}

// backendOf picks the backend from a job's recorded backend (meta.json for
// a launch, state.json afterwards); absent means local.
func backendOf(b *store.Backend) backend {
	if b.IsSlurm() {
		return slurmBackend{}
	}
	return localBackend{}
}

// launch starts j's supervisor on the backend its definition names.
func (m *Manager) launch(ctx context.Context, j jobRef, meta *store.Meta, logPath string) (time.Time, error) {
	return backendOf(meta.Backend).launch(ctx, m, j, logPath)
}

// signalJob signals a job's processes through its backend.
func (m *Manager) signalJob(ctx context.Context, j jobRef, st *store.State, sig syscall.Signal) (bool, error) {
	return backendOf(st.Backend).signal(ctx, j, st, sig)
}

// SlurmSpec are a Slurm job's submission options (SPEC §11.7); zero values
// leave Slurm's defaults.
type SlurmSpec struct {
	Partition string
	Time      time.Duration // --time, rounded up to seconds
	CPUs      int           // --cpus-per-task
	MemMB     int64         // --mem in megabytes
	Args      []string      // further sbatch arguments, each one --key=value
}

// buildBackend validates a definition's backend and its options, over the
// Manager's defaults.
func buildBackend(spec *JobSpec, opts Options) (*store.Backend, error) {
	s := spec.Slurm
	hasSlurmOptions := s.Partition != "" || s.Time != 0 || s.CPUs != 0 || s.MemMB != 0 || len(s.Args) > 0
	kind := spec.Backend
	if kind == "" {
		kind = opts.Backend
	}
	switch kind {
	case "", store.BackendLocal:
		if hasSlurmOptions {
			return nil, newError(CodeInvalidArgument, "Slurm options need the slurm backend (--backend slurm)")
		}
		return nil, nil // local is the default and is not recorded
	case store.BackendSlurm:
		d := opts.Slurm
		merged := SlurmSpec{Partition: cmp.Or(s.Partition, d.Partition), Time: cmp.Or(s.Time, d.Time),
			CPUs: cmp.Or(s.CPUs, d.CPUs), MemMB: cmp.Or(s.MemMB, d.MemMB), Args: append(append([]string(nil), d.Args...), s.Args...)}
		return buildSlurmBackend(merged)
	}
	return nil, newError(CodeInvalidArgument, "invalid backend %q: use local or slurm", kind)
}
