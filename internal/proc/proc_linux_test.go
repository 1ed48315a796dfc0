package proc

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const helperEnv = "PROC_TEST_HELPER"

// subreaper records whether the test binary could become a child subreaper.
var subreaper bool

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "sleep" {
		// Helper mode (see TestStartTimeOddComm): stay alive until killed.
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	// Grandchildren orphaned by the tests (their shell parent killed or
	// exited) are re-parented to the test binary, which reaps them. Without
	// this they would be re-parented to whatever init the machine or container
	// has, and whether it reaps them in time would decide GroupAlive.
	subreaper = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == nil
	os.Exit(m.Run())
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// startDetached starts argv in a new session with DetachedAttr and registers a
// cleanup that SIGKILLs its process group and reaps it.
func startDetached(t *testing.T, cmd *exec.Cmd) *exec.Cmd {
	t.Helper()
	cmd.SysProcAttr = DetachedAttr()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", cmd.Args, err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		if pid > 1 {
			_ = unix.Kill(-pid, unix.SIGKILL)
		}
		_ = cmd.Wait()
	})
	return cmd
}

// startSleep starts a detached `sleep 30` and returns it and its identity.
func startSleep(t *testing.T) (*exec.Cmd, Identity) {
	t.Helper()
	cmd := startDetached(t, exec.Command("sleep", "30"))
	pid := cmd.Process.Pid
	st, ok := StartTime(pid)
	if !ok {
		t.Fatalf("StartTime(%d) unavailable", pid)
	}
	return cmd, Identity{PID: pid, PGID: pid, StartTime: st}
}

// startWithGrandchild starts `sh -c script` detached, where script starts a
// background `sleep 30` (in the same process group) and prints its pid. It
// returns the shell and the grandchild pid. The grandchild is reaped (the test
// binary is a subreaper) in a cleanup.
func startWithGrandchild(t *testing.T, script string) (*exec.Cmd, int) {
	t.Helper()
	if !subreaper {
		t.Skip("PR_SET_CHILD_SUBREAPER unavailable: orphaned grandchildren could not be reaped")
	}
	cmd := exec.Command("sh", "-c", script)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	startDetached(t, cmd)
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("read grandchild pid: %v", err)
	}
	gc, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || gc <= 1 {
		t.Fatalf("bad grandchild pid %q", line)
	}
	t.Cleanup(func() {
		_ = unix.Kill(gc, unix.SIGKILL)
		reap(t, gc)
	})
	return cmd, gc
}

// reap waits until pid no longer exists, reaping it if it is (or becomes,
// once re-parented) a child of the test binary.
func reap(t *testing.T, pid int) {
	t.Helper()
	waitFor(t, "pid "+strconv.Itoa(pid)+" to be reaped", func() bool {
		var ws unix.WaitStatus
		got, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil)
		if got == pid {
			return true
		}
		return errors.Is(err, unix.ECHILD) && !pidExists(pid)
	})
}

