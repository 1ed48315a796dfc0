// Package supervisor is the detached per-job process: agent-exec re-executes
// itself as "_supervise --root R --job-id ID", reads one launch request on
// stdin, spawns the job with its log files as stdout/stderr, acknowledges on
// stdout, then owns the job until it ends: timers, full.log, output
// matching, the terminal state and the completion event.
package supervisor

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/agentexec/agentexec/internal/notify"
	"github.com/agentexec/agentexec/internal/proc"
	"github.com/agentexec/agentexec/internal/store"
	"github.com/agentexec/agentexec/internal/userfile"
)

// Main runs the supervisor. args are the arguments after "_supervise".
// It returns the process exit code: 1 without a valid request (no job is
// touched), otherwise 0.
func Main(args []string, stdin io.Reader, stdout *os.File) int {
	root, id, backend, ok := parseArgs(args)
	if !ok {
		return 1
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 1<<16)).ReadBytes('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return 1
	}
	var req store.LaunchRequest
	if json.Unmarshal(line, &req) != nil || req.Proto != store.LaunchProto || req.JobID != id {
		return 1
	}
	dir := store.Dir(root, id)
	if store.CheckJobDir(dir) != nil {
		return 1
	}
	if fi, err := os.Lstat(filepath.Join(dir, store.StateFile)); err != nil || !fi.Mode().IsRegular() {
		return 1
	}
	// A write to the launcher's pipe after it went away must not kill us
	// with SIGPIPE. Notify (not Ignore) so the job does not inherit SIG_IGN.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	// SIGTERM (restart asks a lingering supervisor to go) ends the
	// supervisor as it would by default, but first takes its command sinks
	// down with it: they are in their own groups and would outlive it.
	s := &supervisor{dir: dir, id: id, req: req, ackOut: stdout}
	if req.LockFD > 0 {
		// The launcher's locked descriptor (a local launch): hold the job
		// lock with it until the outcome is recorded, so the launch is
		// never taken for abandoned while we are at it. Not for the job.
		closeOnExec(req.LockFD)
		s.claim = store.AdoptLock(os.NewFile(uintptr(req.LockFD), store.LockFile))
	}
	if backend == store.BackendSlurm {
		// A batch job of a cluster: claim the submission, and tell our own
		// kill from a cancellation behind our back (cluster.go).
		if !s.claimSubmission() {
			return 1
		}
		s.handleClusterSignals()
		return s.run()
	}
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	go func() {
		<-term
		notify.KillActiveSinks()
		os.Exit(0)
	}()
	return s.run()
}

func parseArgs(args []string) (root, id, backend string, ok bool) {
	for i := 0; i+1 < len(args); i += 2 {
		switch args[i] {
		case "--root":
			root = args[i+1]
		case "--job-id":
			id = args[i+1]
		case "--backend":
			if backend = args[i+1]; backend != store.BackendSlurm {
				return "", "", "", false
			}
		default:
			return "", "", "", false
		}
	}
	if len(args)%2 != 0 || !filepath.IsAbs(root) || !store.ValidID(id) {
		return "", "", "", false
	}
	return root, id, backend, true
}

type supervisor struct {
	dir    string
	id     string
	req    store.LaunchRequest
	ackOut *os.File
	meta   *store.Meta

	cmd       *exec.Cmd
	spawnedAt time.Time
	state     *store.State
	timedOut  bool
	reserve   string

	// backend is the cluster submission this supervisor runs as (nil for a
	// local launch); claim holds the job lock from the claim until S1.
	backend *store.Backend
	claim   *store.Lock
	// childGroup is the job's process group once spawned, for the signal
	// handler of a cluster supervisor (another goroutine).
	childGroup atomic.Int64
	// cancelled is closed when the cluster cancels the job behind our back.
	cancelled   chan struct{}
	tree        *treeKeeper // the job's process tree (tree.go)
	timeoutKind string      // "total" | "idle" once a timer fired
	// stdin is the control channel of an --interactive job (nil otherwise).
	stdin      *stdinChannel
	childUsage usage // rusage of the direct child once waited
	leftAtExit int   // tree members alive when the job ended
}

