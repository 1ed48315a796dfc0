package supervisor

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/agentexec/agentexec/internal/lines"
	"github.com/agentexec/agentexec/internal/proc"
	"github.com/agentexec/agentexec/internal/store"
)

// drainBound limits reading after the direct child exited (SPEC §3.8).
const drainBound = 2000 * time.Millisecond

// Log polling: pollMin while output flows, backing off to pollMax; one pass
// reads for at most passBudget before timers and the exit get a look.
const (
	pollMin    = 10 * time.Millisecond
	pollMax    = 100 * time.Millisecond
	passBudget = 20 * time.Millisecond
)

// LineHook receives every complete output line (stream "stdout" or
// "stderr"); the slice is only valid during the call.
type LineHook interface {
	// Wants is asked before the lines of block (complete lines, each
	// ending in '\n') are offered one by one; false means none of them
	// can concern the hook, and Line is not called for them. It lets a
	// never-matching pattern cost one substring search per block instead
	// of a call per line.
	Wants(stream string, block []byte) bool
	Line(stream string, line []byte)
}

// fullChunk is how many bytes of full.log records are gathered before
// they are written: few large writes, and a bounded buffer.
const fullChunk = 256 << 10

// logStream follows one log file the child writes directly.
type logStream struct {
	name  string // "stdout" | "stderr"
	label string // "STDOUT" | "STDERR"
	f     *os.File
	off   int64
	split lines.Splitter
	// prefix is "<ts> [STDOUT] " for the follower's current timestamp.
	prefix []byte
	// emit is fo.emit bound to this stream, made once.
	emit func(line []byte)
}

// follower reads the child's log files as they grow and turns them into
// full.log records and output-match lines.
type follower struct {
	streams [2]*logStream
	full    *os.File
	// out holds records not yet written to full.log; written when it
	// reaches fullChunk and at flush.
	out []byte
	// noFull: the job was started with full.log turned off (--no-full-log);
	// lines still reach the hook, no record is written.
	noFull bool
	buf    []byte
	hook   LineHook
	tsSec  int64
	ts     string
}

func newFollower(dir string, fullLog *os.File, hook LineHook) *follower {
	fo := &follower{full: fullLog, out: make([]byte, 0, fullChunk+lines.DefaultMax), buf: make([]byte, 256<<10), hook: hook}
	for i, n := range []string{"stdout", "stderr"} {
		path := filepath.Join(dir, store.StdoutLog)
		label := "STDOUT"
		if n == "stderr" {
			path, label = filepath.Join(dir, store.StderrLog), "STDERR"
		}
		f, _ := store.OpenJobFile(path, os.O_RDONLY, 0) // nil on failure: that stream is then not followed
		st := &logStream{name: n, label: label, f: f}
		st.emit = func(line []byte) { fo.emit(st, line) }
		fo.streams[i] = st
	}
	return fo
}

// stamp refreshes the cached record timestamp. It is read once per chunk,
// not per line: a line's completion time is the time its chunk was read,
// and per-line clock reads dominated the cost of large outputs.
func (fo *follower) stamp() {
	now := time.Now()
	if sec := now.Unix(); sec != fo.tsSec || fo.ts == "" {
		fo.tsSec, fo.ts = sec, store.Timestamp(now)
		for _, st := range fo.streams {
			st.prefix = append(append(st.prefix[:0], fo.ts...), " ["+st.label+"] "...)
		}
	}
}

// readAvailable consumes what has been written so far, stopping early at
// until: a job that writes faster than full.log can be produced must not
// keep the supervisor from its timers and the child's exit. It reports
// whether anything was read and whether it stopped with data left.
func (fo *follower) readAvailable(until time.Time) (got, more bool) {
	for _, st := range fo.streams {
		if st.f == nil {
			continue
		}
		for {
			n, err := st.f.ReadAt(fo.buf, st.off)
			if n > 0 {
				got = true
				fo.stamp()
				st.off += int64(n)
				fo.consume(st, fo.buf[:n])
			}
			if err != nil || n < len(fo.buf) {
				break // EOF for now (or a read error: try again next pass)
			}
			if time.Now().After(until) {
				more = true
				break
			}
		}
	}
	return got, more
}

