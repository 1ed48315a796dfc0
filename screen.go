package agentexec

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/agentexec/agentexec/internal/screen"
	"github.com/agentexec/agentexec/internal/store"
)

// The terminal of a --pty job (SPEC §11.5): its default size and bounds.
const (
	DefaultPTYCols = 120
	DefaultPTYRows = 40
	MaxPTYSide     = 1000
)

// ScreenMaxBytes bounds how much of the end of stdout.log a screen feeds
// to the terminal emulator: what a program drew before it has long scrolled
// away or been redrawn.
const ScreenMaxBytes = 1 << 20

// ValidatePTYSize refuses a terminal size outside 1..MaxPTYSide.
func ValidatePTYSize(cols, rows int) error {
	if cols < 1 || rows < 1 || cols > MaxPTYSide || rows > MaxPTYSide {
		return newError(CodeInvalidArgument, "pty size %dx%d: columns and rows must be 1 to %d", cols, rows, MaxPTYSide)
	}
	return nil
}

// ParsePTYSize reads "COLSxROWS" (--pty-size).
func ParsePTYSize(s string) (cols, rows int, err error) {
	var extra string
	if n, _ := fmt.Sscanf(s+" ", "%dx%d%s", &cols, &rows, &extra); n != 2 || fmt.Sprintf("%dx%d", cols, rows) != s {
		return 0, 0, newError(CodeInvalidArgument, "pty size %q: want COLSxROWS, e.g. 120x40", s)
	}
	return cols, rows, ValidatePTYSize(cols, rows)
}

// ScreenCursor is the terminal cursor, 0-based.
type ScreenCursor struct {
	Row int `json:"row"`
	Col int `json:"col"`
}

// ScreenResult is the current screen of a --pty job (type "screen").
type ScreenResult struct {
	JobID  string       `json:"job_id"`
	State  State        `json:"state"`
	Cols   int          `json:"cols"`
	Rows   int          `json:"rows"`
	Lines  []string     `json:"lines"`
	Cursor ScreenCursor `json:"cursor"`
	Title  string       `json:"title,omitempty"`
}

// Screen renders the terminal of a --pty job as it looks now: its output
// (the end of stdout.log, from the last full reset, at most ScreenMaxBytes)
// fed to a terminal emulator of the job's size.
func (m *Manager) Screen(ctx context.Context, id string) (*ScreenResult, error) {
	j, err := m.resolve(id)
	if err != nil {
		return nil, err
	}
	meta, err := readMeta(j)
	if err != nil {
		return nil, err
	}
	if !meta.PTY {
		return nil, newError(CodeInvalidState, "job %s was not started with --pty", j.id)
	}
	st, err := m.readReconciled(ctx, j, false)
	if err != nil {
		return nil, err
	}
	out, err := readEnd(filepath.Join(j.dir, store.StdoutLog), ScreenMaxBytes)
	if err != nil {
		return nil, newError(CodeInternal, "read stdout.log of job %s: %v", j.id, err)
	}
	cols, rows := meta.PTYCols, meta.PTYRows
	if ValidatePTYSize(cols, rows) != nil {
		cols, rows = DefaultPTYCols, DefaultPTYRows
	}
	s := screen.Render(out, cols, rows)
	return &ScreenResult{
		JobID: j.id, State: State(st.Job.Status), Cols: cols, Rows: rows,
		Lines: s.Lines, Cursor: ScreenCursor{Row: s.Row, Col: s.Col}, Title: s.Title,
	}, nil
}

// readEnd reads at most limit bytes from the end of a job's log; a log
// not yet created is empty.
func readEnd(path string, limit int64) ([]byte, error) {
	f, err := store.OpenJobFile(path, os.O_RDONLY, 0)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file")
	}
	off := max(fi.Size()-limit, 0)
	return io.ReadAll(io.NewSectionReader(f, off, min(fi.Size(), limit)))
}
