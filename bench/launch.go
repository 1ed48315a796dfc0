//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// p1 measures launch latency: agent-exec run --no-wait against nq, tsp and
// setsid -f, interleaved so drift in machine load hits every tool alike.
func (h *harness) p1() error {
	root := filepath.Join(h.tmp, "p1-root")
	nqdir := filepath.Join(h.tmp, "p1-nq")
	tsdir := filepath.Join(h.tmp, "p1-ts")
	for _, d := range []string{nqdir, tsdir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	type tool struct {
		name string
		argv []string
		env  []string
	}
	tools := []tool{
		{"agent-exec run --no-wait --no-auto-gc -- true", []string{h.bin, "run", "--no-wait", "--no-auto-gc", "--", "true"}, h.aeEnv(root)},
		{"nq true", []string{"nq", "true"}, append(slices.Clone(h.env), "NQDIR="+nqdir)},
		{"setsid -f true", []string{"setsid", "-f", "true"}, h.env},
		// One start of the binary doing nothing: a launch starts it twice
		// (launcher and supervisor), so this bounds what the launch's own
		// work can be blamed for.
		{"agent-exec --version", []string{h.bin, "--version"}, h.aeEnv(root)},
	}
	tsEnv := append(slices.Clone(h.env), "TS_SOCKET="+filepath.Join(tsdir, "socket"), "TMPDIR="+tsdir, "TS_MAXFINISHED=1000")
	if _, err := exec.LookPath("tsp"); err == nil {
		tools = append(tools, tool{"tsp true", []string{"tsp", "true"}, tsEnv})
		defer func() {
			c := exec.Command("tsp", "-K")
			c.Env = tsEnv
			c.Run()
		}()
	}
	// The floor of any Go program's start on this machine, for reference:
	// an empty main built here (skipped without a Go toolchain).
	if empty, err := buildEmptyGo(h.tmp); err == nil {
		tools = append(tools, tool{"an empty Go program", []string{empty}, h.env})
	} else {
		h.note("P1: no empty-Go-program reference: %v", err)
	}
	for _, t := range tools {
		if _, err := exec.LookPath(t.argv[0]); err != nil {
			return fmt.Errorf("%s: %w (apt-get install -y nq task-spooler)", t.name, err)
		}
	}
	times := make([][]float64, len(tools))
	// One untimed warm-up each (page cache, tsp server start).
	for i := -1; i < h.runs; i++ {
		for k := range tools {
			t := tools[(k+max(i, 0))%len(tools)] // rotate the order every round
			idx := (k + max(i, 0)) % len(tools)
			res, err := spawn(t.argv, t.env, h.tmp)
			if err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			if res.Exit != 0 {
				return fmt.Errorf("%s: exit %d: %s", t.name, res.Exit, trimOut(res.Stderr))
			}
			if i >= 0 {
				times[idx] = append(times[idx], ms(res.Wall))
			}
		}
	}
	nqMed := median(times[1])
	for k, t := range tools {
		r := row{ID: "P1", What: "launch: `" + t.name + "`", Median: fmtMS(median(times[k])), P95: fmtMS(pct(times[k], 95)), Verdict: "peer"}
		if t.argv[0] == h.bin && k > 0 {
			r.What, r.Verdict = fmt.Sprintf("start of the binary alone: `%s` (%.2f × nq)", t.name, median(times[k])/nqMed), "reference"
		}
		if t.name == "an empty Go program" {
			r.What, r.Verdict = fmt.Sprintf("start of an empty Go program, built with the same toolchain (%.2f × nq)", median(times[k])/nqMed), "reference"
		}
		if k == 0 {
			r.What += fmt.Sprintf(" (%.2f × nq)", median(times[0])/nqMed)
			r.Target = fmt.Sprintf("≤ 2 × nq = %s", fmtMS(2*nqMed))
			r.Ratio = ratio(median(times[0]) / (2 * nqMed))
			r.Verdict = verdict(median(times[0]) <= 2*nqMed)
		}
		h.add(r)
	}
	h.note("P1: %d interleaved runs per tool (after one warm-up each); wall time from exec to exit of the launcher, measured by the harness with waitid.", h.runs)
	return h.reapRoot(root, 10*time.Second)
}

// reapRoot waits until every job of root is terminal and its supervisor
// gone, killing what is still running after d.
func (h *harness) reapRoot(root string, d time.Duration) error {
	ents, err := os.ReadDir(root)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	deadline := time.Now().Add(d)
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		id := e.Name()
		for {
			st, err := readState(root, id)
			if err == nil && terminal(st.Job.Status) {
				if st.Supervisor != nil && st.Supervisor.Pid > 1 {
					waitGone(st.Supervisor.Pid, time.Until(deadline)+time.Second)
				}
				break
			}
			if time.Now().After(deadline) {
				h.ae(root, "kill", "--signal", "KILL", id)
				deadline = time.Now().Add(5 * time.Second)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return nil
}

// p2 measures how fast a waiter learns that a job finished: the job
// writes its clock into a file right before exiting; the latency is the
// waiter's return time minus that clock.
func (h *harness) p2() error {
	root := filepath.Join(h.tmp, "p2-root")
	defer h.reapRoot(root, 10*time.Second)
	var srv *server
	if h.serve {
		var err error
		if srv, err = h.startServe(root); err != nil {
			h.note("P2: HTTP /wait skipped: %v", err)
			srv = nil
		} else {
			defer srv.stop()
		}
	}
	n := h.runs
	var waitLat, runLat, httpLat []float64
	for i := range n {
		tfile := filepath.Join(h.tmp, fmt.Sprintf("p2-t-%d", i))
		script := "sleep 1; date +%s%N > " + tfile
		// wait --forever on a job started with run --no-wait.
		id, _, err := h.launch(root, "--no-auto-gc", "--", "sh", "-c", script)
		if err != nil {
			return err
		}
		res, m, err := h.ae(root, "wait", "--forever", id)
		if err != nil {
			return err
		}
		if m["state"] != "exited" {
			return fmt.Errorf("wait: state %v", m["state"])
		}
		l, err := latency(tfile, res.End)
		if err != nil {
			return err
		}
		waitLat = append(waitLat, l)

		// run --wait --forever.
		res, m, err = h.ae(root, "run", "--wait", "--forever", "--no-auto-gc", "--", "sh", "-c", script)
		if err != nil {
			return err
		}
		if m["state"] != "exited" {
			return fmt.Errorf("run --wait: state %v", m["state"])
		}
		if l, err = latency(tfile, res.End); err != nil {
			return err
		}
		runLat = append(runLat, l)

		if srv != nil {
			id, _, err := h.launch(root, "--no-auto-gc", "--", "sh", "-c", script)
			if err != nil {
				return err
			}
			body, end, err := srv.get("/wait/" + id)
			if err != nil {
				return err
			}
			if !strings.Contains(string(body), `"state":"exited"`) {
				return fmt.Errorf("GET /wait: %s", trimOut(body))
			}
			if l, err = latency(tfile, end); err != nil {
				return err
			}
			httpLat = append(httpLat, l)
		}
	}
	add := func(what string, v []float64) {
		ok := median(v) <= 20 && pct(v, 95) < 50
		h.add(row{ID: "P2", What: what, Median: fmtMS(median(v)), P95: fmtMS(pct(v, 95)),
			Target: "median ≤ 20 ms, p95 < 50 ms",
			Ratio:  fmt.Sprintf("%s / %s", ratio(median(v)/20), ratio(pct(v, 95)/50)), Verdict: verdict(ok)})
	}
	add("wake-up: `wait --forever`", waitLat)
	add("wake-up: `run --wait --forever`", runLat)
	if len(httpLat) > 0 {
		add("wake-up: HTTP `GET /wait/{id}`", httpLat)
	} else {
		h.add(row{ID: "P2", What: "wake-up: HTTP `GET /wait/{id}`", Verdict: "skipped (no `serve`)"})
	}
	h.note("P2: %d runs each; latency = the waiter's return (process exit, or HTTP response read) − the clock the job wrote just before exiting.", n)
	return nil
}

// latency reads the nanosecond clock the job wrote to path and returns
// end − that clock in milliseconds.
func latency(path string, end time.Time) (float64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return float64(end.UnixNano()-ns) / 1e6, nil
}

// p8 launches 100 jobs at once on one root and checks every one of them.
func (h *harness) p8() error {
	root := filepath.Join(h.tmp, "p8-root")
	defer h.reapRoot(root, 10*time.Second)
	const n = 100
	type out struct {
		id  string
		res procResult
		err error
	}
	outs := make([]out, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res, err := spawn([]string{h.bin, "run", "--no-wait", "--", "echo", fmt.Sprintf("job-%d", i)}, h.aeEnv(root), h.tmp)
			outs[i] = out{res: res, err: err}
			if err == nil {
				var m map[string]any
				if json.Unmarshal(res.Stdout, &m) == nil {
					outs[i].id, _ = m["job_id"].(string)
				}
			}
		}()
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	wall := time.Since(t0)
	var problems []string
	ids := map[string]int{}
	var lat []float64
	for i, o := range outs {
		switch {
		case o.err != nil:
			problems = append(problems, fmt.Sprintf("launch %d: %v", i, o.err))
		case o.res.Exit != 0 || o.id == "":
			problems = append(problems, fmt.Sprintf("launch %d: exit %d: %s %s", i, o.res.Exit, trimOut(o.res.Stdout), trimOut(o.res.Stderr)))
		default:
			ids[o.id]++
			lat = append(lat, ms(o.res.Wall))
		}
	}
	for id, c := range ids {
		if c > 1 {
			problems = append(problems, fmt.Sprintf("id %s returned %d times", id, c))
		}
	}
	// Every job must reach a terminal state with complete files.
	deadline := time.Now().Add(60 * time.Second)
	for i, o := range outs {
		if o.id == "" {
			continue
		}
		var st *jobState
		for {
			var err error
			st, err = readState(root, o.id)
			if err == nil && terminal(st.Job.Status) || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if st == nil || st.Job.Status != "exited" || st.Result.ExitCode == nil || *st.Result.ExitCode != 0 {
			problems = append(problems, fmt.Sprintf("job %d (%s) did not exit 0: %+v", i, o.id, st))
			continue
		}
		if st.Supervisor != nil {
			waitGone(st.Supervisor.Pid, 5*time.Second)
		}
		if p := checkJobFiles(filepath.Join(root, o.id), o.id, fmt.Sprintf("job-%d", i)); p != "" {
			problems = append(problems, fmt.Sprintf("job %d (%s): %s", i, o.id, p))
		}
	}
	ok := len(problems) == 0 && len(ids) == n
	h.add(row{ID: "P8", What: fmt.Sprintf("100 parallel `run --no-wait`: %d exit 0, %d distinct ids, all terminal with complete files: %v", len(lat), len(ids), ok),
		Median: fmtMS(median(lat)), P95: fmtMS(pct(lat, 95)), Target: "all exit 0; 100 ids; all complete", Verdict: verdict(ok)})
	h.note("P8: 100 launches started together took %s wall in total; per-launch latency under this contention in the table.", wall.Round(time.Millisecond))
	for i, p := range problems {
		if i == 10 {
			h.note("P8: … %d more problems", len(problems)-10)
			break
		}
		h.note("P8 problem: %s", p)
	}
	return nil
}

// checkJobFiles verifies a finished `echo text` job's directory.
func checkJobFiles(dir, id, text string) string {
	var meta struct {
		Job struct {
			ID string `json:"id"`
		} `json:"job"`
		Command []string `json:"command"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	if err != nil {
		return err.Error()
	}
	if err := json.Unmarshal(data, &meta); err != nil || meta.Job.ID != id || len(meta.Command) != 2 || meta.Command[1] != text {
		return fmt.Sprintf("meta.json: %v %s", err, trimOut(data))
	}
	if b, err := os.ReadFile(filepath.Join(dir, "stdout.log")); err != nil || string(b) != text+"\n" {
		return fmt.Sprintf("stdout.log %q %v", b, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "stderr.log")); err != nil || len(b) != 0 {
		return fmt.Sprintf("stderr.log %q %v", b, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "full.log")); err != nil || !strings.Contains(string(b), "[STDOUT] "+text+"\n") {
		return fmt.Sprintf("full.log %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".lock")); err != nil {
		return err.Error()
	}
	return ""
}

// buildEmptyGo builds a static Go program whose main does nothing into dir.
func buildEmptyGo(dir string) (string, error) {
	src := filepath.Join(dir, "empty-go")
	if err := os.MkdirAll(src, 0o700); err != nil {
		return "", err
	}
	files := map[string]string{"go.mod": "module empty\n\ngo 1.21\n", "main.go": "package main\n\nfunc main() {}\n"}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(text), 0o600); err != nil {
			return "", err
		}
	}
	bin := filepath.Join(src, "empty")
	c := exec.Command("go", "build", "-o", bin, ".")
	c.Dir = src
	c.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=", "GOWORK=off")
	if out, err := c.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v: %s", err, trimOut(out))
	}
	return bin, nil
}
