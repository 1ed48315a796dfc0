// Package control is the protocol of an interactive job's control channel
// (SPEC §11.5): a Unix socket the job's supervisor listens on in the job
// directory, over which send writes to the job's stdin. One connection
// carries one request and one response, each a single JSON line of bounded
// size; anything else is refused.
package control

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"
)

// SocketName is the control socket's name in the job directory.
const SocketName = "control.sock"

// Proto is the protocol version a request carries.
const Proto = 1

// MaxData bounds the input of one request (SPEC §11.5: 1 MiB per call).
const MaxData = 1 << 20

// MaxUntil bounds how long one request may wait for the job to read.
const MaxUntil = time.Hour

// maxFrame bounds one line on the wire: MaxData base64-encoded (4/3) plus
// room for the other fields.
const maxFrame = MaxData/3*4 + 4096

// Request asks the supervisor to write Data to the job's stdin, then, with
// EOF, to close it; waiting at most UntilMS for the job to take the bytes.
type Request struct {
	Proto   int    `json:"proto"`
	Data    []byte `json:"data,omitempty"`
	EOF     bool   `json:"eof,omitempty"`
	UntilMS int64  `json:"until_ms"`
}

// Validate checks a request as the supervisor receives it.
func (r *Request) Validate() error {
	switch {
	case r.Proto != Proto:
		return fmt.Errorf("unsupported protocol %d", r.Proto)
	case len(r.Data) > MaxData:
		return fmt.Errorf("data over %d bytes", MaxData)
	case r.UntilMS < 0 || r.UntilMS > MaxUntil.Milliseconds():
		return fmt.Errorf("until_ms %d outside 0..%d", r.UntilMS, MaxUntil.Milliseconds())
	}
	return nil
}

// Response codes.
const (
	CodeClosed   = "stdin_closed" // stdin was closed before this request, or the job stopped reading for good
	CodeBadFrame = "bad_frame"    // the request was not a valid frame
)

// Response is the supervisor's answer. StdoutSize and StderrSize are the
// sizes of the job's logs just before the write: the send's cursor.
type Response struct {
	OK           bool   `json:"ok"`
	BytesWritten int64  `json:"bytes_written"`
	StdoutSize   int64  `json:"stdout_size"`
	StderrSize   int64  `json:"stderr_size"`
	Closed       bool   `json:"closed,omitempty"` // stdin is closed now (by EOF, or found closed)
	TimedOut     bool   `json:"timed_out,omitempty"`
	Code         string `json:"code,omitempty"`
	Error        string `json:"error,omitempty"`
}

// ErrFrameTooLarge is returned for a line over the frame bound.
var ErrFrameTooLarge = errors.New("frame too large")

// readFrame reads one JSON line of at most maxFrame bytes.
func readFrame(r io.Reader, v any) error {
	br := bufio.NewReaderSize(io.LimitReader(r, maxFrame+1), 64<<10)
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxFrame {
			return ErrFrameTooLarge
		}
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) && len(line) > 0 {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid frame: %v", err)
	}
	if dec.More() {
		return errors.New("invalid frame: trailing data")
	}
	return nil
}

func writeFrame(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ReadRequest reads and validates one request.
func ReadRequest(r io.Reader) (*Request, error) {
	var req Request
	if err := readFrame(r, &req); err != nil {
		return nil, err
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	return &req, nil
}

// WriteResponse writes one response line.
func WriteResponse(w io.Writer, resp *Response) error { return writeFrame(w, resp) }

// Listen creates the control socket in dir (any length of dir) with mode
// 0600. The caller removes it with Remove when done.
func Listen(dir string) (*net.UnixListener, error) {
	var ln *net.UnixListener
	err := withAddr(dir, func(addr string) error {
		var err error
		ln, err = net.ListenUnix("unix", &net.UnixAddr{Name: addr, Net: "unix"})
		return err
	})
	if err != nil {
		return nil, err
	}
	// The listener's own unlink would use an address that may name a
	// descriptor long closed: Remove unlinks by the real path.
	ln.SetUnlinkOnClose(false)
	if err := os.Chmod(filepath.Join(dir, SocketName), 0o600); err != nil {
		ln.Close()
		Remove(dir)
		return nil, err
	}
	return ln, nil
}

// Remove deletes the control socket of dir.
func Remove(dir string) { os.Remove(filepath.Join(dir, SocketName)) }

// Call sends req to the supervisor of the job in dir and returns its
// response. timeout bounds the whole exchange; it should exceed
// req.UntilMS so the supervisor's own deadline answers first.
func Call(dir string, req *Request, timeout time.Duration) (*Response, error) {
	conn, err := Dial(dir, timeout)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(timeout))
	if err := writeFrame(conn, req); err != nil {
		return nil, err
	}
	var resp Response
	if err := readFrame(conn, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// Dial connects to the control socket of the job in dir.
func Dial(dir string, timeout time.Duration) (net.Conn, error) {
	var conn net.Conn
	err := withAddr(dir, func(addr string) error {
		var err error
		conn, err = net.DialTimeout("unix", addr, timeout)
		return err
	})
	return conn, err
}