// consume turns one chunk read from st into records. The splitter handles
// the edges — the line a previous chunk began, the trailing partial line,
// lines over the record limit — and the complete lines in between take a
// fast path (lines), which is where nearly all bytes go.
func (fo *follower) consume(st *logStream, p []byte) {
	if st.split.Buffered() > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			st.split.Write(p, st.emit)
			return
		}
		st.split.Write(p[:i+1], st.emit) // completes the pending line: the splitter is empty again
		p = p[i+1:]
	}
	end := bytes.LastIndexByte(p, '\n') + 1
	fo.lines(st, p[:end])
	st.split.Write(p[end:], st.emit)
}

// lines handles block, complete lines each ending in '\n', with the
// splitter empty: what emit does per line, with the UTF-8 check and the
// output-match question asked once for the block, and records appended
// straight to the full.log buffer.
func (fo *follower) lines(st *logStream, block []byte) {
	if len(block) == 0 {
		return
	}
	hook := fo.hook != nil && fo.hook.Wants(st.name, block)
	if fo.noFull && !hook {
		return // nobody reads these lines: complete lines leave no splitter state
	}
	// '\n' never occurs inside a UTF-8 sequence, so a valid block has
	// only valid lines.
	valid := !fo.noFull && utf8.Valid(block)
	for len(block) > 0 {
		i := bytes.IndexByte(block, '\n')
		if i > lines.DefaultMax {
			st.split.Write(block[:i+1], st.emit) // cut into records at the limit
			block = block[i+1:]
			continue
		}
		line := block[:i]
		block = block[i+1:]
		if !fo.noFull {
			fo.record(st, line, valid)
		}
		if hook {
			fo.hook.Line(st.name, line)
		}
	}
}

// emit handles one record the splitter cut.
func (fo *follower) emit(st *logStream, line []byte) {
	if !fo.noFull {
		fo.record(st, line, false)
	}
	if fo.hook != nil {
		fo.hook.Line(st.name, line)
	}
}

// record appends the full.log record of line; valid says line is already
// known to be valid UTF-8.
func (fo *follower) record(st *logStream, line []byte, valid bool) {
	if valid || utf8.Valid(line) { // common case: no decoding
		fo.out = append(fo.out, st.prefix...)
		fo.out = append(fo.out, line...)
		fo.out = append(fo.out, '\n')
	} else {
		fo.out = lines.AppendRecord(fo.out, fo.ts, st.label, line)
	}
	if len(fo.out) >= fullChunk {
		fo.flush()
	}
}

// flush writes the gathered records to full.log. A failed log write drops
// data; the job goes on.
func (fo *follower) flush() {
	if len(fo.out) > 0 {
		fo.full.Write(fo.out)
		fo.out = fo.out[:0]
	}
}

// finish emits trailing partial lines and flushes full.log.
func (fo *follower) finish() {
	fo.stamp()
	for _, st := range fo.streams {
		st.split.Flush(st.emit)
		if st.f != nil {
			st.f.Close()
		}
	}
	fo.flush()
}

