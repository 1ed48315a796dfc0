//go:build linux

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	size512 = 536870912
	size256 = 268435456
)

// yesLine is the 99-character line of the `yes` workload (100 bytes per
// line with the newline).
var yesLine = strings.Repeat("0123456789abcdefghijklmnopqrstuvwxyz", 3)[:99]

// workload is a command writing to stdout, run by agent-exec (jobArgs, the
// COMMAND after --) and by sh -c with a redirect (shell).
type workload struct {
	name    string
	jobArgs []string
	shell   string
	size    int64
}

var (
	zeroLoad = workload{"`head -c 536870912 /dev/zero`", []string{"head", "-c", "536870912", "/dev/zero"}, "head -c 536870912 /dev/zero", size512}
	yesLoad  = workload{"`yes <99 chars> | head -c 536870912`", []string{"yes " + yesLine + " | head -c 536870912"}, "yes " + yesLine + " | head -c 536870912", size512}
	lineLoad = workload{"one 256 MiB line: `head -c 268435456 /dev/zero | tr '\\0' a`", []string{`head -c 268435456 /dev/zero | tr '\0' a`}, `head -c 268435456 /dev/zero | tr '\0' a`, size256}
)

// jobRun is one agent-exec execution of a workload.
type jobRun struct {
	id      string
	elapsed time.Duration // launch start → terminal state observed by wait
	peakKB  int64         // supervisor VmHWM
	exited  bool          // supervisor exited within the bound
}

// runJob launches args as a job, follows its supervisor's VmHWM and waits
// until the job is terminal and the supervisor is gone (at most linger).
func (h *harness) runJob(root string, linger time.Duration, args ...string) (jobRun, error) {
	t0 := time.Now()
	id, _, err := h.launch(root, append([]string{"--no-auto-gc"}, args...)...)
	if err != nil {
		return jobRun{}, err
	}
	spid, err := supervisorPid(root, id)
	if err != nil {
		return jobRun{id: id}, err
	}
	poll := pollHWM(spid)
	res, m, err := h.ae(root, "wait", "--forever", "--max-bytes", "0", id)
	if err != nil {
		poll.finish(0)
		return jobRun{id: id}, err
	}
	jr := jobRun{id: id, elapsed: res.End.Sub(t0)}
	jr.peakKB, jr.exited = poll.finish(linger)
	if m["state"] != "exited" || m["exit_code"] != 0.0 {
		return jr, fmt.Errorf("job %s: state %v exit_code %v", id, m["state"], m["exit_code"])
	}
	return jr, nil
}

// redirect runs the workload as sh -c '… > out 2> err' and returns the wall time.
func (h *harness) redirect(w workload, out string) (time.Duration, error) {
	res, err := spawn([]string{"sh", "-c", w.shell + " > " + out + " 2> " + out + ".err"}, h.env, h.tmp)
	if err != nil {
		return 0, err
	}
	if res.Exit != 0 {
		return 0, fmt.Errorf("sh -c %q: exit %d", w.shell, res.Exit)
	}
	os.Remove(out + ".err")
	return res.Wall, nil
}

// p5result keeps P5's agent-exec figures for P6 and P7.
type p5result struct {
	aeMed, baseMed float64
	peakKB         int64
}

var p5results = map[string]*p5result{}

// p5 compares a job writing 512 MiB with the same command redirected to a
// file, and checks that stdout.log holds exactly the bytes written.
func (h *harness) p5() error {
	root := filepath.Join(h.tmp, "p5-root")
	defer h.reapRoot(root, 10*time.Second)
	for _, w := range []workload{zeroLoad, yesLoad} {
		r, err := h.throughput(root, w, runP5, nil)
		if err != nil {
			return err
		}
		p5results[w.name] = r
	}
	// For reference: the yes workload without full.log, which is most of
	// the supervisor's work on short lines (every byte again, with a
	// timestamp per line).
	if h.noFullLog {
		if _, err := h.throughput(root, yesLoad, runNoFullLog, []string{"--no-full-log"}); err != nil {
			return err
		}
	}
	return nil
}

// throughputKind says which row a throughput run makes.
type throughputKind int

