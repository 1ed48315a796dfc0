package agentexec

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/agentexec/agentexec/internal/duration"
	"github.com/agentexec/agentexec/internal/proc"
	"github.com/agentexec/agentexec/internal/slurm"
	"github.com/agentexec/agentexec/internal/store"
)

// slurmBackend submits a job's supervisor as a Slurm batch job (SPEC
// §11.7). The root must be on a filesystem the compute nodes share: the
// supervisor writes the job directory from there.
//
// Launch: sbatch accepting the submission is the acknowledgement; the job
// stays created (with backend_state in status) until the supervisor, once
// Slurm starts it, claims the submission under the job lock and writes
// running. Liveness asks Slurm, never local pids: a job Slurm no longer
// runs while state.json is not terminal is failed with "backend_lost:
// <Slurm state>".
type slurmBackend struct{}

// slurmRequestEnd ends the here-document carrying the launch request in the
// batch script; the request is one line of JSON, so it never equals it.
const slurmRequestEnd = "AGENT_EXEC_LAUNCH_REQUEST"

func buildSlurmBackend(s SlurmSpec) (*store.Backend, error) {
	switch {
	case s.Time < 0:
		return nil, newError(CodeInvalidArgument, "invalid Slurm time limit: must be positive")
	case s.CPUs < 0:
		return nil, newError(CodeInvalidArgument, "invalid Slurm CPU count %d: must be positive", s.CPUs)
	case s.MemMB < 0:
		return nil, newError(CodeInvalidArgument, "invalid Slurm memory %d MB: must be positive", s.MemMB)
	case strings.ContainsAny(s.Partition, " \t\n\x00,"):
		return nil, newError(CodeInvalidArgument, "invalid Slurm partition %q", s.Partition)
	}
	for _, a := range s.Args {
		if err := slurm.ValidArg(a); err != nil {
			return nil, newError(CodeInvalidArgument, "%v", err)
		}
	}
	b := &store.Backend{Kind: store.BackendSlurm}
	if s.Partition != "" || s.Time != 0 || s.CPUs != 0 || s.MemMB != 0 || len(s.Args) > 0 {
		b.Slurm = &store.SlurmOptions{Partition: s.Partition, TimeMS: s.Time.Milliseconds(), CPUs: s.CPUs,
			MemMB: s.MemMB, Args: append([]string(nil), s.Args...)}
	}
	return b, nil
}

func (slurmBackend) launch(ctx context.Context, m *Manager, j jobRef, logPath string) (time.Time, error) {
	attempt := m.now()
	if err := refuseInSupervisor(); err != nil {
		return time.Time{}, m.failLaunch(j, attempt, nil, err.Error())
	}
	meta, err := store.ReadMetaForUpdate(j.dir)
	if err != nil {
		return time.Time{}, m.failLaunch(j, attempt, nil, "launch_failed: read meta.json: "+err.Error())
	}
	exe, err := m.supervisorExe()
	if err != nil {
		return time.Time{}, m.failLaunch(j, attempt, nil, "launch_failed: start supervisor: "+err.Error())
	}
	req, _ := json.Marshal(store.LaunchRequest{Proto: store.LaunchProto, JobID: j.id, LogPath: logPath,
		NotifyTimeoutMS: min(m.opts.NotifyTimeout, duration.Never).Milliseconds()})
	// The supervisor reads its request on stdin, as in a local launch; here
	// a here-document is its stdin. Nothing secret is in it (SPEC §3.1).
	script := "#!/bin/sh\n# agent-exec job " + j.id + ": its supervisor, started by Slurm.\n" +
		"exec " + shellQuote(exe) + " " + SuperviseArg + " --root " + shellQuote(m.root) + " --job-id " + j.id +
		" --backend slurm <<'" + slurmRequestEnd + "'\n" + string(req) + "\n" + slurmRequestEnd + "\n"
	o := slurm.SubmitOptions{Name: j.id, Script: script, Dir: m.opts.Cwd, Env: m.opts.Env}
	if s := meta.Backend.Slurm; s != nil {
		o.Partition, o.TimeLimit, o.CPUs, o.MemMB, o.Args = s.Partition, time.Duration(s.TimeMS)*time.Millisecond, s.CPUs, s.MemMB, s.Args
	}
	m.log.Debug("submit supervisor to slurm", "job", j.id)
	slurmID, err := slurm.Submit(ctx, o)
	if err != nil {
		return time.Time{}, m.failLaunch(j, attempt, nil, "launch_failed: "+err.Error())
	}
	// Record the submission before releasing the lock: the supervisor waits
	// for the lock and then checks that state.json names its Slurm job.
	rec := &store.Backend{Kind: store.BackendSlurm, SlurmJobID: slurmID}
	st, err := store.ReadState(j.dir)
	if err == nil {
		// started_at stays hidden while the job is created; should Slurm
		// drop the job before it starts, the failed state reports the
		// submission as the attempt, like any failed launch.
		st.Backend, st.Job.StartedAt = rec, store.Timestamp(attempt)
		st.UpdatedAt = store.Timestamp(m.now())
		err = store.WriteState(j.dir, st)
	}
	if err != nil {
		slurm.Cancel(context.WithoutCancel(ctx), slurmID)
		return time.Time{}, m.failLaunch(j, attempt, nil, "launch_failed: record the Slurm submission: "+err.Error())
	}
	meta.Backend.SlurmJobID = slurmID
	if err := store.WriteMeta(j.dir, meta); err != nil {
		m.log.Warn("record slurm job id in meta.json", "job", j.id, "err", err)
	}
	m.log.Debug("slurm accepted the submission", "job", j.id, "slurm_job_id", slurmID)
	return time.Now(), nil
}

