package logread

import (
	"os"
	"path/filepath"
	"testing"
)

func TestParseCursor(t *testing.T) {
	good := map[string]Cursor{
		"0.0":                   {},
		"30.4":                  {30, 4},
		"007.1":                 {7, 1},
		"9223372036854775807.0": {9223372036854775807, 0},
	}
	for in, want := range good {
		got, err := ParseCursor(in)
		if err != nil || got != want {
			t.Errorf("ParseCursor(%q) = %v, %v; want %v", in, got, err, want)
		}
		if in != "007.1" && got.String() != in {
			t.Errorf("%v.String() = %q, want %q", got, got.String(), in)
		}
	}
	for _, in := range []string{"", "0", "0.", ".0", "1.2.3", "-1.0", "+1.0", " 1.0", "1.0 ", "a.b", "1e3.0",
		"9223372036854775808.0", "0.9223372036854775808", "１.0", "0x1.0"} {
		if c, err := ParseCursor(in); err == nil {
			t.Errorf("ParseCursor(%q) = %v, want an error", in, c)
		}
	}
}

func TestIncompleteSuffix(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"abc", 0},
		{"A\xE2", 1},
		{"A\xE2\x82", 2},
		{"A\xE2\x82\xAC", 0}, // complete €
		{"\xF0\x90\x80", 3},
		{"\xF0\x90", 2},
		{"\xF0", 1},
		{"\xC2", 1},
		{"\xC3\xA9", 0},
		{"\x80", 0},      // lone continuation: ill-formed, not pending
		{"\xE0\x80", 0},  // overlong: can never complete
		{"\xED\xA0", 0},  // surrogate: can never complete
		{"\xF5", 0},      // never a lead byte
		{"\xC0", 0},      // overlong lead
		{"a\x82\xAC", 0}, // continuation run without lead
		{"\xF0\x90\x80\x80", 0},
	}
	for _, tc := range tests {
		if got := IncompleteSuffix([]byte(tc.in)); got != tc.want {
			t.Errorf("IncompleteSuffix(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func writeLog(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "stdout.log")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadChunk(t *testing.T) {
	const log = "line1\nline2\nline3\n" // 18 bytes
	p := writeLog(t, log)
	tests := []struct {
		name                string
		from, max           int64
		final               bool
		text                string
		next, remaining, sz int64
	}{
		{"all", 0, 65536, false, log, 18, 0, 18},
		{"first page", 0, 6, false, "line1\n", 6, 12, 18},
		{"second page", 6, 6, false, "line2\n", 12, 6, 18},
		{"last page", 12, 6, false, "line3\n", 18, 0, 18},
		{"at end", 18, 6, false, "", 18, 0, 18},
		{"beyond end", 40, 6, false, "", 18, 0, 18},
		{"zero max", 3, 0, false, "", 3, 15, 18},
	}
	for _, tc := range tests {
		c := ReadChunk(p, tc.from, tc.max, tc.final)
		if c.Text() != tc.text || c.From != tc.from || c.Next != tc.next || c.Remaining != tc.remaining || c.Size != tc.sz {
			t.Errorf("%s: got text %q from %d next %d remaining %d size %d; want %q %d %d %d %d",
				tc.name, c.Text(), c.From, c.Next, c.Remaining, c.Size, tc.text, tc.from, tc.next, tc.remaining, tc.sz)
		}
	}
	missing := ReadChunk(filepath.Join(t.TempDir(), "none"), 5, 10, false)
	if missing.Text() != "" || missing.Next != 0 || missing.Remaining != 0 || missing.From != 5 {
		t.Errorf("missing file: %+v", missing)
	}
}

func TestReadChunkUTF8(t *testing.T) {
	// "A€B" = 41 E2 82 AC 42; the writer stopped after E2 82.
	running := writeLog(t, "A\xE2\x82")
	if c := ReadChunk(running, 0, 65536, false); c.Text() != "A" || c.Next != 1 || c.Remaining != 2 {
		t.Errorf("running, partial char at end: %q next %d remaining %d", c.Text(), c.Next, c.Remaining)
	}
	// The same bytes at the end of a terminal job's log are final.
	if c := ReadChunk(running, 0, 65536, true); c.Text() != "A\uFFFD" || c.Next != 3 || c.Remaining != 0 {
		t.Errorf("terminal, partial char at end: %q next %d remaining %d", c.Text(), c.Next, c.Remaining)
	}
	whole := writeLog(t, "A\xE2\x82\xACB")
	// max_bytes cuts inside €: the chunk stops before it, terminal or not.
	for _, final := range []bool{false, true} {
		c := ReadChunk(whole, 0, 3, final)
		if c.Text() != "A" || c.Next != 1 || c.Remaining != 4 {
			t.Errorf("final=%v cut inside €: %q next %d remaining %d", final, c.Text(), c.Next, c.Remaining)
		}
		c = ReadChunk(whole, c.Next, 3, final)
		if c.Text() != "€" || c.Next != 4 || c.Remaining != 1 {
			t.Errorf("final=%v second page: %q next %d remaining %d", final, c.Text(), c.Next, c.Remaining)
		}
	}
	// Starting inside a character: the orphan continuation bytes are
	// replaced one by one (maximal subparts), as the tail algorithm does.
	if c := ReadChunk(whole, 2, 65536, false); c.Text() != "\uFFFD\uFFFDB" || c.Next != 5 {
		t.Errorf("from inside €: %q next %d", c.Text(), c.Next)
	}
	// Ill-formed bytes at the end are not a pending character.
	bad := writeLog(t, "a\xFF")
	if c := ReadChunk(bad, 0, 65536, false); c.Text() != "a\uFFFD" || c.Next != 2 {
		t.Errorf("ill-formed end: %q next %d", c.Text(), c.Next)
	}
}
