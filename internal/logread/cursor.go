package logread

import (
	"errors"
	"io"
	"strconv"
	"strings"
)

// Cursor is a position in a job's two logs (SPEC §11.1): byte offsets into
// stdout.log and stderr.log. The zero Cursor is the start of both.
type Cursor struct {
	Out, Err int64
}

// String is the text form "<O>.<E>".
func (c Cursor) String() string {
	return strconv.FormatInt(c.Out, 10) + "." + strconv.FormatInt(c.Err, 10)
}

// ErrCursor reports a cursor text that is not "<O>.<E>" with two decimal
// non-negative offsets.
var ErrCursor = errors.New(`a cursor is two decimal byte offsets "<stdout>.<stderr>", e.g. "0.0"`)

// ParseCursor parses "<O>.<E>". Only ASCII digits are accepted (no sign,
// spaces or exponent); each offset must fit in 63 bits.
func ParseCursor(s string) (Cursor, error) {
	o, e, ok := strings.Cut(s, ".")
	if !ok {
		return Cursor{}, ErrCursor
	}
	out, okO := offset(o)
	errOff, okE := offset(e)
	if !okO || !okE {
		return Cursor{}, ErrCursor
	}
	return Cursor{Out: out, Err: errOff}, nil
}

func offset(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// Chunk is a forward read of one log (SPEC §11.1).
type Chunk struct {
	Data      []byte // raw bytes read; Text decodes them
	From      int64  // the requested offset
	Next      int64  // where the next read starts
	Remaining int64  // bytes after Next at the time of the read
	Size      int64  // the log's size at the time of the read
}

// Text is the chunk decoded lossily (SPEC §3.10 step 3).
func (c Chunk) Text() string { return Decode(c.Data) }

// ReadChunk reads forward from offset from: at most maxBytes bytes with one
// ReadAt, so the cost is O(maxBytes) whatever the log's size. Unless final
// (the job is terminal, so the log is complete), a chunk that ends at the
// end of the log inside a UTF-8 sequence leaves that sequence for the next
// read; a chunk cut short by maxBytes never ends inside one. An offset at
// or beyond the end yields no data and Next = the size. A missing or
// non-regular file reads as empty.
func ReadChunk(path string, from, maxBytes int64, final bool) Chunk {
	c := Chunk{From: from}
	if from < 0 {
		from = 0
	}
	f, err := openLog(path)
	if err != nil {
		return c
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return c
	}
	c.Size = fi.Size()
	if from >= c.Size {
		c.Next = c.Size
		return c
	}
	n := min(c.Size-from, max(maxBytes, 0))
	buf := make([]byte, n)
	got, err := f.ReadAt(buf, from)
	if err != nil && !errors.Is(err, io.EOF) {
		got = 0
	}
	buf = buf[:got]
	atEnd := from+int64(got) >= c.Size
	if !(final && atEnd) {
		buf = buf[:len(buf)-IncompleteSuffix(buf)]
	}
	c.Data = buf
	c.Next = from + int64(len(buf))
	c.Remaining = max(c.Size-c.Next, 0)
	return c
}

// IncompleteSuffix returns how many bytes at the end of b form a proper
// prefix of a well-formed UTF-8 sequence (0 to 3): a character the writer
// has not finished, or that a read limit cut.
func IncompleteSuffix(b []byte) int {
	for k := 1; k <= 3 && k <= len(b); k++ {
		c := b[len(b)-k]
		if c < 0x80 {
			return 0
		}
		if c < 0xC0 {
			continue // a continuation byte: look further back for its lead
		}
		if validPrefix(b[len(b)-k:]) {
			return k
		}
		return 0
	}
	return 0
}

// validPrefix reports whether p (starting with a lead byte) is a proper
// prefix of some well-formed sequence: SeqLen checked all of p, found no
// error, and wanted more.
func validPrefix(p []byte) bool {
	n, ok := SeqLen(p)
	return !ok && n == len(p) && n < seqWant(p[0])
}

// seqWant is the length of a well-formed sequence with lead byte c (1 for
// bytes that cannot lead one).
func seqWant(c byte) int {
	switch {
	case c >= 0xC2 && c < 0xE0:
		return 2
	case c >= 0xE0 && c < 0xF0:
		return 3
	case c >= 0xF0 && c <= 0xF4:
		return 4
	}
	return 1
}
