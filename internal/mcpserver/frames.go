package mcpserver

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// MaxFrameBytes bounds one line of MCP input (SPEC §11.8: at least 16 MiB).
// It admits a run whose stdin is about 24 MiB of plain text; larger input
// goes through stdin_file.
const MaxFrameBytes = 32 << 20

// GuardFrames checks every line the MCP host sends before the SDK sees it,
// because the SDK (go-sdk v1.8.0) ends the whole session, silently and with
// in-flight calls dropped, on the first frame that is not a valid JSON-RPC
// message or is longer than its limit. Here such a frame gets its JSON-RPC
// error instead — -32700 for text that is not JSON, -32600 for JSON that is
// not a valid message or a frame over MaxFrameBytes — written to out, and
// the session goes on. Valid frames reach the SDK unchanged through the
// returned reader. The SDK's own writes must go through out too, which
// serialises whole frames. Drop this once the SDK answers such frames
// itself.
func GuardFrames(in io.Reader, out *FrameWriter) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(guard(in, pw, out))
	}()
	return pr
}

// guard copies valid frames from in to sdk until in ends (nil) or sdk is
// closed.
func guard(in io.Reader, sdk io.Writer, out *FrameWriter) error {
	r := bufio.NewReaderSize(in, 64<<10)
	for {
		line, tooLong, err := readFrame(r)
		if tooLong {
			// line is the frame's start: answer with its id if it comes
			// before the cut, so the caller's request does not hang.
			out.frameError(sniffID(line), jsonrpc.CodeInvalidRequest, fmt.Sprintf(
				"Invalid request: frame longer than this server's limit of %d bytes (pass large job input with stdin_file)", MaxFrameBytes))
		} else if frame := bytes.TrimSpace(line); len(frame) > 0 {
			if id, code, msg := checkFrame(frame); code != 0 {
				out.frameError(id, code, msg)
			} else if _, werr := sdk.Write(append(frame, '\n')); werr != nil {
				return werr
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// readFrame reads one line. A line longer than MaxFrameBytes is consumed
// keeping only its first sniffBytes (memory stays bounded) and reported as
// tooLong.
func readFrame(r *bufio.Reader) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := r.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > MaxFrameBytes {
				tooLong = true
				head := line
				if len(head) < sniffBytes {
					head = append(head, chunk[:min(len(chunk), sniffBytes-len(head))]...)
				}
				// A small copy, so the large buffer is released.
				line = append([]byte(nil), head[:min(len(head), sniffBytes)]...)
			} else {
				line = append(line, chunk...)
			}
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return line, tooLong, err
		}
	}
}

// checkFrame returns code 0 for a frame the SDK can take, else the JSON-RPC
// error to answer it with and the id to answer (nil when unreadable).
func checkFrame(frame []byte) (id any, code int64, msg string) {
	if !json.Valid(frame) {
		return nil, jsonrpc.CodeParseError, "Parse error: the line is not one JSON value"
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(frame))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, jsonrpc.CodeParseError, "Parse error: " + err.Error()
	}
	switch x := v.(type) {
	case map[string]any:
		return checkMessage(x, frame)
	case []any:
		// A batch. MCP 2025-06-18 removed JSON-RPC batching, and SDK v1.8.0
		// ends the session on a batch once that version (or a later one) is
		// negotiated, and on a batch repeating an id under any version.
		if len(x) == 0 {
			return nil, jsonrpc.CodeInvalidRequest, "Invalid request: empty batch"
		}
		return nil, jsonrpc.CodeInvalidRequest, "Invalid request: JSON-RPC batches are not supported; send one message per line"
	}
	return nil, jsonrpc.CodeInvalidRequest, "Invalid request: a message must be a JSON object"
}

func checkMessage(m map[string]any, raw []byte) (id any, code int64, msg string) {
	rawID, hasID := m["id"]
	switch x := rawID.(type) {
	case string:
		id = x
	case json.Number:
		id = x
	case nil:
		// absent, or null: answered with id null
	default:
		return nil, jsonrpc.CodeInvalidRequest, "Invalid request: id must be a string or a number"
	}
	if v, ok := m["jsonrpc"].(string); !ok || v != "2.0" {
		return id, jsonrpc.CodeInvalidRequest, `Invalid request: jsonrpc must be "2.0"`
	}
	method, hasMethod := m["method"]
	_, hasResult := m["result"]
	_, hasError := m["error"]
	switch {
	case hasMethod:
		if _, ok := method.(string); !ok {
			return id, jsonrpc.CodeInvalidRequest, "Invalid request: method must be a string"
		}
		if hasID && rawID == nil {
			return nil, jsonrpc.CodeInvalidRequest, "Invalid request: id must be a string or a number"
		}
	case hasResult || hasError:
		if !hasID {
			return nil, jsonrpc.CodeInvalidRequest, "Invalid request: a response needs an id"
		}
	default:
		return id, jsonrpc.CodeInvalidRequest, "Invalid request: no method, result or error"
	}
	if _, err := jsonrpc.DecodeMessage(raw); err != nil {
		return id, jsonrpc.CodeInvalidRequest, "Invalid request: " + err.Error()
	}
	return nil, 0, ""
}

// sniffBytes is how much of an oversized frame is kept to find its id.
const sniffBytes = 64 << 10

// sniffID returns a top-level string or number "id" found in the start of
// a frame that was cut short, or nil.
func sniffID(prefix []byte) any {
	dec := json.NewDecoder(bytes.NewReader(prefix))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil
		}
		if key == "id" {
			if dec.InputOffset() >= int64(len(prefix)) {
				return nil // a number at the cut may be incomplete
			}
			switch v.(type) {
			case string, json.Number:
				return v
			}
			return nil
		}
	}
	return nil
}

// FrameWriter is the server's output: one Write per JSON-RPC frame, so the
// SDK's frames and the guard's error frames never interleave.
type FrameWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// NewFrameWriter serialises frames written to w.
func NewFrameWriter(w io.Writer) *FrameWriter { return &FrameWriter{w: w} }

func (f *FrameWriter) Write(b []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.w.Write(b)
}

// Close closes the underlying writer, if it is a Closer.
func (f *FrameWriter) Close() error {
	if c, ok := f.w.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// frameError answers a rejected frame.
func (f *FrameWriter) frameError(id any, code int64, msg string) {
	b, _ := json.Marshal(struct {
		JSONRPC string `json:"jsonrpc"`
		ID      any    `json:"id"`
		Error   struct {
			Code    int64  `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}{JSONRPC: "2.0", ID: id, Error: struct {
		Code    int64  `json:"code"`
		Message string `json:"message"`
	}{code, msg}})
	f.Write(append(b, '\n'))
}
