package agentexec

import "github.com/agentexec/agentexec/internal/render"

// MaxExcerptBytes caps max_bytes per stream wherever output is returned
// (SPEC §11.8): a larger request is clamped, so one response never carries
// more than 32 MiB of output text.
const MaxExcerptBytes = 16 << 20

// Render selects how output excerpts are presented (SPEC §11.8).
type Render string

// Render modes. The empty Render is RenderRaw.
const (
	// RenderRaw is the tail algorithm's text unchanged (SPEC §3.10).
	RenderRaw Render = "raw"
	// RenderTerminal removes ANSI escape sequences, keeps only what follows
	// the last carriage return of a line (what a terminal shows after a
	// progress bar redraws), and cuts lines longer than 2,000 bytes to
	// their first 1,000 and last 500 bytes around "…[N bytes cut]…".
	RenderTerminal Render = "terminal"
)

// ParseRender validates a render mode given by a caller ("" is raw).
func ParseRender(s string) (Render, error) {
	switch r := Render(s); r {
	case "", RenderRaw, RenderTerminal:
		return r, nil
	}
	return "", newError(CodeInvalidArgument, "invalid render %q: use raw or terminal", s)
}

// clampExcerpt bounds a max_bytes request to MaxExcerptBytes.
func clampExcerpt(maxBytes int64) int64 { return min(maxBytes, MaxExcerptBytes) }

// RenderText renders one excerpt's text in mode r and reports whether a
// line was cut; callers set included_bytes to the result's length and OR
// the cut into truncated. Offsets and cursors stay those of the raw logs.
func RenderText(text string, r Render) (string, bool) {
	if r != RenderTerminal {
		return text, false
	}
	return render.Text(text)
}

// render rewrites a snapshot's texts in mode r, keeping included_bytes
// and truncated true to the rendered text.
func (s *Snapshot) render(r Render) {
	var outCut, errCut bool
	s.StdoutTail, outCut = RenderText(s.StdoutTail, r)
	s.StderrTail, errCut = RenderText(s.StderrTail, r)
	s.StdoutIncludedBytes, s.StderrIncludedBytes = int64(len(s.StdoutTail)), int64(len(s.StderrTail))
	s.Truncated = s.Truncated || outCut || errCut
}
