//go:build linux

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// procResult is what the harness learns about one finished process.
type procResult struct {
	Wall   time.Duration // exec → exit, as seen by the parent
	End    time.Time     // wall clock when the exit was observed
	Exit   int
	Stdout []byte
	Stderr []byte
	// Rchar is the rchar field of /proc/<pid>/io, read while the process
	// was a zombie (so it covers the whole life of every thread); -1 if
	// unavailable.
	Rchar int64
	// MaxRSSKB is ru_maxrss of the reaped process.
	MaxRSSKB int64
}

// spawn runs argv to completion with stdin /dev/null and stdout/stderr in
// unlinked temporary files. Files instead of pipes keep the measurement to
// "exec until exit": no copying goroutine, and a detached grandchild that
// inherits the descriptors cannot delay the result.
func spawn(argv, env []string, dir string) (procResult, error) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return procResult{Rchar: -1}, err
	}
	defer devnull.Close()
	return spawnWithStdin(argv, env, dir, devnull)
}

// spawnWithStdin is spawn with the given stdin.
func spawnWithStdin(argv, env []string, dir string, stdin *os.File) (procResult, error) {
	res := procResult{Rchar: -1}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return res, err
	}
	out, err := tempFile()
	if err != nil {
		return res, err
	}
	defer out.Close()
	errf, err := tempFile()
	if err != nil {
		return res, err
	}
	defer errf.Close()

	t0 := time.Now()
	p, err := os.StartProcess(path, argv, &os.ProcAttr{Dir: dir, Env: env, Files: []*os.File{stdin, out, errf}})
	if err != nil {
		return res, err
	}
	// Observe the exit without reaping so /proc/<pid>/io is still readable.
	var info unix.Siginfo
	for {
		err = unix.Waitid(unix.P_PID, p.Pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			break
		}
	}
	res.End = time.Now()
	res.Wall = res.End.Sub(t0)
	if err == nil {
		res.Rchar = readRchar(p.Pid)
	}
	st, err := p.Wait()
	if err != nil {
		return res, err
	}
	res.Exit = st.ExitCode()
	if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
		res.MaxRSSKB = ru.Maxrss
	}
	if res.Stdout, err = readAll(out); err != nil {
		return res, err
	}
	if res.Stderr, err = readAll(errf); err != nil {
		return res, err
	}
	return res, nil
}

func tempFile() (*os.File, error) {
	f, err := os.CreateTemp(tmpBase, "out-")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name())
	return f, nil
}

func readAll(f *os.File) ([]byte, error) {
	if _, err := f.Seek(0, 0); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	_, err := b.ReadFrom(f)
	return b.Bytes(), err
}

func readRchar(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return -1
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "rchar: "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}

// tmpBase is the run's temporary directory; everything the harness writes
// lives below it.
var tmpBase string

// harness carries the configuration shared by all scenarios.
type harness struct {
	bin    string
	runs   int
	p5runs int
	jobs   int
	tmp    string
	env    []string // base environment without AGENT_EXEC_* variables
	rows   []row
	notes  []string
	serve  bool
	// noFullLog: this build's run has --no-full-log (P5 adds a reference row).
	noFullLog bool
}

// aeEnv is the environment of an agent-exec invocation on root.
func (h *harness) aeEnv(root string) []string {
	return append(slices.Clone(h.env), "AGENT_EXEC_ROOT="+root)
}

// ae runs agent-exec on root and decodes its JSON response; a non-zero
// exit or an ok:false envelope is an error.
func (h *harness) ae(root string, args ...string) (procResult, map[string]any, error) {
	res, err := spawn(append([]string{h.bin}, args...), h.aeEnv(root), h.tmp)
	if err != nil {
		return res, nil, err
	}
	var m map[string]any
	if jerr := json.Unmarshal(res.Stdout, &m); jerr != nil || res.Exit != 0 || m["ok"] != true {
		return res, m, fmt.Errorf("agent-exec %s: exit %d: %s %s", strings.Join(args, " "), res.Exit,
			trimOut(res.Stdout), trimOut(res.Stderr))
	}
	return res, m, nil
}

func trimOut(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return s
}

