package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/agentexec/agentexec"
)

// readInput resolves the job input of run/create (SPEC §3.5). auto enables
// the automatic forwarding of run; grace ([stdin] grace_ms) is how long it
// waits for a pipe's first byte or EOF: agent harnesses often hand commands
// a pipe that stays open and silent, and every run would pay the wait.
func (a *app) readInput(d *defFlags, explicitStdin bool, auto bool, grace time.Duration) (data []byte, has bool, err error) {
	limit := d.stdinMaxBytes
	switch {
	case d.noStdin:
		return nil, false, nil
	case explicitStdin && d.stdin == "-":
		if a.sys.Stdin == nil || isTerminal(a.sys.Stdin) {
			return nil, false, &agentexec.Error{Code: agentexec.CodeStdinRequired, Message: "--stdin - needs input on stdin, but stdin is a terminal"}
		}
		data, err = readLimited(a.sys.Stdin, limit)
		return data, err == nil, err
	case explicitStdin:
		if int64(len(d.stdin)) > limit {
			return nil, false, tooLarge(limit)
		}
		return []byte(d.stdin), true, nil
	case d.stdinFile != "":
		p := d.stdinFile
		if !filepath.IsAbs(p) {
			p = filepath.Join(a.sys.Cwd, p)
		}
		data, err = agentexec.ReadStdinFile("--stdin-file", p, limit)
		if err != nil {
			return nil, false, err
		}
		return data, true, nil
	case !auto || a.sys.Stdin == nil:
		return nil, false, nil
	}
	switch stdinKind(a.sys.Stdin) {
	case kindRegular:
		data, err = readLimited(a.sys.Stdin, limit)
	case kindPipe:
		if !pipeReady(a.sys.Stdin, grace) {
			a.logger().Warn(fmt.Sprintf("stdin is an open pipe with no data after %dms; the job gets no input (use --stdin - to wait for the pipe, or --no-stdin to never read it)", grace.Milliseconds()))
			return nil, false, nil
		}
		data, err = readLimited(a.sys.Stdin, limit)
	default:
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	// Automatically forwarded input of zero bytes is not stored.
	return data, len(data) > 0, nil
}

func tooLarge(limit int64) error {
	return &agentexec.Error{Code: agentexec.CodeStdinTooLarge, Message: fmt.Sprintf("stdin exceeds %d bytes", limit)}
}

// readLimited reads r to EOF, failing with stdin_too_large past limit.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, tooLarge(limit)
	}
	return data, nil
}

type fileKind int

const (
	kindOther fileKind = iota
	kindRegular
	kindPipe
)

func stdinKind(f *os.File) fileKind {
	fi, err := f.Stat()
	if err != nil {
		return kindOther
	}
	switch m := fi.Mode(); {
	case m.IsRegular():
		return kindRegular
	case m&os.ModeNamedPipe != 0:
		return kindPipe
	}
	return kindOther
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0 && isatty(f)
}
