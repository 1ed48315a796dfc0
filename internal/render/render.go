// Package render turns raw terminal output into what an agent should read
// (SPEC §11.8 "Rendering"): escape sequences removed, carriage-return
// redraws collapsed to their final state, very long lines cut in the middle.
//
// It is a hand-written scanner rather than a terminal-parsing library: the
// work is per line (so an unterminated sequence can never swallow the rest
// of an excerpt, as a real terminal's parser would), and none of the
// maintained parsers the module proxy serves fits that in one call.
package render

import (
	"strconv"
	"strings"
)

// Line-length limits: a longer line keeps its first HeadBytes and last
// TailBytes around a marker naming how many bytes were cut.
const (
	MaxLineBytes = 2000
	HeadBytes    = 1000
	TailBytes    = 500
)

// Text renders every line of s (lines end at '\n', which is kept) and
// reports whether any line was cut. s is expected to be valid UTF-8, as
// tails are after lossy decoding; cuts land on character boundaries.
func Text(s string) (string, bool) {
	if !needsWork(s) {
		return s, false
	}
	var b strings.Builder
	b.Grow(len(s))
	cut := false
	for len(s) > 0 {
		line, rest, nl := strings.Cut(s, "\n")
		c := appendLine(&b, line)
		cut = cut || c
		if nl {
			b.WriteByte('\n')
		}
		s = rest
	}
	return b.String(), cut
}

// needsWork is the fast path: text without ESC or CR and without a long
// line is returned unchanged, without a copy.
func needsWork(s string) bool {
	if strings.IndexByte(s, 0x1b) >= 0 || strings.IndexByte(s, '\r') >= 0 {
		return true
	}
	for len(s) > MaxLineBytes {
		i := strings.IndexByte(s, '\n')
		if i < 0 || i > MaxLineBytes {
			return true
		}
		s = s[i+1:]
	}
	return false
}

// appendLine writes the rendered form of one line (without '\n') to b.
func appendLine(b *strings.Builder, line string) bool {
	line = StripEscapes(line)
	// A carriage return moves the cursor to the start of the line and the
	// text after it overwrites what was there: keep what follows the last
	// one. Trailing CRs (a redraw that has not printed yet, or the CR of a
	// CRLF) are not such a point.
	line = strings.TrimRight(line, "\r")
	if i := strings.LastIndexByte(line, '\r'); i >= 0 {
		line = line[i+1:]
	}
	if len(line) <= MaxLineBytes {
		b.WriteString(line)
		return false
	}
	head := runeStart(line, HeadBytes)
	tail := runeStart(line, len(line)-TailBytes)
	b.WriteString(line[:head])
	b.WriteString("…[")
	b.WriteString(strconv.Itoa(tail - head))
	b.WriteString(" bytes cut]…")
	b.WriteString(line[tail:])
	return true
}

// runeStart moves i back to the start of the UTF-8 character containing it.
func runeStart(s string, i int) int {
	for i > 0 && i < len(s) && s[i]&0xC0 == 0x80 {
		i--
	}
	return i
}

// StripEscapes removes ANSI escape sequences from one line: CSI
// (ESC [ params intermediates final), OSC, DCS, SOS, PM and APC strings
// (terminated by BEL or ESC \, or by the end of the line), and the other
// ESC sequences (ESC, intermediates 0x20–0x2F, one final byte 0x30–0x7E —
// e.g. ESC 7, ESC ( B). A CSI interrupted by another byte is dropped up
// to that byte; a lone ESC at the end is dropped.
func StripEscapes(s string) string {
	i := strings.IndexByte(s, 0x1b)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i >= 0 {
		b.WriteString(s[:i])
		s = s[i+escapeLen(s[i:]):]
		i = strings.IndexByte(s, 0x1b)
	}
	b.WriteString(s)
	return b.String()
}

// escapeLen is the length of the escape sequence at the start of s
// (s[0] == ESC).
func escapeLen(s string) int {
	if len(s) < 2 {
		return len(s)
	}
	switch s[1] {
	case '[': // CSI
		i := 2
		for i < len(s) && s[i] >= 0x30 && s[i] <= 0x3F { // parameters
			i++
		}
		for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2F { // intermediates
			i++
		}
		if i < len(s) && s[i] >= 0x40 && s[i] <= 0x7E { // final
			i++
		}
		return i
	case ']', 'P', 'X', '^', '_': // strings, ended by BEL or ST (ESC \)
		for i := 2; i < len(s); i++ {
			switch {
			case s[i] == 0x07:
				return i + 1
			case s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\':
				return i + 2
			case s[i] == 0x1b: // an unterminated string ends at the next ESC
				return i
			}
		}
		return len(s)
	}
	i := 1
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2F {
		i++
	}
	if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7E {
		i++
	}
	return i
}
