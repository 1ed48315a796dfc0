package logread

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

const five = "line1\nline2\nline3\nline4\nline5\n"

// workedExamples is the table of SPEC §3.10, row for row.
var workedExamples = []struct {
	name      string
	content   string
	tailLines int
	maxBytes  int64
	want      Stream
}{
	{"last two lines", five, 2, 65536, Stream{"line4\nline5", true, 30, 11}},
	{"no line limit", five, 0, 65536, Stream{five, false, 30, 30}},
	{"byte window", five, 50, 8, Stream{"4\nline5", true, 30, 7}},
	{"max bytes zero", five, 50, 0, Stream{"", true, 30, 0}},
	{"no newline", "no-newline", 50, 65536, Stream{"no-newline", false, 10, 10}},
	{"crlf", "a\r\nb\r\n", 50, 65536, Stream{"a\nb", false, 6, 3}},
	{"trailing cr kept", "x\r", 50, 65536, Stream{"x\r", false, 2, 2}},
	{"window cuts euro", "\x41\xE2\x82\xAC\x42", 50, 3, Stream{R + R + "B", true, 5, 7}},
	{"invalid FF", "\x61\xFF\x62", 50, 65536, Stream{"a" + R + "b", false, 3, 5}},
	{"writer mid-character", "\x41\xE2\x82", 50, 65536, Stream{"A" + R, false, 3, 4}},
	{"empty file", "", 50, 65536, Stream{"", false, 0, 0}},
}

func TestWorkedExamplesBytes(t *testing.T) {
	for _, tc := range workedExamples {
		t.Run(tc.name, func(t *testing.T) {
			got := Bytes([]byte(tc.content), int64(len(tc.content)), tc.tailLines, tc.maxBytes)
			if got != tc.want {
				t.Errorf("Bytes(%q, %d, %d) = %+v, want %+v", tc.content, tc.tailLines, tc.maxBytes, got, tc.want)
			}
		})
	}
}

func TestWorkedExamplesFile(t *testing.T) {
	dir := t.TempDir()
	for i, tc := range workedExamples {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strconv.Itoa(i))
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if got := File(path, tc.tailLines, tc.maxBytes); got != tc.want {
				t.Errorf("File(%q, %d, %d) = %+v, want %+v", tc.content, tc.tailLines, tc.maxBytes, got, tc.want)
			}
		})
	}
	// The table's "missing file" case.
	if got := File(filepath.Join(dir, "missing"), 50, 65536); got != (Stream{}) {
		t.Errorf("missing file: got %+v, want zero Stream", got)
	}
}

