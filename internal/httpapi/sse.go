package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/agentexec/agentexec"
)

// Server-sent events (SPEC §11.3): GET /events (state changes of existing
// and new jobs) and GET /logs/{id} (output chunks, resumable by
// Last-Event-ID). The stream starts with the first event, so an error
// found before that (unknown job, bad cursor) is the usual JSON error; it
// ends when the client disconnects, the server stops, or (for /logs and
// /events of given jobs) when the jobs are terminal.

// pingEvery is the keep-alive comment interval.
var pingEvery = 15 * time.Second

// sseStream writes one event stream. Events and pings come from different
// goroutines, hence the lock.
type sseStream struct {
	mu      sync.Mutex
	w       http.ResponseWriter
	rc      *http.ResponseController
	started bool
	stop    chan struct{}
	pinger  sync.WaitGroup
}

func newSSE(w http.ResponseWriter) *sseStream {
	return &sseStream{w: w, rc: http.NewResponseController(w), stop: make(chan struct{})}
}

// begin sends the headers and starts the pings; callers hold mu.
func (s *sseStream) begin() error {
	s.started = true
	h := s.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	s.w.WriteHeader(http.StatusOK)
	if err := s.rc.Flush(); err != nil {
		return err
	}
	s.pinger.Add(1)
	go func() {
		defer s.pinger.Done()
		t := time.NewTicker(pingEvery)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.mu.Lock()
				_, err := fmt.Fprint(s.w, ": ping\n\n")
				if err == nil {
					err = s.rc.Flush()
				}
				s.mu.Unlock()
				if err != nil {
					return
				}
			}
		}
	}()
	return nil
}

// open starts the stream (headers and pings) if it has not started.
func (s *sseStream) open() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return nil
	}
	return s.begin()
}

// event writes one event (id may be empty) and flushes it.
func (s *sseStream) event(name, id string, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		if err := s.begin(); err != nil {
			return err
		}
	}
	if id != "" {
		if _, err := fmt.Fprintf(s.w, "id: %s\n", id); err != nil {
			return err
		}
	}
	if _, err := fmt.Fprintf(s.w, "event: %s\ndata: %s\n\n", name, data); err != nil {
		return err
	}
	return s.rc.Flush()
}

// end stops the pings and waits for them.
func (s *sseStream) end() {
	close(s.stop)
	s.pinger.Wait()
}

// finish turns the handler's outcome into its return: once the stream has
// started nothing else can be written, so a failure just ends it.
func (s *sseStream) finish(err error) error {
	s.end()
	if s.started {
		return nil
	}
	return err
}

// GET /events?job_id=ID…&tag=P…&all=true|false: "state" events of the
// given jobs, or of the jobs matching the tags (every directory unless
// all=false), including jobs created after connecting.
func (s *Server) events(w http.ResponseWriter, r *http.Request, _ string, _ []byte) error {
	q := r.URL.Query()
	o := agentexec.FollowOptions{IDs: q["job_id"], Tags: q["tag"], NoOutput: true, Poll: pollInterval, All: true}
	if q.Has("all") {
		switch v := q.Get("all"); v {
		case "true":
		case "false":
			o.All = false
		default:
			return invalidArg(fmt.Sprintf("invalid query parameter all=%q: use true or false", v))
		}
	}
	if len(o.IDs) > 0 && (len(o.Tags) > 0 || q.Has("all")) {
		return invalidArg("job_id conflicts with tag and all")
	}
	sse := newSSE(w)
	// The stream opens as soon as the jobs are resolved, so a client sees
	// 200 even before the first state change.
	o.Started = func() { sse.open() }
	err := s.m.Follow(r.Context(), o, func(e *agentexec.FollowEvent) error {
		js, err := agentexec.EventJSON(e)
		if err != nil {
			return err
		}
		return sse.event(e.Type, "", js)
	})
	return sse.finish(err)
}

// logChunk is the data of an "output" event of /logs.
type logChunk struct {
	Stream string `json:"stream"`
	Offset int64  `json:"offset"`
	Text   string `json:"text"`
}

// GET /logs/{id}?cursor=O.E: "output" events, each with id = the cursor
// after it, from the cursor (a Last-Event-ID header wins; default "0.0"),
// then "end" with the terminal state.
func (s *Server) logs(w http.ResponseWriter, r *http.Request, id string, _ []byte) error {
	cursor := "0.0"
	if r.URL.Query().Has("cursor") {
		cursor = r.URL.Query().Get("cursor")
	}
	if last := r.Header.Get("Last-Event-ID"); last != "" {
		cursor = last
	}
	if _, err := agentexec.ParseCursor(cursor); err != nil {
		return err
	}
	sse := newSSE(w)
	final, err := s.m.FollowLogs(r.Context(), id, agentexec.FollowLogsOptions{Cursor: cursor, Poll: pollInterval, Started: func() { sse.open() }},
		func(c agentexec.LogChunk) error {
			js, err := json.Marshal(logChunk{Stream: c.Stream, Offset: c.Offset, Text: agentexec.DecodeText(c.Data)})
			if err != nil {
				return err
			}
			return sse.event("output", c.Cursor, js)
		})
	if err == nil {
		var js []byte
		if js, err = agentexec.EventJSON(final); err == nil {
			err = sse.event("end", "", js)
		}
	}
	return sse.finish(err)
}
