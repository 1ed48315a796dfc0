package mcpserver

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/agentexec/agentexec"
)

// TestProgressNotifications: run and wait calls carrying a progress token
// get notifications/progress (elapsed ms, newest output line) while they
// wait; calls without one get none.
func TestProgressNotifications(t *testing.T) {
	saved := progressEvery
	progressEvery = 100 * time.Millisecond
	t.Cleanup(func() { progressEvery = saved })
	dir := t.TempDir()
	m, err := agentexec.Open(filepath.Join(dir, "jobs"), agentexec.Options{Cwd: dir, LongLived: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	st, ct := mcp.NewInMemoryTransports()
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, m, Options{Cwd: dir, Version: "t"}, st) }()
	var mu sync.Mutex
	var got []*mcp.ProgressNotificationParams
	client := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, &mcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			mu.Lock()
			got = append(got, req.Params)
			mu.Unlock()
		}})
	cs, err := client.Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		killAll(t, m)
		cs.Close()
		stop()
		<-done
		m.Close()
	})
	callTool := func(name string, args map[string]any, token any) map[string]any {
		p := &mcp.CallToolParams{Name: name, Arguments: args}
		if token != nil {
			p.SetProgressToken(token)
		}
		res, err := cs.CallTool(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		var env map[string]any
		b, _ := json.Marshal(res.StructuredContent)
		json.Unmarshal(b, &env)
		if env["ok"] != true {
			t.Fatalf("%s: %v", name, env)
		}
		return env
	}
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(got)
	}

	run := callTool("run", map[string]any{"command": []string{"echo starting; sleep 0.6; echo 'step 2'; sleep 30"},
		"wait_for_output": "never printed", "until_ms": 1500}, "tok-run")
	if n := count(); n == 0 {
		t.Fatal("run: no progress notification")
	}
	mu.Lock()
	last := got[len(got)-1]
	if last.ProgressToken != "tok-run" || last.Progress <= 0 || last.Message != "step 2" {
		t.Errorf("run: last notification %+v", last)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Progress < got[i-1].Progress {
			t.Errorf("progress went backwards: %v then %v", got[i-1].Progress, got[i].Progress)
		}
	}
	got = nil
	mu.Unlock()
	id := run["job_id"].(string)

	callTool("wait", map[string]any{"job_id": id, "until_ms": 500}, 7)
	mu.Lock()
	if len(got) == 0 || got[0].ProgressToken != 7.0 || got[0].Message != "step 2" {
		t.Errorf("wait: notifications %+v", got)
	}
	got = nil
	mu.Unlock()

	callTool("wait", map[string]any{"job_id": id, "until_ms": 400}, nil)
	if n := count(); n != 0 {
		t.Errorf("%d notifications without a progress token", n)
	}
}
