//go:build linux

package main

import (
	"bufio"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
)

// p3 compares tail --max-bytes 65536 on a 1 GiB stdout.log with the same
// on a 1 KiB one: time, and how many bytes the process read.
func (h *harness) p3() error {
	root := filepath.Join(h.tmp, "p3-root")
	defer h.reapRoot(root, 10*time.Second)
	ids := make([]string, 2)
	for i := range ids {
		_, m, err := h.ae(root, "run", "--wait", "--no-auto-gc", "--", "true")
		if err != nil {
			return err
		}
		ids[i] = m["job_id"].(string)
	}
	if err := h.reapRoot(root, 10*time.Second); err != nil {
		return err
	}
	sizes := []int64{1024, 1 << 30}
	for i, id := range ids {
		if err := writeLines(filepath.Join(root, id, "stdout.log"), sizes[i]); err != nil {
			return err
		}
	}
	var wall [2][]float64
	var rchar [2][]float64
	for r := -1; r < h.runs; r++ {
		for k := range 2 {
			i := (k + max(r, 0)) % 2
			res, m, err := h.ae(root, "tail", "--max-bytes", "65536", ids[i])
			if err != nil {
				return err
			}
			if got, _ := m["stdout_observed_bytes"].(float64); int64(got) != sizes[i] {
				return fmt.Errorf("tail: stdout_observed_bytes %v, want %d", m["stdout_observed_bytes"], sizes[i])
			}
			if r >= 0 {
				wall[i] = append(wall[i], ms(res.Wall))
				rchar[i] = append(rchar[i], float64(res.Rchar))
			}
		}
	}
	small, big := median(wall[0]), median(wall[1])
	h.add(row{ID: "P3", What: "`tail --max-bytes 65536`, 1 KiB stdout.log", Median: fmtMS(small), P95: fmtMS(pct(wall[0], 95)), Verdict: "reference"})
	h.add(row{ID: "P3", What: "`tail --max-bytes 65536`, 1 GiB stdout.log", Median: fmtMS(big), P95: fmtMS(pct(wall[1], 95)),
		Target: "≤ 2 × 1 KiB time", Ratio: ratio(big / (2 * small)), Verdict: verdict(big <= 2*small)})
	const limit = 65536 + 65536
	rc := int64(median(rchar[1]))
	h.add(row{ID: "P3", What: fmt.Sprintf("rchar of the whole `tail` process, 1 GiB log (1 KiB log: %d)", int64(median(rchar[0]))),
		Median: strconv.FormatInt(rc, 10) + " B", Target: "≤ max_bytes + 64 KiB = 131072 B", Ratio: ratio(float64(rc) / limit), Verdict: verdict(rc <= limit)})
	if _, err := exec.LookPath("strace"); err == nil {
		logBytes, all, err := h.straceReads(root, ids[1])
		if err != nil {
			h.note("P3: strace failed: %v", err)
		} else {
			h.add(row{ID: "P3", What: fmt.Sprintf("bytes read from stdout.log+stderr.log (strace -y; all reads: %d B)", all),
				Median: strconv.FormatInt(logBytes, 10) + " B", Target: "≤ 131072 B", Ratio: ratio(float64(logBytes) / limit), Verdict: verdict(logBytes <= limit)})
		}
	}
	h.note("P3: %d interleaved runs per size; rchar is read from /proc/<pid>/io while the tail process is a zombie (after its last read, before it is reaped).", h.runs)
	return nil
}

