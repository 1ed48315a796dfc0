//go:build unix

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/agentexec/agentexec"
	"github.com/agentexec/agentexec/internal/cli"
	"github.com/agentexec/agentexec/internal/slurm"
	"github.com/agentexec/agentexec/internal/store"
	"github.com/agentexec/agentexec/schema/schematest"
)

func mainForTest() {
	agentexec.SuperviseMain()
	os.Exit(cli.Main(context.Background(), os.Args[1:], cli.OSSystem()))
}

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"agent-exec": mainForTest})
}

// TestScripts runs the black-box CLI scripts in testdata/script: the real
// binary, real supervisors, real jobs.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "../../testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Condition:           scriptCondition,
		Setup: func(env *testscript.Env) error {
			root := filepath.Join(env.WorkDir, "jobs")
			env.Setenv("AGENT_EXEC_ROOT", root)
			env.Setenv("HOME", env.WorkDir)
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(env.WorkDir, ".config"))
			env.Setenv("XDG_DATA_HOME", "")
			env.Defer(func() { killAllJobs(root) })
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"jsonfield":      cmdJSONField,
			"stdout2env":     cmdStdout2Env,
			"waitstate":      cmdWaitState,
			"waitlog":        cmdWaitLog,
			"exitcode":       cmdExitCode,
			"killsupervisor": cmdKillSupervisor,
			"rewriteboot":    cmdRewriteBoot,
			"filemode":       cmdFileMode,
			"progressed":     cmdProgressed,
			"schemavalid":    cmdSchemaValid,
			"mkfifo":         cmdMkfifo,
			"waitlistening":  cmdWaitListening,
		},
	})
}

// lastJSON parses the last stdout of the script as a JSON object.
func lastJSON(ts *testscript.TestScript) map[string]any {
	var v map[string]any
	if err := json.Unmarshal([]byte(ts.ReadFile("stdout")), &v); err != nil {
		ts.Fatalf("stdout is not one JSON object: %v\n%s", err, ts.ReadFile("stdout"))
	}
	return v
}

// lookup follows a dotted path (a.b.0.c) into a decoded JSON value.
func lookup(v any, path string) (any, bool) {
	for _, p := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[p]; !ok {
				return nil, false
			}
		case []any:
			var i int
			if _, err := fmt.Sscan(p, &i); err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

func render(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// jsonfield PATH [VALUE]: the field exists in stdout's JSON (and equals
// VALUE, compared as rendered JSON, strings unquoted). With !, the field
// must be absent (or differ from VALUE).
func cmdJSONField(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: jsonfield PATH [VALUE]")
	}
	v, ok := lookup(lastJSON(ts), args[0])
	if len(args) == 1 {
		if ok == neg {
			ts.Fatalf("field %s present=%v, want present=%v", args[0], ok, !neg)
		}
		return
	}
	want := args[1]
	if strings.HasPrefix(want, `"`) { // a JSON string literal, e.g. "a\nb"
		var w string
		if err := json.Unmarshal([]byte(want), &w); err != nil {
			ts.Fatalf("bad JSON string %s: %v", want, err)
		}
		want = w
	}
	match := ok && render(v) == want
	if match == neg {
		ts.Fatalf("field %s = %s (present=%v); want %s%s", args[0], render(v), ok, map[bool]string{true: "not "}[neg], args[1])
	}
}

// stdout2env NAME PATH: sets $NAME to a field of stdout's JSON.
func cmdStdout2Env(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: stdout2env NAME PATH")
	}
	v, ok := lookup(lastJSON(ts), args[1])
	if !ok {
		ts.Fatalf("no field %s in stdout", args[1])
	}
	ts.Setenv(args[0], render(v))
}

// waitstate ID STATE [TIMEOUT]: polls state.json until job.status is STATE.
func cmdWaitState(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: waitstate ID STATE [TIMEOUT]")
	}
	timeout := 10 * time.Second
	if len(args) == 3 {
		d, err := time.ParseDuration(args[2])
		ts.Check(err)
		timeout = d
	}
	path := filepath.Join(ts.Getenv("AGENT_EXEC_ROOT"), args[0], "state.json")
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		var st struct {
			Job struct{ Status string } `json:"job"`
		}
		if data, err := os.ReadFile(path); err == nil && json.Unmarshal(data, &st) == nil {
			last = st.Job.Status
			if last == args[1] {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	ts.Fatalf("job %s: state %q, want %q after %v", args[0], last, args[1], timeout)
}

// waitlog ID TEXT: polls the job's stdout.log until it contains TEXT, for
// at most 15 s; unlike wait --for-output it sees a prompt without a line
// end.
func cmdWaitLog(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: waitlog ID TEXT")
	}
	path := filepath.Join(ts.Getenv("AGENT_EXEC_ROOT"), args[0], "stdout.log")
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if data, err := os.ReadFile(path); err == nil && strings.Contains(string(data), args[1]) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	ts.Fatalf("job %s: stdout.log has no %q after 15s", args[0], args[1])
}

// waitlistening ID: polls status until the job's tree listens on a TCP
// port (status.live.listening non-empty), for at most 15 s.
func cmdWaitListening(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: waitlistening ID")
	}
	m, err := agentexec.Open(ts.Getenv("AGENT_EXEC_ROOT"), agentexec.Options{Cwd: ts.Getenv("WORK")})
	ts.Check(err)
	defer m.Close()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		st, err := m.Status(context.Background(), args[0])
		ts.Check(err)
		if st.Live != nil && len(st.Live.Listening) > 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	ts.Fatalf("job %s never listened on a port", args[0])
}

