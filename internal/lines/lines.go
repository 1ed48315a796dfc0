// Package lines cuts raw log output into the line records of SPEC §3.8, used
// for full.log and output matching.
package lines

import (
	"bytes"

	"github.com/agentexec/agentexec/internal/logread"
)

// DefaultMax is the longest record in bytes (SPEC §3.8).
const DefaultMax = 65536

// Splitter cuts a byte stream into lines at '\n'. A line longer than Max bytes
// is cut at the last UTF-8 character boundary at or before Max bytes and
// continues as a new record, so at most Max bytes of a partial line are ever
// buffered, whatever the input. The zero value is ready to use.
//
// The slice passed to emit aliases the input or the splitter's buffer: it is
// valid only during the call and must be copied to be kept.
type Splitter struct {
	Max int // record limit in bytes; 0 or less means DefaultMax
	buf []byte
}

func (s *Splitter) limit() int {
	if s.Max <= 0 {
		return DefaultMax
	}
	return s.Max
}

// Buffered returns the length of the pending partial line.
func (s *Splitter) Buffered() int { return len(s.buf) }

// Write feeds p and calls emit for every completed record, without its '\n'
// (a '\r' before the '\n' is kept).
func (s *Splitter) Write(p []byte, emit func(line []byte)) {
	limit := s.limit()
	for len(p) > 0 {
		if len(s.buf) == 0 {
			// Fast path: records taken straight from p, no copy. Scan at most
			// limit+1 bytes so a huge newline-free chunk is not rescanned.
			i := bytes.IndexByte(p[:min(len(p), limit+1)], '\n')
			if i >= 0 {
				emit(p[:i])
				p = p[i+1:]
				continue
			}
			if len(p) <= limit {
				s.buf = s.appendBuf(p, limit)
				return
			}
			c := cut(p[:limit], p[limit])
			emit(p[:c])
			p = p[c:]
			continue
		}
		room := limit - len(s.buf)
		i := bytes.IndexByte(p[:min(len(p), room+1)], '\n')
		if i >= 0 {
			s.buf = s.appendBuf(p[:i], limit)
			emit(s.buf)
			s.buf = s.buf[:0]
			p = p[i+1:]
			continue
		}
		if len(p) <= room {
			s.buf = s.appendBuf(p, limit)
			return
		}
		// The buffered line reaches limit bytes and p[room] is not '\n'.
		s.buf = s.appendBuf(p[:room], limit)
		p = p[room:]
		c := cut(s.buf, p[0])
		emit(s.buf[:c])
		s.buf = s.buf[:copy(s.buf, s.buf[c:])]
	}
}

// Flush emits the pending partial line, if any (end of stream).
func (s *Splitter) Flush(emit func(line []byte)) {
	if len(s.buf) > 0 {
		emit(s.buf)
		s.buf = s.buf[:0]
	}
}

// appendBuf appends p to the buffer without letting its capacity exceed limit.
func (s *Splitter) appendBuf(p []byte, limit int) []byte {
	if n := len(s.buf) + len(p); n > cap(s.buf) {
		nb := make([]byte, len(s.buf), min(limit, max(n, 2*cap(s.buf), 512)))
		copy(nb, s.buf)
		s.buf = nb
	}
	return append(s.buf, p...)
}

// cut returns where to end a record holding line (len(line) is the limit)
// when next is the byte after it: before the character, or maximal ill-formed
// subpart (logread.SeqLen), that would straddle the limit; otherwise at the
// limit. Cutting only between decoding units keeps the records' decoded text
// equal to the whole line's.
func cut(line []byte, next byte) int {
	n := len(line)
	for j := n - 1; j >= n-3 && j >= 0; j-- {
		c := line[j]
		if c < 0x80 {
			break // ASCII ends a unit; later continuation bytes stand alone
		}
		if c < 0xC0 {
			continue // continuation byte: keep looking for its lead
		}
		var w [4]byte
		k := copy(w[:], line[j:])
		w[k] = next
		if l, _ := logread.SeqLen(w[:k+1]); l > k && j > 0 {
			return j
		}
		break
	}
	return n
}

// Record stream names.
const (
	Stdout = "stdout"
	Stderr = "stderr"
)

// AppendRecord appends the full.log record "<ts> [STDOUT] <text>\n" (or
// [STDERR]) for line, decoded as logread.Decode does, to dst. stream is Stdout
// or Stderr (upper case is accepted too); other values are upper-cased
// into the tag.
func AppendRecord(dst []byte, ts string, stream string, line []byte) []byte {
	dst = append(dst, ts...)
	switch stream {
	case Stdout, "STDOUT":
		dst = append(dst, " [STDOUT] "...)
	case Stderr, "STDERR":
		dst = append(dst, " [STDERR] "...)
	default:
		dst = append(dst, " ["...)
		for i := 0; i < len(stream); i++ {
			c := stream[i]
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			dst = append(dst, c)
		}
		dst = append(dst, "] "...)
	}
	dst = logread.AppendDecode(dst, line)
	return append(dst, '\n')
}
