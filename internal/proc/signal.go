package proc

import (
	"strconv"
	"strings"
	"syscall"
)

// acceptedSignals are the signals a user may send with kill/restart --signal
// (SPEC §3.7), in the order the error message lists them. The numbers are the
// platform's (sigTERM etc. are defined per platform).
var acceptedSignals = [...]struct {
	name string
	sig  syscall.Signal
}{
	{"TERM", sigTERM},
	{"INT", sigINT},
	{"KILL", sigKILL},
	{"HUP", sigHUP},
	{"QUIT", sigQUIT},
	{"USR1", sigUSR1},
	{"USR2", sigUSR2},
}

// SignalName returns the conventional name of sig without the "SIG" prefix
// ("TERM", "KILL", "USR1", …) as used in state.json and every response (SPEC
// §3.7). A signal without a name is returned as its decimal number ("0",
// "34").
func SignalName(sig syscall.Signal) string {
	if name := signalName(sig); name != "" {
		return name
	}
	return strconv.Itoa(int(sig))
}

// ParseSignal parses a user-supplied signal for kill/restart --signal. Only
// TERM, INT, KILL, HUP, QUIT, USR1 and USR2 are accepted (SPEC §3.7): given
// case-insensitively with or without a "SIG" prefix ("term", "SIGusr1",
// "sigkill"), or as the platform's number for one of them (Linux "15", "10";
// macOS "15", "30"). It returns the signal and its canonical name ("TERM"); ok
// is false for anything else, including "", "0", "STOP" and unnamed numbers.
func ParseSignal(s string) (sig syscall.Signal, name string, ok bool) {
	if isDigits(s) {
		n, err := strconv.Atoi(s)
		if err != nil {
			return 0, "", false
		}
		for _, a := range acceptedSignals {
			if int(a.sig) == n {
				return a.sig, a.name, true
			}
		}
		return 0, "", false
	}
	upper := strings.ToUpper(s)
	upper = strings.TrimPrefix(upper, "SIG")
	for _, a := range acceptedSignals {
		if a.name == upper {
			return a.sig, a.name, true
		}
	}
	return 0, "", false
}

// NormalizeSignalField converts a result.signal value read from a legacy
// state.json into the name form (SPEC §2.4: "TERM", never "15"). A decimal
// number of a named signal becomes its name ("15" → "TERM", "19" → "STOP" on
// Linux); a number without a name is returned unchanged. A name loses its "SIG"
// prefix ("SIGTERM" → "TERM") and is upper-cased if it is a known signal name;
// anything else is returned as given.
func NormalizeSignalField(s string) string {
	if isDigits(s) {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return s
		}
		if name := signalName(syscall.Signal(n)); name != "" {
			return name
		}
		return s
	}
	name := s
	if len(name) > 3 && strings.EqualFold(name[:3], "SIG") {
		name = name[3:]
	}
	if upper := strings.ToUpper(name); signalByName(upper) != 0 {
		return upper
	}
	return name
}

// isDigits reports whether s is a non-empty string of ASCII decimal digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// SignalNumber returns the platform's number of a reported signal name
// ("TERM" → 15 on Linux), or of a decimal string ("34"); 0 when unknown.
// It turns result.signal back into the 128+n convention of shells.
func SignalNumber(name string) int {
	if isDigits(name) {
		n, err := strconv.Atoi(name)
		if err != nil {
			return 0
		}
		return n
	}
	return int(signalByName(strings.ToUpper(strings.TrimPrefix(name, "SIG"))))
}
