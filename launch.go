package agentexec

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/agentexec/agentexec/internal/duration"
	"github.com/agentexec/agentexec/internal/proc"
	"github.com/agentexec/agentexec/internal/store"
)

var cloexecOnce sync.Once

// ackTimeout bounds the launch handshake (SPEC §3.1).
const ackTimeout = 5000 * time.Millisecond

// SuperviseArg is the hidden subcommand the supervisor runs under.
const SuperviseArg = "_supervise"

// launchLocal starts the supervisor of j on this machine and waits for its
// acknowledgement. The caller holds the job lock and state.json says
// created. On any failure the job ends failed (S2) and a launch_failed
// error is returned.
func (m *Manager) launchLocal(ctx context.Context, j jobRef, logPath string) (time.Time, error) {
	attempt := m.now()
	// One descriptor held in reserve for the failed state: a launch that
	// fails because descriptors ran out (pipes, fork) must still be able
	// to record that it failed, or the job would stay created while the
	// caller is told it failed.
	spare, _ := os.Open(os.DevNull)
	defer spare.Close()
	fail := func(prev *store.State, msg string) error {
		spare.Close()
		return m.failLaunch(j, attempt, prev, msg)
	}
	if err := refuseInSupervisor(); err != nil {
		return time.Time{}, fail(nil, err.Error())
	}
	exe := m.opts.SupervisorExe
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return time.Time{}, fail(nil, "launch_failed: start supervisor: "+err.Error())
		}
	}
	lr := store.LaunchRequest{Proto: store.LaunchProto, JobID: j.id, LogPath: logPath,
		NotifyTimeoutMS: min(m.opts.NotifyTimeout, duration.Never).Milliseconds()}
	cmd := exec.Command(exe, SuperviseArg, "--root", m.root, "--job-id", j.id)
	if j.lock != nil && runtime.GOOS != "windows" {
		// The supervisor inherits the locked descriptor: the lock stays
		// held until it has recorded the outcome, even if we die first.
		cmd.ExtraFiles = []*os.File{j.lock.File()}
		lr.LockFD = 3
	}
	req, _ := json.Marshal(lr)
	cmd.Env = m.opts.Env
	cmd.Dir = m.opts.Cwd
	cmd.SysProcAttr = proc.DetachedAttr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return time.Time{}, fail(nil, "launch_failed: start supervisor: "+err.Error())
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return time.Time{}, fail(nil, "launch_failed: start supervisor: "+err.Error())
	}
	cloexecOnce.Do(proc.CloseInheritedOnExec)
	if err := cmd.Start(); err != nil {
		return time.Time{}, fail(nil, "launch_failed: start supervisor: "+err.Error())
	}
	m.log.Debug("launch: supervisor started; waiting for its acknowledgement", "job", j.id, "exe", exe, "supervisor_pid", cmd.Process.Pid)
	// The request is tiny (well under a pipe buffer), so this never blocks
	// on a supervisor that does not read.
	stdin.Write(append(req, '\n'))
	stdin.Close()

	ackCh := make(chan store.LaunchAck, 1)
	var spawnedMu sync.Mutex
	var spawned *store.Process
	go func() {
		defer stdout.Close() // nothing is read after the final line
		r := bufio.NewReader(stdout)
		for {
			var ack store.LaunchAck
			line, err := r.ReadBytes('\n')
			if err != nil || json.Unmarshal(line, &ack) != nil {
				ackCh <- store.LaunchAck{}
				return
			}
			if ack.Spawned != nil && !ack.OK && ack.Error == "" {
				spawnedMu.Lock()
				spawned = ack.Spawned
				spawnedMu.Unlock()
				continue
			}
			ackCh <- ack
			return
		}
	}()
	timer := time.NewTimer(ackTimeout)
	defer timer.Stop()
	var ack store.LaunchAck
	var timedOut bool
	select {
	case ack = <-ackCh:
	case <-timer.C:
		timedOut = true
	}
	ackAt := time.Now()
	m.log.Debug("launch: handshake ended", "job", j.id, "ok", ack.OK, "timed_out", timedOut,
		"waited_ms", ackAt.Sub(attempt).Milliseconds(), "error", ack.Error)
	switch {
	case ack.OK:
		m.log.Info("job launched", "job", j.id, "supervisor_pid", cmd.Process.Pid)
		go reap(cmd)
		return ackAt, nil
	case !timedOut && ack.Error != "" && !ack.Refused:
		// The supervisor wrote S2 itself and exits now; should that write
		// have failed, write it here so the job never stays created.
		go reap(cmd)
		if st, err := store.ReadState(j.dir); err != nil || st.Job.Status != "failed" {
			return ackAt, fail(nil, ack.Error)
		}
		return ackAt, &Error{Code: CodeLaunchFailed, Message: ack.Error,
			Details: &LaunchFailedDetails{JobID: j.id, State: StateFailed}}
	}
	// Read before the reap, while the pid still names this supervisor.
	supStart, _ := proc.StartTime(cmd.Process.Pid)
	killSupervisor(cmd)
	msg := "launch_failed: supervisor exited before acknowledging the launch"
	switch {
	case timedOut:
		msg = "launch_failed: supervisor did not acknowledge within 5000 ms"
	case ack.Refused:
		msg = ack.Error
	}
	// Kill the child if one was spawned: recorded in state.json, or only
	// announced on the pipe when the supervisor stalled before S1.
	st, _ := store.ReadState(j.dir)
	child, boot := (*store.Process)(nil), ""
	if st != nil && st.Child != nil {
		child, boot = st.Child, st.BootID
	} else {
		spawnedMu.Lock()
		child = spawned
		spawnedMu.Unlock()
	}
	if child != nil {
		id := proc.Identity{PID: child.PID, PGID: child.PGID, StartTime: child.StartTime}
		if proc.VerifyGroup(id, boot) {
			proc.SignalGroup(child.PGID, syscall.SIGKILL)
		}
		if st == nil || st.Child == nil { // S2 records a spawned child
			st = &store.State{Child: child, PID: child.PID, Job: store.StateJob{StartedAt: store.Timestamp(attempt)}}
		}
	}
	// A supervisor can die between forking the child and announcing it.
	// The child holds the job's stdout.log from the fork on and started
	// after its supervisor: whatever matches both is this launch's and
	// dies with it (R10), announced or not.
	if n := proc.KillHoldersSince(j.stdoutPath(), supStart); n > 0 {
		m.log.Debug("killed unannounced processes of a failed launch", "job", j.id, "count", n)
	}
	return ackAt, fail(st, msg)
}

