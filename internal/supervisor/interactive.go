package supervisor

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/agentexec/agentexec/internal/control"
	"github.com/agentexec/agentexec/internal/store"
)

// The control channel's bounds (SPEC §11.5). A client has frameTimeout to
// deliver its request and replyTimeout to take the answer; at most
// maxConns connections are served at once, the rest are closed at once. None
// of it runs on the supervisor's main loop, so a client that sends garbage
// or nothing, or a job that never reads, delays only that client.
const (
	frameTimeout = 10 * time.Second
	replyTimeout = 5 * time.Second
	maxConns     = 16
)

// stdinChannel owns the write end of an interactive job's stdin and the
// control socket that feeds it.
type stdinChannel struct {
	dir string
	ln  *net.UnixListener

	// writer is a one-slot semaphore: sends write in arrival order, one at
	// a time, and one stuck behind a job that does not read gives up at its
	// own deadline.
	writer chan struct{}
	mu     sync.Mutex
	w      *os.File // nil once closed
	conns  chan struct{}
	wg     sync.WaitGroup
	// term is the pseudo-terminal of a --pty job (nil otherwise): w is a
	// duplicate of its master, EOF is the terminal's ^D, and close waits
	// for its output to reach stdout.log.
	term *ptyTerm
}

// openStdinChannel makes the job's stdin pipe and the control socket. It
// returns the read end for the child.
func openStdinChannel(dir string) (*stdinChannel, *os.File, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, launchFailed("stdin pipe: %s", reason(err))
	}
	c, err := newStdinChannel(dir, w)
	if err != nil {
		r.Close()
		return nil, nil, err
	}
	return c, r, nil
}

// newStdinChannel opens the control socket that feeds w; it closes w when
// it fails.
func newStdinChannel(dir string, w *os.File) (*stdinChannel, error) {
	control.Remove(dir) // a socket left by an earlier run of this job
	ln, err := control.Listen(dir)
	if err != nil {
		w.Close()
		return nil, launchFailed("control socket: %s", reason(err))
	}
	return &stdinChannel{dir: dir, ln: ln, w: w, writer: make(chan struct{}, 1), conns: make(chan struct{}, maxConns)}, nil
}

// serve accepts control connections until close.
func (c *stdinChannel) serve() {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			conn, err := c.ln.Accept()
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					continue
				}
				if errors.Is(err, net.ErrClosed) {
					return
				}
				time.Sleep(10 * time.Millisecond) // e.g. out of descriptors: do not spin
				continue
			}
			select {
			case c.conns <- struct{}{}:
			default:
				conn.Close() // too many at once
				continue
			}
			go func() {
				defer func() { <-c.conns }()
				c.handle(conn)
			}()
		}
	}()
}

func (c *stdinChannel) handle(conn net.Conn) {
	defer conn.Close()
	if !control.PeerAllowed(conn) {
		return
	}
	conn.SetReadDeadline(time.Now().Add(frameTimeout))
	req, err := control.ReadRequest(conn)
	var resp *control.Response
	if err != nil {
		resp = &control.Response{Code: control.CodeBadFrame, Error: err.Error()}
	} else {
		resp = c.write(req)
	}
	conn.SetWriteDeadline(time.Now().Add(replyTimeout))
	control.WriteResponse(conn, resp)
}

// write performs one request: the bytes, then EOF, waiting at most the
// request's until for the job to take them.
func (c *stdinChannel) write(req *control.Request) *control.Response {
	deadline := time.Now().Add(max(time.Duration(req.UntilMS)*time.Millisecond, time.Millisecond))
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case c.writer <- struct{}{}:
		defer func() { <-c.writer }()
	case <-t.C:
		// An earlier send is still waiting for the job to read.
		resp := c.sizes()
		resp.TimedOut = true
		resp.OK = true
		return resp
	}
	resp := c.sizes()
	c.mu.Lock()
	w := c.w
	c.mu.Unlock()
	if w == nil {
		resp.Closed, resp.Code, resp.Error = true, control.CodeClosed, "stdin is closed"
		return resp
	}
	if len(req.Data) > 0 {
		w.SetWriteDeadline(deadline)
		n, err := w.Write(req.Data)
		resp.BytesWritten = int64(n)
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded):
			resp.OK, resp.TimedOut = true, true
			return resp // no EOF after bytes the job has not taken
		case errors.Is(err, syscall.EPIPE), errors.Is(err, fs.ErrClosed):
			// The job closed its stdin (or ended): nobody will ever read.
			c.closeWriter()
			resp.Closed, resp.Code, resp.Error = true, control.CodeClosed, "stdin is closed: the job no longer reads it"
			return resp
		default:
			resp.Code, resp.Error = control.CodeClosed, "write to stdin: "+err.Error()
			return resp
		}
	}
	if req.EOF {
		if c.term != nil {
			// A terminal has no end of file: its ^D at the start of a
			// line is what a reading program sees as one.
			w.SetWriteDeadline(deadline)
			w.Write([]byte{ptyEOF})
		}
		c.closeWriter()
		resp.Closed = true
	}
	resp.OK = true
	return resp
}

// sizes is a response holding the logs' sizes now: the send's cursor.
func (c *stdinChannel) sizes() *control.Response {
	resp := &control.Response{}
	if fi, err := os.Stat(filepath.Join(c.dir, store.StdoutLog)); err == nil {
		resp.StdoutSize = fi.Size()
	}
	if fi, err := os.Stat(filepath.Join(c.dir, store.StderrLog)); err == nil {
		resp.StderrSize = fi.Size()
	}
	return resp
}

func (c *stdinChannel) closeWriter() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.w != nil {
		c.w.Close()
		c.w = nil
	}
}

// close ends the channel when the job ends: no new connection is taken,
// the socket is removed and stdin is closed (a write in progress returns).
func (c *stdinChannel) close() {
	c.ln.Close()
	control.Remove(c.dir)
	c.closeWriter()
	c.wg.Wait()
	if c.term != nil {
		c.term.finish()
	}
}