// killAllJobs SIGKILLs the process groups of every job and supervisor still
// recorded as running under root, and every process of their trees (what
// a job left behind would otherwise outlive its supervisor), so no test
// leaves a process behind.
func killAllJobs(root string) {
	if m, err := agentexec.Open(root, agentexec.Options{Cwd: root}); err == nil {
		ctx := context.Background()
		live, _ := m.List(ctx, agentexec.ListOptions{All: true, State: agentexec.StateRunning, WithLiveTrees: true})
		if live != nil {
			for _, j := range live.Jobs {
				m.Kill(ctx, j.JobID, agentexec.KillOptions{Signal: "KILL", NoWait: true})
			}
		}
		m.Close()
	}
	ents, _ := os.ReadDir(root)
	for _, e := range ents {
		data, err := store.ReadJSONFile(filepath.Join(root, e.Name(), "state.json")) // never blocks on a FIFO
		if err != nil {
			continue
		}
		var st struct {
			Job        struct{ Status string } `json:"job"`
			Supervisor *struct{ PID int }      `json:"supervisor"`
			Child      *struct{ PGID int }     `json:"child"`
		}
		if json.Unmarshal(data, &st) != nil {
			continue
		}
		if st.Child != nil && st.Child.PGID > 1 {
			syscall.Kill(-st.Child.PGID, syscall.SIGKILL)
		}
		if st.Supervisor != nil && st.Supervisor.PID > 1 {
			syscall.Kill(st.Supervisor.PID, syscall.SIGKILL)
		}
	}
}

// exitcode N PROG ARGS...: runs PROG and requires exit status N; stdout and
// stderr are kept for the following commands like exec does.
func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: exitcode N PROG ARGS...")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("run %s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Logf("[stdout]\n%s\n[stderr]\n%s", ts.ReadFile("stdout"), ts.ReadFile("stderr"))
		ts.Fatalf("exit status %d, want %d", got, want)
	}
	// Every response a script produces must match the published schema.
	// (mcp prints JSON-RPC frames, one per line, not envelopes.)
	if out := ts.ReadFile("stdout"); args[1] == "agent-exec" && strings.HasPrefix(out, "{") && strings.Count(out, "\n") == 1 {
		if err := schematest.Validate([]byte(out)); err != nil {
			ts.Fatalf("response does not match the schema: %v\n%s", err, out)
		}
	}
}

func readStateFile(ts *testscript.TestScript, id string) (string, map[string]any) {
	path := filepath.Join(ts.Getenv("AGENT_EXEC_ROOT"), id, "state.json")
	var st map[string]any
	if err := json.Unmarshal([]byte(ts.ReadFile(path)), &st); err != nil {
		ts.Fatalf("parse %s: %v", path, err)
	}
	return path, st
}

// killsupervisor ID: SIGKILLs the job's supervisor and waits until it is gone.
func cmdKillSupervisor(ts *testscript.TestScript, neg bool, args []string) {
	_, st := readStateFile(ts, args[0])
	sup, _ := st["supervisor"].(map[string]any)
	pid, _ := sup["pid"].(float64)
	if pid <= 1 {
		ts.Fatalf("no supervisor pid recorded")
	}
	ts.Check(syscall.Kill(int(pid), syscall.SIGKILL))
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", int(pid)))
		if err != nil || strings.Contains(string(data), ") Z ") {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	ts.Fatalf("supervisor %d still alive", int(pid))
}

// rewriteboot ID: pretends the job's state was written under another boot.
func cmdRewriteBoot(ts *testscript.TestScript, neg bool, args []string) {
	path, st := readStateFile(ts, args[0])
	st["boot_id"] = "00000000-0000-0000-0000-000000000000"
	data, _ := json.MarshalIndent(st, "", "  ")
	ts.Check(os.WriteFile(path, data, 0o600))
}

// filemode PATH MODE: the permission bits of PATH are MODE (octal).
func cmdFileMode(ts *testscript.TestScript, neg bool, args []string) {
	fi, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	want, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	if got := fi.Mode().Perm(); uint64(got) != want {
		ts.Fatalf("%s mode %o, want %o", args[0], got, want)
	}
}

// progressed ID: state.json's updated_at changes while the job runs
// (progress ticks), within 5 s.
func cmdProgressed(ts *testscript.TestScript, neg bool, args []string) {
	_, st := readStateFile(ts, args[0])
	first := st["updated_at"]
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		_, st = readStateFile(ts, args[0])
		job, _ := st["job"].(map[string]any)
		if st["updated_at"] != first && job["status"] == "running" {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	ts.Fatalf("updated_at never changed from %v", first)
}

// mkfifo PATH: creates a named pipe.
func cmdMkfifo(ts *testscript.TestScript, neg bool, args []string) {
	ts.Check(syscall.Mkfifo(ts.MkAbs(args[0]), 0o600))
}

// scriptCondition answers the scripts' own conditions: [slurm] is true when
// a Slurm cluster answers. CI sets REQUIRE_SLURM_CLUSTER, and then a
// missing cluster fails the script instead of skipping it.
func scriptCondition(cond string) (bool, error) {
	switch cond {
	case "slurm":
		if slurm.Available(context.Background()) {
			return true, nil
		}
		if os.Getenv("REQUIRE_SLURM_CLUSTER") != "" {
			return false, errors.New("no Slurm cluster answers, and REQUIRE_SLURM_CLUSTER is set (start one with scripts/slurm-dev-cluster.sh)")
		}
		return false, nil
	}
	return false, fmt.Errorf("unknown condition %q", cond)
}
