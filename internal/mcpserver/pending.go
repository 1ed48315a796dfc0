package mcpserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"sync"
	"time"
)

// Pending counts JSON-RPC requests read from the client but not yet
// answered. The SDK cancels every in-flight request when its input reaches
// EOF, so a client that writes a batch of requests and closes its end (a
// pipe fed by `printf … | agent-exec mcp`) would get no answers at all.
// Wrapping stdin and stdout with a Pending delays that EOF until the
// answers are out, or a grace period passed (in-flight waits are then
// abandoned, SPEC §6.1).
type Pending struct {
	mu      sync.Mutex
	open    map[string]bool
	changed chan struct{}
}

// NewPending returns an empty tracker.
func NewPending() *Pending { return &Pending{open: map[string]bool{}, changed: make(chan struct{}, 1)} }

type frame struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
}

func (p *Pending) note(line []byte, incoming bool) {
	var f frame
	if json.Unmarshal(line, &f) != nil || len(f.ID) == 0 || string(f.ID) == "null" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case incoming && f.Method != "":
		p.open[string(f.ID)] = true
	case !incoming && f.Method == "" && (f.Result != nil || f.Error != nil):
		delete(p.open, string(f.ID))
		select {
		case p.changed <- struct{}{}:
		default:
		}
	}
}

func (p *Pending) idle() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.open) == 0
}

// lineTap feeds every complete line passing through it to note.
type lineTap struct {
	buf  []byte
	note func([]byte)
}

func (t *lineTap) feed(b []byte) {
	t.buf = append(t.buf, b...)
	for {
		i := bytes.IndexByte(t.buf, '\n')
		if i < 0 {
			break
		}
		if line := bytes.TrimSpace(t.buf[:i]); len(line) > 0 {
			t.note(line)
		}
		t.buf = t.buf[i+1:]
	}
	if len(t.buf) > 1<<20 { // a runaway line is not a frame we track
		t.buf = nil
	}
}

// Reader wraps the client's input; at EOF it waits until every request
// read has been answered, at most grace, then reports EOF.
func (p *Pending) Reader(r io.Reader, grace time.Duration) io.ReadCloser {
	return &pendingReader{r: r, p: p, grace: grace, tap: lineTap{note: func(l []byte) { p.note(l, true) }}}
}

type pendingReader struct {
	r     io.Reader
	p     *Pending
	grace time.Duration
	tap   lineTap
}

func (pr *pendingReader) Read(b []byte) (int, error) {
	n, err := pr.r.Read(b)
	if n > 0 {
		pr.tap.feed(b[:n])
	}
	if errors.Is(err, io.EOF) {
		deadline := time.NewTimer(pr.grace)
		defer deadline.Stop()
		for !pr.p.idle() {
			select {
			case <-pr.p.changed:
			case <-deadline.C:
				return n, err
			}
		}
	}
	return n, err
}

func (pr *pendingReader) Close() error {
	if c, ok := pr.r.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// Writer wraps the server's output and marks requests answered.
func (p *Pending) Writer(w io.Writer) io.Writer {
	return &pendingWriter{w: w, tap: lineTap{note: func(l []byte) { p.note(l, false) }}}
}

type pendingWriter struct {
	w   io.Writer
	tap lineTap
}

func (pw *pendingWriter) Write(b []byte) (int, error) {
	n, err := pw.w.Write(b)
	if n > 0 {
		pw.tap.feed(b[:n])
	}
	return n, err
}
