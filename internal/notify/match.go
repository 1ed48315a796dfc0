package notify

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/agentexec/agentexec/internal/logread"
	"github.com/agentexec/agentexec/internal/store"
)

// Matcher evaluates one loaded output-match configuration
// (meta.notification.on_output_match) against output lines. The regex is
// compiled once, when the Matcher is built. A Matcher is used by one
// goroutine at a time.
type Matcher struct {
	Pattern   string
	MatchType string // "contains" | "regex"
	Stream    string // "stdout" | "stderr" | "either"
	Sinks     Sinks

	sub     []byte
	re      *regexp.Regexp
	scratch []byte
	// needle is a byte string every matching line contains (the contains
	// pattern, or a regex's literal prefix); nil when there is none to
	// rely on. See MayMatch.
	needle []byte

	dir              string // the job directory the paths below belong to
	stdoutP, stderrP string
}

// NewMatcher compiles om. It returns nil (no matching) for a nil
// configuration or an empty pattern, and an error for a regex that does not
// compile. Missing match type and stream read as contains and either.
func NewMatcher(om *store.OutputMatch) (*Matcher, error) {
	if om == nil || om.Pattern == "" {
		return nil, nil
	}
	m := &Matcher{Pattern: om.Pattern, MatchType: om.MatchType, Stream: om.Stream,
		Sinks: Sinks{Command: om.Command, File: om.File}}
	if m.MatchType == "" {
		m.MatchType = "contains"
	}
	if m.Stream == "" {
		m.Stream = "either"
	}
	if m.MatchType == "regex" {
		re, err := regexp.Compile(om.Pattern)
		if err != nil {
			return nil, err
		}
		m.re = re
		if prefix, _ := re.LiteralPrefix(); prefix != "" {
			m.needle = []byte(prefix)
		}
	} else {
		m.sub = []byte(om.Pattern)
		m.needle = m.sub
	}
	// Lines are matched decoded, with U+FFFD for invalid bytes: a needle
	// holding U+FFFD may match a line whose raw bytes do not contain it.
	if bytes.ContainsRune(m.needle, utf8.RuneError) {
		m.needle = nil
	}
	return m, nil
}

// Same reports whether m was built from a configuration equal to om, so a
// re-read meta.json that did not change the output match keeps its compiled
// form.
func (m *Matcher) Same(om *store.OutputMatch) bool {
	if m == nil || om == nil {
		return m == nil && (om == nil || om.Pattern == "")
	}
	mt, st := om.MatchType, om.Stream
	if mt == "" {
		mt = "contains"
	}
	if st == "" {
		st = "either"
	}
	return m.Pattern == om.Pattern && m.MatchType == mt && m.Stream == st &&
		m.Sinks == Sinks{Command: om.Command, File: om.File}
}

// Match reports whether line (raw bytes without its '\n', from stream
// "stdout" or "stderr") matches. The line is decoded lossily as the tail
// algorithm does (SPEC §3.10) before matching; valid UTF-8, the common case,
// is matched in place without a copy.
func (m *Matcher) Match(stream string, line []byte) bool {
	if m.Stream != "either" && m.Stream != stream {
		return false
	}
	text := line
	if !utf8.Valid(line) {
		m.scratch = logread.AppendDecode(m.scratch[:0], line)
		text = m.scratch
	}
	if m.re != nil {
		return m.re.Match(text)
	}
	return bytes.Contains(text, m.sub)
}

// MayMatch reports whether some line of block, complete lines from stream
// each ending in '\n', may match; false means none does, so the lines need
// not be offered to Match one by one. The needle is looked for in the whole
// block at once (a fast substring search): a line that matches contains it
// raw, since decoding only replaces invalid bytes with U+FFFD.
func (m *Matcher) MayMatch(stream string, block []byte) bool {
	if m.Stream != "either" && m.Stream != stream {
		return false
	}
	return m.needle == nil || bytes.Contains(block, m.needle)
}

// Event builds the job.output.matched event of a matching line of the job
// in dir.
func (m *Matcher) Event(dir, jobID, stream string, line []byte) *Matched {
	if m.dir != dir || m.stdoutP == "" {
		m.dir = dir
		m.stdoutP, m.stderrP = filepath.Join(dir, store.StdoutLog), filepath.Join(dir, store.StderrLog)
	}
	return &Matched{
		SchemaVersion: store.SchemaVersion,
		EventType:     TypeOutputMatched,
		JobID:         jobID,
		Pattern:       m.Pattern,
		MatchType:     m.MatchType,
		Stream:        stream,
		Line:          logread.Decode(line),
		StdoutLogPath: m.stdoutP,
		StderrLogPath: m.stderrP,
	}
}

// Stamp identifies one version of a file cheaply: size, modification time
// and inode. meta.json is replaced by rename, so every rewrite changes at
// least the inode.
type Stamp struct {
	Size    int64
	ModTime time.Time
	Inode   uint64
}

// StampOf returns the stamp of fi.
func StampOf(fi os.FileInfo) Stamp {
	return Stamp{Size: fi.Size(), ModTime: fi.ModTime(), Inode: inode(fi)}
}

// Equal reports whether two stamps describe the same file version.
func (s Stamp) Equal(o Stamp) bool {
	return s.Size == o.Size && s.ModTime.Equal(o.ModTime) && s.Inode == o.Inode
}
