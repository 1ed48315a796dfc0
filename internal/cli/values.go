package cli

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/agentexec/agentexec/internal/duration"
)

// durationValue is a pflag.Value for the duration grammar of SPEC §1.4
// (bare integer = milliseconds).
type durationValue struct{ d *time.Duration }

func (v durationValue) String() string {
	if v.d == nil {
		return "0"
	}
	return strconv.FormatInt(v.d.Milliseconds(), 10)
}
func (v durationValue) Type() string { return "duration" }
func (v durationValue) Set(s string) error {
	d, err := duration.Parse(s, time.Millisecond)
	if err != nil {
		return fmt.Errorf("invalid duration %q: expected milliseconds or a number with ms, s, m, h or d", s)
	}
	*v.d = d
	return nil
}

// countValue is a pflag.Value for ^[0-9]+$ fitting in 63 bits.
type countValue struct {
	n   *int64
	max int64
}

func (v countValue) String() string { return strconv.FormatInt(*v.n, 10) }
func (v countValue) Type() string   { return "count" }
func (v countValue) Set(s string) error {
	if s == "" {
		return fmt.Errorf("invalid count %q", s)
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return fmt.Errorf("invalid count %q: expected a non-negative decimal integer", s)
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v.max > 0 && n > v.max {
		return fmt.Errorf("invalid count %q: out of range", s)
	}
	*v.n = n
	return nil
}

func newCount(p *int64, def int64) countValue {
	*p = def
	return countValue{n: p, max: math.MaxInt64}
}

// enumValue is a pflag.Value that accepts exactly one of a set.
type enumValue struct {
	s       *string
	allowed []string
}

func (v enumValue) String() string { return *v.s }
func (v enumValue) Type() string   { return "string" }
func (v enumValue) Set(s string) error {
	for _, a := range v.allowed {
		if s == a {
			*v.s = s
			return nil
		}
	}
	return fmt.Errorf("invalid value %q: must be one of %v", s, v.allowed)
}
