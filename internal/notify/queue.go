package notify

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/agentexec/agentexec/internal/store"
)

// QueueCapacity is how many output-match events may wait for delivery
// (SPEC §7.3); beyond it events are recorded as dropped at once.
const QueueCapacity = 256

// ExitGrace is how long pending output-match deliveries may continue after
// the terminal state (SPEC §3.2 step 7).
const ExitGrace = 30 * time.Second

// Drop reasons recorded instead of a delivery.
const (
	DroppedFull    = "dropped: sink queue full"
	DroppedExiting = "dropped: supervisor exiting"
)

// Queue delivers job.output.matched events of one job asynchronously, in
// order, on one worker goroutine, and appends every event with its delivery
// results to notification_events.ndjson. Push never blocks on a sink.
type Queue struct {
	d      *Deliverer
	path   string
	ch     chan queued
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex // serialises appends to the record file
	f       *os.File   // opened on the first record
	pending []byte     // dropped-event records not yet written
	armed   bool       // a flush of pending is scheduled
	closed  bool
}

// Dropped events are recorded from the output path, possibly for every line
// of a flood; they are batched into few writes, flushed within dropFlush or
// when dropBatch bytes accumulate, and always before any later record so
// the file stays in recording order.
const (
	dropFlush = 20 * time.Millisecond
	dropBatch = 64 << 10
)

type queued struct {
	ev    *Matched
	sinks Sinks
}

// NewQueue starts the output-match queue of the job in dir.
func (d *Deliverer) NewQueue(dir string) *Queue {
	ctx, cancel := context.WithCancel(context.Background())
	q := &Queue{
		d: d, path: filepath.Join(dir, store.NotificationLog),
		ch: make(chan queued, QueueCapacity), ctx: ctx, cancel: cancel, done: make(chan struct{}),
	}
	go q.work()
	return q
}

// Push enqueues ev for delivery to sinks. When the queue is full, the event
// is recorded at once with a "dropped: sink queue full" result per
// configured sink. Push must not be called after Close.
func (q *Queue) Push(ev *Matched, sinks Sinks) {
	select {
	case q.ch <- queued{ev: ev, sinks: sinks}:
	default:
		q.recordDropped(ev, sinks.dropped(DroppedFull, q.d.now()))
	}
}

func (q *Queue) work() {
	defer close(q.done)
	for it := range q.ch {
		if q.ctx.Err() != nil {
			q.recordDropped(it.ev, it.sinks.dropped(DroppedExiting, q.d.now()))
			continue
		}
		results := q.d.Deliver(q.ctx, it.sinks, TypeOutputMatched, q.path, EncodeMatched(it.ev))
		q.record(it.ev, results)
	}
}

// record appends {event…, "delivery_results": […]} as one line, after any
// pending dropped-event records. Write failures are ignored: notifications
// never affect the job.
func (q *Queue) record(ev *Matched, results []Result) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending = AppendMatchedRecord(q.pending, ev, results)
	q.flushLocked()
}

// recordDropped records an event that was never attempted; the line is
// written within dropFlush.
func (q *Queue) recordDropped(ev *Matched, results []Result) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending = AppendMatchedRecord(q.pending, ev, results)
	switch {
	case len(q.pending) >= dropBatch:
		q.flushLocked()
	case !q.armed:
		q.armed = true
		time.AfterFunc(dropFlush, func() {
			q.mu.Lock()
			defer q.mu.Unlock()
			q.armed = false
			q.flushLocked()
		})
	}
}

// flushLocked writes the pending records. The file is created (0600) only
// when the first record is written. q.mu is held.
func (q *Queue) flushLocked() {
	if len(q.pending) == 0 || q.closed {
		return
	}
	if q.f == nil {
		f, err := store.OpenJobFile(q.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			q.pending = q.pending[:0]
			return
		}
		q.f = f
	}
	q.f.Write(q.pending)
	if cap(q.pending) > 4*dropBatch {
		q.pending = nil // do not keep a flood's buffer
	} else {
		q.pending = q.pending[:0]
	}
}

// Close stops accepting events and lets queued deliveries run until
// deadline. Events still queued then are recorded with "dropped: supervisor
// exiting", and a command sink still running is killed. Close returns when
// every event has been recorded.
func (q *Queue) Close(deadline time.Time) {
	close(q.ch)
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-q.done:
	case <-t.C:
		q.cancel()
		<-q.done
	}
	q.cancel()
	q.mu.Lock()
	q.flushLocked()
	q.closed = true
	if q.f != nil {
		q.f.Close()
		q.f = nil
	}
	q.mu.Unlock()
}