// launch starts a job with run --no-wait and returns its id.
func (h *harness) launch(root string, args ...string) (string, procResult, error) {
	res, m, err := h.ae(root, append([]string{"run", "--no-wait"}, args...)...)
	if err != nil {
		return "", res, err
	}
	id, _ := m["job_id"].(string)
	if id == "" {
		return "", res, fmt.Errorf("run: no job_id in %s", trimOut(res.Stdout))
	}
	return id, res, nil
}

// jobState is the part of state.json the harness looks at.
type jobState struct {
	Job struct {
		Status string `json:"status"`
	} `json:"job"`
	Result struct {
		ExitCode *int    `json:"exit_code"`
		Signal   *string `json:"signal"`
	} `json:"result"`
	Supervisor *struct {
		Pid int `json:"pid"`
	} `json:"supervisor"`
	Child *struct {
		Pid  int `json:"pid"`
		Pgid int `json:"pgid"`
	} `json:"child"`
}

func readState(root, id string) (*jobState, error) {
	data, err := os.ReadFile(filepath.Join(root, id, "state.json"))
	if err != nil {
		return nil, err
	}
	var st jobState
	return &st, json.Unmarshal(data, &st)
}

func terminal(s string) bool { return s == "exited" || s == "killed" || s == "failed" }

// supervisorPid returns the supervisor recorded in state.json.
func supervisorPid(root, id string) (int, error) {
	st, err := readState(root, id)
	if err != nil {
		return 0, err
	}
	if st.Supervisor == nil || st.Supervisor.Pid <= 1 {
		return 0, fmt.Errorf("job %s: no supervisor recorded", id)
	}
	return st.Supervisor.Pid, nil
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(data, ')')
	return i < 0 || i+2 >= len(data) || data[i+2] != 'Z'
}

// waitGone polls until pid is gone or the deadline passes.
func waitGone(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if !alive(pid) {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return !alive(pid)
}

// statusKB reads a "Name:   N kB" field of /proc/<pid>/status.
func statusKB(pid int, field string) (int64, error) {
	return kbField(fmt.Sprintf("/proc/%d/status", pid), field)
}

func kbField(path, field string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			v = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB"))
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("%s: no %s", path, field)
}

// hwmPoller follows VmHWM of a process until it exits. VmHWM only grows,
// so the last successful reading is the peak up to a few milliseconds
// before the exit.
type hwmPoller struct {
	mu   sync.Mutex
	peak int64
	done chan struct{}
	stop chan struct{}
}

func pollHWM(pid int) *hwmPoller {
	p := &hwmPoller{done: make(chan struct{}), stop: make(chan struct{})}
	go func() {
		defer close(p.done)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			v, err := statusKB(pid, "VmHWM")
			if err != nil {
				return
			}
			p.mu.Lock()
			p.peak = max(p.peak, v)
			p.mu.Unlock()
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

// finish waits up to d for the process to exit and returns the peak (kB).
func (p *hwmPoller) finish(d time.Duration) (int64, bool) {
	exited := true
	select {
	case <-p.done:
	case <-time.After(d):
		exited = false
		close(p.stop)
		<-p.done
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peak, exited
}

// uss is Private_Clean + Private_Dirty of /proc/<pid>/smaps_rollup in kB.
func uss(pid int) (int64, error) {
	path := fmt.Sprintf("/proc/%d/smaps_rollup", pid)
	a, err := kbField(path, "Private_Clean")
	if err != nil {
		return 0, err
	}
	b, err := kbField(path, "Private_Dirty")
	return a + b, err
}

// ms converts a duration to float milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// median and pct work on a copy; pct uses the nearest-rank definition.
func median(v []float64) float64 { return pct(v, 50) }

func pct(v []float64, p float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	k := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[min(max(k, 0), len(s)-1)]
}

// sameFile compares two files byte by byte.
func sameFile(a, b string) (bool, error) {
	fa, err := os.Open(a)
	if err != nil {
		return false, err
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		return false, err
	}
	defer fb.Close()
	ba, bb := make([]byte, 1<<20), make([]byte, 1<<20)
	for {
		na, ea := io.ReadFull(fa, ba)
		nb, eb := io.ReadFull(fb, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			return false, nil
		}
		endA := ea == io.EOF || ea == io.ErrUnexpectedEOF
		endB := eb == io.EOF || eb == io.ErrUnexpectedEOF
		switch {
		case ea != nil && !endA:
			return false, ea
		case eb != nil && !endB:
			return false, eb
		case endA || endB:
			return endA && endB, nil
		}
	}
}
