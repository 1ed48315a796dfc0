package supervisor

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/agentexec/agentexec/internal/notify"
	"github.com/agentexec/agentexec/internal/proc"
	"github.com/agentexec/agentexec/internal/store"
)

// claimWait bounds how long a cluster-started supervisor waits for the
// launcher, which holds the job lock until it has recorded the submission.
const claimWait = 60 * time.Second

// killRequestFresh is how long a kill request explains a signal.
const killRequestFresh = time.Minute

// claimSubmission runs first in a supervisor started by a cluster (SPEC
// §11.7): there is no launcher pipe, so it takes the job lock and checks
// that state.json is still created and names this very submission
// ($SLURM_JOB_ID). A stale submission — the job was restarted, killed or
// deleted while it was pending — touches nothing. The lock is held until S1
// is written, so no reader sees a half-started job.
func (s *supervisor) claimSubmission() bool {
	jobID := os.Getenv("SLURM_JOB_ID")
	if jobID == "" {
		return false
	}
	lock, err := store.LockWait(context.Background(), s.dir, claimWait)
	if err != nil {
		return false
	}
	st, err := store.ReadState(s.dir)
	if err != nil || st.Job.Status != "created" || !st.Backend.IsSlurm() || st.Backend.SlurmJobID != jobID {
		lock.Unlock()
		return false
	}
	s.backend = &store.Backend{Kind: store.BackendSlurm, SlurmJobID: jobID}
	s.claim = lock
	return true
}

// handleClusterSignals replaces the default signal handling of a cluster
// supervisor. Our kill leaves a kill request, then has Slurm signal the
// batch job (`scancel --signal --full`). Slurm delivers it to the batch
// script's process group — the supervisor — but not to the job, which runs
// in its own session; so the supervisor forwards it to the job's process
// group and records the outcome as usual. Any other TERM, INT or HUP is the
// cluster cancelling the job behind our back: the supervisor then goes
// without writing a terminal state, taking its command sinks with it
// (Slurm ends the job's processes), and readers reconcile the job from what
// Slurm reports (backend_lost).
func (s *supervisor) handleClusterSignals() {
	s.cancelled = make(chan struct{})
	ch := make(chan os.Signal, 8)
	signal.Notify(ch, clusterSignals...)
	go func() {
		for sig := range ch {
			if killRequested(s.dir) {
				if pgid := int(s.childGroup.Load()); pgid > 1 {
					proc.SignalGroup(pgid, sig.(syscall.Signal))
				}
				continue
			}
			switch sig {
			case syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP:
				close(s.cancelled)
				notify.KillActiveSinks()
				os.Exit(0)
			}
		}
	}()
}

// clusterCancelGrace is how long a cluster supervisor whose job died of a
// signal nobody requested waits for the cancellation that may have sent it.
const clusterCancelGrace = 2 * time.Second

// yieldToClusterCancel runs before a cluster supervisor records a job
// killed by a signal, or exited with a code over 128 (a shell whose command
// was killed exits 128+N: CI saw `sh -c 'echo started; sleep 120'`
// cancelled by scancel recorded as exited instead of backend_lost). Slurm
// cancelling a job signals all its processes in no particular order, so
// the job may die before the supervisor hears of the cancellation;
// recording its end then would hide that the cluster ended the job. Unless
// our own kill asked for it, wait briefly for the cancellation, and if it
// comes, leave the state to the reconciler.
func (s *supervisor) yieldToClusterCancel() {
	if s.cancelled == nil || killRequested(s.dir) {
		return
	}
	select {
	case <-s.cancelled:
		select {} // the signal handler is ending the process
	case <-time.After(clusterCancelGrace):
	}
}

func killRequested(dir string) bool {
	fi, err := os.Lstat(filepath.Join(dir, store.KillRequestFile))
	return err == nil && fi.Mode().IsRegular() && time.Since(fi.ModTime()) < killRequestFresh
}
