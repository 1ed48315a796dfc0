package agentexec

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/agentexec/agentexec/internal/logread"
	"github.com/agentexec/agentexec/internal/store"
	"github.com/agentexec/agentexec/internal/watch"
)

// Following (SPEC §11.3): a job's logs as they are written, as raw chunks
// (tail --follow, SSE /logs) or as line events of one or many jobs
// (follow, SSE /events). Both are driven by the same wake-ups as every
// wait: state.json replaced, the logs grown, the poll.

// LogChunk is a piece of one log, as written.
type LogChunk struct {
	Stream string // "stdout" or "stderr"
	Offset int64  // where Data starts in its log
	Data   []byte // raw bytes; valid only during the callback
	Cursor string // the position just after this chunk, both logs
}

// FollowLogsOptions control FollowLogs.
type FollowLogsOptions struct {
	// Cursor is where to start ("<O>.<E>"). Empty: the last TailLines
	// lines of each log (within MaxBytes), like tail -f.
	Cursor    string
	TailLines int
	MaxBytes  int64
	Poll      time.Duration // fallback re-check interval
	// Started, if set, is called once the job is resolved, before the
	// first chunk.
	Started func()
}

// followChunk bounds one read of a followed log.
const followChunk = 64 << 10

// FollowLogs calls emit with every chunk written to the job's logs from the
// cursor on, until the job is terminal and both logs are drained; it then
// returns the job's final state as a follow state event. A chunk of a
// running job never ends inside a UTF-8 sequence. It returns ctx.Err()
// when ctx ends first, and emit's error if emit fails.
func (m *Manager) FollowLogs(ctx context.Context, id string, o FollowLogsOptions, emit func(LogChunk) error) (*FollowEvent, error) {
	var from logread.Cursor
	if o.Cursor != "" {
		c, err := parseCursor(o.Cursor)
		if err != nil {
			return nil, err
		}
		from = c
	}
	j, err := m.resolve(id)
	if err != nil {
		return nil, err
	}
	if o.Cursor == "" {
		from = logread.Cursor{
			Out: logread.LinesStart(j.stdoutPath(), o.TailLines, clampExcerpt(o.MaxBytes)),
			Err: logread.LinesStart(j.stderrPath(), o.TailLines, clampExcerpt(o.MaxBytes)),
		}
	}
	w := newWaker(m, o.Poll)
	defer w.close()
	w.watchJob(j)
	pos := from
	if o.Started != nil {
		o.Started()
	}
	for {
		st, err := m.readReconciled(ctx, j, false)
		if err != nil {
			return nil, err
		}
		final := store.Terminal(st.Job.Status)
		// Read until nothing new: with a terminal state read first, that
		// is the logs' end.
		for progressed := true; progressed; {
			if err := ctx.Err(); err != nil { // a flood must not outlive the caller
				return nil, err
			}
			progressed = false
			for _, s := range []struct {
				name string
				path string
				off  *int64
			}{{"stdout", j.stdoutPath(), &pos.Out}, {"stderr", j.stderrPath(), &pos.Err}} {
				c := logread.ReadChunk(s.path, *s.off, followChunk, final)
				if c.Next < *s.off { // restarted: the new logs start at 0
					*s.off = 0
					progressed = true
					continue
				}
				if len(c.Data) == 0 {
					continue
				}
				*s.off = c.Next
				progressed = true
				if err := emit(LogChunk{Stream: s.name, Offset: c.From, Data: c.Data, Cursor: pos.String()}); err != nil {
					return nil, err
				}
			}
		}
		if final {
			return stateEvent(j.id, st), nil
		}
		if err := w.sleep(ctx, time.Time{}); err != nil {
			return nil, err
		}
	}
}

// FollowEvent is one line of follow's NDJSON stream and the data of the
// SSE streams (SPEC §11.3). Type says which fields are present:
// "output" (job_id, stream, offset, line, cut), "state" (job_id, state and
// the outcome fields), "dropped" (job_id, stream, lines, bytes), "end".
type FollowEvent struct {
	Type   string  `json:"type"`
	JobID  string  `json:"job_id,omitempty"`
	Stream string  `json:"stream,omitempty"`
	Offset *int64  `json:"offset,omitempty"`
	Line   *string `json:"line,omitempty"`
	Cut    bool    `json:"cut,omitempty"`
	State  State   `json:"state,omitempty"`
	// Outcome fields of a terminal state.
	ExitCode    *int       `json:"exit_code,omitempty"`
	FinishedAt  string     `json:"finished_at,omitempty"`
	Signal      string     `json:"signal,omitempty"`
	DurationMS  *int64     `json:"duration_ms,omitempty"`
	TimedOut    bool       `json:"timed_out,omitempty"`
	Error       string     `json:"error,omitempty"`
	TimeoutKind string     `json:"timeout_kind,omitempty"`
	Resources   *Resources `json:"resources,omitempty"`
	OOMKilled   bool       `json:"oom_killed,omitempty"`
	// Dropped lines and their bytes (rate limit).
	Lines *int64 `json:"lines,omitempty"`
	Bytes *int64 `json:"bytes,omitempty"`
}

