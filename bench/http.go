//go:build linux

package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// server is a running `agent-exec serve` on a loopback port.
type server struct {
	cmd  *exec.Cmd
	base string
	cl   *http.Client
}

func (h *harness) startServe(root string) (*server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	logf, err := os.Create(filepath.Join(h.tmp, fmt.Sprintf("serve-%d.log", port)))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(h.bin, "serve", "--port", strconv.Itoa(port))
	cmd.Env = h.aeEnv(root)
	cmd.Dir = h.tmp
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, base: fmt.Sprintf("http://127.0.0.1:%d", port), cl: &http.Client{}}
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := s.cl.Get(s.base + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.stop()
			out, _ := os.ReadFile(logf.Name())
			return nil, fmt.Errorf("serve did not answer /health within 5 s: %v %s", err, trimOut(out))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// get returns the body and the time it was read completely.
func (s *server) get(path string) ([]byte, time.Time, error) {
	resp, err := s.cl.Get(s.base + path)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	end := time.Now()
	if err == nil && resp.StatusCode != 200 {
		err = fmt.Errorf("GET %s: %s: %s", path, resp.Status, trimOut(body))
	}
	return body, end, err
}

func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

var (
	reqPerSec = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	non2xx    = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	sockErr   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	latLine   = regexp.MustCompile(`Latency\s+(\S+)\s+(\S+)\s+(\S+)`)
)

// p9 load-tests GET /status/{id} with wrk when this build has `serve`.
func (h *harness) p9() error {
	if !h.serve {
		h.add(row{ID: "P9", What: "HTTP `GET /status/{id}` under `wrk -c 50 -d 10s`", Verdict: "skipped (no `serve` in this build)"})
		return nil
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		h.add(row{ID: "P9", What: "HTTP `GET /status/{id}`", Verdict: "skipped (wrk not installed)"})
		return nil
	}
	root := filepath.Join(h.tmp, "p9-root")
	defer h.reapRoot(root, 10*time.Second)
	_, m, err := h.ae(root, "run", "--wait", "--no-auto-gc", "--", "echo", "hello")
	if err != nil {
		return err
	}
	id := m["job_id"].(string)
	srv, err := h.startServe(root)
	if err != nil {
		return err
	}
	defer srv.stop()
	pid := srv.cmd.Process.Pid
	// Warm up, then compare the resident set before and after the load.
	for range 100 {
		if _, _, err := srv.get("/status/" + id); err != nil {
			return err
		}
	}
	rss0, _ := statusKB(pid, "VmRSS")
	out, err := exec.Command("wrk", "-t", "2", "-c", "50", "-d", "10s", srv.base+"/status/"+id).CombinedOutput()
	if err != nil {
		return fmt.Errorf("wrk: %v: %s", err, trimOut(out))
	}
	rss1, _ := statusKB(pid, "VmRSS")
	hwm, _ := statusKB(pid, "VmHWM")
	text := string(out)
	rps := 0.0
	if mm := reqPerSec.FindStringSubmatch(text); mm != nil {
		rps, _ = strconv.ParseFloat(mm[1], 64)
	}
	errs := 0
	if mm := non2xx.FindStringSubmatch(text); mm != nil {
		n, _ := strconv.Atoi(mm[1])
		errs += n
	}
	if mm := sockErr.FindStringSubmatch(text); mm != nil {
		for _, s := range mm[1:] {
			n, _ := strconv.Atoi(s)
			errs += n
		}
	}
	lat := ""
	if mm := latLine.FindStringSubmatch(text); mm != nil {
		lat = fmt.Sprintf("latency avg %s, stdev %s, max %s", mm[1], mm[2], mm[3])
	}
	// "Stable" = the resident set after 10 s of load stays within 2× of
	// the warmed-up one and under 64 MiB.
	stable := rss1 <= 2*rss0 || rss1 <= 64*1024
	h.add(row{ID: "P9", What: fmt.Sprintf("HTTP `GET /status/{id}`, `wrk -t2 -c50 -d10s`: %.0f req/s, %d errors, server RSS %s → %s (peak %s)", rps, errs, mib(rss0), mib(rss1), mib(hwm)),
		Target: "report req/s; no errors; RSS stable", Verdict: verdict(errs == 0 && rps > 0 && stable)})
	if lat != "" {
		h.note("P9: wrk %s.", strings.TrimSpace(lat))
	}
	return nil
}
