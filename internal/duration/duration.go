// Package duration parses the agent-exec duration grammar (SPEC §1.4):
//
//	^[0-9]+(ms|s|m|h|d)?$
//
// Units are lower-case; signs, decimals, spaces and compound forms ("1h30m")
// are rejected. s = 1000 ms, m = 60 s, h = 60 m, d = 24 h. A bare integer is
// multiplied by a caller-chosen bare unit (milliseconds for most flags,
// seconds for gc --older-than). The converted value must fit in an unsigned
// 64-bit count of milliseconds; a value that fits there but exceeds what
// time.Duration can represent (about 292 years) saturates to [Never].
package duration

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"time"
)

// Never is the saturated duration returned for values that are valid under
// the grammar but exceed time.Duration's range. Callers treat it as "never"
// (no deadline, nothing old enough).
const Never = time.Duration(math.MaxInt64)

// ErrSyntax is wrapped by errors for strings that do not match the grammar,
// including a missing unit where one is mandatory.
var ErrSyntax = errors.New("invalid duration syntax")

// ErrRange is wrapped by errors for well-formed durations whose value does not
// fit in an unsigned 64-bit number of milliseconds.
var ErrRange = errors.New("duration out of range")

// Parse parses s under the duration grammar. A bare integer is multiplied by
// bareUnit, which must be positive (time.Millisecond for millisecond flags,
// time.Second for gc --older-than). The result is never negative.
func Parse(s string, bareUnit time.Duration) (time.Duration, error) {
	return parse(s, bareUnit, false)
}

// ParseWithUnit is like Parse but requires an explicit unit suffix, as
// durations in the configuration file do ("30d", "500ms").
func ParseWithUnit(s string) (time.Duration, error) {
	return parse(s, 0, true)
}

// Millis returns d as whole milliseconds, truncated toward zero.
func Millis(d time.Duration) int64 {
	return int64(d / time.Millisecond)
}

func parse(s string, bareUnit time.Duration, requireUnit bool) (time.Duration, error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, syntaxError(s, hint(requireUnit))
	}
	digits, suffix := s[:i], s[i:]

	var unit time.Duration
	switch suffix {
	case "":
		if requireUnit {
			return 0, syntaxError(s, "missing unit (ms, s, m, h or d)")
		}
		if bareUnit <= 0 {
			return 0, fmt.Errorf("parse duration %q: bare unit %d is not positive", s, bareUnit)
		}
		unit = bareUnit
	case "ms":
		unit = time.Millisecond
	case "s":
		unit = time.Second
	case "m":
		unit = time.Minute
	case "h":
		unit = time.Hour
	case "d":
		unit = 24 * time.Hour
	default:
		return 0, syntaxError(s, hint(requireUnit))
	}

	n, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		// digits is non-empty ASCII decimal, so the only possible failure is
		// range.
		return 0, rangeError(s)
	}

	// Exact 128-bit product in nanoseconds, then whole milliseconds.
	hi, lo := bits.Mul64(n, uint64(unit))
	const nsPerMs = uint64(time.Millisecond)
	if hi >= nsPerMs {
		// The quotient (hi:lo)/1e6 would need more than 64 bits.
		return 0, rangeError(s)
	}
	if hi != 0 || lo > math.MaxInt64 {
		return Never, nil
	}
	return time.Duration(lo), nil
}

func hint(requireUnit bool) string {
	if requireUnit {
		return "expected an unsigned integer followed by a unit ms, s, m, h or d"
	}
	return "expected an unsigned integer with an optional unit ms, s, m, h or d"
}

// parseError renders as `invalid duration "<input>": <why>` and unwraps to
// ErrSyntax or ErrRange.
type parseError struct {
	input string
	why   string
	kind  error
}

func (e *parseError) Error() string {
	return "invalid duration " + strconv.Quote(e.input) + ": " + e.why
}

func (e *parseError) Unwrap() error { return e.kind }

func syntaxError(s, why string) error {
	return &parseError{input: s, why: why, kind: ErrSyntax}
}

func rangeError(s string) error {
	return &parseError{input: s, why: "exceeds 18446744073709551615 milliseconds", kind: ErrRange}
}
