package logread

import (
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

const R = "\uFFFD"

func TestDecode(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty", "", ""},
		{"ascii", "hello\n", "hello\n"},
		{"valid multibyte", "A€B 日本 😀", "A€B 日本 😀"},
		{"encoded U+FFFD stays", "\xEF\xBF\xBD", R},
		{"nul bytes", "\x00\x00", "\x00\x00"},
		{"lone FF", "a\xFFb", "a" + R + "b"},
		{"lone FE", "\xFE", R},
		{"lone continuation", "\x80", R},
		{"two continuations", "\x80\xBF", R + R},
		{"cont run after char", "€\x82\xAC", "€" + R + R},
		{"C0 overlong", "\xC0\xAF", R + R},
		{"C1 overlong", "\xC1\xBF", R + R},
		{"C2 alone at end", "\xC2", R},
		{"C2 then ascii", "\xC2A", R + "A"},
		{"C2 80 valid", "\xC2\x80", "\u0080"},
		{"DF BF valid", "\xDF\xBF", "\u07FF"},
		{"E2 82 then B", "\xE2\x82B", R + "B"},
		{"E2 82 at end", "A\xE2\x82", "A" + R},
		{"E2 at end", "\xE2", R},
		{"E2 82 AC valid", "\xE2\x82\xAC", "€"},
		{"E0 80 overlong", "\xE0\x80\x80", R + R + R},
		{"E0 9F overlong", "\xE0\x9F\xBF", R + R + R},
		{"E0 A0 80 valid", "\xE0\xA0\x80", "\u0800"},
		{"E0 A0 at end", "\xE0\xA0", R},
		{"ED A0 80 surrogate", "\xED\xA0\x80", R + R + R},
		{"ED BF BF surrogate", "\xED\xBF\xBF", R + R + R},
		{"ED 9F BF valid", "\xED\x9F\xBF", "\uD7FF"},
		{"ED 9F then x", "\xED\x9Fx", R + "x"},
		{"EF BF BF valid", "\xEF\xBF\xBF", "\uFFFF"},
		{"F0 80", "\xF0\x80", R + R},
		{"F0 80 80 80 overlong", "\xF0\x80\x80\x80", R + R + R + R},
		{"F0 8F overlong", "\xF0\x8F\xBF\xBF", R + R + R + R},
		{"F0 90 80 80 valid", "\xF0\x90\x80\x80", "\U00010000"},
		{"F0 90 80 at end", "\xF0\x90\x80", R},
		{"F0 90 80 then x", "\xF0\x90\x80x", R + "x"},
		{"F0 90 then F0 90 80 80", "\xF0\x90\xF0\x90\x80\x80", R + "\U00010000"},
		{"F1 80 80 80 valid", "\xF1\x80\x80\x80", "\U00040000"},
		{"F3 BF BF BF valid", "\xF3\xBF\xBF\xBF", "\U000FFFFF"},
		{"F4 8F BF BF valid", "\xF4\x8F\xBF\xBF", "\U0010FFFF"},
		{"F4 90 too large", "\xF4\x90\x80\x80", R + R + R + R},
		{"F4 at end", "\xF4", R},
		{"F5", "\xF5\x80\x80\x80", R + R + R + R},
		{"F8 5-byte form", "\xF8\x88\x80\x80\x80", R + R + R + R + R},
		{"lead then lead", "\xE2\xE2\x82\xAC", R + "€"},
		{"mixed", "a\xE2\x82\xFFb\xC3", "a" + R + R + "b" + R},
		// Unicode §3.9 Table 3-8 example: 61 F1 80 80 E1 80 C2 62 80 63 80 BF 64.
		{"table 3-8", "\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64", "a" + R + R + R + "b" + R + "c" + R + R + "d"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Decode([]byte(tc.in)); got != tc.want {
				t.Errorf("Decode(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if got := string(AppendDecode([]byte("pre"), []byte(tc.in))); got != "pre"+tc.want {
				t.Errorf("AppendDecode(%q) = %q, want %q", tc.in, got, "pre"+tc.want)
			}
		})
	}
}

func TestSeqLen(t *testing.T) {
	tests := []struct {
		in     string
		wantN  int
		wantOK bool
	}{
		{"a", 1, true},
		{"\x80", 1, false},
		{"\xC2\x80", 2, true},
		{"\xC2", 1, false},
		{"\xE2\x82", 2, false},
		{"\xE2\x82\xAC", 3, true},
		{"\xE2\x82B", 2, false},
		{"\xED\xA0\x80", 1, false},
		{"\xF0\x80", 1, false},
		{"\xF0\x90\x80", 3, false},
		{"\xF0\x90\x80\x80rest", 4, true},
		{"\xFF", 1, false},
	}
	for _, tc := range tests {
		n, ok := SeqLen([]byte(tc.in))
		if n != tc.wantN || ok != tc.wantOK {
			t.Errorf("SeqLen(%q) = %d, %v; want %d, %v", tc.in, n, ok, tc.wantN, tc.wantOK)
		}
	}
}

// prefixes holds every proper prefix of the UTF-8 encoding of every scalar
// value; it defines maximal subparts independently of SeqLen's range table.
var prefixes = sync.OnceValue(func() map[string]bool {
	m := make(map[string]bool)
	var buf [4]byte
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		n := utf8.EncodeRune(buf[:], r)
		for k := 1; k < n; k++ {
			m[string(buf[:k])] = true
		}
	}
	return m
})

// refDecode is a slow reference straight from the definition: emit a
// well-formed character, else replace the longest prefix of a well-formed
// sequence (at least one byte).
func refDecode(b []byte) string {
	p := prefixes()
	var sb strings.Builder
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || size > 1 {
			sb.WriteRune(r)
			i += size
			continue
		}
		n := 1
		for k := 3; k >= 2; k-- {
			if i+k <= len(b) && p[string(b[i:i+k])] {
				n = k
				break
			}
		}
		sb.WriteString(R)
		i += n
	}
	return sb.String()
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{"", "abc", "A€B", "\xE2\x82B", "\xED\xA0\x80", "\xF0\x80", "\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64", "\xF4\x90\x80\x80", "\xEF\xBF\xBD\xC0"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got := Decode(b)
		if !utf8.ValidString(got) {
			t.Fatalf("Decode(%q) = %q is not valid UTF-8", b, got)
		}
		if want := refDecode(b); got != want {
			t.Fatalf("Decode(%q) = %q, want %q", b, got, want)
		}
		if utf8.Valid(b) && got != string(b) {
			t.Fatalf("Decode changed valid input %q to %q", b, got)
		}
		if a := string(AppendDecode(nil, b)); a != got {
			t.Fatalf("AppendDecode(%q) = %q, Decode = %q", b, a, got)
		}
	})
}

func BenchmarkDecodeValid(b *testing.B) {
	data := []byte(strings.Repeat("hello wörld 日本 line\n", 3000))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		Decode(data)
	}
}

func BenchmarkDecodeInvalid(b *testing.B) {
	data := []byte(strings.Repeat("hello \xFF wörld \xE2\x82 line\n", 3000))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		Decode(data)
	}
}