func stateEvent(id string, st *store.State) *FollowEvent {
	oc := outcomeOf(st)
	return &FollowEvent{Type: "state", JobID: id, State: oc.state,
		ExitCode: oc.exitCode, FinishedAt: oc.finishedAt, Signal: oc.signal, DurationMS: oc.durationMS,
		TimedOut: oc.timedOut, Error: oc.err, TimeoutKind: oc.timeoutKind, Resources: oc.resources, OOMKilled: oc.oomKilled}
}

// FollowOptions select what Follow streams.
type FollowOptions struct {
	// IDs are followed until each is terminal and drained; then an "end"
	// event ends the stream. Without IDs, the jobs of the Cwd scope (every
	// job with All) carrying Tags are followed, including jobs created
	// later, until ctx ends.
	IDs  []string
	Tags []string
	All  bool
	Cwd  string
	// Cursor (with one id) is where its output starts; default "0.0". Jobs
	// found by Tags/All start at their logs' ends when following begins,
	// jobs created later at 0.
	Cursor string
	// Match keeps only matching lines; NoOutput drops every line.
	Match    *OutputCondition
	NoOutput bool
	// MaxLinesPerSecond per job (0: 50); the excess is counted in
	// "dropped" events, not buffered.
	MaxLinesPerSecond int
	Poll              time.Duration
	// Started, if set, is called once the jobs are resolved, before the
	// first event: what can fail early has been checked.
	Started func()
}

// maxEventLine bounds an output event's line (SPEC §11.3).
const maxEventLine = 4096

// followed is one job of a Follow.
type followed struct {
	j        jobRef
	out, err *logread.LineScanner
	state    State // last reported; "" before the first event
	done     bool
	// Rate limit: lines emitted in the current one-second window, and
	// what was dropped in it per stream.
	window  time.Time
	emitted int
	dropped [2]struct{ lines, bytes int64 }
}

// Follow streams events of one or many jobs to emit (SPEC §11.3 follow):
// the current state of each job, its output lines, every state change,
// "dropped" counts when a job exceeds the line rate, and with IDs a final
// "end". It returns nil after "end", ctx.Err() when ctx ends, or emit's
// error.
func (m *Manager) Follow(ctx context.Context, o FollowOptions, emit func(*FollowEvent) error) error {
	var pat *logread.Pattern
	if o.Match != nil {
		p, err := validateOutput(o.Match)
		if err != nil {
			return err
		}
		pat = p
	}
	var from logread.Cursor
	if o.Cursor != "" {
		if len(o.IDs) != 1 {
			return newError(CodeInvalidArgument, "a cursor applies to exactly one job")
		}
		c, err := parseCursor(o.Cursor)
		if err != nil {
			return err
		}
		from = c
	}
	for _, p := range o.Tags {
		if err := ValidateTagPattern(p); err != nil {
			return &Error{Code: CodeInvalidTag, Message: "invalid tag pattern " + quote(p) + ": " + err.Error()}
		}
	}
	rate := o.MaxLinesPerSecond
	if rate <= 0 {
		rate = 50
	}
	w := newWaker(m, o.Poll)
	defer w.close()
	var jobs []*followed
	known := map[string]bool{}
	add := func(j jobRef, c logread.Cursor) {
		known[j.id] = true
		f := &followed{j: j}
		if !o.NoOutput {
			f.out = logread.NewLineScanner(j.stdoutPath(), c.Out)
			f.err = logread.NewLineScanner(j.stderrPath(), c.Err)
		}
		w.watchJob(j)
		jobs = append(jobs, f)
	}
	for _, id := range o.IDs {
		j, err := m.resolve(id)
		if err != nil {
			return err
		}
		if !known[j.id] {
			add(j, from)
		}
	}
	discover := len(o.IDs) == 0
	// Jobs found by Tags/All: those present now start at their ends, so a
	// long history is not replayed; later ones from their start.
	scan := func(atEnd bool) error {
		res, err := m.List(ctx, ListOptions{All: o.All, Cwd: o.Cwd, Tags: o.Tags})
		if err != nil {
			return err
		}
		for i := len(res.Jobs) - 1; i >= 0; i-- { // oldest first
			id := res.Jobs[i].JobID
			if known[id] {
				continue
			}
			j := jobRef{id: id, dir: store.Dir(m.root, id)}
			var c logread.Cursor
			if atEnd {
				c = logread.Cursor{Out: logSize(j.stdoutPath()), Err: logSize(j.stderrPath())}
			}
			add(j, c)
		}
		return nil
	}
	var rescanAt time.Time
	rescan := rescanEvery
	if discover {
		// A notified root needs a rescan only as a safety net (a full
		// list costs O(jobs)); the root may not exist before the first job.
		if w.watchRoot(m.root) {
			rescan = rescanNotified
		}
		if err := scan(true); err != nil {
			return err
		}
		rescanAt = time.Now().Add(rescan)
	}
	if o.Started != nil {
		o.Started()
	}
	for {
		now := time.Now()
		if discover && (w.rootChanged() || !now.Before(rescanAt)) {
			if err := scan(false); err != nil {
				return err
			}
			rescanAt = now.Add(rescan)
		}
		live := 0
		next := time.Time{}
		for _, f := range jobs {
			if f.done {
				continue
			}
			if err := m.followStep(ctx, f, pat, rate, emit); err != nil {
				return err
			}
			if f.done {
				w.unwatchJob(f.j)
				continue
			}
			live++
			if !f.window.IsZero() {
				if end := f.window.Add(time.Second); next.IsZero() || end.Before(next) {
					next = end
				}
			}
		}
		if !discover && live == 0 {
			return emit(&FollowEvent{Type: "end"})
		}
		if discover && (next.IsZero() || rescanAt.Before(next)) {
			next = rescanAt
		}
		if err := w.sleep(ctx, next); err != nil {
			return err
		}
	}
}