// deadPID returns the pid of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func TestParseStat(t *testing.T) {
	// 52 fields, as in a real /proc/<pid>/stat; field 22 is 8804515.
	rest := " S 1 4242 4242 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 8804515 2392064 200 " +
		"18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
	tests := []struct {
		name    string
		data    string
		want    statFields
		wantErr bool
	}{
		{"plain", "4242 (sleep)" + rest, statFields{'S', 4242, "8804515"}, false},
		{"spaces and parens in comm", "4242 (a) b (c d))" + rest, statFields{'S', 4242, "8804515"}, false},
		{"comm looks like fields", "4242 (x) R 1 2 3 4 5)" + rest, statFields{'S', 4242, "8804515"}, false},
		{"empty comm", "4242 ()" + rest, statFields{'S', 4242, "8804515"}, false},
		{"zombie", "4242 (sh) Z 1 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 123 0 0", statFields{'Z', 77, "123"}, false},
		{"no paren", "4242 sleep S 1 2", statFields{}, true},
		{"too few fields", "4242 (sleep) S 1 4242 4242 0", statFields{}, true},
		{"bad pgrp", "4242 (sh) S 1 x 4242 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 123", statFields{}, true},
		{"bad starttime", "4242 (sh) S 1 2 3 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 -5", statFields{}, true},
		{"bad state", "4242 (sh) SS 1 2 3 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5", statFields{}, true},
		{"state not a letter", "4242 (sh) \x00 1 2 3 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5", statFields{}, true},
		{"empty", "", statFields{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat([]byte(tt.data))
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseStat error = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("parseStat = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func FuzzParseStat(f *testing.F) {
	f.Add([]byte("4242 (a) b (c) S 1 4242 4242 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 8804515 0"))
	if b, err := os.ReadFile("/proc/self/stat"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := parseStat(data)
		if err != nil {
			return
		}
		if !isASCIILetter(st.state) || !isDigits(st.startTime) {
			t.Errorf("parseStat(%q) = %+v without error", data, st)
		}
	})
}

func TestBootID(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		t.Skipf("no boot id on this system: %v", err)
	}
	want := strings.TrimSpace(string(b))
	if got := BootID(); got != want || got == "" {
		t.Errorf("BootID() = %q, want %q", got, want)
	}
	if BootID() != BootID() {
		t.Error("BootID() is not stable")
	}
}

func TestStartTimeSelf(t *testing.T) {
	st, ok := StartTime(os.Getpid())
	if !ok || !isDigits(st) {
		t.Fatalf("StartTime(self) = %q, %v", st, ok)
	}
	state, pgid, ok := ProcState(os.Getpid())
	// The state is the main thread's, which may be sleeping while this
	// goroutine runs on another thread: only require a live state.
	if !ok || !strings.ContainsRune("RSD", rune(state)) || pgid != unix.Getpgrp() {
		t.Errorf("ProcState(self) = %q, %d, %v; want R, S or D, %d, true", state, pgid, ok, unix.Getpgrp())
	}
	for _, pid := range []int{0, -1, deadPID(t)} {
		if st, ok := StartTime(pid); ok {
			t.Errorf("StartTime(%d) = %q, true; want unavailable", pid, st)
		}
		if _, _, ok := ProcState(pid); ok {
			t.Errorf("ProcState(%d) available; want unavailable", pid)
		}
	}
}

// The command name in /proc/<pid>/stat may contain spaces and parentheses;
// start time and process group must still be read from the right fields.
func TestStartTimeOddComm(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "a) S 1 (b c")
	if err := os.Symlink(exe, link); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(link)
	cmd.Env = append(os.Environ(), helperEnv+"=sleep")
	startDetached(t, cmd)
	pid := cmd.Process.Pid
	// Until the helper has exec'd, comm is still the test binary's name.
	waitFor(t, "helper comm", func() bool {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
		return err == nil && strings.HasPrefix(string(b), "a) S 1 (b")
	})
	st, ok := StartTime(pid)
	if !ok || !isDigits(st) {
		t.Fatalf("StartTime = %q, %v", st, ok)
	}
	state, pgid, ok := ProcState(pid)
	if !ok || pgid != pid || (state != 'S' && state != 'R') {
		t.Errorf("ProcState = %q, %d, %v; want S or R, %d, true", state, pgid, ok, pid)
	}
	if Gone(Identity{PID: pid, PGID: pid, StartTime: st}, BootID()) {
		t.Error("Gone = true for the live helper")
	}
}