func TestFileNotReadable(t *testing.T) {
	dir := t.TempDir()
	if got := File(dir, 50, 65536); got != (Stream{}) {
		t.Errorf("directory: got %+v, want zero Stream", got)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// Must return at once instead of blocking in open.
	if got := File(fifo, 50, 65536); got != (Stream{}) {
		t.Errorf("fifo: got %+v, want zero Stream", got)
	}
	if os.Geteuid() != 0 {
		p := filepath.Join(dir, "noperm")
		if err := os.WriteFile(p, []byte("secret\n"), 0o000); err != nil {
			t.Fatal(err)
		}
		if got := File(p, 50, 65536); got != (Stream{}) {
			t.Errorf("unreadable file: got %+v, want zero Stream", got)
		}
	}
}

func TestFileCases(t *testing.T) {
	tests := []struct {
		name      string
		content   string
		tailLines int
		maxBytes  int64
		want      Stream
	}{
		{"window larger than file", "a\nb\n", 1, 1 << 40, Stream{"b", true, 4, 1}},
		{"window equals file", "a\nb\n", 5, 4, Stream{"a\nb", false, 4, 3}},
		{"window one short", "a\nb\n", 5, 3, Stream{"\nb", true, 4, 2}},
		{"negative max bytes", "abc", 5, -1, Stream{"", true, 3, 0}},
		{"negative tail lines", "a\nb\n", -1, 100, Stream{"a\nb\n", false, 4, 4}},
		{"only newline", "\n", 1, 100, Stream{"", false, 1, 0}},
		{"two empty lines", "\n\n", 1, 100, Stream{"", true, 2, 0}},
		{"window starts mid line", "first line\nsecond\n", 10, 10, Stream{"ne\nsecond", true, 18, 9}},
		{"window drops lead byte", "€uro", 10, 5, Stream{R + R + "uro", true, 6, 9}},
	}
	dir := t.TempDir()
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strconv.Itoa(i))
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if got := File(path, tc.tailLines, tc.maxBytes); got != tc.want {
				t.Errorf("File = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestBytesUsesOnlyWindow(t *testing.T) {
	// data may hold more than maxBytes; only the end counts, and size (not
	// len(data)) is the observed size.
	got := Bytes([]byte("xxxx\nab\n"), 1000, 5, 3)
	want := Stream{"ab", true, 1000, 2}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	got = Bytes([]byte("ab\n"), 1000, 5, 3)
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestLines(t *testing.T) {
	tests := []struct {
		text      string
		n         int
		want      string
		truncated bool
	}{
		{"", 1, "", false},
		{"", 0, "", false},
		{"\n", 1, "", false},
		{"\n\n", 1, "", true},
		{"\n\n", 2, "\n", false},
		{"a", 1, "a", false},
		{"a\n", 1, "a", false},
		{"a\nb", 1, "b", true},
		{"a\nb\n", 1, "b", true},
		{"a\nb\n", 2, "a\nb", false},
		{"a\nb\n", 3, "a\nb", false},
		{"a\nb\n", 0, "a\nb\n", false},
		{"a\nb\n", -5, "a\nb\n", false},
		{"a\nb\nc", 2, "b\nc", true},
		{"a\r\nb\r\n", 50, "a\nb", false},
		{"a\r\nb\r", 50, "a\nb\r", false},
		{"a\r\r\n", 50, "a\r", false},
		{"\r\n", 50, "", false},
		{"\r", 50, "\r", false},
		{"a\rb\r\n", 50, "a\rb", false},
		{"x\r\ny\r\nz\r\n", 2, "y\nz", true},
		{"x\r\ny\r\nz\r\n", 0, "x\r\ny\r\nz\r\n", false},
		{"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", 3, "8\n9\n10", true},
		{"a\nb\n", 1 << 62, "a\nb", false},
	}
	for _, tc := range tests {
		got, trunc := Lines(tc.text, tc.n)
		if got != tc.want || trunc != tc.truncated {
			t.Errorf("Lines(%q, %d) = %q, %v; want %q, %v", tc.text, tc.n, got, trunc, tc.want, tc.truncated)
		}
	}
}

// refLines follows SPEC §3.10 step 5 literally.
func refLines(text string, n int) (string, bool) {
	if n == 0 {
		return text, false
	}
	parts := strings.Split(text, "\n")
	followed := len(parts) - 1 // parts[:followed] were followed by \n
	if strings.HasSuffix(text, "\n") {
		parts = parts[:len(parts)-1]
	}
	for i := range parts {
		if i < followed {
			parts[i] = strings.TrimSuffix(parts[i], "\r")
		}
	}
	trunc := len(parts) > n
	if trunc {
		parts = parts[len(parts)-n:]
	}
	return strings.Join(parts, "\n"), trunc
}

func FuzzLines(f *testing.F) {
	f.Add("line1\nline2\nline3\n", 2)
	f.Add("a\r\nb\r\n", 1)
	f.Add("\r\r\n\n\r", 3)
	f.Fuzz(func(t *testing.T, text string, n int) {
		if n < 0 {
			n = -n % 64
		}
		got, trunc := Lines(text, n)
		want, wantTrunc := refLines(text, n)
		if got != want || trunc != wantTrunc {
			t.Fatalf("Lines(%q, %d) = %q, %v; want %q, %v", text, n, got, trunc, want, wantTrunc)
		}
	})
}

// readChars returns rchar from /proc/self/io: bytes this process read.
func readChars(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Skipf("no /proc/self/io: %v", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "rchar: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Skip("no rchar in /proc/self/io")
	return 0
}

// makeLargeFile creates a sparse file of size bytes whose last 128 KiB are
// text lines ending in "last line\n".
func makeLargeFile(tb testing.TB, size int64) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "stdout.log")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var tailBuf bytes.Buffer
	for i := 0; tailBuf.Len() < 128<<10; i++ {
		tailBuf.WriteString("output line " + strconv.Itoa(i) + "\n")
	}
	tailBuf.WriteString("last line\n")
	if err := f.Truncate(size - int64(tailBuf.Len())); err != nil {
		tb.Fatal(err)
	}
	if _, err := f.WriteAt(tailBuf.Bytes(), size-int64(tailBuf.Len())); err != nil {
		tb.Fatal(err)
	}
	return path
}

func TestFileReadsOnlyTail(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc/self/io")
	}
	const size = 64 << 20
	path := makeLargeFile(t, size)
	before := readChars(t)
	s := File(path, 1, 65536)
	delta := readChars(t) - before
	if want := (Stream{"last line", true, size, 9}); s != want {
		t.Fatalf("File = %+v, want %+v", s, want)
	}
	// Allow for the read of /proc/self/io itself.
	if delta > 65536+4096 {
		t.Errorf("read %d bytes for a 64 KiB tail of a 64 MiB file", delta)
	}
}

func BenchmarkTailLargeFile(b *testing.B) {
	path := makeLargeFile(b, 64<<20)
	b.SetBytes(65536)
	for b.Loop() {
		if s := File(path, 50, 65536); s.ObservedBytes != 64<<20 {
			b.Fatal(s)
		}
	}
}

func BenchmarkTailSmallFile(b *testing.B) {
	path := filepath.Join(b.TempDir(), "stdout.log")
	if err := os.WriteFile(path, bytes.Repeat([]byte("small line\n"), 93), 0o600); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if s := File(path, 50, 65536); s.ObservedBytes == 0 {
			b.Fatal(s)
		}
	}
}