// killSupervisor SIGKILLs a supervisor that did not acknowledge, with
// anything it started in its own process group (it leads a new session, so
// its pid is its group: a program that merely posed as a supervisor may have
// started helpers there), then reaps it. It is our unreaped child, so its
// pid cannot have been reused.
func killSupervisor(cmd *exec.Cmd) {
	proc.SignalGroup(cmd.Process.Pid, syscall.SIGKILL)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
}

var (
	leaseOnce sync.Once
	leaseSelf store.Process
)

// launcherLease is the launch lease this process writes into a created
// state it is about to launch (State.Launching): who is launching.
func launcherLease() *store.Process {
	leaseOnce.Do(func() {
		pid := os.Getpid()
		start, _ := proc.StartTime(pid)
		_, pgid, _ := proc.ProcState(pid)
		leaseSelf = store.Process{PID: pid, PGID: pgid, StartTime: start}
	})
	p := leaseSelf
	return &p
}

// reap collects a supervisor when it exits, so long-lived launchers (serve,
// mcp) keep no zombies. It first waits on a pidfd through the runtime
// poller: a plain Wait would pin one OS thread in waitid for every running
// job. Harmless in the CLI, which exits first.
func reap(cmd *exec.Cmd) {
	proc.WaitExit(context.Background(), cmd.Process.Pid)
	cmd.Wait()
}

// failLaunch writes S2 (failed with a launch_failed reason) and returns the
// launch_failed error. prev, when it records a spawned child, keeps it.
func (m *Manager) failLaunch(j jobRef, attempt time.Time, prev *store.State, msg string) error {
	now := store.Timestamp(m.now())
	st := &store.State{Job: store.StateJob{ID: j.id, Status: "failed", StartedAt: store.Timestamp(attempt)}, FinishedAt: now, UpdatedAt: now}
	st.Result.Error = &msg
	if prev != nil && prev.Child != nil {
		st.Child, st.PID, st.Job.StartedAt = prev.Child, prev.PID, prev.Job.StartedAt
		st.Supervisor, st.BootID = prev.Supervisor, prev.BootID
	}
	if err := store.WriteState(j.dir, st); err != nil {
		// Report what is persisted, not what was meant to be.
		m.log.Warn("write failed state", "job", j.id, "err", err)
		persisted := StateUnknown
		if cur, rerr := store.ReadState(j.dir); rerr == nil {
			persisted = State(cur.Job.Status)
		}
		return &Error{Code: CodeLaunchFailed, Message: msg + "; recording the failed state failed too: " + err.Error(),
			Details: &LaunchFailedDetails{JobID: j.id, State: persisted}}
	}
	m.log.Info("launch failed", "job", j.id, "reason", msg)
	os.Remove(filepath.Join(j.dir, store.ReserveFile)) // the supervisor that kept it is gone
	return &Error{Code: CodeLaunchFailed, Message: msg, Details: &LaunchFailedDetails{JobID: j.id, State: StateFailed}}
}
