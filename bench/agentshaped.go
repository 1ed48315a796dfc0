//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// p11 measures the agent-shaped launch (SPEC §11.8): a plain run under an
// agent harness's open, silent stdin pipe (the 50 ms grace), against the
// same run with --no-stdin, interleaved; and a plain run of a server-like
// job, which returns once its ready line has settled instead of after the
// 10 s snapshot window.
func (h *harness) p11() error {
	root := filepath.Join(h.tmp, "p11-root")
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	defer w.Close() // held open and silent for the whole scenario
	argv := []string{h.bin, "run", "--no-auto-gc", "--", "true"}
	noStdin := []string{h.bin, "run", "--no-auto-gc", "--no-stdin", "--", "true"}
	var piped, plain []float64
	for i := -1; i < h.runs; i++ {
		res, err := spawnWithStdin(argv, h.aeEnv(root), h.tmp, r)
		if err != nil || res.Exit != 0 {
			return fmt.Errorf("run with a silent pipe: %v exit %d: %s", err, res.Exit, trimOut(res.Stderr))
		}
		res2, err := spawn(noStdin, h.aeEnv(root), h.tmp)
		if err != nil || res2.Exit != 0 {
			return fmt.Errorf("run --no-stdin: %v exit %d: %s", err, res2.Exit, trimOut(res2.Stderr))
		}
		if i >= 0 { // one untimed warm-up
			piped = append(piped, ms(res.Wall))
			plain = append(plain, ms(res2.Wall))
		}
	}
	h.add(row{ID: "P11", What: "`run -- true` with an open, silent pipe as stdin", Median: fmtMS(median(piped)), P95: fmtMS(pct(piped, 95)),
		Target: "median < 350 ms", Ratio: ratio(median(piped) / 350), Verdict: verdict(median(piped) < 350)})
	h.add(row{ID: "P11", What: "`run --no-stdin -- true`", Median: fmtMS(median(plain)), P95: fmtMS(pct(plain, 95)), Verdict: "peer"})

	var server, waited []float64
	var ids []string
	defer func() { h.killAll(root, ids); h.reapRoot(root, 10*time.Second) }()
	for i := 0; i < min(h.runs, 10); i++ {
		res, m, err := h.ae(root, "run", "--no-auto-gc", "--", "sh", "-c", "echo listening; exec sleep 60")
		if err != nil {
			return err
		}
		ids = append(ids, fmt.Sprint(m["job_id"]))
		snap, _ := m["snapshot"].(map[string]any)
		if m["state"] != "running" || snap == nil || snap["stdout_tail"] != "listening" {
			return fmt.Errorf("server run: %s", trimOut(res.Stdout))
		}
		server = append(server, ms(res.Wall))
		if v, ok := m["waited_ms"].(float64); ok {
			waited = append(waited, v)
		}
	}
	h.add(row{ID: "P11", What: "plain `run` of a server (`echo listening; exec sleep 60`): wall time", Median: fmtMS(median(server)), P95: fmtMS(pct(server, 95)),
		Target: "< 3 s (was the 10 s window)", Ratio: ratio(median(server) / 3000), Verdict: verdict(pct(server, 95) < 3000)})
	h.note("P11: server run waited_ms median %.0f (settle 500 ms)", median(waited))
	return nil
}