// rescanEvery is how often Follow lists jobs again when job creation is
// not notified; rescanNotified when it is, in case an event was missed.
const (
	rescanEvery    = 2 * time.Second
	rescanNotified = 30 * time.Second
)

// followStep reads what is new for one followed job and emits its events.
func (m *Manager) followStep(ctx context.Context, f *followed, pat *logread.Pattern, rate int, emit func(*FollowEvent) error) error {
	st, err := m.readReconciled(ctx, f.j, false)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Code == CodeJobNotFound {
			f.done = true // deleted while followed
			return nil
		}
		return err
	}
	final := store.Terminal(st.Job.Status)
	first := f.state == ""
	if first {
		f.state = State(st.Job.Status)
		if err := emit(stateEvent(f.j.id, st)); err != nil {
			return err
		}
	}
	now := time.Now()
	if !f.window.IsZero() && now.Sub(f.window) >= time.Second {
		if err := f.flushDropped(emit); err != nil {
			return err
		}
		f.window, f.emitted = time.Time{}, 0
	}
	for i, s := range []*logread.LineScanner{f.out, f.err} {
		if s == nil {
			continue
		}
		stream := [2]string{"stdout", "stderr"}[i]
		var emitErr error
		err := s.Scan(final, func(l logread.Line) bool {
			if pat != nil && !pat.Match(l.Text) {
				return true
			}
			if f.window.IsZero() {
				f.window = time.Now()
			}
			if f.emitted >= rate {
				f.dropped[i].lines++
				f.dropped[i].bytes += l.Len
				return true
			}
			f.emitted++
			off, line := l.Offset, logread.CutText(l.Text, maxEventLine)
			emitErr = emit(&FollowEvent{Type: "output", JobID: f.j.id, Stream: stream, Offset: &off, Line: &line,
				Cut: l.Len > int64(len(line))})
			return emitErr == nil
		})
		if emitErr != nil {
			return emitErr
		}
		if err != nil {
			return internalError(err)
		}
	}
	if final {
		if err := f.flushDropped(emit); err != nil {
			return err
		}
		f.done = true
	}
	if s := State(st.Job.Status); !first && s != f.state {
		f.state = s
		return emit(stateEvent(f.j.id, st))
	}
	return nil
}

func (f *followed) flushDropped(emit func(*FollowEvent) error) error {
	for i := range f.dropped {
		d := &f.dropped[i]
		if d.lines == 0 {
			continue
		}
		lines, bytes := d.lines, d.bytes
		*d = struct{ lines, bytes int64 }{}
		if err := emit(&FollowEvent{Type: "dropped", JobID: f.j.id, Stream: [2]string{"stdout", "stderr"}[i], Lines: &lines, Bytes: &bytes}); err != nil {
			return err
		}
	}
	return nil
}

// waker gathers the wake-ups of a follow: state.json of each job replaced,
// its logs grown, a job directory appearing in the root, the poll. Log
// growth is muted for followMute after each notification (the watches
// are removed meanwhile), so a job writing continuously costs a bounded
// number of inotify events per second rather than one per write.
type waker struct {
	w          *watcher
	poll       time.Duration
	ch         chan struct{} // state changes and new jobs
	logCh      chan struct{}
	rootCh     chan struct{}
	unsub      map[string]func() // state (and root) watches by job id
	logs       map[string]jobRef // jobs whose logs wake us
	unlog      []func()          // the log watches in place, if any
	mutedUntil time.Time
	timer      *time.Timer
}

