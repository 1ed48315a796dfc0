// Package logread is the one reader of job logs: the tail algorithm of SPEC
// §3.10 (read the end of a log, decode it lossily as UTF-8, keep the last N
// lines), forward reads at cursors (§11.1) and incremental line scanning for
// readiness waits and following (§11.2, §11.3). It imports nothing internal.
package logread

import "unicode/utf8"

const replacement = "\uFFFD"

// Decode converts b to a string, replacing each maximal subpart of an
// ill-formed UTF-8 subsequence with one U+FFFD (Unicode "substitution of
// maximal subparts", as WHATWG decoders do). strings.ToValidUTF8 is not used
// because it collapses adjacent ill-formed runs into one replacement.
func Decode(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return string(appendSlow(make([]byte, 0, len(b)+len(b)/2+3), b))
}

// AppendDecode appends the lossy decoding of b (as in Decode) to dst. It lets
// callers building byte buffers avoid a round trip through a string.
func AppendDecode(dst, b []byte) []byte {
	if utf8.Valid(b) {
		return append(dst, b...)
	}
	return appendSlow(dst, b)
}

func appendSlow(dst, b []byte) []byte {
	start := 0 // start of the pending run of well-formed bytes
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		n, ok := SeqLen(b[i:])
		if ok {
			i += n
			continue
		}
		dst = append(dst, b[start:i]...)
		dst = append(dst, replacement...)
		i += n
		start = i
	}
	return append(dst, b[start:]...)
}

// SeqLen reports the length n of the code unit sequence at the start of b
// (len(b) > 0) and whether it is a well-formed character. When ok is false,
// b[:n] is the maximal subpart that is replaced by one U+FFFD: the longest
// prefix of a well-formed sequence (possibly cut short by the end of b), or
// one byte. Ranges follow Unicode Table 3-7.
func SeqLen(b []byte) (n int, ok bool) {
	lo, hi := byte(0x80), byte(0xBF)
	var need int
	switch c := b[0]; {
	case c < 0x80:
		return 1, true
	case c < 0xC2: // continuation bytes and overlong C0, C1
		return 1, false
	case c < 0xE0:
		need = 1
	case c == 0xE0: // excludes overlongs
		need, lo = 2, 0xA0
	case c == 0xED: // excludes surrogates
		need, hi = 2, 0x9F
	case c < 0xF0:
		need = 2
	case c == 0xF0: // excludes overlongs
		need, lo = 3, 0x90
	case c < 0xF4:
		need = 3
	case c == 0xF4: // excludes > U+10FFFF
		need, hi = 3, 0x8F
	default:
		return 1, false
	}
	for k := 1; k <= need; k++ {
		if k >= len(b) {
			return k, false
		}
		if c := b[k]; c < lo || c > hi {
			return k, false
		}
		lo, hi = 0x80, 0xBF
	}
	return need + 1, true
}
