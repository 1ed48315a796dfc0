package screen

import (
	"reflect"
	"testing"
)

func TestRender(t *testing.T) {
	tests := []struct {
		name     string
		out      string
		want     []string
		row, col int
		title    string
	}{
		{"plain", "hello\r\nworld", []string{"hello", "world", "", ""}, 1, 5, ""},
		{"title and clear", "junk\x1b]0;my title\x07\x1b[2J\x1b[Hprompt> ", []string{"prompt>", "", "", ""}, 0, 8, "my title"},
		{"reset skips earlier output", "old\r\nold\x1bcnew", []string{"new", "", "", ""}, 0, 3, ""},
		{"cursor query answered without blocking", "a\x1b[6n\x1b[cb", []string{"ab", "", "", ""}, 0, 2, ""},
		{"overwrite with carriage return", "12345\rab", []string{"ab345", "", "", ""}, 0, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Render([]byte(tt.out), 10, 4)
			if !reflect.DeepEqual(s.Lines, tt.want) || s.Row != tt.row || s.Col != tt.col || s.Title != tt.title {
				t.Fatalf("Render(%q) = %#v, want lines %#v cursor %d,%d title %q", tt.out, s, tt.want, tt.row, tt.col, tt.title)
			}
		})
	}
}