// launchError is a launch failure whose text is result.error.
type launchError struct{ msg string }

func (e *launchError) Error() string { return e.msg }

func launchFailed(format string, args ...any) error {
	return &launchError{msg: "launch_failed: " + fmt.Sprintf(format, args...)}
}

// reason is the bare OS reason of an error ("no such file or directory").
func reason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	var ee *exec.Error
	if errors.As(err, &ee) {
		return ee.Err.Error()
	}
	return err.Error()
}

func (s *supervisor) run() int {
	failpoint("before-start")
	fullLog, err := s.start()
	if err != nil {
		msg := err.Error()
		var le *launchError
		if !errors.As(err, &le) {
			msg = "launch_failed: " + msg
		}
		s.writeLaunchFailure(msg)
		s.claim.Unlock() // after S2: the outcome is recorded
		s.ack(store.LaunchAck{OK: false, Error: msg})
		return 0
	}
	s.claim.Unlock() // after S1
	failpoint("before-ack")
	s.ack(store.LaunchAck{OK: true})
	// The disk reserve is for the terminal state; it is made after the
	// acknowledgement because the launcher waits for that.
	s.makeReserve()
	s.detachStdio()
	s.supervise(fullLog)
	s.holdTree()
	return 0
}

// start does steps 1–5 of SPEC §3.2: everything up to S1.
func (s *supervisor) start() (*os.File, error) {
	meta, err := store.ReadMeta(s.dir)
	if err != nil {
		return nil, fmt.Errorf("read meta.json: %v", err)
	}
	s.meta = meta
	// The previous run's logs and records (restart) go only now, when
	// this run is about to start.
	if err := store.ResetRun(s.dir); err != nil {
		return nil, err
	}
	fullLog, err := s.openFullLog()
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			fullLog.Close()
		}
	}()
	// A legacy meta.json may have no cwd: the job then runs in the
	// supervisor's (the launcher's) working directory.
	if meta.Cwd != "" {
		if fi, err := os.Stat(meta.Cwd); err != nil {
			return nil, launchFailed("working directory %s: %s", meta.Cwd, reason(err))
		} else if !fi.IsDir() {
			return nil, launchFailed("working directory %s: not a directory", meta.Cwd)
		}
	}
	env, err := buildEnv(meta, os.Environ())
	if err != nil {
		return nil, err
	}
	stdinFile, err := s.openStdin()
	if err != nil {
		return nil, err
	}
	defer stdinFile.Close()
	defer func() {
		if !ok && s.stdin != nil {
			s.stdin.close()
			s.stdin = nil
		}
	}()
	if len(meta.ShellWrapper) == 0 || strings.TrimSpace(meta.ShellWrapper[0]) == "" {
		return nil, launchFailed("shell wrapper is empty")
	}
	argv := BuildArgv(meta.ShellWrapper, meta.Command)
	outF, err := openAppend(filepath.Join(s.dir, store.StdoutLog))
	if err != nil {
		return nil, err
	}
	defer outF.Close()
	errF, err := openAppend(filepath.Join(s.dir, store.StderrLog))
	if err != nil {
		return nil, err
	}
	defer errF.Close()

	cmd := exec.Command(argv[0], argv[1:]...)
	if cmd.Err != nil {
		return nil, launchFailed("start %s: %s", argv[0], reason(cmd.Err))
	}
	cmd.Dir = meta.Cwd
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdinFile, outF, errF
	cmd.SysProcAttr = proc.DetachedAttr()
	s.prepareTerminal(cmd) // --pty (pty_unix.go)
	s.tree = newTreeKeeper(s.dir)
	startedAt := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, launchFailed("start %s: %s", argv[0], reason(err))
	}
	failpoint("after-spawn")
	if err := s.startTerminal(); err != nil {
		proc.SignalGroup(cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		return nil, err
	}
	s.cmd, s.spawnedAt = cmd, startedAt
	pid := cmd.Process.Pid
	s.childGroup.Store(int64(pid))
	childStart, ok1 := startTimeOf(pid)
	me := os.Getpid()
	myStart, ok2 := startTimeOf(me)
	if !ok1 || !ok2 {
		// Without start times neither kill nor the liveness checks could
		// tell this child or this supervisor from a later process with a
		// reused pid: refuse to run unverifiable.
		proc.SignalGroup(pid, syscall.SIGKILL)
		cmd.Wait()
		return nil, launchFailed("cannot read the start time of the child (pid %d) or of the supervisor (pid %d), so neither could be verified later", pid, me)
	}
	s.ack(store.LaunchAck{Spawned: &store.Process{PID: pid, PGID: pid, StartTime: childStart}})
	st := &store.State{
		Job:        store.StateJob{ID: s.id, Status: "running", StartedAt: store.Timestamp(startedAt)},
		PID:        pid,
		UpdatedAt:  store.Timestamp(time.Now()),
		BootID:     proc.BootID(),
		Supervisor: &store.Process{PID: me, PGID: getpgrp(), StartTime: myStart},
		Child:      &store.Process{PID: pid, PGID: pid, StartTime: childStart},
		Backend:    s.backend,
	}
	failpoint("before-running-state")
	// S1 is replaced by the terminal state, which is written durably; an
	// fsync here would only delay the acknowledgement.
	if err := store.WriteStateUnsynced(s.dir, st); err != nil {
		proc.SignalGroup(pid, syscall.SIGKILL)
		cmd.Wait()
		return nil, err // already "write state.json: …"
	}
	s.state = st
	ok = true
	return fullLog, nil
}

