package notify

import (
	"strconv"
	"unicode/utf8"
)

// The output-match path may record an event for every line of a flood, so
// its records are appended by hand into a reused buffer instead of going
// through reflection. The output is byte-identical to encoding/json with
// SetEscapeHTML(false) (checked by TestAppendRecordMatchesEncodingJSON).

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaped as encoding/json does
// without HTML escaping: '"', '\\', control characters (\n, \r, \t, \b, \f
// short, others \u00XX), U+2028 and U+2029; invalid UTF-8 becomes \ufffd.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

func appendField(dst []byte, comma bool, key, val string) []byte {
	if comma {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, key...)
	dst = append(dst, '"', ':')
	return appendString(dst, val)
}

// appendMatched appends the job.output.matched event's fields (without the
// braces) in the documented order.
func appendMatched(dst []byte, ev *Matched) []byte {
	dst = appendField(dst, false, "schema_version", ev.SchemaVersion)
	dst = appendField(dst, true, "event_type", ev.EventType)
	dst = appendField(dst, true, "job_id", ev.JobID)
	dst = appendField(dst, true, "pattern", ev.Pattern)
	dst = appendField(dst, true, "match_type", ev.MatchType)
	dst = appendField(dst, true, "stream", ev.Stream)
	dst = appendField(dst, true, "line", ev.Line)
	dst = appendField(dst, true, "stdout_log_path", ev.StdoutLogPath)
	return appendField(dst, true, "stderr_log_path", ev.StderrLogPath)
}

// appendResults appends a JSON array of delivery results.
func appendResults(dst []byte, results []Result) []byte {
	dst = append(dst, '[')
	for i, r := range results {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '{')
		dst = appendField(dst, false, "sink_type", r.SinkType)
		dst = appendField(dst, true, "target", r.Target)
		dst = append(dst, `,"success":`...)
		dst = strconv.AppendBool(dst, r.Success)
		if r.Error != "" {
			dst = appendField(dst, true, "error", r.Error)
		}
		dst = appendField(dst, true, "attempted_at", r.AttemptedAt)
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

// AppendMatchedRecord appends the NDJSON record of an output-match event —
// {event…, "delivery_results": […]} — and a newline to dst.
func AppendMatchedRecord(dst []byte, ev *Matched, results []Result) []byte {
	dst = append(dst, '{')
	dst = appendMatched(dst, ev)
	dst = append(dst, `,"delivery_results":`...)
	dst = appendResults(dst, results)
	return append(dst, '}', '\n')
}

// EncodeMatched renders the event alone, compactly, as given to sinks.
func EncodeMatched(ev *Matched) []byte {
	b := make([]byte, 0, 256+len(ev.Line))
	b = append(b, '{')
	b = appendMatched(b, ev)
	return append(b, '}')
}
