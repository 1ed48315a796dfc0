package httpapi_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// loadClient keeps enough idle connections for the concurrency used here,
// so the load test measures the server, not connection setup.
func loadClient(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
}

// hammer sends n requests from c concurrent workers and returns the number
// of non-200 answers and the throughput.
func hammer(t testing.TB, client *http.Client, workers, n int, mk func(i int) *http.Request) (failures int, perSec float64) {
	t.Helper()
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := make(chan int)
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				resp, err := client.Do(mk(i))
				ok := err == nil && resp.StatusCode == http.StatusOK
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if !ok {
					mu.Lock()
					failures++
					if failures == 1 {
						t.Logf("first failure: %v %v", err, resp)
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return failures, float64(n) / time.Since(start).Seconds()
}

// TestLoad drives 200 concurrent GET /status and 50 concurrent POST /exec,
// plus abandoned waits, and checks that goroutines and file descriptors
// return to their baseline and that no supervisor is left a zombie
// (SPEC §9.2 R11).
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test skipped in -short mode")
	}
	e := newEnv(t)
	client := loadClient(200)
	defer client.CloseIdleConnections()
	id := e.startSleeper()
	// A first wait starts the Manager's shared file watcher, which lives as
	// long as the Manager and so belongs to the baseline.
	wantOK(t, e.do(http.MethodGet, "/wait/"+id+"?until_ms=0", ""), "wait")
	http.DefaultClient.CloseIdleConnections()
	// Let the server settle (its per-connection goroutines end once the
	// client closes) before taking the baseline.
	baseG, baseFD := settle(t, -1, -1)

	failures, rate := hammer(t, client, 200, 5000, func(int) *http.Request {
		req, _ := http.NewRequest(http.MethodGet, e.url+"/status/"+id, nil)
		return req
	})
	if failures > 0 {
		t.Fatalf("%d of 5000 GET /status failed", failures)
	}
	t.Logf("GET /status: %.0f requests/s with 200 concurrent clients", rate)

	var idsMu sync.Mutex
	ids := map[string]bool{}
	failures, rate = hammer(t, client, 50, 200, func(i int) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, e.url+"/exec", strings.NewReader(`{"command":["echo `+strconv.Itoa(i)+`"],"wait":true}`))
		req.Header.Set("Content-Type", "application/json")
		return req
	})
	if failures > 0 {
		t.Fatalf("%d of 200 POST /exec failed", failures)
	}
	t.Logf("POST /exec (wait): %.0f requests/s with 50 concurrent clients", rate)
	r := e.do(http.MethodGet, "/jobs?limit=0&state=exited", "")
	jobs, _ := r.field("jobs")
	for _, j := range jobs.([]any) {
		// The sleeper may have exited too on a slow machine: count only
		// the jobs POST /exec started.
		if jid := j.(map[string]any)["job_id"].(string); jid != id {
			idsMu.Lock()
			ids[jid] = true
			idsMu.Unlock()
		}
	}
	if len(ids) != 200 {
		t.Fatalf("%d distinct exited jobs; want 200", len(ids))
	}

	// Abandoned waits must not leak goroutines or watches.
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Timeout: 200 * time.Millisecond}
			if resp, err := c.Get(e.url + "/wait/" + id); err == nil {
				resp.Body.Close()
				t.Errorf("wait answered: %s", resp.Status)
			}
			c.CloseIdleConnections()
		}()
	}
	wg.Wait()

	client.CloseIdleConnections()
	http.DefaultClient.CloseIdleConnections()
	settle(t, baseG, baseFD)
	poll(t, "supervisors reaped", 10*time.Second, func() bool { return len(zombieChildren()) == 0 })
}

// settle waits until the goroutine and fd counts are at most the given
// baseline (plus a small allowance for runtime helpers); with a negative
// baseline it waits for the counts to stop changing and returns them.
func settle(t *testing.T, baseG, baseFD int) (int, int) {
	t.Helper()
	count := func() (int, int) {
		ents, _ := os.ReadDir("/proc/self/fd")
		return runtime.NumGoroutine(), len(ents)
	}
	if baseG < 0 {
		g, fd := count()
		for range 50 {
			time.Sleep(20 * time.Millisecond)
			g2, fd2 := count()
			if g2 == g && fd2 == fd {
				break
			}
			g, fd = g2, fd2
		}
		return g, fd
	}
	var g, fd int
	deadline := time.Now().Add(10 * time.Second)
	for {
		g, fd = count()
		if g <= baseG+2 && (fd <= baseFD+2 || runtime.GOOS != "linux") {
			return g, fd
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("goroutines %d (baseline %d), fds %d (baseline %d)\n%s", g, baseG, fd, baseFD, buf[:n])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// zombieChildren lists children of this process in the zombie state
// (Linux; empty elsewhere).
func zombieChildren() []int {
	ents, _ := os.ReadDir("/proc")
	me := os.Getpid()
	var out []int
	for _, d := range ents {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(data)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		var state byte
		var ppid int
		if _, err := fmt.Sscanf(s[i+2:], "%c %d", &state, &ppid); err == nil && ppid == me && state == 'Z' {
			out = append(out, pid)
		}
	}
	return out
}

// BenchmarkStatus measures GET /status/{id} over loopback with parallel
// clients (go test -bench Status -run ^$ ./internal/httpapi).
func BenchmarkStatus(b *testing.B) {
	e := newEnv(b)
	client := loadClient(256)
	defer client.CloseIdleConnections()
	url := e.url + "/status/" + e.startSleeper()
	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}