// signal asks Slurm to deliver sig to every process of the batch job
// (scancel --signal --full), after leaving a kill request so that the
// supervisor, which receives it too, knows it is ours and records the
// outcome. A job still pending is cancelled instead. SIGKILL cannot be
// caught: when the supervisor runs on this machine the job's verified group
// is killed directly, so the supervisor still records the outcome.
func (slurmBackend) signal(ctx context.Context, j jobRef, st *store.State, sig syscall.Signal) (bool, error) {
	id := st.Backend.SlurmJobID
	if id == "" {
		return false, nil
	}
	if st.Job.Status == "created" {
		if err := slurm.Cancel(ctx, id); err != nil {
			return false, newError(CodeInternal, "cancel Slurm job %s: %v", id, err)
		}
		return true, nil
	}
	if st.Job.Status != "running" {
		return false, nil
	}
	if sig == syscall.SIGKILL && st.BootID != "" && st.BootID == proc.BootID() {
		return signalChild(st, sig)
	}
	if err := store.WriteFileAtomic(filepath.Join(j.dir, store.KillRequestFile), []byte(proc.SignalName(sig))); err != nil {
		return false, newError(CodeInternal, "record the kill request: %v", err)
	}
	if err := slurm.Signal(ctx, id, proc.SignalName(sig)); err != nil {
		return false, newError(CodeInternal, "signal Slurm job %s: %v", id, err)
	}
	return true, nil
}

// lost asks Slurm about a submitted job that is not terminal here. An
// unanswered question is no answer: the job is judged alive.
func (slurmBackend) lost(ctx context.Context, st *store.State) (bool, string) {
	if store.Terminal(st.Job.Status) || st.Backend.SlurmJobID == "" {
		return false, ""
	}
	info, err := slurm.Query(ctx, st.Backend.SlurmJobID)
	switch {
	case err != nil:
		return false, ""
	case !info.Known:
		return true, "backend_lost: UNKNOWN"
	case info.Active():
		return false, ""
	}
	return true, "backend_lost: " + info.State
}

// BackendInfo is the backend part of a status (SPEC §11.7).
type BackendInfo struct {
	Kind       string `json:"kind"`
	SlurmJobID string `json:"slurm_job_id,omitempty"`
}

// backendStatus reports a cluster job's backend and, while it is not
// terminal, what Slurm says of it ("" when Slurm does not answer).
func backendStatus(ctx context.Context, st *store.State) (*BackendInfo, string) {
	if !st.Backend.IsSlurm() {
		return nil, ""
	}
	info := &BackendInfo{Kind: st.Backend.Kind, SlurmJobID: st.Backend.SlurmJobID}
	if store.Terminal(st.Job.Status) || st.Backend.SlurmJobID == "" {
		return info, ""
	}
	q, err := slurm.Query(ctx, st.Backend.SlurmJobID)
	if err != nil || !q.Known {
		return info, ""
	}
	return info, q.State
}

// supervisorExe is the executable started as the supervisor.
func (m *Manager) supervisorExe() (string, error) {
	if m.opts.SupervisorExe != "" {
		return m.opts.SupervisorExe, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	if exe == "" {
		return "", errors.New("executable path unknown")
	}
	return exe, nil
}

// shellQuote quotes s for sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