// supervise runs until the job has ended (the direct child exited and,
// with --descendants kill|wait, the rest of its tree is gone) and the
// terminal state is written, then finishes notifications and pending
// kill-after, and stays while any process of the tree lives (SPEC §11.4).
func (s *supervisor) supervise(fullLog *os.File) {
	defer fullLog.Close()
	meta := s.meta
	hook := newNotifier(s)
	fo := newFollower(s.dir, fullLog, hook)
	// run --log names a merged log explicitly: that request wins.
	fo.noFull = meta.FullLog != nil && !*meta.FullLog && s.req.LogPath == ""
	pgid := s.cmd.Process.Pid
	s.tree.start(proc.Identity{PID: pgid, PGID: pgid, StartTime: s.state.Child.StartTime})
	mode := meta.Descendants

	type exitInfo struct {
		ws syscall.WaitStatus
		at time.Time
	}
	exited := make(chan exitInfo, 1)
	go func() {
		s.cmd.Wait()
		at := time.Now()
		var ws syscall.WaitStatus
		if s.cmd.ProcessState != nil {
			ws, _ = s.cmd.ProcessState.Sys().(syscall.WaitStatus)
		}
		exited <- exitInfo{ws: ws, at: at}
	}()
	exitC := (<-chan exitInfo)(exited)
	childWaited := false

	// The logs are polled, adaptively: every 10 ms while output flows,
	// backing off to 100 ms when idle, at once when a pass stopped with
	// data left. Polling costs the writer nothing per write (a watch on the
	// log generated an inotify event per write), and needs no inotify
	// instance per job (128 per user by default).
	interval := pollMin
	pollTimer := time.NewTimer(interval)
	defer pollTimer.Stop()

	var timeoutC, killAfterC, progressC <-chan time.Time
	if meta.TimeoutMS > 0 {
		t := time.NewTimer(time.Until(s.spawnedAt.Add(time.Duration(meta.TimeoutMS) * time.Millisecond)))
		defer t.Stop()
		timeoutC = t.C
	}
	idleLimit := time.Duration(meta.IdleTimeoutMS) * time.Millisecond
	lastOutput := s.spawnedAt
	var killAfter *time.Timer
	if meta.ProgressEveryMS > 0 {
		pt := time.NewTicker(max(time.Duration(meta.ProgressEveryMS)*time.Millisecond, 100*time.Millisecond))
		defer pt.Stop()
		progressC = pt.C
	}
	sigchldC, treeTickC := s.tree.wake()
	if s.stdin != nil {
		s.stdin.serve()
	}

	// stop is a timer's expiry (SPEC §3.6, §11.4): TERM the job's tree,
	// KILL at once or after kill_after_ms.
	stop := func(kind string) {
		s.timedOut, s.timeoutKind = true, kind
		s.tree.signal(syscall.SIGTERM, pgid, childWaited)
		if meta.KillAfterMS == 0 {
			s.tree.signal(syscall.SIGKILL, pgid, childWaited)
		} else {
			killAfter = time.NewTimer(time.Duration(meta.KillAfterMS) * time.Millisecond)
			killAfterC = killAfter.C
		}
	}

	// full.log may lag by at most 100 ms: flushing after every wake-up
	// doubled the supervisor's cost on large outputs.
	flushTimer := time.NewTimer(time.Hour)
	flushTimer.Stop()
	defer flushTimer.Stop()
	flushArmed := false
	poll := func() {
		got, more := fo.readAvailable(time.Now().Add(passBudget))
		if got {
			lastOutput = time.Now()
			if !flushArmed {
				flushTimer.Reset(100 * time.Millisecond)
				flushArmed = true
			}
		}
		switch {
		case more:
			interval = 0
		case got:
			interval = pollMin
		default:
			interval = min(max(2*interval, pollMin), pollMax)
		}
		pollTimer.Reset(interval)
	}

	var exit exitInfo
	// childExit records the direct child's end and reports whether the job
	// ends with it: only --descendants wait keeps it running for the tree.
	childExit := func(e exitInfo) bool {
		exit, exitC, childWaited = e, nil, true
		s.childUsage = childUsage(s.cmd.ProcessState)
		return mode != "wait" || !s.tree.alive()
	}
loop:
	for {
		select {
		case e := <-exitC:
			if childExit(e) {
				break loop
			}
		case <-sigchldC:
			if !s.tree.alive() && childWaited { // --descendants wait: the last one is gone
				exit.at = time.Now()
				break loop
			}
			s.tree.changed = true
			s.tree.rearm()
		case <-treeTickC:
			if !s.tree.alive() && childWaited {
				exit.at = time.Now()
				break loop
			}
			s.tree.rearm()
		case <-pollTimer.C:
			poll()
			if idleLimit > 0 && !s.timedOut && time.Since(lastOutput) >= idleLimit {
				stop("idle")
			}
		case <-flushTimer.C:
			flushArmed = false
			fo.flush()
		case <-timeoutC:
			select { // an exit that raced the deadline wins: no late signal
			case e := <-exitC:
				if childExit(e) {
					break loop
				}
			default:
			}
			if !s.timedOut {
				stop("total")
			}
		case <-killAfterC:
			killAfterC = nil
			if !childWaited && proc.GroupAlive(pgid) || s.tree.alive() {
				s.tree.signal(syscall.SIGKILL, pgid, childWaited)
			}
		case <-progressC:
			st := *s.state
			st.UpdatedAt = store.Timestamp(time.Now())
			if store.WriteState(s.dir, &st) == nil {
				s.state = &st
			}
		}
	}

	if s.stdin != nil {
		// The job's end closes its stdin and the control channel.
		s.stdin.close()
	}
	drainFrom := exit.at
	if mode == "kill" {
		ka := time.Duration(meta.KillAfterMS) * time.Millisecond
		if ka == 0 {
			ka = descendantsKillAfter
		}
		s.tree.stopRest(ka)
		drainFrom = time.Now()
		exit.at = drainFrom
	}
	// Drain: with direct files everything written so far is on disk; read
	// it, bounded in time in case descendants keep writing.
	deadline := drainFrom.Add(drainBound)
	for {
		if _, more := fo.readAvailable(deadline); !more || time.Now().After(deadline) {
			break
		}
	}
	fo.finish()
	// Reap and record what is left before the terminal state, which says
	// how many: readers of a finished job skip looking for a tree then.
	s.leftAtExit = len(s.tree.members())
	s.writeTerminal(exit.ws, exit.at)
	// A pending kill-after is delivered on time even while slow sinks run.
	killed := make(chan struct{})
	go func() {
		defer close(killed)
		if killAfterC != nil {
			<-killAfterC
			if proc.GroupAlive(pgid) || s.tree.alive() {
				s.tree.signal(syscall.SIGKILL, pgid, true)
				proc.SignalGroup(pgid, syscall.SIGKILL)
			}
		}
	}()
	hook.finish(s)
	<-killed
	s.dropReserve()
}

