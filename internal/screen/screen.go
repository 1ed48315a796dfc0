// Package screen renders the output of a program on a terminal as the
// terminal would show it (SPEC §11.5): the rows of text, the cursor and the
// title, by feeding the bytes to a terminal emulator.
package screen

import (
	"bytes"
	"io"
	"strings"

	"github.com/charmbracelet/x/vt"
)

// Screen is the state of a terminal after some output.
type Screen struct {
	Lines []string // one per row, right-trimmed
	Row   int      // the cursor, 0-based
	Col   int
	Title string // "" when the program set none
}

// ris is the terminal's full reset (ESC c): nothing before it can show.
var ris = []byte("\x1bc")

// Render feeds out, a terminal's raw output, to an emulator of cols x
// rows and returns the screen. Output before the last full reset is
// skipped.
func Render(out []byte, cols, rows int) Screen {
	if i := bytes.LastIndex(out, ris); i >= 0 {
		out = out[i:]
	}
	e := vt.NewEmulator(cols, rows)
	var title string
	e.SetCallbacks(vt.Callbacks{Title: func(t string) { title = t }})
	// The emulator answers a program's queries (cursor position, device
	// attributes) on its input pipe, which blocks until read: drain it.
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		io.Copy(io.Discard, e)
	}()
	e.Write(out)
	// Closing the pipe, not the emulator, ends the drain without a write
	// to the emulator's closed flag, which the drain reads unlocked.
	if pw, ok := e.InputPipe().(*io.PipeWriter); ok {
		pw.Close()
		<-drained
	}

	s := Screen{Lines: make([]string, rows), Title: title}
	for y := range rows {
		var b strings.Builder
		for x := 0; x < cols; x++ {
			c := e.CellAt(x, y)
			if c == nil {
				break
			}
			if c.Content == "" {
				if c.Width == 0 {
					continue // the second half of a wide character
				}
				b.WriteByte(' ')
				continue
			}
			b.WriteString(c.Content)
		}
		s.Lines[y] = strings.TrimRight(b.String(), " ")
	}
	pos := e.CursorPosition()
	s.Row, s.Col = pos.Y, pos.X
	return s
}