func TestDetachedChild(t *testing.T) {
	cmd, id := startSleep(t)
	pid := cmd.Process.Pid
	if !isDigits(id.StartTime) {
		t.Errorf("StartTime = %q, want decimal", id.StartTime)
	}
	if st, _ := StartTime(pid); st != id.StartTime {
		t.Errorf("StartTime changed: %q then %q", id.StartTime, st)
	}
	state, pgid, ok := ProcState(pid)
	if !ok || pgid != pid || (state != 'S' && state != 'R') {
		t.Errorf("ProcState = %q, %d, %v; want S or R, %d, true", state, pgid, ok, pid)
	}
	if sid, err := unix.Getsid(pid); err != nil || sid != pid {
		t.Errorf("Getsid = %d, %v; want a new session %d", sid, err, pid)
	}
	if Gone(id, BootID()) {
		t.Error("Gone(live child) = true")
	}
	if LegacyGone(pid) {
		t.Error("LegacyGone(live child) = true")
	}
	if !VerifyGroup(id, BootID()) {
		t.Error("VerifyGroup(live child) = false")
	}
	if !GroupAlive(pid) {
		t.Error("GroupAlive(live child) = false")
	}
}

func TestGone(t *testing.T) {
	_, id := startSleep(t)
	boot := BootID()
	otherStart := id.StartTime + "1"
	dead := deadPID(t)
	tests := []struct {
		name string
		id   Identity
		boot string
		want bool
	}{
		{"alive", id, boot, false},
		{"no boot id recorded", id, "", false},
		{"no start time recorded", Identity{PID: id.PID}, boot, false},
		{"pgid is not consulted", Identity{PID: id.PID, PGID: 12345, StartTime: id.StartTime}, boot, false},
		{"other boot", id, "00000000-0000-0000-0000-000000000000", true},
		{"pid reused", Identity{PID: id.PID, PGID: id.PGID, StartTime: otherStart}, boot, true},
		{"pid 1", Identity{PID: 1}, "", true},
		{"pid 0", Identity{PID: 0}, "", true},
		{"negative pid", Identity{PID: -1}, "", true},
		{"no such process", Identity{PID: dead, PGID: dead}, boot, true},
	}
	if boot == "" {
		t.Log("no boot id available; the other-boot case expects alive")
		tests[4].want = false
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Gone(tt.id, tt.boot); got != tt.want {
				t.Errorf("Gone(%+v, %q) = %v, want %v", tt.id, tt.boot, got, tt.want)
			}
		})
	}
}

// A process that exited but was not reaped is gone for the supervisor rules,
// alive for the legacy rule (kill(pid, 0) succeeds on zombies), and still
// verifies as a group leader (its pid cannot be reused before it is reaped).
func TestZombie(t *testing.T) {
	cmd, id := startSleep(t)
	if err := unix.Kill(id.PID, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "zombie", func() bool {
		state, _, _ := ProcState(id.PID)
		return state == 'Z'
	})
	if st, ok := StartTime(id.PID); !ok || st != id.StartTime {
		t.Errorf("StartTime(zombie) = %q, %v; want %q", st, ok, id.StartTime)
	}
	if !Gone(id, BootID()) {
		t.Error("Gone(zombie) = false")
	}
	if LegacyGone(id.PID) {
		t.Error("LegacyGone(zombie) = true")
	}
	if !VerifyGroup(id, BootID()) {
		t.Error("VerifyGroup(zombie leader) = false")
	}
	_ = cmd.Wait()
	if !Gone(id, BootID()) || !LegacyGone(id.PID) || VerifyGroup(id, BootID()) {
		t.Error("reaped process still looks alive")
	}
}

func TestLegacyGone(t *testing.T) {
	_, id := startSleep(t)
	tests := []struct {
		name string
		pid  int
		want bool
	}{
		{"missing", 0, false},
		{"negative", -1, false},
		{"pid 1", 1, false},
		{"alive", id.PID, false},
		{"no such process", deadPID(t), true},
	}
	for _, tt := range tests {
		if got := LegacyGone(tt.pid); got != tt.want {
			t.Errorf("%s: LegacyGone(%d) = %v, want %v", tt.name, tt.pid, got, tt.want)
		}
	}
}

