package agentexec

import (
	"time"

	"github.com/agentexec/agentexec/internal/logread"
	"github.com/agentexec/agentexec/internal/watch"
)

// OutputCondition is a readiness wait for output (SPEC §11.2: wait
// --for-output, run/start/restart --wait-for-output): a line after the
// starting cursor that matches Pattern.
type OutputCondition struct {
	Pattern   string
	MatchType string // "contains" (default, also "") or "regex" (RE2)
	Stream    string // "stdout", "stderr" or "either" (default, also "")
}

// Match is what satisfied a readiness wait. Exactly one of its parts is
// set; the JSON object is that part's fields.
type Match struct {
	*LineMatch
	*PortMatch // a port readiness (--for-port, SPEC §11.2/§11.4; ready_port.go)
}

// LineMatch is a matched output line.
type LineMatch struct {
	Stream string `json:"stream"`
	Line   string `json:"line"`   // its first 4 KiB, decoded lossily
	Offset int64  `json:"offset"` // where the line starts in its log
}

// maxMatchLineShown bounds match.line (SPEC §11.2).
const maxMatchLineShown = 4096

// readiness is a condition that ends a wait before the job is terminal
// (SPEC §11.2). The wait loop calls check at every wake-up, after reading
// the state; wake says what may make check succeed later.
type readiness interface {
	// check looks at what is new since the last call. final is true once
	// the job is terminal (its logs are complete); it is the last call.
	// It returns the match when the condition holds, with the cursor to
	// report.
	check(final bool) (*Match, logread.Cursor, error)
	// wake returns a channel that fires when check may have news (nil:
	// none; the wait's poll applies) and the longest the wait may sleep
	// before the next check.
	wake() (<-chan struct{}, time.Duration)
	// heard is called when wake's channel fired.
	heard()
	// close releases what wake set up.
	close()
}

// lingering is a readiness that can still hold after the job turned
// terminal: a port of a tree that outlives the command (a shell that
// backgrounded its server exits at once). The wait goes on while pending.
type lingering interface {
	pending() bool
}

// stillPending reports whether ready can still be met after the job is
// terminal.
func stillPending(ready readiness) bool {
	l, ok := ready.(lingering)
	return ok && l.pending()
}

// validateOutput checks an OutputCondition: invalid_argument for an
// unknown match type or stream, or a regex that does not compile.
func validateOutput(c *OutputCondition) (*logread.Pattern, error) {
	switch c.Stream {
	case "", "either", "stdout", "stderr":
	default:
		return nil, newError(CodeInvalidArgument, "invalid stream %q: use stdout, stderr or either", c.Stream)
	}
	p, err := logread.NewPattern(c.Pattern, c.MatchType)
	if err != nil {
		if c.MatchType == logread.MatchRegex {
			return nil, newError(CodeInvalidArgument, "invalid regex %q: %v", c.Pattern, err)
		}
		return nil, newError(CodeInvalidArgument, "invalid match type %q: use contains or regex", c.MatchType)
	}
	return p, nil
}

// outputReady is the readiness of an OutputCondition: it scans the
// selected logs forward from the cursor, each byte once, and wakes on
// their growth.
type outputReady struct {
	pat      *logread.Pattern
	out, err *logread.LineScanner // nil when the stream is not selected
	j        jobRef
	logs     *logWatch
}

func (m *Manager) newOutputReady(j jobRef, c *OutputCondition, from logread.Cursor) (*outputReady, error) {
	pat, err := validateOutput(c)
	if err != nil {
		return nil, err
	}
	r := &outputReady{pat: pat, j: j, logs: m.newLogWatch(j, minPoll)}
	if c.Stream != "stderr" {
		r.out = logread.NewLineScanner(j.stdoutPath(), from.Out)
	}
	if c.Stream != "stdout" {
		r.err = logread.NewLineScanner(j.stderrPath(), from.Err)
	}
	return r, nil
}

func (r *outputReady) check(final bool) (*Match, logread.Cursor, error) {
	for _, s := range []*logread.LineScanner{r.out, r.err} {
		if s == nil {
			continue
		}
		var hit *LineMatch
		var end int64
		err := s.Scan(final, func(l logread.Line) bool {
			if !r.pat.Match(l.Text) {
				return true
			}
			stream := "stdout"
			if s == r.err {
				stream = "stderr"
			}
			hit = &LineMatch{Stream: stream, Line: logread.CutText(l.Text, maxMatchLineShown), Offset: l.Offset}
			end = l.End
			return false
		})
		if err != nil {
			return nil, logread.Cursor{}, internalError(err)
		}
		if hit != nil {
			// Just past the matched line; the other log at its size now,
			// so a repeated wait from this cursor finds the next match.
			c := logread.Cursor{Out: end, Err: logSize(r.j.stderrPath())}
			if hit.Stream == "stderr" {
				c = logread.Cursor{Out: logSize(r.j.stdoutPath()), Err: end}
			}
			return &Match{LineMatch: hit}, c, nil
		}
	}
	return nil, logread.Cursor{}, nil
}

func (r *outputReady) wake() (<-chan struct{}, time.Duration) {
	return r.logs.listen(), r.logs.untilUnmuted(time.Now(), time.Hour)
}

func (r *outputReady) heard() { r.logs.heard() }

func (r *outputReady) close() { r.logs.close() }

// logWatch turns growth of a job's logs into wake-ups through the shared
// watcher. After a notification the watches are removed for mute (so a job
// writing continuously costs one event per mute, not one per write) and
// the next check sees whatever arrived meanwhile.
type logWatch struct {
	grew       chan struct{}
	watch      func() func()
	unwatch    func()
	mute       time.Duration
	mutedUntil time.Time
}

func (m *Manager) newLogWatch(j jobRef, mute time.Duration) *logWatch {
	w := m.sharedWatcher()
	l := &logWatch{grew: make(chan struct{}, 1), mute: max(mute, minPoll)}
	l.watch = func() func() {
		a := w.subscribeTo(j.stdoutPath(), watch.Modified, l.grew)
		b := w.subscribeTo(j.stderrPath(), watch.Modified, l.grew)
		return func() { a(); b() }
	}
	return l
}

// listen returns the growth channel with the log watches in place, or nil
// while muted. Callers look at the logs after listening, so a byte written
// in between is seen by one or the other.
func (l *logWatch) listen() <-chan struct{} {
	if time.Now().Before(l.mutedUntil) {
		return nil
	}
	if l.unwatch == nil {
		select { // a token from before the watches were removed is stale
		case <-l.grew:
		default:
		}
		l.unwatch = l.watch()
	}
	return l.grew
}

// untilUnmuted bounds a sleep so that a muted watch is re-armed in time.
func (l *logWatch) untilUnmuted(now time.Time, d time.Duration) time.Duration {
	if m := l.mutedUntil.Sub(now); m > 0 {
		return min(d, m)
	}
	return d
}

// heard notes a growth notification and mutes the next ones.
func (l *logWatch) heard() {
	l.mutedUntil = time.Now().Add(l.mute)
	l.close()
}

// close removes the log watches if they are in place.
func (l *logWatch) close() {
	if l.unwatch != nil {
		l.unwatch()
		l.unwatch = nil
	}
}
