package httpapi

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Connection capacity (SPEC §9.3). Time limits alone do not keep serve
// answering: 300 clients that each send a request slowly hold 300
// descriptors for the whole body deadline, and once the process runs out
// of descriptors it cannot accept anyone, /health included. So serve keeps
// at most MaxConns connections open, and when a new one arrives at
// capacity it closes the connection that has been waiting longest for its
// client (one still sending its request, or idle between requests). A
// connection whose request is being handled — a long /wait, a stream of
// events — is never closed this way; if every connection is such a one,
// the newcomer is closed at once instead of waiting in the backlog.

// maxConnsCap bounds the default capacity however many descriptors the
// process may open.
const maxConnsCap = 4096

// fdReserve is the number of descriptors kept for the server's own work
// (job files, watchers, launches) when the default capacity is derived
// from the descriptor limit.
const fdReserve = 64

// defaultMaxConns derives the connection capacity from the descriptor
// limit: three quarters of what is left after the reserve, at least 16 and
// at most maxConnsCap.
func defaultMaxConns(fdLimit uint64) int {
	if fdLimit <= fdReserve {
		return 16
	}
	n := (fdLimit - fdReserve) * 3 / 4
	return int(max(16, min(n, maxConnsCap)))
}

// limitListener is a net.Listener that keeps at most max connections
// open, closing the longest-waiting connection that is not being handled
// to make room for a new one.
type limitListener struct {
	net.Listener
	max int
	log *slog.Logger

	mu    sync.Mutex
	conns map[*trackedConn]struct{}
}

func newLimitListener(ln net.Listener, max int, log *slog.Logger) *limitListener {
	return &limitListener{Listener: ln, max: max, log: log, conns: map[*trackedConn]struct{}{}}
}

// trackedConn is a connection of a limitListener.
type trackedConn struct {
	net.Conn
	l *limitListener
	// busy is set while a handler works on a request it has read.
	busy atomic.Bool
	// waitingSince is when the connection last started waiting for its
	// client (accepted, or its previous answer written), in UnixNano.
	waitingSince atomic.Int64
	closeOnce    sync.Once
}

// Accept returns the next connection, making room for it if needed.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		tc := &trackedConn{Conn: c, l: l}
		tc.waitingSince.Store(time.Now().UnixNano())
		if l.admit(tc) {
			return tc, nil
		}
		l.log.Debug("connection refused: every connection is handling a request", "max_conns", l.max)
		c.Close()
	}
}

// admit registers tc, closing the longest-waiting idle or reading
// connection when at capacity; false when every connection is busy.
func (l *limitListener) admit(tc *trackedConn) bool {
	l.mu.Lock()
	var victim *trackedConn
	if len(l.conns) >= l.max {
		for c := range l.conns {
			if !c.busy.Load() && (victim == nil || c.waitingSince.Load() < victim.waitingSince.Load()) {
				victim = c
			}
		}
		if victim == nil {
			l.mu.Unlock()
			return false
		}
		delete(l.conns, victim)
	}
	l.conns[tc] = struct{}{}
	l.mu.Unlock()
	if victim != nil {
		l.log.Debug("connection closed to make room: its client kept it waiting",
			"remote", victim.RemoteAddr().String(), "waited", time.Since(time.Unix(0, victim.waitingSince.Load())).Round(time.Millisecond))
		victim.Close()
	}
	return true
}

// Close closes the connection and frees its place.
func (c *trackedConn) Close() error {
	c.closeOnce.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}

type connKey struct{}

// connContext makes the connection reachable from its requests.
func connContext(ctx context.Context, c net.Conn) context.Context {
	if tc, ok := c.(*trackedConn); ok {
		return context.WithValue(ctx, connKey{}, tc)
	}
	return ctx
}

// handling marks r's connection as handling a request (so it is not
// closed to make room) until the returned function is called.
func handling(r *http.Request) (done func()) {
	tc, _ := r.Context().Value(connKey{}).(*trackedConn)
	if tc == nil {
		return func() {}
	}
	tc.busy.Store(true)
	return func() {
		tc.waitingSince.Store(time.Now().UnixNano())
		tc.busy.Store(false)
	}
}
