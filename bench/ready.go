//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// p10 measures readiness latency (SPEC §11.2): how soon a waiter learns
// that a job printed its "ready" line. The job prints READY, then writes
// its clock into a file, then keeps running; the latency is the waiter's
// return time minus that clock (it can be slightly negative: the waiter
// may return before the job has written the file).
func (h *harness) p10() error {
	root := filepath.Join(h.tmp, "p10-root")
	defer h.reapRoot(root, 10*time.Second)
	var srv *server
	if h.serve {
		var err error
		if srv, err = h.startServe(root); err != nil {
			h.note("P10: HTTP /wait skipped: %v", err)
			srv = nil
		} else {
			defer srv.stop()
		}
	}
	n := h.runs
	var waitLat, runLat, httpLat, strictLat []float64
	kill := func(id string) { h.ae(root, "kill", "--signal", "KILL", id) }
	for i := range n {
		tfile := filepath.Join(h.tmp, fmt.Sprintf("p10-t-%d", i))
		script := "sleep 1; echo READY; date +%s%N > " + tfile + "; sleep 30"
		// wait --for-output on a job started with run --no-wait.
		os.Remove(tfile)
		id, _, err := h.launch(root, "--no-auto-gc", "--", "sh", "-c", script)
		if err != nil {
			return err
		}
		res, m, err := h.ae(root, "wait", "--for-output", "READY", id)
		if err != nil {
			kill(id)
			return err
		}
		if m["matched"] != true {
			kill(id)
			return fmt.Errorf("wait --for-output: %s", trimOut(res.Stdout))
		}
		// The clock is written after READY: read it before the kill.
		l, err := readyLatency(tfile, res.End)
		kill(id)
		if err != nil {
			return err
		}
		waitLat = append(waitLat, l)

		// The same with the clock taken before READY is printed: an upper
		// bound that never comes out negative.
		os.Remove(tfile)
		strict := "sleep 1; date +%s%N > " + tfile + "; echo READY; sleep 30"
		if id, _, err = h.launch(root, "--no-auto-gc", "--", "sh", "-c", strict); err != nil {
			return err
		}
		res, m, err = h.ae(root, "wait", "--for-output", "READY", id)
		kill(id)
		if err != nil {
			return err
		}
		if m["matched"] != true {
			return fmt.Errorf("wait --for-output: %s", trimOut(res.Stdout))
		}
		if l, err = readyLatency(tfile, res.End); err != nil {
			return err
		}
		strictLat = append(strictLat, l)

		// run --wait-for-output.
		os.Remove(tfile)
		res, m, err = h.ae(root, "run", "--wait-for-output", "READY", "--no-auto-gc", "--", "sh", "-c", script)
		if err != nil {
			return err
		}
		runID, _ := m["job_id"].(string)
		if m["matched"] != true {
			kill(runID)
			return fmt.Errorf("run --wait-for-output: %s", trimOut(res.Stdout))
		}
		l, err = readyLatency(tfile, res.End)
		kill(runID)
		if err != nil {
			return err
		}
		runLat = append(runLat, l)

		if srv != nil {
			os.Remove(tfile)
			id, _, err := h.launch(root, "--no-auto-gc", "--", "sh", "-c", script)
			if err != nil {
				return err
			}
			body, end, err := srv.get("/wait/" + id + "?for_output=READY&until_ms=30000")
			if err == nil && !strings.Contains(string(body), `"matched":true`) {
				err = fmt.Errorf("GET /wait?for_output: %s", trimOut(body))
			}
			if err == nil {
				l, err = readyLatency(tfile, end)
			}
			kill(id)
			if err != nil {
				return err
			}
			httpLat = append(httpLat, l)
		}
	}
	add := func(what string, v []float64) {
		ok := median(v) <= 100 && pct(v, 95) < 250
		h.add(row{ID: "P10", What: what, Median: fmtMS(median(v)), P95: fmtMS(pct(v, 95)),
			Target: "median ≤ 100 ms, p95 < 250 ms",
			Ratio:  fmt.Sprintf("%s / %s", ratio(median(v)/100), ratio(pct(v, 95)/250)), Verdict: verdict(ok)})
	}
	add("readiness: `wait --for-output READY`", waitLat)
	add("readiness: `wait --for-output READY`, clock read before the line", strictLat)
	add("readiness: `run --wait-for-output READY`", runLat)
	if len(httpLat) > 0 {
		add("readiness: HTTP `GET /wait/{id}?for_output=READY`", httpLat)
	} else {
		h.add(row{ID: "P10", What: "readiness: HTTP `GET /wait/{id}?for_output=`", Verdict: "skipped (no `serve`)"})
	}
	h.note("P10: %d runs each; latency = the waiter's return (process exit, or HTTP response read) − the clock the job wrote right after printing READY (SPEC §9.1's workload; negative when the waiter returned before the job's next command wrote the clock), and for the second row the clock it wrote right before printing READY (an upper bound).", n)
	return nil
}

// readyLatency is latency for a clock file the job writes after the line
// the waiter returns on: the waiter may be faster than the job's next
// command, so the file is awaited briefly.
func readyLatency(path string, end time.Time) (float64, error) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		if data, err := os.ReadFile(path); err == nil && strings.HasSuffix(string(data), "\n") {
			break
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%s: not written", path)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return latency(path, end)
}
