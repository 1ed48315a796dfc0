package render

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	long := strings.Repeat("a", 1000) + strings.Repeat("b", 3500) + strings.Repeat("c", 500)
	tests := []struct {
		name, in, want string
		cut            bool
	}{
		{"plain", "hello\nworld", "hello\nworld", false},
		{"empty", "", "", false},
		{"sgr colours", "\x1b[1;31merror\x1b[0m: bad\n", "error: bad\n", false},
		{"csi private and intermediate", "\x1b[?25lA\x1b[2 qB\x1b[?25h", "AB", false},
		{"osc title bel", "\x1b]0;my title\x07prompt$ ", "prompt$ ", false},
		{"osc hyperlink st", "\x1b]8;;https://x.test\x1b\\link\x1b]8;;\x1b\\ text", "link text", false},
		{"unterminated osc ends at line end", "a\x1b]0;title\nnext", "a\nnext", false},
		{"two-byte esc", "\x1b7saved\x1b8\x1bM\x1b=", "saved", false},
		{"charset with intermediate", "\x1b(Bplain\x1b)0", "plain", false},
		{"lone esc at end", "text\x1b", "text", false},
		{"esc before non-sequence byte", "a\x1b\tb", "a\tb", false},
		{"interrupted csi", "a\x1b[12\x07b", "a\x07b", false},
		{"progress bar redraw", "10%\r20%\r100%\ndone", "100%\ndone", false},
		{"progress with erase line", "\r\x1b[K 10%\r\x1b[K 55%\r\x1b[K100%\n", "100%\n", false},
		{"trailing cr kept text", "downloading 30%\r", "downloading 30%", false},
		{"crlf", "a\r\nb\r\n", "a\nb\n", false},
		{"only cr", "\r", "", false},
		{"cr per line", "x\ry\nz\rw", "y\nw", false},
		{"line of 2000 kept", strings.Repeat("x", 2000), strings.Repeat("x", 2000), false},
		{"line of 5000 cut", long, strings.Repeat("a", 1000) + "…[3500 bytes cut]…" + strings.Repeat("c", 500), true},
		{"long line among short", "s\n" + long + "\nt", "s\n" + strings.Repeat("a", 1000) + "…[3500 bytes cut]…" + strings.Repeat("c", 500) + "\nt", true},
		{"long line measured after stripping", strings.Repeat("\x1b[0m", 600) + "short", "short", false},
		{"cut on character boundaries", strings.Repeat("é", 1500), strings.Repeat("é", 500) + "…[1500 bytes cut]…" + strings.Repeat("é", 250), true},
		{"cut inside 3-byte characters", "€" + strings.Repeat("€", 999), strings.Repeat("€", 333) + "…[1500 bytes cut]…" + strings.Repeat("€", 167), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, cut := Text(tc.in)
			if got != tc.want || cut != tc.cut {
				t.Errorf("Text(%q)\n = %q, %v\nwant %q, %v", tc.in, got, cut, tc.want, tc.cut)
			}
		})
	}
}

func TestTextNoCopyWhenClean(t *testing.T) {
	in := strings.Repeat("clean line\n", 100)
	got, _ := Text(in)
	if got != in {
		t.Fatal("clean text changed")
	}
	if allocs := testing.AllocsPerRun(10, func() { Text(in) }); allocs != 0 {
		t.Errorf("clean text allocated %v times", allocs)
	}
}

func FuzzText(f *testing.F) {
	for _, s := range []string{"", "a\x1b[31mb", "\x1b]0;t\x07x", "1\r2\r3\n", strings.Repeat("z", 2100), "\x1b", "\x1b[", "\x1b]", "é\r\x1b(B"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return // excerpts are decoded before rendering
		}
		got, cut := Text(s)
		if !utf8.ValidString(got) {
			t.Fatalf("Text(%q) = %q: invalid UTF-8", s, got)
		}
		if strings.Count(got, "\n") != strings.Count(s, "\n") {
			t.Fatalf("Text(%q) = %q: line count changed", s, got)
		}
		if strings.IndexByte(got, 0x1b) >= 0 {
			t.Fatalf("Text(%q) = %q: escape left", s, got)
		}
		for _, line := range strings.Split(got, "\n") {
			if strings.IndexByte(line, '\r') >= 0 {
				t.Fatalf("Text(%q) = %q: carriage return left", s, got)
			}
			if len(line) > MaxLineBytes+len("…[ bytes cut]…")+20 {
				t.Fatalf("Text(%q): line of %d bytes", s, len(line))
			}
		}
		if !cut && len(got) > len(s) {
			t.Fatalf("Text(%q) = %q grew without a cut", s, got)
		}
		if again, _ := Text(got); again != got {
			t.Fatalf("Text not idempotent: %q → %q → %q", s, got, again)
		}
	})
}
