//go:build linux

// Command bench is the benchmark harness for SPEC §9.1 (P1–P9). It runs
// agent-exec side by side with its peers (nq, tsp, setsid -f, plain shell
// redirects) on this machine and prints one Markdown table with medians,
// p95s and the ratio of each measurement to its target.
//
//	go build -o /tmp/bench-ae ./cmd/agent-exec
//	go run ./bench -bin /tmp/bench-ae [-only P1,P2] [-runs 30]
//
// Everything is created below one temporary directory that is removed at
// the end; every job the harness starts is waited for or killed.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// row is one line of the result table.
type row struct {
	ID, What, Median, P95, Target, Ratio, Verdict string
}

func main() {
	bin := flag.String("bin", "", "agent-exec binary to measure (required)")
	only := flag.String("only", "", "comma-separated scenario ids to run, e.g. P1,P4 (default: all)")
	runs := flag.Int("runs", 30, "repetitions for the latency scenarios (P1, P2, P10)")
	p5runs := flag.Int("p5runs", 5, "repetitions of each 512 MiB workload (P5)")
	jobs := flag.Int("jobs", 10000, "terminal jobs in the P4 root")
	keep := flag.Bool("keep", false, "keep the temporary directory")
	flag.Parse()
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "bench: -bin is required")
		os.Exit(2)
	}
	abs, err := filepath.Abs(*bin)
	if err != nil {
		fatal(err)
	}
	if _, err := os.Stat(abs); err != nil {
		fatal(err)
	}
	tmp, err := os.MkdirTemp("", "ae-bench-")
	if err != nil {
		fatal(err)
	}
	tmpBase = tmp
	if !*keep {
		defer os.RemoveAll(tmp)
	}
	h := &harness{bin: abs, runs: max(*runs, 1), p5runs: max(*p5runs, 1), jobs: *jobs, tmp: tmp}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AGENT_EXEC_") && !strings.HasPrefix(kv, "XDG_CONFIG_HOME=") &&
			!strings.HasPrefix(kv, "NQDIR=") && !strings.HasPrefix(kv, "TS_") {
			h.env = append(h.env, kv)
		}
	}
	// An empty configuration directory: the user's config.toml must not
	// change the wrapper or limits under test.
	h.env = append(h.env, "XDG_CONFIG_HOME="+filepath.Join(tmp, "xdg"))
	help, _ := exec.Command(abs, "--help").Output()
	h.serve = strings.Contains(string(help), "\n  serve ")
	runHelp, _ := exec.Command(abs, "run", "--help").Output()
	h.noFullLog = strings.Contains(string(runHelp), "--no-full-log")

	want := map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		if s = strings.ToUpper(strings.TrimSpace(s)); s != "" {
			want[s] = true
		}
	}
	scenarios := []struct {
		id string
		fn func() error
	}{
		{"P1", h.p1}, {"P2", h.p2}, {"P3", h.p3}, {"P4", h.p4}, {"P5", h.p5},
		{"P6", h.p6}, {"P7", h.p7}, {"P8", h.p8}, {"P9", h.p9}, {"P10", h.p10}, {"P11", h.p11},
	}
	fmt.Fprintf(os.Stderr, "bench: %s, %d CPUs, %s/%s, tmp %s\n", abs, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, tmp)
	h.note("machine: %s", machine())
	h.note("load average at start: %s", loadavg())
	start := time.Now()
	for _, s := range scenarios {
		if len(want) > 0 && !want[s.id] {
			continue
		}
		t := time.Now()
		fmt.Fprintf(os.Stderr, "bench: %s …\n", s.id)
		if err := s.fn(); err != nil {
			h.rows = append(h.rows, row{ID: s.id, What: "error: " + err.Error(), Verdict: "ERROR"})
			fmt.Fprintf(os.Stderr, "bench: %s failed: %v\n", s.id, err)
		}
		fmt.Fprintf(os.Stderr, "bench: %s done in %s\n", s.id, time.Since(t).Round(time.Millisecond))
	}
	h.note("load average at end: %s", loadavg())
	h.print(time.Since(start))
}

// machine describes the host: CPUs, CPU model, kernel, clock source.
func machine() string {
	model := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	clock, _ := os.ReadFile("/sys/devices/system/clocksource/clocksource0/current_clocksource")
	return fmt.Sprintf("%d CPUs (%s), %s/%s, kernel %s, clocksource %s", runtime.NumCPU(), model, runtime.GOOS, runtime.GOARCH,
		strings.TrimSpace(string(kernel)), strings.TrimSpace(string(clock)))
}

func loadavg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	return strings.Join(f[:min(3, len(f))], " ")
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

// add appends a table row.
func (h *harness) add(r row) { h.rows = append(h.rows, r) }

// note records a detail printed under the table.
func (h *harness) note(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	h.notes = append(h.notes, s)
	fmt.Fprintln(os.Stderr, "bench:   "+s)
}

func (h *harness) print(total time.Duration) {
	fmt.Println("| Id | Measurement | Median | p95 | Target | Ratio to target | Result |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, r := range h.rows {
		cells := []string{r.ID, r.What, dash(r.Median), dash(r.P95), dash(r.Target), dash(r.Ratio), r.Verdict}
		for i, c := range cells {
			// A pipe inside a cell (shell pipelines) would end the cell.
			cells[i] = strings.ReplaceAll(c, "|", "\\|")
		}
		fmt.Println("| " + strings.Join(cells, " | ") + " |")
	}
	if len(h.notes) > 0 {
		fmt.Println()
		fmt.Println("Details:")
		fmt.Println()
		for _, n := range h.notes {
			fmt.Println("- " + n)
		}
	}
	fmt.Printf("\nTotal harness time: %s.\n", total.Round(time.Second))
}

func dash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// fmtMS formats milliseconds for the table.
func fmtMS(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 10:
		return fmt.Sprintf("%.1f ms", v)
	default:
		return fmt.Sprintf("%.2f ms", v)
	}
}

// verdict is "pass" when ok, else "MISS".
func verdict(ok bool) string {
	if ok {
		return "pass"
	}
	return "MISS"
}

func ratio(v float64) string { return fmt.Sprintf("%.2f", v) }

func mib(kb int64) string { return fmt.Sprintf("%.1f MiB", float64(kb)/1024) }