// followMute spaces out log-growth wake-ups of a follow.
const followMute = 20 * time.Millisecond

func newWaker(m *Manager, poll time.Duration) *waker {
	if poll <= 0 {
		poll = 200 * time.Millisecond
	}
	return &waker{w: m.sharedWatcher(), poll: max(poll, minPoll), ch: make(chan struct{}, 1), logCh: make(chan struct{}, 1),
		unsub: map[string]func(){}, logs: map[string]jobRef{}, timer: time.NewTimer(time.Hour)}
}

func (k *waker) watchJob(j jobRef) {
	if _, ok := k.unsub[j.id]; ok {
		return
	}
	k.unsub[j.id] = k.w.subscribeTo(j.dir, watch.Replaced, k.ch)
	k.logs[j.id] = j
	k.unwatchLogs() // re-armed with this job at the next sleep
}

func (k *waker) unwatchJob(j jobRef) {
	if f, ok := k.unsub[j.id]; ok {
		f()
		delete(k.unsub, j.id)
		delete(k.logs, j.id)
		k.unwatchLogs()
	}
}

func (k *waker) watchLogs() {
	select { // a token from before the watches were removed is stale
	case <-k.logCh:
	default:
	}
	for _, j := range k.logs {
		a := k.w.subscribeTo(j.stdoutPath(), watch.Modified, k.logCh)
		b := k.w.subscribeTo(j.stderrPath(), watch.Modified, k.logCh)
		k.unlog = append(k.unlog, a, b)
	}
}

func (k *waker) unwatchLogs() {
	for _, f := range k.unlog {
		f()
	}
	k.unlog = nil
}

// watchRoot wakes on job directories appearing in root; it reports
// whether that is notified (else only a rescan finds new jobs).
func (k *waker) watchRoot(root string) bool {
	k.rootCh = make(chan struct{}, 1)
	unsub, ok := k.w.subscribeEntries(root, k.rootCh, k.ch)
	k.unsub[""] = unsub
	return ok
}

// rootChanged reports (once) whether an entry appeared in the root since
// the last call.
func (k *waker) rootChanged() bool {
	select {
	case <-k.rootCh:
		return true
	default:
		return false
	}
}

// sleep waits for a wake-up, the poll, until (if not zero) or ctx.
// Callers look at the logs after it returns, so growth while the watches
// were muted is seen then.
func (k *waker) sleep(ctx context.Context, until time.Time) error {
	now := time.Now()
	d := k.poll
	if !until.IsZero() {
		d = max(min(d, until.Sub(now)), 0)
	}
	if now.Before(k.mutedUntil) {
		d = min(d, k.mutedUntil.Sub(now))
	} else if k.unlog == nil && len(k.logs) > 0 {
		k.watchLogs()
	}
	k.timer.Reset(d)
	select {
	case <-ctx.Done():
		k.timer.Stop()
		return ctx.Err()
	case <-k.ch:
		k.timer.Stop()
	case <-k.logCh:
		k.timer.Stop()
		k.unwatchLogs()
		k.mutedUntil = time.Now().Add(followMute)
	case <-k.timer.C:
	}
	return nil
}

func (k *waker) close() {
	k.timer.Stop()
	k.unwatchLogs()
	for _, f := range k.unsub {
		f()
	}
	k.unsub = nil
}

// EventJSON renders e as one line of follow's NDJSON stream (without the
// newline): schema_version first, then the event's fields.
func EventJSON(e *FollowEvent) ([]byte, error) {
	body, err := marshalCompact(e)
	if err != nil {
		return nil, err
	}
	return append([]byte(`{"schema_version":"`+SchemaVersion+`",`), body[1:]...), nil
}

// DecodeText decodes raw log bytes as every excerpt does (SPEC §3.10 step
// 3): lossy UTF-8, one U+FFFD per maximal ill-formed subpart.
func DecodeText(b []byte) string { return logread.Decode(b) }

// LastLine is the newest line of a job's output (the last line of the log
// written most recently), rendered as for a terminal and cut to maxRunes
// characters: a one-line "what is it doing now" for progress reports.
func (m *Manager) LastLine(id string, maxRunes int) (string, error) {
	j, err := m.resolve(id)
	if err != nil {
		return "", err
	}
	path, newest := j.stdoutPath(), time.Time{}
	for _, p := range []string{j.stdoutPath(), j.stderrPath()} {
		if fi, err := os.Stat(p); err == nil && fi.Size() > 0 && fi.ModTime().After(newest) {
			path, newest = p, fi.ModTime()
		}
	}
	text, _ := RenderText(logread.File(path, 1, 4096).Text, RenderTerminal)
	if r := []rune(text); len(r) > maxRunes {
		text = string(r[:maxRunes])
	}
	return text, nil
}
