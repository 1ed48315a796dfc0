//go:build unix

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestEnsureConcurrentCLIAndHTTP races 50 `run --name --ensure` callers on
// one root, half of them CLI processes and half HTTP requests to a real
// `serve` process: exactly one job is created and every caller is handed
// that job.
func TestEnsureConcurrentCLIAndHTTP(t *testing.T) {
	exe, err := exec.LookPath("agent-exec") // installed on PATH by testscript.Main
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	root := filepath.Join(dir, "jobs")
	env := append(os.Environ(), "AGENT_EXEC_ROOT="+root, "HOME="+dir, "XDG_CONFIG_HOME="+filepath.Join(dir, ".config"))
	t.Cleanup(func() { killAllJobs(root) })

	serve := exec.Command(exe, "serve", "--port", "0")
	serve.Env, serve.Dir = env, dir
	stderr, err := serve.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		serve.Process.Signal(syscall.SIGTERM)
		serve.Wait()
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "agent-exec serve listening on "); ok {
				addr <- a
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	var base string
	select {
	case base = <-addr:
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not report its address")
	}

	const callers = 50
	type answer struct {
		JobID  string `json:"job_id"`
		Reused *bool  `json:"reused"`
		Type   string `json:"type"`
		OK     bool   `json:"ok"`
	}
	answers := make([]answer, callers)
	raw := make([]string, callers)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out []byte
			var err error
			if i%2 == 0 {
				cmd := exec.CommandContext(ctx, exe, "run", "--name", "dev", "--ensure", "--no-wait", "--", "sleep", "30")
				cmd.Env, cmd.Dir = env, dir
				out, err = cmd.Output()
			} else {
				var resp *http.Response
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/exec",
					strings.NewReader(`{"command":["sleep","30"],"cwd":"`+dir+`","name":"dev","ensure":true}`))
				req.Header.Set("Content-Type", "application/json")
				if resp, err = http.DefaultClient.Do(req); err == nil {
					out, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
			}
			raw[i] = string(out)
			if err == nil {
				err = json.Unmarshal(bytes.TrimSpace(out), &answers[i])
			}
			if err != nil {
				t.Errorf("caller %d: %v: %s", i, err, out)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	fresh := 0
	for i, a := range answers {
		if !a.OK || a.Type != "run" || a.Reused == nil || a.JobID != answers[0].JobID {
			t.Errorf("caller %d: %s (caller 0 got %s)", i, raw[i], answers[0].JobID)
			continue
		}
		if !*a.Reused {
			fresh++
		}
	}
	ents, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var jobs []string
	for _, e := range ents {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			jobs = append(jobs, e.Name())
		}
	}
	if fresh != 1 || len(jobs) != 1 {
		t.Fatalf("%d callers created a job; job directories %v", fresh, jobs)
	}
}