// writeTerminal writes S4, retrying on failure (e.g. a full disk) every
// second for up to 60 s, releasing the reserve file first.
func (s *supervisor) writeTerminal(ws syscall.WaitStatus, at time.Time) {
	st := *s.state
	code, sig := proc.ExitOutcome(ws)
	dur := at.Sub(s.spawnedAt).Milliseconds()
	// A shell whose command died of a signal exits 128+N: as telling as
	// a death by signal when the cluster is cancelling the job.
	if sig != "" || code != nil && *code > 128 {
		s.yieldToClusterCancel()
	}
	if sig != "" {
		st.Job.Status = "killed"
		st.Result.Signal = &sig
	} else {
		st.Job.Status = "exited"
		st.Result.ExitCode = code
	}
	st.Result.DurationMS = &dur
	st.Result.TimedOut = s.timedOut
	if s.timedOut {
		st.Result.TimeoutKind = s.timeoutKind
	}
	u := s.childUsage
	u.add(s.tree.reaped)
	st.Resources = &store.Resources{MaxRSSKB: u.maxRSSKB, UserCPUMS: u.userMS, SysCPUMS: u.sysMS}
	st.DescendantsLeft = s.leftAtExit
	st.FinishedAt = store.Timestamp(at)
	failpoint("before-final-state")
	for attempt := 0; attempt < 61; attempt++ {
		st.UpdatedAt = store.Timestamp(time.Now())
		if err := store.WriteState(s.dir, &st); err == nil {
			s.state = &st
			return
		}
		if s.reserve != "" { // free the reserve and retry at once
			s.dropReserve()
			continue
		}
		time.Sleep(time.Second)
	}
}

// makeReserve keeps 64 KiB of disk in hand so the terminal state can still
// be written when the job fills the disk.
func (s *supervisor) makeReserve() {
	p := filepath.Join(s.dir, store.ReserveFile)
	if f, err := store.OpenJobFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600); err == nil {
		if _, err := f.Write(make([]byte, 64<<10)); err == nil {
			s.reserve = p
		}
		f.Close()
		if s.reserve == "" {
			os.Remove(p)
		}
	}
}

func (s *supervisor) dropReserve() {
	if s.reserve != "" {
		os.Remove(s.reserve)
		s.reserve = ""
	}
}