func TestVerifyGroup(t *testing.T) {
	_, id := startSleep(t)
	boot := BootID()
	dead := deadPID(t)
	tests := []struct {
		name string
		id   Identity
		boot string
		want bool
	}{
		{"verified", id, boot, true},
		{"no boot id recorded", id, "", true},
		{"no start time recorded", Identity{PID: id.PID, PGID: id.PGID}, boot, true},
		{"pid 1", Identity{PID: 1, PGID: id.PGID}, boot, false},
		{"pid 0", Identity{PID: 0, PGID: id.PGID}, boot, false},
		{"pgid 1", Identity{PID: id.PID, PGID: 1, StartTime: id.StartTime}, boot, false},
		{"pgid 0", Identity{PID: id.PID, PGID: 0, StartTime: id.StartTime}, boot, false},
		{"other boot", id, "00000000-0000-0000-0000-000000000000", false},
		{"pid reused", Identity{PID: id.PID, PGID: id.PGID, StartTime: id.StartTime + "1"}, boot, false},
		{"other group", Identity{PID: id.PID, PGID: unix.Getpgrp(), StartTime: id.StartTime}, boot, false},
		{"no such process", Identity{PID: dead, PGID: dead}, boot, false},
	}
	if boot == "" {
		tests[7].want = true
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := VerifyGroup(tt.id, tt.boot); got != tt.want {
				t.Errorf("VerifyGroup(%+v, %q) = %v, want %v", tt.id, tt.boot, got, tt.want)
			}
		})
	}
}

func TestSignalGroupKillsGrandchild(t *testing.T) {
	cmd, gc := startWithGrandchild(t, `sleep 30 >/dev/null 2>&1 & echo $!; wait`)
	pgid := cmd.Process.Pid
	if _, gcGroup, ok := ProcState(gc); !ok || gcGroup != pgid {
		t.Fatalf("grandchild group = %d, %v; want %d", gcGroup, ok, pgid)
	}
	if err := SignalGroup(pgid, unix.SIGKILL); err != nil {
		t.Fatalf("SignalGroup: %v", err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("Wait = %v, want an exit error", err)
	}
	code, sig := ExitOutcome(ee.Sys().(syscall.WaitStatus))
	if code != nil || sig != "KILL" {
		t.Errorf("ExitOutcome = %v, %q; want nil, KILL", code, sig)
	}
	waitFor(t, "grandchild to die", func() bool { return Gone(Identity{PID: gc}, "") })
	reap(t, gc)
	if GroupAlive(pgid) {
		t.Error("GroupAlive after SignalGroup(KILL) = true")
	}
	if err := SignalGroup(pgid, unix.SIGTERM); err != nil {
		t.Errorf("SignalGroup(vanished group) = %v, want nil (ESRCH ignored)", err)
	}
}

// A shell that exited leaving a background process behind is a zombie leader
// until its parent reaps it; the group still verifies and can be signalled.
func TestSignalGroupZombieLeader(t *testing.T) {
	cmd, gc := startWithGrandchild(t, `sleep 30 >/dev/null 2>&1 & echo $!`)
	pgid := cmd.Process.Pid
	st, ok := StartTime(pgid)
	if !ok {
		t.Fatal("StartTime(leader) unavailable")
	}
	waitFor(t, "zombie leader", func() bool {
		state, _, _ := ProcState(pgid)
		return state == 'Z'
	})
	id := Identity{PID: pgid, PGID: pgid, StartTime: st}
	if !VerifyGroup(id, BootID()) {
		t.Fatal("VerifyGroup(zombie leader with live member) = false")
	}
	if !GroupAlive(pgid) {
		t.Fatal("GroupAlive = false with a live member")
	}
	if err := SignalGroup(pgid, unix.SIGTERM); err != nil {
		t.Fatalf("SignalGroup: %v", err)
	}
	waitFor(t, "grandchild to die", func() bool { return Gone(Identity{PID: gc}, "") })
	reap(t, gc)
	if err := cmd.Wait(); err != nil {
		t.Errorf("shell exit: %v", err)
	}
	if GroupAlive(pgid) {
		t.Error("GroupAlive after the group died = true")
	}
}

func TestSignalGroupRefuses(t *testing.T) {
	for _, pgid := range []int{-5, 0, 1, unix.Getpgrp()} {
		if err := SignalGroup(pgid, 0); !errors.Is(err, ErrInvalidGroup) {
			t.Errorf("SignalGroup(%d) = %v, want ErrInvalidGroup", pgid, err)
		}
	}
	for _, pgid := range []int{-5, 0, 1} {
		if GroupAlive(pgid) {
			t.Errorf("GroupAlive(%d) = true", pgid)
		}
	}
}

func TestExitOutcome(t *testing.T) {
	tests := []struct {
		name   string
		script string
		code   int // -1: killed
		signal string
	}{
		{"exit 0", "exit 0", 0, ""},
		{"exit 3", "exit 3", 3, ""},
		{"TERM", "kill -TERM $$", -1, "TERM"},
		{"USR1", "kill -USR1 $$", -1, "USR1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command("sh", "-c", tt.script)
			_ = cmd.Run()
			if cmd.ProcessState == nil {
				t.Fatal("process did not run")
			}
			code, sig := ExitOutcome(cmd.ProcessState.Sys().(syscall.WaitStatus))
			switch {
			case tt.code >= 0 && (code == nil || *code != tt.code || sig != ""):
				t.Errorf("ExitOutcome = %v, %q; want %d", code, sig, tt.code)
			case tt.code < 0 && (code != nil || sig != tt.signal):
				t.Errorf("ExitOutcome = %v, %q; want nil, %q", code, sig, tt.signal)
			}
		})
	}
}