const (
	runP5        throughputKind = iota // P5: job vs redirect
	runNoFullLog                       // P5 reference: the job with --no-full-log
	runP7                              // P7: the job with a sink and a never-matching pattern, vs P5's job
)

// throughput runs w h.p5runs times interleaved with its redirect baseline,
// with extra run flags; it adds the P5 (or P7) row.
func (h *harness) throughput(root string, w workload, kind throughputKind, extra []string) (*p5result, error) {
	ref := filepath.Join(h.tmp, "p5-ref")
	base := filepath.Join(h.tmp, "p5-base")
	defer os.Remove(ref)
	defer os.Remove(base)
	var aeT, baseT []float64
	var peak int64
	identical := true
	var mismatch string
	for r := range h.p5runs {
		var jr jobRun
		doJob := func() error {
			settle()
			var err error
			args := append(append([]string{}, extra...), "--")
			jr, err = h.runJob(root, 10*time.Second, append(args, w.jobArgs...)...)
			if err != nil {
				return err
			}
			aeT = append(aeT, ms(jr.elapsed))
			peak = max(peak, jr.peakKB)
			return nil
		}
		doBase := func() error {
			settle()
			d, err := h.redirect(w, base)
			if err != nil {
				return err
			}
			baseT = append(baseT, ms(d))
			if r == 0 {
				return os.Rename(base, ref)
			}
			return os.Remove(base)
		}
		// The first round runs the baseline first so the reference file
		// exists for the comparison; later rounds alternate the order.
		first, second := doBase, doJob
		if r%2 == 1 {
			first, second = doJob, doBase
		}
		if err := first(); err != nil {
			return nil, err
		}
		if err := second(); err != nil {
			return nil, err
		}
		log := filepath.Join(root, jr.id, "stdout.log")
		fi, err := os.Stat(log)
		if err != nil {
			return nil, err
		}
		if fi.Size() != w.size {
			identical = false
			mismatch = fmt.Sprintf("stdout.log has %d bytes, want %d", fi.Size(), w.size)
		} else if same, err := sameFile(log, ref); err != nil || !same {
			identical = false
			mismatch = fmt.Sprintf("stdout.log differs from the redirect output (%v)", err)
		}
		if !jr.exited {
			return nil, fmt.Errorf("supervisor of %s still running 10 s after the terminal state", jr.id)
		}
		if err := os.RemoveAll(filepath.Join(root, jr.id)); err != nil {
			return nil, err
		}
	}
	res := &p5result{aeMed: median(aeT), baseMed: median(baseT), peakKB: peak}
	rel := res.baseMed / res.aeMed
	id, target, need := "P5", "≥ 0.9 × redirect", 0.9
	what := fmt.Sprintf("512 MiB %s: job (redirect %s, %.0f MiB/s vs %.0f MiB/s); stdout.log byte-identical: %v",
		w.name, fmtMS(res.baseMed), 512/res.aeMed*1000, 512/res.baseMed*1000, identical)
	verdictText, label := verdict(rel >= need && identical), w.name
	switch kind {
	case runNoFullLog:
		what = fmt.Sprintf("512 MiB %s with `--no-full-log` (redirect %s); stdout.log byte-identical: %v", w.name, fmtMS(res.baseMed), identical)
		verdictText, label = "reference", w.name+" --no-full-log"
	case runP7:
		id, target, need = "P7", "≥ 0.7 × P5 job", 0.7
		if p5 := p5results[w.name]; p5 != nil {
			rel = p5.aeMed / res.aeMed
			what = fmt.Sprintf("%s with sink `sleep 60` and a never-matching pattern (P5 job %s, redirect %s); byte-identical: %v",
				w.name, fmtMS(p5.aeMed), fmtMS(res.baseMed), identical)
		} else {
			target = "≥ 0.7 × redirect (P5 not run)"
			what = fmt.Sprintf("%s with sink `sleep 60` and a never-matching pattern (redirect %s); byte-identical: %v", w.name, fmtMS(res.baseMed), identical)
		}
		verdictText = verdict(rel >= need && identical)
	}
	h.add(row{ID: id, What: what, Median: fmtMS(res.aeMed), P95: fmtMS(pct(aeT, 95)), Target: target,
		Ratio: fmt.Sprintf("%.2f (throughput %.2f×)", rel/need, rel), Verdict: verdictText})
	if mismatch != "" {
		h.note("%s %s: %s", id, label, mismatch)
	}
	h.note("%s %s: %d runs; job times %v ms; redirect times %v ms.", id, label, len(aeT), roundAll(aeT), roundAll(baseT))
	return res, nil
}

