package logread

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

type seen struct {
	off, end, n int64
	text        string
}

func collect(t *testing.T, s *LineScanner, final bool) []seen {
	t.Helper()
	var got []seen
	if err := s.Scan(final, func(l Line) bool {
		got = append(got, seen{l.Offset, l.End, l.Len, string(l.Text)})
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

func appendLog(t *testing.T, path, data string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(data); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func TestLineScannerIncremental(t *testing.T) {
	p := writeLog(t, "")
	s := NewLineScanner(p, 0)
	if got := collect(t, s, false); len(got) != 0 {
		t.Fatalf("empty log: %v", got)
	}
	appendLog(t, p, "ab\ncd")
	if got := fmt.Sprint(collect(t, s, false)); got != "[{0 3 2 ab}]" {
		t.Fatalf("first scan: %s", got)
	}
	if s.Off != 5 || s.Pending() != 3 {
		t.Fatalf("off %d pending %d", s.Off, s.Pending())
	}
	appendLog(t, p, "e\r\n\nlast")
	// "cde\r" completes across two writes; the empty line counts; "last"
	// is not a line until the log is complete.
	if got := fmt.Sprint(collect(t, s, false)); got != "[{3 8 4 cde\r} {8 9 0 }]" {
		t.Fatalf("second scan: %s", got)
	}
	if got := fmt.Sprint(collect(t, s, true)); got != "[{9 13 4 last}]" {
		t.Fatalf("final scan: %s", got)
	}
	if got := collect(t, s, true); len(got) != 0 {
		t.Fatalf("a final piece is emitted once: %v", got)
	}
}

func TestLineScannerFromOffset(t *testing.T) {
	p := writeLog(t, "one\ntwo\nthree\n")
	if got := fmt.Sprint(collect(t, NewLineScanner(p, 4), false)); got != "[{4 8 3 two} {8 14 5 three}]" {
		t.Fatalf("from 4: %s", got)
	}
	// Beyond the end: a cursor of an earlier run; the new log from 0.
	s := NewLineScanner(p, 100)
	if got := fmt.Sprint(collect(t, s, false)); got != "[{0 4 3 one} {4 8 3 two} {8 14 5 three}]" || s.Off != 14 {
		t.Fatalf("beyond end: %v off %d", got, s.Off)
	}
	appendLog(t, p, "four\n")
	if got := fmt.Sprint(collect(t, s, false)); got != "[{14 19 4 four}]" {
		t.Fatalf("after growth: %s", got)
	}
	// A log that shrank below the position was restarted: start over.
	if err := os.WriteFile(p, []byte("new\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(collect(t, s, false)); got != "[{0 4 3 new}]" {
		t.Fatalf("after restart: %s", got)
	}
}

func TestLineScannerLongLinesAndBlocks(t *testing.T) {
	long := strings.Repeat("x", 3*blockSize+17)
	p := writeLog(t, "a\n"+long+"\nb\n")
	s := NewLineScanner(p, 0)
	s.Max = 10
	got := collect(t, s, false)
	want := fmt.Sprint([]seen{{0, 2, 1, "a"}, {2, int64(3 + len(long)), int64(len(long)), "xxxxxxxxxx"}, {int64(3 + len(long)), int64(5 + len(long)), 1, "b"}})
	if fmt.Sprint(got) != want {
		t.Fatalf("got %v\nwant %s", got, want)
	}
}

func TestLineScannerStop(t *testing.T) {
	p := writeLog(t, "a\nREADY 1\nb\nREADY 2\n")
	s := NewLineScanner(p, 0)
	var at []int64
	for range 3 {
		matched := false
		s.Scan(false, func(l Line) bool {
			if strings.HasPrefix(string(l.Text), "READY") {
				at = append(at, l.Offset, l.End)
				matched = true
				return false
			}
			return true
		})
		if !matched {
			break
		}
	}
	if fmt.Sprint(at) != "[2 10 12 20]" || s.Off != 20 {
		t.Fatalf("matches at %v, off %d", at, s.Off)
	}
}

func TestPattern(t *testing.T) {
	if _, err := NewPattern("(", MatchRegex); err == nil {
		t.Fatal("invalid regex accepted")
	}
	if _, err := NewPattern("x", "glob"); err == nil {
		t.Fatal("unknown match type accepted")
	}
	tests := []struct {
		pat, typ, line string
		want           bool
	}{
		{"READY", "", "server READY now", true},
		{"READY", MatchContains, "ready", false},
		{"", MatchContains, "", true},
		{`^listening on :\d+$`, MatchRegex, "listening on :8080", true},
		{`^listening on :\d+$`, MatchRegex, "x listening on :8080", false},
		{"a\uFFFDb", MatchContains, "a\xFFb", true}, // matched as decoded
		{`(?i)error`, MatchRegex, "ERROR: x", true},
	}
	for _, tc := range tests {
		p, err := NewPattern(tc.pat, tc.typ)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Match([]byte(tc.line)); got != tc.want {
			t.Errorf("%q %s on %q = %v", tc.pat, tc.typ, tc.line, got)
		}
	}
}

func TestCutText(t *testing.T) {
	if got := CutText([]byte("abc"), 4); got != "abc" {
		t.Errorf("short: %q", got)
	}
	if got := CutText([]byte("ab€"), 4); got != "ab" {
		t.Errorf("cut inside €: %q", got)
	}
	if got := CutText([]byte("abcd€"), 4); got != "abcd" {
		t.Errorf("cut before €: %q", got)
	}
}

func TestLinesStart(t *testing.T) {
	p := writeLog(t, "line1\nline2\nline3\n")
	for _, tc := range []struct {
		lines int
		max   int64
		want  int64
	}{{1, 65536, 12}, {2, 65536, 6}, {3, 65536, 0}, {9, 65536, 0}, {0, 65536, 0}, {9, 8, 10}, {1, 4, 14}} {
		if got := LinesStart(p, tc.lines, tc.max); got != tc.want {
			t.Errorf("LinesStart(%d, %d) = %d, want %d", tc.lines, tc.max, got, tc.want)
		}
	}
	if got := LinesStart(writeLog(t, "a\nno-newline"), 1, 65536); got != 2 {
		t.Errorf("unterminated last line: %d", got)
	}
}
