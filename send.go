package agentexec

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/agentexec/agentexec/internal/control"
	"github.com/agentexec/agentexec/internal/logread"
	"github.com/agentexec/agentexec/internal/userfile"
)

// MaxSendBytes bounds the input of one send (SPEC §11.5).
const MaxSendBytes = control.MaxData

// DefaultSendUntil is how long a send waits for the job to read its input
// (and, with WaitForOutput, for the output) unless told otherwise.
const DefaultSendUntil = 5000 * time.Millisecond

// SendPart is one piece of a send's input, written in order: exactly one
// of Text, Key or Newline.
type SendPart struct {
	Text    string
	Key     string // a name of SendKeys
	Newline bool
}

// SendKeys are the key names of send --key with the bytes a terminal
// sends for them (SPEC §11.5); C-a … C-z are added below.
var SendKeys = map[string]string{
	"Enter": "\r", "Tab": "\t", "Esc": "\x1b", "Backspace": "\x7f",
	"Up": "\x1b[A", "Down": "\x1b[B", "Right": "\x1b[C", "Left": "\x1b[D",
	"Home": "\x1b[H", "End": "\x1b[F", "PageUp": "\x1b[5~", "PageDown": "\x1b[6~",
}

func init() {
	for c := 'a'; c <= 'z'; c++ {
		SendKeys["C-"+string(c)] = string(rune(c - 'a' + 1))
	}
}

// KeyNames lists the key names in a stable order, for help and errors.
func KeyNames() []string {
	names := []string{"Enter", "Tab", "Esc", "Backspace", "Up", "Down", "Left", "Right", "Home", "End", "PageUp", "PageDown"}
	for c := 'a'; c <= 'z'; c++ {
		names = append(names, "C-"+string(c))
	}
	return names
}

// SendOptions control send.
type SendOptions struct {
	// Parts are written in order, then stdin is closed if EOF is set.
	Parts []SendPart
	EOF   bool
	// Until bounds the wait for the job to read the input, and then the
	// wait for WaitForOutput (0 = DefaultSendUntil).
	Until time.Duration
	// WaitForOutput waits, after writing, for a matching output line after
	// the send's cursor (SPEC §11.2); the result then has Matched, Match
	// and a Snapshot of the output since the cursor.
	WaitForOutput *OutputCondition
	// WaitForPort (1-65535; 0 = none) instead waits for a process of the
	// job's tree to listen on this TCP port.
	WaitForPort int
	MaxBytes    int64 // for the Snapshot; clamped to MaxExcerptBytes
	Render      Render
}

// SendResult is the payload of send.
type SendResult struct {
	JobID        string `json:"job_id"`
	State        State  `json:"state"`
	BytesWritten int64  `json:"bytes_written"`
	// Cursor is the logs' sizes just before the write ("<O>.<E>"): tail
	// --cursor with it returns the job's answer.
	Cursor   string    `json:"cursor"`
	Matched  *bool     `json:"matched,omitempty"`
	Match    *Match    `json:"match,omitempty"`
	Snapshot *Snapshot `json:"snapshot,omitempty"`
}

// SendInput builds the bytes of parts, refusing an unknown key and more
// than MaxSendBytes.
func SendInput(parts []SendPart) ([]byte, error) {
	var b []byte
	for _, p := range parts {
		switch {
		case p.Newline:
			b = append(b, '\n')
		case p.Key != "":
			k, ok := SendKeys[p.Key]
			if !ok {
				return nil, newError(CodeInvalidArgument, "unknown key %q: use %s", p.Key, strings.Join(KeyNames(), ", "))
			}
			b = append(b, k...)
		default:
			b = append(b, p.Text...)
		}
		if len(b) > MaxSendBytes {
			return nil, newError(CodeInvalidArgument, "send input over %d bytes: send it in parts", MaxSendBytes)
		}
	}
	return b, nil
}