func TestWaitExit(t *testing.T) {
	if err := WaitExit(context.Background(), deadPID(t)); errors.Is(err, ErrUnsupported) {
		t.Skipf("WaitExit unsupported: %v", err)
	} else if err != nil {
		t.Fatalf("WaitExit(dead pid) = %v, want nil", err)
	}
	_, id := startSleep(t)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := WaitExit(ctx, id.PID); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitExit(live, short ctx) = %v, want DeadlineExceeded", err)
	}

	done := make(chan error, 1)
	go func() { done <- WaitExit(context.Background(), id.PID) }()
	if err := unix.Kill(id.PID, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("WaitExit = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WaitExit did not return after the process was killed")
	}
	// Not reaped yet: a zombie counts as exited.
	if err := WaitExit(context.Background(), id.PID); err != nil {
		t.Errorf("WaitExit(zombie) = %v, want nil", err)
	}
	if err := WaitExit(context.Background(), 0); err == nil {
		t.Error("WaitExit(0) = nil, want an error")
	}
}

// pollExit is WaitExit's fallback when the runtime poller refuses the pidfd.
func TestPollExitFallback(t *testing.T) {
	_, id := startSleep(t)
	fd, err := unix.PidfdOpen(id.PID, 0)
	if err != nil {
		t.Skipf("pidfd_open: %v", err)
	}
	defer unix.Close(fd)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := pollExit(ctx, fd, id.PID); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("pollExit(live, short ctx) = %v, want DeadlineExceeded", err)
	}
	if err := unix.Kill(id.PID, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := pollExit(ctx, fd, id.PID); err != nil {
		t.Errorf("pollExit(killed) = %v, want nil", err)
	}
}

func TestAcceptedSignalNumbersLinux(t *testing.T) {
	want := map[string]string{"15": "TERM", "2": "INT", "9": "KILL", "1": "HUP", "3": "QUIT", "10": "USR1", "12": "USR2"}
	for num, name := range want {
		if _, got, ok := ParseSignal(num); !ok || got != name {
			t.Errorf("ParseSignal(%q) = %q, %v; want %q", num, got, ok, name)
		}
	}
}