func (s *supervisor) openFullLog() (*os.File, error) {
	if s.req.LogPath == "" {
		return openAppend(filepath.Join(s.dir, store.FullLog))
	}
	p := s.req.LogPath
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return nil, launchFailed("full log %s: %s", p, reason(err))
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|userfile.NoBlock, 0o600)
	if err != nil {
		return nil, launchFailed("full log %s: %s", p, reason(err))
	}
	return f, nil
}

func (s *supervisor) openStdin() (*os.File, error) {
	if s.meta.PTY {
		c, slave, err := openPTYChannel(s.dir, s.meta.PTYCols, s.meta.PTYRows)
		if err != nil {
			return nil, err
		}
		s.stdin = c
		return slave, nil
	}
	if s.meta.Interactive {
		c, r, err := openStdinChannel(s.dir)
		if err != nil {
			return nil, err
		}
		s.stdin = c
		return r, nil
	}
	if s.meta.StdinFile == "" {
		return os.Open(os.DevNull)
	}
	f, err := store.OpenJobFile(filepath.Join(s.dir, store.StdinFile), os.O_RDONLY, 0)
	if err != nil {
		return nil, launchFailed("stdin file: %s", reason(err))
	}
	return f, nil
}

func openAppend(path string) (*os.File, error) {
	return store.OpenJobFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
}

// BuildArgv applies the launch modes of SPEC §3.3.
func BuildArgv(wrapper, command []string) []string {
	argv := append([]string(nil), wrapper...)
	if len(command) == 1 {
		return append(argv, command[0])
	}
	// The program name is the shell's $0, so the shell's own diagnostics
	// name it ("no-such-cmd: 1: exec: no-such-cmd: not found") instead of
	// a bare "--" (issue #14).
	argv = append(argv, `exec "$@"`, command[0])
	return append(argv, command...)
}

// maxEnvFile bounds one env file. The kernel refuses an environment much
// larger than this at exec anyway; the bound keeps a path naming /dev/zero
// or a huge file from exhausting the supervisor's memory (issue #14).
const maxEnvFile = 1 << 20

// agentEnv is what --agent-env adds (SPEC §11.8): plain, non-interactive
// output for a reader that is not a terminal.
var agentEnv = []string{"NO_COLOR=1", "TERM=dumb", "PAGER=cat", "GIT_PAGER=cat", "GIT_TERMINAL_PROMPT=0"}