// settle writes back all dirty data before a timed run, so a run does not
// pay for the write-back of the one before it.
func settle() { syscall.Sync() }

func roundAll(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(int64(x + 0.5))
	}
	return out
}

// p6 measures supervisor memory: USS of 50 idle supervisors, and peak RSS
// under the P5 workloads, one 256 MiB line, and 1,000,000 output matches
// with a slow sink.
func (h *harness) p6() error {
	root := filepath.Join(h.tmp, "p6-root")
	defer h.reapRoot(root, 90*time.Second)
	const n = 50
	ids := make([]string, 0, n)
	defer func() {
		h.killAll(root, ids)
	}()
	for range n {
		id, _, err := h.launch(root, "--no-auto-gc", "--", "sleep", "60")
		if err != nil {
			return err
		}
		ids = append(ids, id)
	}
	// Let the supervisors settle into their idle state before reading.
	time.Sleep(time.Second)
	var total, rss int64
	for _, id := range ids {
		pid, err := supervisorPid(root, id)
		if err != nil {
			return err
		}
		u, err := uss(pid)
		if err != nil {
			return err
		}
		r, err := statusKB(pid, "VmRSS")
		if err != nil {
			return err
		}
		total += u
		rss += r
	}
	per := total / n
	h.add(row{ID: "P6", What: fmt.Sprintf("idle supervisor USS (total of %d `sleep 60` supervisors / %d; mean RSS %s)", n, n, mib(rss/n)),
		Median: mib(per), Target: "≤ 2 MiB", Ratio: ratio(float64(per) / 2048), Verdict: verdict(per <= 2048)})
	h.killAll(root, ids)
	ids = nil

	peakRow := func(what string, kb int64) {
		h.add(row{ID: "P6", What: "peak supervisor RSS (VmHWM): " + what, Median: mib(kb), Target: "≤ 32 MiB",
			Ratio: ratio(float64(kb) / 32768), Verdict: verdict(kb <= 32768)})
	}
	for _, w := range []workload{zeroLoad, yesLoad} {
		r := p5results[w.name]
		if r == nil {
			jr, err := h.runJob(root, 10*time.Second, append([]string{"--"}, w.jobArgs...)...)
			if err != nil {
				return err
			}
			os.RemoveAll(filepath.Join(root, jr.id))
			r = &p5result{peakKB: jr.peakKB}
		}
		peakRow("P5 "+w.name, r.peakKB)
	}
	jr, err := h.runJob(root, 10*time.Second, append([]string{"--"}, lineLoad.jobArgs...)...)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(filepath.Join(root, jr.id, "stdout.log")); err != nil || fi.Size() != size256 {
		h.note("P6: 256 MiB line: stdout.log size wrong (%v)", err)
	}
	os.RemoveAll(filepath.Join(root, jr.id))
	peakRow(lineLoad.name, jr.peakKB)

	if ok, why := h.matchingWorks(root); !ok {
		h.add(row{ID: "P6", What: "peak supervisor RSS: 1,000,000 output matches with a slow sink", Verdict: "skipped (" + why + ")"})
		return nil
	}
	t0 := time.Now()
	jr, err = h.runJob(root, 120*time.Second, "--output-pattern", "MATCH", "--output-command", "sleep 60", "--", "yes MATCH | head -n 1000000")
	if err != nil {
		return err
	}
	lines, dropped, err := countEvents(filepath.Join(root, jr.id, "notification_events.ndjson"))
	if err != nil {
		return err
	}
	h.note("P6: 1,000,000 matches: terminal after %s, supervisor gone after %s (exited in bound: %v); %d events recorded, %d dropped.",
		jr.elapsed.Round(time.Millisecond), time.Since(t0).Round(time.Millisecond), jr.exited, lines, dropped)
	peakRow(fmt.Sprintf("1,000,000 output matches, sink `sleep 60` (%d events recorded)", lines), jr.peakKB)
	return nil
}

