package logread

import (
	"bytes"
	"errors"
	"io"
	"os"
	"regexp"
	"unicode/utf8"
)

// MaxMatchLine is how much of a line is matched (SPEC §11.2): longer lines
// are matched on their first 64 KiB.
const MaxMatchLine = 64 << 10

// blockSize is one read of a scan: big enough that a large log costs few
// syscalls, small enough that a scan never holds much.
const blockSize = 64 << 10

// Line is one line of a log (SPEC §3.8): the bytes up to a '\n', or the
// final unterminated piece of a complete log.
type Line struct {
	Offset int64  // where the line starts in the log
	End    int64  // just past the line (past its '\n')
	Text   []byte // its first Max bytes, without the '\n'; valid only during the callback
	Len    int64  // its full length without the '\n'
}

// Cut reports whether Text holds less than the whole line.
func (l Line) Cut() bool { return int64(len(l.Text)) < l.Len }

// LineScanner reads one log forward and cuts it into lines, incrementally:
// each call reads only what was appended since the previous one, so every
// byte is read once however often it is called, and at most Max bytes of
// a pending line are held. A log that is shorter than the position (even
// the starting one) was restarted (SPEC §4.4 truncates the logs): scanning
// starts over at 0, so an older cursor gets the new logs from their start.
type LineScanner struct {
	Path string
	Off  int64 // the next byte to read
	Max  int   // bytes kept per line; 0 means MaxMatchLine

	pending  []byte // the first bytes of the line being read
	start    int64  // where that line starts
	plen     int64  // its length so far
	block    []byte
	lastSize int64
}

// NewLineScanner scans path from offset from.
func NewLineScanner(path string, from int64) *LineScanner {
	return &LineScanner{Path: path, Off: max(from, 0), start: max(from, 0)}
}

func (s *LineScanner) limit() int {
	if s.Max <= 0 {
		return MaxMatchLine
	}
	return s.Max
}

// Size is the log's size seen by the last Scan.
func (s *LineScanner) Size() int64 { return s.lastSize }

// Pending reports where the unfinished line being read starts, or Off when
// there is none.
func (s *LineScanner) Pending() int64 {
	if s.plen > 0 {
		return s.start
	}
	return s.Off
}

// Scan reads the log from Off to its current end and calls emit for every
// line completed; with final (the job is terminal, so the log is complete)
// the unterminated last piece is a line too. When emit returns false the
// scan stops right after that line (Off = its End), so a later Scan goes on
// from there. A missing log reads as empty.
func (s *LineScanner) Scan(final bool, emit func(Line) bool) error {
	f, err := openLog(s.Path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	s.lastSize = size
	if size < s.Off {
		// A log never shrinks: it was restarted, and the new run's log
		// starts again at 0 (also for a starting cursor of an older run).
		s.Off, s.start, s.plen, s.pending = 0, 0, 0, s.pending[:0]
	}
	if s.block == nil && size > s.Off {
		s.block = make([]byte, blockSize)
	}
	for s.Off < size {
		n := int(min(int64(len(s.block)), size-s.Off))
		got, rerr := f.ReadAt(s.block[:n], s.Off)
		if got == 0 {
			if rerr != nil && !errors.Is(rerr, io.EOF) {
				return rerr
			}
			break
		}
		if !s.feed(s.block[:got], emit) {
			return nil
		}
	}
	if final && s.plen > 0 {
		l := Line{Offset: s.start, End: s.Off, Text: s.pending, Len: s.plen}
		s.start, s.plen, s.pending = s.Off, 0, s.pending[:0]
		emit(l)
	}
	return nil
}

// feed consumes b (the bytes at Off) and reports false when emit stopped
// the scan.
func (s *LineScanner) feed(b []byte, emit func(Line) bool) bool {
	limit := s.limit()
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		piece := b
		if i >= 0 {
			piece = b[:i]
		}
		if s.plen == 0 {
			s.start = s.Off
		}
		var text []byte
		if s.plen == 0 && i >= 0 {
			text = piece[:min(len(piece), limit)] // a whole line in b: no copy
		} else if room := limit - len(s.pending); room > 0 {
			s.pending = append(s.pending, piece[:min(len(piece), room)]...)
		}
		s.plen += int64(len(piece))
		if i < 0 {
			s.Off += int64(len(b))
			return true
		}
		s.Off += int64(i + 1)
		b = b[i+1:]
		if text == nil {
			text = s.pending
		}
		l := Line{Offset: s.start, End: s.Off, Text: text, Len: s.plen}
		s.start, s.plen = s.Off, 0
		ok := emit(l)
		s.pending = s.pending[:0]
		if !ok {
			return false
		}
	}
	return true
}

// CutText returns at most n bytes of b, cut before a UTF-8 character that
// would straddle n, decoded lossily: a matched or followed line as shown.
func CutText(b []byte, n int) string {
	if len(b) <= n {
		return Decode(b)
	}
	k := n
	for j := n; j > 0 && j > n-4; j-- {
		if utf8.RuneStart(b[j]) {
			k = j
			break
		}
	}
	return Decode(b[:k])
}

// Pattern is a compiled output pattern (SPEC §11.2, §11.3): a substring
// (contains) or an RE2 regular expression, matched against a line decoded
// lossily as the tail algorithm does.
type Pattern struct {
	sub     []byte
	re      *regexp.Regexp
	scratch []byte
}

// Match types.
const (
	MatchContains = "contains"
	MatchRegex    = "regex"
)

// NewPattern compiles p; matchType is contains ("" too) or regex. An
// unknown match type or an invalid regex is an error.
func NewPattern(p, matchType string) (*Pattern, error) {
	switch matchType {
	case "", MatchContains:
		return &Pattern{sub: []byte(p)}, nil
	case MatchRegex:
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, err
		}
		return &Pattern{re: re}, nil
	}
	return nil, errors.New(`match type must be "contains" or "regex"`)
}

// Match reports whether line (raw bytes without '\n') matches. Valid UTF-8,
// the common case, is matched in place. A Pattern is used by one goroutine
// at a time.
func (p *Pattern) Match(line []byte) bool {
	text := line
	if !utf8.Valid(line) {
		p.scratch = AppendDecode(p.scratch[:0], line)
		text = p.scratch
	}
	if p.re != nil {
		return p.re.Match(text)
	}
	return bytes.Contains(text, p.sub)
}