// buildEnv builds the child environment (SPEC §3.4): the supervisor's own
// (unless inherit_env is false), then the agent environment (agent_env),
// then env files, then --env entries — so the job's own settings win.
func buildEnv(meta *store.Meta, base []string) ([]string, error) {
	vals := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := vals[k]; !ok {
			order = append(order, k)
		}
		vals[k] = v
	}
	if meta.InheritEnv {
		for _, e := range base {
			k, v, _ := strings.Cut(e, "=")
			if k != "" {
				set(k, v)
			}
		}
	}
	// Hook for --pty (SPEC §11.5, §11.8): a pty job keeps
	// TERM=xterm-256color, so when meta records a pty this condition must
	// also require that the job is not one.
	if meta.AgentEnv {
		for _, e := range agentEnv {
			k, v, _ := strings.Cut(e, "=")
			set(k, v)
		}
	}
	for _, path := range meta.EnvFiles {
		data, err := userfile.Read(path, maxEnvFile)
		if err != nil {
			return nil, launchFailed("env file %s: %s", path, reason(err))
		}
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			k, v, _ := strings.Cut(line, "=")
			if k == "" {
				continue
			}
			set(k, v)
		}
	}
	entries := meta.EnvVarsRuntime
	if entries == nil {
		entries = meta.EnvVars
	}
	for _, e := range entries {
		k, v, _ := strings.Cut(e, "=")
		set(k, v)
	}
	env := make([]string, 0, len(order))
	for _, k := range order {
		env = append(env, k+"="+vals[k])
	}
	return env, nil
}

// writeLaunchFailure writes S2.
func (s *supervisor) writeLaunchFailure(msg string) {
	now := store.Timestamp(time.Now())
	st := &store.State{Job: store.StateJob{ID: s.id, Status: "failed", StartedAt: now}, FinishedAt: now, UpdatedAt: now}
	st.Result.Error = &msg
	me := os.Getpid()
	myStart, _ := proc.StartTime(me)
	st.BootID = proc.BootID()
	st.Supervisor = &store.Process{PID: me, PGID: getpgrp(), StartTime: myStart}
	st.Backend = s.backend
	store.WriteState(s.dir, st)
	s.dropReserve()
}

func (s *supervisor) ack(a store.LaunchAck) {
	b, _ := json.Marshal(a)
	s.ackOut.Write(append(b, '\n'))
}

// detachStdio points fds 0 and 1 at /dev/null so the launcher's pipes close
// as soon as it exits and nothing we do can write into them.
func (s *supervisor) detachStdio() {
	if devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0); err == nil {
		dupTo(int(devnull.Fd()), 0)
		dupTo(int(devnull.Fd()), 1)
		devnull.Close()
	}
}

// startTimeOf reads pid's start time, retrying briefly: a reading that
// fails (no descriptor free, a transient /proc error) must not be recorded
// as "", which would silently drop the pid-reuse protection of kill and of
// the liveness checks. ok is false only where the platform has start times
// and every attempt failed.
func startTimeOf(pid int) (string, bool) {
	for delay := time.Millisecond; ; delay *= 4 {
		if st, ok := proc.StartTime(pid); ok && !failpointFails("read-start-time") {
			return st, true
		}
		if !proc.HasStartTime {
			return "", true
		}
		if delay > 64*time.Millisecond {
			return "", false
		}
		time.Sleep(delay)
	}
}

// failpointFails reports whether the failpoint name is set to "fail": a
// crash test makes an operation fail there.
func failpointFails(name string) bool {
	return os.Getenv("AGENT_EXEC_FAILPOINT") == name+":fail"
}

// failpoint lets crash tests stop the supervisor at a chosen point
// (AGENT_EXEC_FAILPOINT=<name>:exit or <name>:hang). Only the supervisor
// reads it.
func failpoint(name string) {
	fp := os.Getenv("AGENT_EXEC_FAILPOINT")
	if fp == "" {
		return
	}
	point, action, _ := strings.Cut(fp, ":")
	if point != name {
		return
	}
	switch action {
	case "hang":
		select {}
	default:
		os.Exit(3)
	}
}