// killAll SIGKILLs the jobs of ids in parallel.
func (h *harness) killAll(root string, ids []string) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, id := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			h.ae(root, "kill", "--signal", "KILL", id)
		}()
	}
	wg.Wait()
}

// matchingWorks probes whether this build records output matches.
func (h *harness) matchingWorks(root string) (bool, string) {
	_, m, err := h.ae(root, "run", "--wait", "--no-auto-gc", "--output-pattern", "PROBE", "--", "echo", "PROBE")
	if err != nil {
		return false, "run --output-pattern failed: " + err.Error()
	}
	id := m["job_id"].(string)
	if pid, err := supervisorPid(root, id); err == nil {
		waitGone(pid, 35*time.Second)
	}
	n, _, err := countEvents(filepath.Join(root, id, "notification_events.ndjson"))
	os.RemoveAll(filepath.Join(root, id))
	if err != nil || n != 1 {
		return false, fmt.Sprintf("output matching not implemented in this build: %d events recorded", n)
	}
	return true, ""
}

// countEvents counts the lines of notification_events.ndjson and those
// recording a dropped delivery.
func countEvents(path string) (lines, dropped int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines++
		if bytes.Contains(sc.Bytes(), []byte(`"dropped: `)) {
			dropped++
		}
	}
	return lines, dropped, sc.Err()
}

// p7 checks sink isolation: P5's yes workload with a slow sink and a
// pattern that never matches, and a job whose 10,000 matches overflow the
// sink queue.
func (h *harness) p7() error {
	root := filepath.Join(h.tmp, "p7-root")
	defer h.reapRoot(root, 120*time.Second)
	if ok, why := h.matchingWorks(root); !ok {
		h.add(row{ID: "P7", What: "sink isolation", Verdict: "skipped (" + why + ")"})
		return nil
	}
	if _, err := h.throughput(root, yesLoad, runP7, []string{"--output-pattern", "NEVER-MATCHES-ANY-LINE", "--output-command", "sleep 60"}); err != nil {
		return err
	}
	// Terminal-state delay: the overflowing job against the same job
	// with the same pattern but no sink (so recording 10,000 events costs
	// both alike) and without notifications at all. Supervisors with
	// pending deliveries linger (up to 30 s after S4); that is not
	// measured here.
	const cmd = "yes MATCH | head -n 10000"
	var plain, nosink, sink []float64
	var lines, dropped int
	var sinkIDs []string
	for range 3 {
		jr, err := h.runJob(root, 10*time.Second, "--", cmd)
		if err != nil {
			return err
		}
		plain = append(plain, ms(jr.elapsed))
		jr, err = h.runJob(root, 10*time.Second, "--output-pattern", "MATCH", "--", cmd)
		if err != nil {
			return err
		}
		nosink = append(nosink, ms(jr.elapsed))
		jr, err = h.runJob(root, 0, "--output-pattern", "MATCH", "--output-command", "sleep 60", "--", cmd)
		if err != nil {
			return err
		}
		sink = append(sink, ms(jr.elapsed))
		sinkIDs = append(sinkIDs, jr.id)
	}
	// The lingering supervisors finish their queues in parallel.
	complete := true
	for _, id := range sinkIDs {
		if pid, err := supervisorPid(root, id); err == nil {
			waitGone(pid, 90*time.Second)
		}
		l, d, _ := countEvents(filepath.Join(root, id, "notification_events.ndjson"))
		lines, dropped = l, d
		complete = complete && l == 10000
	}
	p, n, s := median(plain), median(nosink), median(sink)
	bound := max(2*n, n+100)
	ok := s <= bound && complete
	h.add(row{ID: "P7", What: fmt.Sprintf("`%s`, pattern MATCH, sink `sleep 60`: launch → terminal (same pattern without sink: %s; no pattern: %s); %d events recorded, %d dropped",
		cmd, fmtMS(n), fmtMS(p), lines, dropped),
		Median: fmtMS(s), Target: "not delayed by the sink (≤ max(2×, +100 ms) of no sink); every event recorded", Ratio: ratio(s / bound), Verdict: verdict(ok)})
	return nil
}
