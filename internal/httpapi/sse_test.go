package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

type sseEvent struct {
	id, name, data string
}

// sseConn is an open event stream.
type sseConn struct {
	resp   *http.Response
	r      *bufio.Reader
	cancel context.CancelFunc
}

func (e *testEnv) openSSE(t *testing.T, path string, hdr ...string) *sseConn {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.url+path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		cancel()
		t.Fatalf("GET %s: %s %s", path, resp.Status, resp.Header.Get("Content-Type"))
	}
	c := &sseConn{resp: resp, r: bufio.NewReader(resp.Body), cancel: cancel}
	t.Cleanup(c.close)
	return c
}

func (c *sseConn) close() {
	c.cancel()
	c.resp.Body.Close()
}

// next reads the next event (comments skipped).
func (c *sseConn) next(t *testing.T) sseEvent {
	t.Helper()
	var ev sseEvent
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended: %v (partial %+v)", err, ev)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if ev.name != "" || ev.data != "" {
				return ev
			}
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "id: "):
			ev.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			ev.name = line[7:]
		case strings.HasPrefix(line, "data: "):
			ev.data = line[6:]
		default:
			t.Fatalf("unexpected line %q", line)
		}
	}
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("data %q: %v", s, err)
	}
	return m
}

// TestSSELogsResume: GET /logs/{id} sends output chunks whose id is the
// cursor after them; a reconnect with Last-Event-ID resumes exactly there,
// and the stream ends with "end" and the terminal state (SPEC §11.3).
func TestSSELogsResume(t *testing.T) {
	e := newEnv(t)
	r := e.post("/exec", `{"command":["printf 'one\\n'; printf 'E1\\n' >&2; sleep 0.5; printf 'two\\n'; sleep 0.3; exit 3"]}`)
	wantOK(t, r, "run")
	id := r.str("job_id")

	c := e.openSSE(t, "/logs/"+id)
	var text strings.Builder
	var last string
	ev := c.next(t)
	for ev.name == "output" {
		d := decode(t, ev.data)
		if d["stream"] == "stdout" {
			if int(d["offset"].(float64)) != text.Len() {
				t.Fatalf("stdout chunk at %v after %d bytes", d["offset"], text.Len())
			}
			text.WriteString(d["text"].(string))
		}
		last = ev.id
		if strings.Contains(text.String(), "one\n") {
			break
		}
		ev = c.next(t)
	}
	c.close()
	if text.String() != "one\n" || !strings.HasPrefix(last, "4.") {
		t.Fatalf("first connection: %q, last id %q", text.String(), last)
	}
	// Resume: only what came after the last event id.
	c = e.openSSE(t, "/logs/"+id, "Last-Event-ID", last)
	var ended map[string]any
	for {
		ev := c.next(t)
		if ev.name == "end" {
			ended = decode(t, ev.data)
			break
		}
		if ev.name != "output" {
			t.Fatalf("event %q", ev.name)
		}
		if d := decode(t, ev.data); d["stream"] == "stdout" {
			text.WriteString(d["text"].(string))
		}
		last = ev.id
	}
	if text.String() != "one\ntwo\n" || last != "8.3" {
		t.Fatalf("after resume: %q, last id %q", text.String(), last)
	}
	if ended["type"] != "state" || ended["state"] != "exited" || ended["exit_code"] != 3.0 || ended["job_id"] != id {
		t.Fatalf("end: %v", ended)
	}
	// A cursor at the end of a finished job: just "end".
	c = e.openSSE(t, "/logs/"+id+"?cursor=8.3")
	if ev := c.next(t); ev.name != "end" {
		t.Fatalf("got %+v", ev)
	}
	wantError(t, e.do("GET", "/logs/"+id+"?cursor=x", ""), 400, "invalid_argument", "")
	wantError(t, e.do("GET", "/logs/nosuchjob", ""), 404, "job_not_found", "")
}

// TestSSEEventsNewJobs: GET /events reports state changes of jobs created
// after connecting.
func TestSSEEventsNewJobs(t *testing.T) {
	e := newEnv(t)
	old := e.post("/exec", `{"command":["true"],"wait":true}`)
	c := e.openSSE(t, "/events?tag=sse.test")
	r := e.post("/exec", `{"command":["sleep 0.2"],"tags":["sse.test"]}`)
	id := r.str("job_id")
	e.post("/exec", `{"command":["true"],"tags":["other"]}`) // not followed
	var states []string
	for len(states) == 0 || states[len(states)-1] != "exited" {
		ev := c.next(t)
		d := decode(t, ev.data)
		if ev.name != "state" || d["type"] != "state" || d["job_id"] != id {
			t.Fatalf("unexpected event %+v (old job %s)", ev, old.str("job_id"))
		}
		states = append(states, d["state"].(string))
	}
	if got := strings.Join(states, ","); got != "running,exited" && got != "created,running,exited" {
		t.Fatalf("states %s", got)
	}
	wantError(t, e.do("GET", "/events?job_id=nosuchjob", ""), 404, "job_not_found", "")
	wantError(t, e.do("GET", "/events?all=maybe", ""), 400, "invalid_argument", "")
}

// TestSSEDisconnectLeaksNothing: clients that hang up mid-stream leave no
// goroutine or file descriptor behind.
func TestSSEDisconnectLeaksNothing(t *testing.T) {
	e := newEnv(t)
	id := e.startSleeper()
	// The Manager's shared watcher belongs to the baseline.
	wantOK(t, e.do(http.MethodGet, "/wait/"+id+"?until_ms=0", ""), "wait")
	http.DefaultClient.CloseIdleConnections()
	baseG, baseFD := settle(t, -1, -1)
	for i := range 20 {
		path := "/logs/" + id
		if i%2 == 1 {
			path = "/events?all=true"
		}
		c := e.openSSE(t, path)
		if i%2 == 1 {
			c.next(t) // the sleeper's current state
		}
		c.close()
	}
	http.DefaultClient.CloseIdleConnections()
	settle(t, baseG, baseFD)
}