// writeLines replaces path with size bytes of 100-byte text lines.
func writeLines(path string, size int64) error {
	tmp := path + ".bench"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var line [100]byte
	for n := int64(0); n < size; {
		s := fmt.Sprintf("%012d build step output: compiling module %08d … ok", n/100, n/100%99991)
		copy(line[:], s+strings.Repeat(".", 99-len(s)))
		line[99] = '\n'
		k := min(int64(len(line)), size-n)
		if _, err := w.Write(line[:k]); err != nil {
			f.Close()
			return err
		}
		n += k
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

var straceRead = regexp.MustCompile(`^(?:\d+\s+)?(?:read|pread64|readv|preadv|preadv2)\((\d+)<([^>]*)>.*=\s+(\d+)$`)

// straceReads runs one tail under strace -f -y and sums the bytes returned
// by read calls on the job's logs, and on every descriptor.
func (h *harness) straceReads(root, id string) (logBytes, all int64, err error) {
	out := filepath.Join(h.tmp, "p3-strace.txt")
	defer os.Remove(out)
	res, err := spawn([]string{"strace", "-f", "-y", "-qq", "-e", "trace=read,pread64,readv,preadv,preadv2", "-o", out,
		h.bin, "tail", "--max-bytes", "65536", id}, h.aeEnv(root), h.tmp)
	if err != nil {
		return 0, 0, err
	}
	if res.Exit != 0 {
		return 0, 0, fmt.Errorf("exit %d: %s", res.Exit, trimOut(res.Stderr))
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		m := straceRead.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		n, _ := strconv.ParseInt(m[3], 10, 64)
		all += n
		if strings.HasSuffix(m[2], "/stdout.log") || strings.HasSuffix(m[2], "/stderr.log") {
			logBytes += n
		}
	}
	return logBytes, all, nil
}

// p4 times list --all, status <prefix> and ps --all on a root holding
// h.jobs terminal jobs written directly in the §2.3/§2.4 formats.
func (h *harness) p4() error {
	root := filepath.Join(h.tmp, "p4-root")
	t0 := time.Now()
	ids, err := writeJobs(root, h.jobs)
	if err != nil {
		return err
	}
	h.note("P4: wrote %d terminal jobs (meta.json, state.json, logs, .lock) in %s.", len(ids), time.Since(t0).Round(time.Millisecond))
	target := ids[len(ids)/2]
	prefix := target[:8]
	for _, id := range ids {
		if id != target && strings.HasPrefix(id, prefix) {
			return fmt.Errorf("prefix %s is not unique", prefix)
		}
	}
	type cmdT struct {
		what   string
		args   []string
		target float64
		check  func(map[string]any) error
	}
	cmds := []cmdT{
		{"`list --all`", []string{"list", "--all"}, 500, func(m map[string]any) error {
			jobs, _ := m["jobs"].([]any)
			if len(jobs) != len(ids) || m["skipped"] != 0.0 {
				return fmt.Errorf("list --all: %d jobs, skipped %v; want %d, 0", len(jobs), m["skipped"], len(ids))
			}
			return nil
		}},
		{"`status <8-char prefix>`", []string{"status", prefix}, 50, func(m map[string]any) error {
			if m["job_id"] != target {
				return fmt.Errorf("status %s: job_id %v, want %s", prefix, m["job_id"], target)
			}
			return nil
		}},
		{"`ps --all`", []string{"ps", "--all"}, 500, func(m map[string]any) error {
			if jobs, _ := m["jobs"].([]any); len(jobs) != 0 {
				return fmt.Errorf("ps --all: %d jobs, want 0", len(jobs))
			}
			return nil
		}},
	}
	n := max(10, min(h.runs, 30))
	times := make([][]float64, len(cmds))
	var listBytes int
	for r := -1; r < n; r++ {
		for k := range cmds {
			c := cmds[(k+max(r, 0))%len(cmds)]
			idx := (k + max(r, 0)) % len(cmds)
			res, m, err := h.ae(root, c.args...)
			if err != nil {
				return err
			}
			if err := c.check(m); err != nil {
				return err
			}
			if idx == 0 {
				listBytes = len(res.Stdout)
			}
			if r >= 0 {
				times[idx] = append(times[idx], ms(res.Wall))
			}
		}
	}
	for k, c := range cmds {
		med := median(times[k])
		h.add(row{ID: "P4", What: fmt.Sprintf("%s, %d terminal jobs", c.what, len(ids)), Median: fmtMS(med), P95: fmtMS(pct(times[k], 95)),
			Target: "≤ " + fmtMS(c.target), Ratio: ratio(med / c.target), Verdict: verdict(med <= c.target)})
	}
	h.note("P4: %d runs per command (warm page cache); the `list --all` response is %d bytes.", n, listBytes)
	return os.RemoveAll(root)
}

// writeJobs creates n terminal jobs under root, one every 4 minutes back
// from now, so 8-character id prefixes are unique (a ULID's first 8
// characters change every 1024 ms).
func writeJobs(root string, n int) ([]string, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err
	}
	commands := [][]string{
		{"cargo", "test", "--workspace"},
		{"npm run lint && npm test"},
		{"go", "test", "./..."},
		{"pytest", "-q", "tests/"},
		{"make", "-j4", "build"},
		{"sh", "-c", "docker compose up --build api"},
	}
	tagSets := [][]string{{}, {"ci.build"}, {"nightly", "ci.test"}, {}, {"dev"}}
	bootID := "6f1c2c1e-3a4b-4e0f-9d55-0c2d7b1f8a10"
	now := time.Now().UTC().Truncate(time.Second)
	ids := make([]string, 0, n)
	for i := range n {
		created := now.Add(-time.Duration(n-i) * 4 * time.Minute)
		id := ulid.MustNew(ulid.Timestamp(created), rand.Reader).String()
		dir := filepath.Join(root, id)
		if err := os.Mkdir(dir, 0o700); err != nil {
			return nil, err
		}
		meta := benchMeta{
			Job: jobRef{id}, SchemaVersion: "0.1", Command: commands[i%len(commands)], CreatedAt: ts(created),
			Root: root, EnvKeys: []string{}, Cwd: fmt.Sprintf("/home/u/proj%d", i%7), Tags: tagSets[i%len(tagSets)],
			InheritEnv: true, ShellWrapper: []string{"sh", "-lc"},
		}
		if i%4 == 0 {
			meta.EnvKeys = []string{"RUST_LOG"}
			meta.EnvVars = []string{"RUST_LOG=debug"}
			meta.EnvVarsRuntime = []string{"RUST_LOG=debug"}
			meta.TimeoutMS = 600000
		}
		dur := int64(1000 + (i*7919)%300000)
		finished := created.Add(time.Duration(dur) * time.Millisecond)
		st := benchState{
			Job:       stateJob{ID: id, StartedAt: ts(created)},
			Pid:       200000 + i,
			UpdatedAt: ts(finished),
			BootID:    bootID,
			Super:     &procRef{Pid: 100000 + i, Pgid: 100000 + i, StartTime: strconv.Itoa(8804512 + i)},
			Child:     &procRef{Pid: 200000 + i, Pgid: 200000 + i, StartTime: strconv.Itoa(8804515 + i)},
		}
		st.FinishedAt = ts(finished)
		switch {
		case i%20 == 7:
			st.Job.Status = "failed"
			e := "supervisor_lost"
			st.Result.Error = &e
		case i%10 == 3:
			st.Job.Status = "killed"
			s := "TERM"
			st.Result.Signal = &s
			st.Result.DurationMS = &dur
		default:
			st.Job.Status = "exited"
			code := 0
			if i%13 == 0 {
				code = 1
			}
			st.Result.ExitCode = &code
			st.Result.DurationMS = &dur
		}
		mb, err := json.MarshalIndent(meta, "", "  ")
		if err != nil {
			return nil, err
		}
		sb, err := json.MarshalIndent(st, "", "  ")
		if err != nil {
			return nil, err
		}
		out := fmt.Sprintf("running step %d\nok\n", i)
		files := map[string][]byte{
			"meta.json": mb, "state.json": sb, "stdout.log": []byte(out), "stderr.log": nil,
			"full.log": []byte(fmt.Sprintf("%s [STDOUT] running step %d\n%s [STDOUT] ok\n", ts(created), i, ts(finished))),
			".lock":    nil,
		}
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
				return nil, err
			}
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

type jobRef struct {
	ID string `json:"id"`
}

// benchMeta is meta.json with the keys in the §2.3 order.
type benchMeta struct {
	Job             jobRef   `json:"job"`
	SchemaVersion   string   `json:"schema_version"`
	Command         []string `json:"command"`
	CreatedAt       string   `json:"created_at"`
	Root            string   `json:"root"`
	EnvKeys         []string `json:"env_keys"`
	EnvVars         []string `json:"env_vars,omitempty"`
	EnvVarsRuntime  []string `json:"env_vars_runtime,omitempty"`
	Cwd             string   `json:"cwd"`
	Tags            []string `json:"tags"`
	InheritEnv      bool     `json:"inherit_env"`
	TimeoutMS       int64    `json:"timeout_ms"`
	KillAfterMS     int64    `json:"kill_after_ms"`
	ProgressEveryMS int64    `json:"progress_every_ms"`
	ShellWrapper    []string `json:"shell_wrapper"`
}

type stateJob struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	StartedAt string `json:"started_at"`
}

type procRef struct {
	Pid       int    `json:"pid"`
	Pgid      int    `json:"pgid"`
	StartTime string `json:"start_time"`
}

// benchState is state.json with the keys in the §2.4 order.
type benchState struct {
	Job    stateJob `json:"job"`
	Result struct {
		ExitCode   *int    `json:"exit_code"`
		Signal     *string `json:"signal"`
		DurationMS *int64  `json:"duration_ms"`
		TimedOut   bool    `json:"timed_out"`
		Error      *string `json:"error"`
	} `json:"result"`
	Pid        int      `json:"pid"`
	FinishedAt string   `json:"finished_at"`
	UpdatedAt  string   `json:"updated_at"`
	BootID     string   `json:"boot_id"`
	Super      *procRef `json:"supervisor"`
	Child      *procRef `json:"child"`
}
