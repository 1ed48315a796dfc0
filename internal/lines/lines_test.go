package lines

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/agentexec/agentexec/internal/logread"
)

// run feeds chunks to a Splitter with the given Max and returns the records
// (copied) emitted by Write and then by Flush.
func run(max int, chunks []string) (written, flushed []string) {
	s := &Splitter{Max: max}
	for _, c := range chunks {
		s.Write([]byte(c), func(l []byte) { written = append(written, string(l)) })
	}
	s.Flush(func(l []byte) { flushed = append(flushed, string(l)) })
	return written, flushed
}

// rechunk splits s into pieces of n bytes.
func rechunk(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}

func eq(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// short renders records compactly: long runs of one byte as "<n×'c'>".
func short(recs []string) string {
	var sb strings.Builder
	sb.WriteString("[")
	for i, r := range recs {
		if i > 0 {
			sb.WriteString(", ")
		}
		if len(r) > 40 {
			fmt.Fprintf(&sb, "%q…(%d bytes)…%q", r[:8], len(r), r[len(r)-8:])
		} else {
			fmt.Fprintf(&sb, "%q", r)
		}
	}
	sb.WriteString("]")
	return sb.String()
}

func TestSplitterSmall(t *testing.T) {
	tests := []struct {
		name    string
		chunks  []string
		written []string
		flushed []string
	}{
		{"nothing", nil, nil, nil},
		{"empty chunk", []string{""}, nil, nil},
		{"one line", []string{"a\n"}, []string{"a"}, nil},
		{"several lines", []string{"a\nbb\nccc\n"}, []string{"a", "bb", "ccc"}, nil},
		{"empty lines", []string{"\n\n"}, []string{"", ""}, nil},
		{"split across chunks", []string{"ab", "c\nd", "e\n"}, []string{"abc", "de"}, nil},
		{"split over three chunks", []string{"a", "b", "c", "\n"}, []string{"abc"}, nil},
		{"newline alone in chunk", []string{"abc", "\n", "\n"}, []string{"abc", ""}, nil},
		{"crlf kept", []string{"a\r\nb\r\n"}, []string{"a\r", "b\r"}, nil},
		{"cr and lf in separate chunks", []string{"a\r", "\nb"}, []string{"a\r"}, []string{"b"}},
		{"trailing partial flushed", []string{"a\nbc"}, []string{"a"}, []string{"bc"}},
		{"partial over chunks flushed", []string{"a", "b"}, nil, []string{"ab"}},
		{"lone cr flushed", []string{"\r"}, nil, []string{"\r"}},
		{"no flush after newline", []string{"a\n", ""}, []string{"a"}, nil},
		{"invalid utf8 passed raw", []string{"\xff\xfe\n"}, []string{"\xff\xfe"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, f := run(0, tc.chunks)
			if !eq(w, tc.written) || !eq(f, tc.flushed) {
				t.Errorf("got written %q flushed %q; want %q, %q", w, f, tc.written, tc.flushed)
			}
		})
	}
}

func TestSplitterFlushTwice(t *testing.T) {
	var s Splitter
	var got []string
	emit := func(l []byte) { got = append(got, string(l)) }
	s.Write([]byte("x"), emit)
	s.Flush(emit)
	s.Flush(emit)
	s.Write([]byte("y\n"), emit)
	if want := []string{"x", "y"}; !eq(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if s.Buffered() != 0 {
		t.Errorf("Buffered() = %d after flush, want 0", s.Buffered())
	}
}

func TestSplitterLongLines(t *testing.T) {
	a := func(n int) string { return strings.Repeat("a", n) }
	const euro = "\xE2\x82\xAC"      // 3 bytes
	const emoji = "\xF0\x9F\x98\x80" // 4 bytes
	tests := []struct {
		name  string
		input string
		want  []string // all records, Write then Flush
	}{
		{"exactly 65536 then newline", a(65536) + "\n", []string{a(65536)}},
		{"exactly 65536 at end of stream", a(65536), []string{a(65536)}},
		{"65537", a(65537) + "\n", []string{a(65536), "a"}},
		{"65537 at end of stream", a(65537), []string{a(65536), "a"}},
		{"twice the limit", a(131072) + "\n", []string{a(65536), a(65536)}},
		{"twice the limit plus one", a(131073) + "\nz\n", []string{a(65536), a(65536), "a", "z"}},
		{"cut then short line", a(65540) + "\nb\n", []string{a(65536), "aaaa", "b"}},
		{"euro ends at limit", a(65533) + euro + "b\n", []string{a(65533) + euro, "b"}},
		{"euro straddles by one", a(65534) + euro + "\n", []string{a(65534), euro}},
		{"euro straddles by two", a(65535) + euro + "\n", []string{a(65535), euro}},
		{"emoji ends at limit", a(65532) + emoji + "b", []string{a(65532) + emoji, "b"}},
		{"emoji straddles by one", a(65533) + emoji + "\n", []string{a(65533), emoji}},
		{"emoji straddles by three", a(65535) + emoji + "\n", []string{a(65535), emoji}},
		{"two-byte straddles", a(65535) + "é\n", []string{a(65535), "é"}},
		{"straddling char then more", a(65535) + euro + a(65536) + "\n", []string{a(65535), euro + a(65533), "aaa"}},
		{"continuation bytes only: cut at limit", strings.Repeat("\x80", 65537) + "\n", []string{strings.Repeat("\x80", 65536), "\x80"}},
		{"invalid lead at limit-1 not straddling", a(65535) + "\xFFb\n", []string{a(65535) + "\xFF", "b"}},
		{"ill-formed prefix ends at limit", a(65534) + "\xE2\x82x\n", []string{a(65534) + "\xE2\x82", "x"}},
		{"ill-formed prefix straddles", a(65535) + "\xE2\x82x\n", []string{a(65535), "\xE2\x82x"}},
		{"truncated emoji straddles", a(65534) + "\xF0\x9F\x98x\n", []string{a(65534), "\xF0\x9F\x98x"}},
		{"stray continuation at limit", a(65536) + "\x80\n", []string{a(65536), "\x80"}},
		{"surrogate lead not straddling", a(65535) + "\xED\xA0\x80\n", []string{a(65535) + "\xED", "\xA0\x80"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, n := range []int{len(tc.input), 1 << 16, 65535, 65537, 4096, 1000, 3} {
				w, f := run(0, rechunk(tc.input, n))
				if got := append(w, f...); !eq(got, tc.want) {
					t.Fatalf("chunk %d: got %s, want %s", n, short(got), short(tc.want))
				}
			}
		})
	}
}

func TestSplitterSmallMax(t *testing.T) {
	tests := []struct {
		max   int
		input string
		want  []string
	}{
		{4, "abcdefghij\n", []string{"abcd", "efgh", "ij"}},
		{4, "abcd\n", []string{"abcd"}},
		{4, "a€\n", []string{"a€"}},
		{4, "ab€\n", []string{"ab", "€"}},
		{4, "😀😀\n", []string{"😀", "😀"}},
		{4, "a😀\n", []string{"a", "😀"}},
		{5, "a😀b\n", []string{"a😀", "b"}},
		{1, "ab€\n", []string{"a", "b", "\xE2", "\x82", "\xAC"}}, // limit below a character: forced byte cuts
		{2, "€€", []string{"\xE2\x82", "\xAC", "\xE2\x82", "\xAC"}},
		{-1, "abc\n", []string{"abc"}}, // negative Max means DefaultMax
	}
	for _, tc := range tests {
		for _, n := range []int{len(tc.input), 1, 2, 3} {
			w, f := run(tc.max, rechunk(tc.input, n))
			if got := append(w, f...); !eq(got, tc.want) {
				t.Errorf("Max %d %q chunk %d: got %q, want %q", tc.max, tc.input, n, got, tc.want)
			}
		}
	}
}

func TestSplitterMiBNoNewline(t *testing.T) {
	data := bytes.Repeat([]byte("x"), 1<<20)
	for _, chunk := range []int{65536, 1000, 1 << 20} {
		var s Splitter
		var written, flushed int
		for p := data; len(p) > 0; {
			n := min(chunk, len(p))
			s.Write(p[:n], func(l []byte) {
				if len(l) != 65536 {
					t.Fatalf("record of %d bytes, want 65536", len(l))
				}
				written++
			})
			p = p[n:]
			if s.Buffered() > 65536 || cap(s.buf) > 65536 {
				t.Fatalf("chunk %d: buffered %d cap %d, want <= 65536", chunk, s.Buffered(), cap(s.buf))
			}
		}
		s.Flush(func(l []byte) {
			if len(l) != 65536 {
				t.Fatalf("flushed %d bytes, want 65536", len(l))
			}
			flushed++
		})
		if written != 15 || flushed != 1 {
			t.Errorf("chunk %d: written %d flushed %d, want 15 and 1 (16 records)", chunk, written, flushed)
		}
	}
}

func TestSplitterBoundedMemory(t *testing.T) {
	// 256 MiB without a newline, fed in odd-sized chunks so the buffer path
	// is exercised; the buffer must never grow past Max.
	chunk := bytes.Repeat([]byte("y"), 65537+11)
	var s Splitter
	var records, total int
	emit := func(l []byte) { records++; total += len(l) }
	for fed := 0; fed < 256<<20; fed += len(chunk) {
		s.Write(chunk, emit)
		if cap(s.buf) > 65536 {
			t.Fatalf("buffer capacity %d > 65536", cap(s.buf))
		}
	}
	s.Flush(emit)
	fed := (256<<20 + len(chunk) - 1) / len(chunk) * len(chunk)
	if total != fed || records != (fed+65535)/65536 {
		t.Errorf("records %d total %d, want %d and %d", records, total, (fed+65535)/65536, fed)
	}
}

func TestSplitterNoAllocs(t *testing.T) {
	var s Splitter
	in := []byte("short line one\nshort line two\r\npartial")
	emit := func([]byte) {}
	s.Write(in, emit) // warm up: allocates the partial-line buffer once
	allocs := testing.AllocsPerRun(100, func() { s.Write(in, emit) })
	if allocs != 0 {
		t.Errorf("Write allocated %v times per run, want 0", allocs)
	}
}

func TestAppendRecord(t *testing.T) {
	const ts = "2025-01-15T10:00:00Z"
	tests := []struct {
		name   string
		stream string
		line   string
		want   string
	}{
		{"stdout", Stdout, "hello", ts + " [STDOUT] hello\n"},
		{"stderr", Stderr, "oops", ts + " [STDERR] oops\n"},
		{"upper stdout", "STDOUT", "x", ts + " [STDOUT] x\n"},
		{"upper stderr", "STDERR", "x", ts + " [STDERR] x\n"},
		{"other stream upper-cased", "aux1", "x", ts + " [AUX1] x\n"},
		{"empty line", Stdout, "", ts + " [STDOUT] \n"},
		{"cr kept", Stdout, "a\r", ts + " [STDOUT] a\r\n"},
		{"multibyte", Stdout, "A€B", ts + " [STDOUT] A€B\n"},
		{"invalid bytes replaced", Stderr, "a\xFFb\xE2\x82", ts + " [STDERR] a\uFFFDb\uFFFD\n"},
		{"surrogate", Stdout, "\xED\xA0\x80", ts + " [STDOUT] \uFFFD\uFFFD\uFFFD\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := AppendRecord([]byte("prev\n"), ts, tc.stream, []byte(tc.line))
			if string(got) != "prev\n"+tc.want {
				t.Errorf("got %q, want %q", got, "prev\n"+tc.want)
			}
		})
	}
}

func TestAppendRecordNoAllocs(t *testing.T) {
	dst := make([]byte, 0, 256)
	line := []byte("a perfectly valid line with ünïcödé")
	allocs := testing.AllocsPerRun(100, func() {
		dst = AppendRecord(dst[:0], "2025-01-15T10:00:00Z", Stdout, line)
	})
	if allocs != 0 {
		t.Errorf("AppendRecord allocated %v times per run, want 0", allocs)
	}
}

// refRecords is a whole-input reference: split at '\n' (a non-empty final
// piece is a record) and cut over-long lines at the largest point in
// [max-3, max] that leaves the decoded text unchanged.
func refRecords(data []byte, max int) []string {
	pieces := bytes.Split(data, []byte("\n"))
	if last := pieces[len(pieces)-1]; len(last) == 0 {
		pieces = pieces[:len(pieces)-1]
	}
	var out []string
	for _, line := range pieces {
		for len(line) > max {
			c, whole := max, logread.Decode(line)
			for k := max; k >= max-3 && k > 0; k-- {
				if logread.Decode(line[:k])+logread.Decode(line[k:]) == whole {
					c = k
					break
				}
			}
			out = append(out, string(line[:c]))
			line = line[c:]
		}
		out = append(out, string(line))
	}
	return out
}

func FuzzSplitter(f *testing.F) {
	f.Add([]byte("a\nb\r\nc"), uint8(0), uint16(1))
	f.Add([]byte("aaaa€€😀😀\xF0\x9F\x98x\xE2\x82\xAC\n\n"), uint8(1), uint16(3))
	f.Add([]byte("\x80\x80\x80\x80\x80\x80\xFF\xC2"), uint8(2), uint16(2))
	f.Fuzz(func(t *testing.T, data []byte, maxSeed uint8, chunk uint16) {
		max := 4 + int(maxSeed)%29
		n := 1 + int(chunk)%64
		s := Splitter{Max: max}
		var got []string
		emit := func(l []byte) {
			if len(l) > max || bytes.IndexByte(l, '\n') >= 0 {
				t.Fatalf("bad record %q (Max %d)", l, max)
			}
			got = append(got, string(l))
		}
		for p := data; len(p) > 0; {
			k := min(n, len(p))
			s.Write(p[:k], emit)
			p = p[k:]
			if s.Buffered() > max || cap(s.buf) > max {
				t.Fatalf("buffered %d cap %d > Max %d", s.Buffered(), cap(s.buf), max)
			}
		}
		s.Flush(emit)
		if want := refRecords(data, max); !eq(got, want) {
			t.Fatalf("Max %d chunk %d input %q:\ngot  %q\nwant %q", max, n, data, got, want)
		}
	})
}

func BenchmarkSplitterShortLines(b *testing.B) {
	var buf bytes.Buffer
	for i := range 1_000_000 {
		fmt.Fprintf(&buf, "line %d of the output\n", i)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		var s Splitter
		n := 0
		emit := func([]byte) { n++ }
		for p := data; len(p) > 0; {
			k := min(65536, len(p))
			s.Write(p[:k], emit)
			p = p[k:]
		}
		s.Flush(emit)
		if n != 1_000_000 {
			b.Fatalf("%d lines", n)
		}
	}
}

func BenchmarkAppendRecord(b *testing.B) {
	line := []byte("a typical line of build output, 64 bytes long, more or less ok")
	dst := make([]byte, 0, 4096)
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		dst = AppendRecord(dst[:0], "2025-01-15T10:00:00Z", Stdout, line)
	}
}