// Send writes input to the stdin of a running --interactive job through
// its supervisor (SPEC §11.5). It waits at most o.Until for the job to
// take the bytes and reports how many it took.
func (m *Manager) Send(ctx context.Context, id string, o SendOptions) (*SendResult, error) {
	data, err := SendInput(o.Parts)
	if err != nil {
		return nil, err
	}
	if _, err := ParseRender(string(o.Render)); err != nil {
		return nil, err
	}
	if err := validateReadiness(o.WaitForOutput, o.WaitForPort); err != nil {
		return nil, err
	}
	until := o.Until
	if until <= 0 {
		until = DefaultSendUntil
	}
	if until > control.MaxUntil {
		return nil, newError(CodeInvalidArgument, "until over %s", control.MaxUntil)
	}
	j, err := m.resolve(id)
	if err != nil {
		return nil, err
	}
	meta, err := readMeta(j)
	if err != nil {
		return nil, err
	}
	if !meta.Interactive {
		return nil, newError(CodeInvalidState, "job %s was not started with --interactive", j.id)
	}
	st, err := m.readReconciled(ctx, j, false)
	if err != nil {
		return nil, err
	}
	if s := State(st.Job.Status); s != StateRunning {
		return nil, newError(CodeInvalidState, "job %s is %s: only a running job takes input", j.id, s)
	}
	req := &control.Request{Proto: control.Proto, Data: data, EOF: o.EOF, UntilMS: until.Milliseconds()}
	started := time.Now()
	resp, err := control.Call(j.dir, req, until+10*time.Second)
	if err != nil {
		// No supervisor answering: the job ended meanwhile, or its
		// supervisor is gone.
		if st, rerr := m.readReconciled(ctx, j, false); rerr == nil && State(st.Job.Status) != StateRunning {
			return nil, newError(CodeInvalidState, "job %s is %s: only a running job takes input", j.id, State(st.Job.Status))
		}
		if _, serr := os.Lstat(filepath.Join(j.dir, control.SocketName)); os.IsNotExist(serr) {
			return nil, newError(CodeInvalidState, "job %s has no control channel: its stdin is closed", j.id)
		}
		return nil, internalError(fmt.Errorf("control channel of job %s: %w", j.id, err))
	}
	switch resp.Code {
	case "":
	case control.CodeClosed:
		return nil, newError(CodeInvalidState, "job %s: %s", j.id, resp.Error)
	default:
		return nil, internalError(fmt.Errorf("control channel of job %s: %s", j.id, resp.Error))
	}
	cursor := logread.Cursor{Out: resp.StdoutSize, Err: resp.StderrSize}
	res := &SendResult{JobID: j.id, BytesWritten: resp.BytesWritten, Cursor: cursor.String()}
	if o.WaitForOutput == nil && o.WaitForPort == 0 {
		if st, err := m.readReconciled(ctx, j, false); err == nil {
			res.State = outcomeOf(st).state
		} else {
			res.State = StateUnknown
		}
		return res, nil
	}
	w, err := m.Wait(ctx, j.id, WaitOptions{
		Until: max(until-time.Since(started), 0), ForOutput: o.WaitForOutput, ForPort: o.WaitForPort, Cursor: res.Cursor,
		MaxBytes: 1, TailLines: 1,
	})
	if err != nil {
		return nil, err
	}
	res.State, res.Matched, res.Match = w.State, w.Matched, w.Match
	res.Snapshot = m.snapshotFrom(j, cursor, o.MaxBytes, o.Render, w.State.Terminal())
	return res, nil
}

// snapshotFrom is a Snapshot of what the logs hold from cursor on: the
// answer to a send, from its first byte, at most maxBytes per stream.
func (m *Manager) snapshotFrom(j jobRef, c logread.Cursor, maxBytes int64, r Render, final bool) *Snapshot {
	if maxBytes <= 0 {
		maxBytes = DefaultSendSnapshotBytes
	}
	maxBytes = clampExcerpt(maxBytes)
	o := logread.ReadChunk(j.stdoutPath(), c.Out, maxBytes, final)
	e := logread.ReadChunk(j.stderrPath(), c.Err, maxBytes, final)
	s := &Snapshot{
		StdoutTail: o.Text(), StderrTail: e.Text(),
		Truncated: o.Remaining > 0 || e.Remaining > 0, Encoding: Encoding,
		StdoutObservedBytes: o.Size, StderrObservedBytes: e.Size,
		Cursor: logread.Cursor{Out: o.Next, Err: e.Next}.String(),
	}
	s.StdoutIncludedBytes, s.StderrIncludedBytes = int64(len(s.StdoutTail)), int64(len(s.StderrTail))
	s.render(r)
	return s
}

// DefaultSendSnapshotBytes is the default max_bytes of a send's snapshot.
const DefaultSendSnapshotBytes = 65536

// ReadSendFile reads the input of send --file: a regular file of at most
// MaxSendBytes (larger is invalid_argument, as any send input over the
// limit).
func ReadSendFile(option, path string) ([]byte, error) {
	data, err := userfile.Read(path, MaxSendBytes)
	switch {
	case err == nil:
		return data, nil
	case errors.Is(err, userfile.ErrTooLarge):
		return nil, newError(CodeInvalidArgument, "send input over %d bytes: send it in parts", MaxSendBytes)
	}
	return nil, &Error{Code: CodeInvalidArgument, Message: fmt.Sprintf("cannot read %s %s: %s", option, path, userfile.Describe(err)), Err: err}
}
