package duration_test

import (
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/agentexec/agentexec/internal/duration"
)

const day = 24 * time.Hour

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		bare    time.Duration
		want    time.Duration
		wantErr error // nil: success
	}{
		{"0", time.Millisecond, 0, nil},
		{"0ms", time.Millisecond, 0, nil},
		{"0d", time.Millisecond, 0, nil},
		{"500", time.Millisecond, 500 * time.Millisecond, nil},
		{"500", time.Second, 500 * time.Second, nil},
		{"007", time.Millisecond, 7 * time.Millisecond, nil},
		{"500ms", time.Millisecond, 500 * time.Millisecond, nil},
		{"500ms", time.Second, 500 * time.Millisecond, nil},
		{"5s", time.Millisecond, 5 * time.Second, nil},
		{"2m", time.Millisecond, 2 * time.Minute, nil},
		{"1h", time.Millisecond, time.Hour, nil},
		{"1d", time.Millisecond, day, nil},
		{"30d", time.Second, 30 * day, nil},
		// Largest whole number of days time.Duration can hold, and one more.
		{"106751d", time.Millisecond, 106751 * day, nil},
		{"106752d", time.Millisecond, duration.Never, nil},
		{"9223372036854ms", time.Millisecond, 9223372036854 * time.Millisecond, nil},
		{"9223372036855", time.Millisecond, duration.Never, nil},
		// Max uint64 ms fits the grammar's range but not time.Duration.
		{"18446744073709551615", time.Millisecond, duration.Never, nil},
		{"18446744073709551615ms", time.Millisecond, duration.Never, nil},
		{"18446744073709551", time.Second, duration.Never, nil},
		{"213503982334d", time.Millisecond, duration.Never, nil},
		// Overflow of the uint64 millisecond count.
		{"18446744073709551616", time.Millisecond, 0, duration.ErrRange},
		{"18446744073709552", time.Second, 0, duration.ErrRange},
		{"18446744073709551615s", time.Millisecond, 0, duration.ErrRange},
		{"213503982335d", time.Millisecond, 0, duration.ErrRange},
		{"99999999999999999999d", time.Millisecond, 0, duration.ErrRange},
		// Syntax.
		{"", time.Millisecond, 0, duration.ErrSyntax},
		{"1.5s", time.Millisecond, 0, duration.ErrSyntax},
		{"-1", time.Millisecond, 0, duration.ErrSyntax},
		{"+1", time.Millisecond, 0, duration.ErrSyntax},
		{" 5s", time.Millisecond, 0, duration.ErrSyntax},
		{"5s ", time.Millisecond, 0, duration.ErrSyntax},
		{"5 s", time.Millisecond, 0, duration.ErrSyntax},
		{"5S", time.Millisecond, 0, duration.ErrSyntax},
		{"5MS", time.Millisecond, 0, duration.ErrSyntax},
		{"1h30m", time.Millisecond, 0, duration.ErrSyntax},
		{"5us", time.Millisecond, 0, duration.ErrSyntax},
		{"5ns", time.Millisecond, 0, duration.ErrSyntax},
		{"5w", time.Millisecond, 0, duration.ErrSyntax},
		{"s", time.Millisecond, 0, duration.ErrSyntax},
		{"ms", time.Millisecond, 0, duration.ErrSyntax},
		{"1_000", time.Millisecond, 0, duration.ErrSyntax},
		{"0x10", time.Millisecond, 0, duration.ErrSyntax},
		{"١٢", time.Millisecond, 0, duration.ErrSyntax}, // non-ASCII digits
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := duration.Parse(tt.in, tt.bare)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Parse(%q, %v) = %v, %v; want error %v", tt.in, tt.bare, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Parse(%q, %v) = %v, %v; want %v", tt.in, tt.bare, got, err, tt.want)
			}
		})
	}
}

func TestParseWithUnit(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr error
	}{
		{"30d", 30 * day, nil},
		{"500ms", 500 * time.Millisecond, nil},
		{"7d", 7 * day, nil},
		{"0s", 0, nil},
		{"90m", 90 * time.Minute, nil},
		{"18446744073709551615ms", duration.Never, nil},
		{"30", 0, duration.ErrSyntax},
		{"0", 0, duration.ErrSyntax},
		{"7x", 0, duration.ErrSyntax},
		{"", 0, duration.ErrSyntax},
		{"1h30m", 0, duration.ErrSyntax},
		{"99999999999999999999d", 0, duration.ErrRange},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := duration.ParseWithUnit(tt.in)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("ParseWithUnit(%q) = %v, %v; want error %v", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseWithUnit(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"7x", `invalid duration "7x": expected an unsigned integer with an optional unit ms, s, m, h or d`},
		{"99999999999999999999", `invalid duration "99999999999999999999": exceeds 18446744073709551615 milliseconds`},
	}
	for _, tt := range tests {
		_, err := duration.Parse(tt.in, time.Millisecond)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Parse(%q) error = %v; want %q", tt.in, err, tt.want)
		}
	}
	_, err := duration.ParseWithUnit("30")
	if want := `invalid duration "30": missing unit (ms, s, m, h or d)`; err == nil || err.Error() != want {
		t.Errorf("ParseWithUnit(%q) error = %v; want %q", "30", err, want)
	}
}

func TestParseBadBareUnit(t *testing.T) {
	for _, bare := range []time.Duration{0, -time.Millisecond} {
		if _, err := duration.Parse("5", bare); err == nil {
			t.Errorf("Parse(%q, %v): want error", "5", bare)
		}
		// A unit suffix does not consult the bare unit.
		if got, err := duration.Parse("5s", bare); err != nil || got != 5*time.Second {
			t.Errorf("Parse(%q, %v) = %v, %v; want 5s", "5s", bare, got, err)
		}
	}
}

func TestMillis(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want int64
	}{
		{0, 0},
		{999 * time.Microsecond, 0},
		{1500 * time.Microsecond, 1},
		{30 * time.Second, 30000},
		{duration.Never, 9223372036854},
		{-1500 * time.Microsecond, -1},
	}
	for _, tt := range tests {
		if got := duration.Millis(tt.in); got != tt.want {
			t.Errorf("Millis(%v) = %d; want %d", tt.in, got, tt.want)
		}
	}
}

var grammar = regexp.MustCompile(`^[0-9]+(ms|s|m|h|d)?$`)

func FuzzParse(f *testing.F) {
	for _, s := range []string{"0", "500", "5s", "30d", "1.5s", "-1", " 5s", "5S", "1h30m", "",
		"18446744073709551615", "18446744073709551616", "99999999999999999999d", "213503982334d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, bare := range []time.Duration{time.Nanosecond, time.Millisecond, time.Second} {
			d, err := duration.Parse(s, bare)
			if err != nil {
				if grammar.MatchString(s) && !errors.Is(err, duration.ErrRange) {
					t.Fatalf("Parse(%q, %v): grammar matches but got %v", s, bare, err)
				}
				continue
			}
			if !grammar.MatchString(s) {
				t.Fatalf("Parse(%q, %v) = %v; want an error for input outside the grammar", s, bare, d)
			}
			if d < 0 {
				t.Fatalf("Parse(%q, %v) = %v; negative", s, bare, d)
			}
		}
		d, err := duration.ParseWithUnit(s)
		if err == nil {
			if !grammar.MatchString(s) || s[len(s)-1] < 'a' {
				t.Fatalf("ParseWithUnit(%q) = %v; want an error", s, d)
			}
		}
	})
}
