// Package httpapi is the HTTP adapter of agent-exec (SPEC §5): an
// http.Handler over *agentexec.Manager that parses requests, calls the
// library and writes the same envelopes as the CLI. It holds no job logic.
//
// Requests pass the checks of SPEC §5.4 in order: Host, Origin, CORS
// preflight, bearer token, route and method, Content-Type, body limit. The
// router is hand-written rather than an http.ServeMux because ServeMux
// cleans and redirects paths and answers 404/405 in plain text, while the
// contract needs the job id taken from the escaped path and every error as
// a JSON envelope.
package httpapi

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/agentexec/agentexec"
)

// MaxBodyBytes bounds request bodies (SPEC §5.4 step 7).
const MaxBodyBytes = 1 << 20

// Server limits (SPEC §5.4, §9.3). There is deliberately no write timeout:
// /wait and /exec with wait may block for as long as the job runs. Nor is
// there a server-wide read timeout, because net/http applies it to the
// connection while the handler runs and would end long waits; instead the
// body must arrive within BodyReadTimeout (a deadline set only while it is
// read). IdleTimeout closes idle keep-alive connections, so clients that
// never hang up cannot pile up file descriptors.
const (
	MaxHeaderBytes    = 64 << 10
	ReadHeaderTimeout = 10 * time.Second
	BodyReadTimeout   = 30 * time.Second
	IdleTimeout       = 60 * time.Second
)

// pollInterval is the fallback re-check interval of /wait and /exec.
const pollInterval = 200 * time.Millisecond

// shutdownGrace bounds how long Serve waits for in-flight requests once
// open waits have been ended.
const shutdownGrace = 10 * time.Second

// Options configure a Server.
type Options struct {
	// Bind is the address the server listens on; the Host check accepts its
	// IP, and any IP literal when it is unspecified (0.0.0.0 or ::).
	Bind netip.AddrPort
	// AllowOrigins are the --allow-origin values: the only origins that get
	// CORS headers and preflight answers.
	AllowOrigins []string
	// AllowHosts are extra Host names accepted (case-insensitive).
	AllowHosts []string
	// Token, when non-empty, is required as a bearer token on every route
	// except GET /health.
	Token string
	// AutoGC, when non-nil, is run in the background after each successful
	// /exec, at most one at a time (SPEC §3.12). JustLaunched is filled in.
	AutoGC *agentexec.AutoGCOptions
	// Logger receives diagnostics. Nil discards them. The token is never
	// logged.
	Logger *slog.Logger
	// BodyReadTimeout bounds the time to receive a request body; zero
	// means BodyReadTimeout (30 s).
	BodyReadTimeout time.Duration
	// MaxConns is the number of connections kept open at once (see
	// conns.go); zero derives it from the descriptor limit.
	MaxConns int
}

// Server is the HTTP API over one Manager. It is an http.Handler; Serve
// runs it on a listener with the contract's limits and graceful shutdown.
type Server struct {
	m        *agentexec.Manager
	opts     Options
	log      *slog.Logger
	origins  map[string]bool
	hosts    map[string]bool
	tokenSum [sha256.Size]byte

	// base is the parent of every request context under Serve and of the
	// background GC; cancelling it ends open waits at shutdown.
	base   context.Context
	cancel context.CancelFunc

	gcMu      sync.Mutex
	gcRunning bool
	gcClosed  bool
	gcWG      sync.WaitGroup
}

// New returns a Server. Invalid --allow-origin values are invalid_config
// errors.
func New(m *agentexec.Manager, o Options) (*Server, error) {
	s := &Server{m: m, opts: o, log: o.Logger, origins: map[string]bool{}, hosts: map[string]bool{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if !s.opts.Bind.IsValid() {
		s.opts.Bind = DefaultBind
	}
	for _, v := range o.AllowOrigins {
		origin, err := ValidateOrigin(v)
		if err != nil {
			return nil, err
		}
		s.origins[origin] = true
	}
	for _, h := range o.AllowHosts {
		s.hosts[strings.ToLower(h)] = true
	}
	s.tokenSum = sha256.Sum256([]byte(o.Token))
	s.base, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// Serve answers requests on ln until ctx is cancelled, then stops
// accepting, ends open waits (their connections are closed without a
// response), waits for in-flight requests and a running auto-GC, and
// returns nil. A failure of the listener is an internal_error.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s,
		MaxHeaderBytes:    MaxHeaderBytes,
		ReadHeaderTimeout: ReadHeaderTimeout,
		IdleTimeout:       IdleTimeout,
		BaseContext:       func(net.Listener) context.Context { return s.base },
		ConnContext:       connContext,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	// Shutdown closes the listeners first, then runs these hooks: waits
	// blocked in handlers see their context end and abort.
	srv.RegisterOnShutdown(s.cancel)
	errc := make(chan error, 1)
	maxConns := s.opts.MaxConns
	if maxConns <= 0 {
		maxConns = defaultMaxConns(fdLimit())
	}
	go func() { errc <- srv.Serve(newLimitListener(ln, maxConns, s.log)) }()
	var serveErr error
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		if err := srv.Shutdown(sctx); err != nil {
			srv.Close()
		}
		cancel()
		<-errc
	case serveErr = <-errc:
		s.cancel()
		srv.Close()
	}
	s.stopGC()
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return &agentexec.Error{Code: agentexec.CodeInternal, Message: "serve: " + serveErr.Error(), Err: serveErr}
	}
	return nil
}

// Close ends open waits and background work of a Server used as a plain
// http.Handler (Serve does this itself).
func (s *Server) Close() {
	s.cancel()
	s.stopGC()
}

// stopGC refuses new background cleanups and waits for a running one.
func (s *Server) stopGC() {
	s.gcMu.Lock()
	s.gcClosed = true
	s.gcMu.Unlock()
	s.gcWG.Wait()
}

// route is one entry of the route table.
type route struct {
	method string
	withID bool
	handle func(s *Server, w http.ResponseWriter, r *http.Request, id string, body []byte) error
}

var routes = map[string]route{
	"health": {http.MethodGet, false, (*Server).health},
	"exec":   {http.MethodPost, false, (*Server).exec},
	"jobs":   {http.MethodGet, false, (*Server).jobs},
	"status": {http.MethodGet, true, (*Server).status},
	"tail":   {http.MethodGet, true, (*Server).tail},
	"wait":   {http.MethodGet, true, (*Server).wait},
	// GET /wait_many?job_id=…&tag=…&name=…&any=true (added, SPEC §11.6).
	"wait_many": {http.MethodGet, false, (*Server).waitMany},
	"kill":      {http.MethodPost, true, (*Server).kill},
	// POST /send/{id} (added, SPEC §11.5).
	"send": {http.MethodPost, true, (*Server).send},
	// GET /screen/{id}: the terminal of a --pty job (added, SPEC §11.5).
	"screen": {http.MethodGet, true, (*Server).screen},
	// Server-sent events (added, SPEC §11.3).
	"events": {http.MethodGet, false, (*Server).events},
	"logs":   {http.MethodGet, true, (*Server).logs},
}

// match finds the route of an escaped path. The id is the one segment after
// the route name, percent-decoded but otherwise untouched (no cleaning), so
// "/tail/..%2Fx" yields the id "../x" for the library to reject.
func match(escaped string) (route, string, bool) {
	rest, ok := strings.CutPrefix(escaped, "/")
	if !ok {
		return route{}, "", false
	}
	name, seg, hasSeg := strings.Cut(rest, "/")
	rt, ok := routes[name]
	if !ok {
		return route{}, "", false
	}
	if !rt.withID {
		return rt, "", !hasSeg
	}
	if !hasSeg || seg == "" || strings.Contains(seg, "/") {
		return route{}, "", false
	}
	id, err := url.PathUnescape(seg)
	if err != nil {
		return route{}, "", false
	}
	return rt, id, true
}

// ServeHTTP applies the security checks of SPEC §5.4 in order, then
// dispatches.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("internal panic", "panic", v, "stack", string(debug.Stack()))
			s.reject(w, r, 0, newError(agentexec.CodeInternal, fmt.Sprintf("internal error: %v", v)))
		}
	}()
	if e := s.checkHost(r.Host); e != nil {
		s.reject(w, r, 0, e)
		return
	}
	allowedOrigin := false
	if origin, ok := r.Header["Origin"]; ok {
		o := ""
		if len(origin) > 0 {
			o = origin[0]
		}
		switch {
		case len(origin) == 1 && s.origins[strings.ToLower(o)]:
			allowedOrigin = true
			w.Header().Set("Access-Control-Allow-Origin", o)
			w.Header().Add("Vary", "Origin")
		case len(origin) == 1 && strings.EqualFold(o, "http://"+r.Host):
		default:
			s.reject(w, r, 0, newError(agentexec.CodeForbidden, fmt.Sprintf("origin %q is not allowed", o)))
			return
		}
	}
	if r.Method == http.MethodOptions {
		if !allowedOrigin {
			s.reject(w, r, 0, newError(agentexec.CodeForbidden, "OPTIONS is only answered for an allowed origin"))
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Methods", "GET, POST")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
		h.Set("Access-Control-Max-Age", "600")
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	escaped := r.URL.EscapedPath()
	rt, id, found := match(escaped)
	if s.opts.Token != "" && !(found && escaped == "/health" && r.Method == http.MethodGet) {
		if !s.authorized(r.Header.Get("Authorization")) {
			w.Header().Set("WWW-Authenticate", "Bearer")
			s.reject(w, r, 0, newError(agentexec.CodeUnauthorized, "missing or invalid bearer token"))
			return
		}
	}
	if !found {
		s.reject(w, r, http.StatusNotFound, newError(agentexec.CodeInvalidRequest, fmt.Sprintf("no route for %s", escaped)))
		return
	}
	if r.Method != rt.method {
		w.Header().Set("Allow", rt.method)
		s.reject(w, r, http.StatusMethodNotAllowed, newError(agentexec.CodeInvalidRequest,
			fmt.Sprintf("method %s is not allowed for %s; use %s", r.Method, escaped, rt.method)))
		return
	}
	var body []byte
	if r.Method == http.MethodPost {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/json" {
			s.reject(w, r, http.StatusUnsupportedMediaType, newError(agentexec.CodeInvalidRequest, "Content-Type must be application/json"))
			return
		}
		// A client sending its body slowly must not hold the connection
		// (and a descriptor) for longer than BodyReadTimeout. After a
		// complete body the deadline is lifted: net/http keeps reading in
		// the background to notice a client that hangs up, and must not
		// time out a long wait. After a failed read it stays, and the
		// connection is closed after the answer (net/http would otherwise
		// try to drain the rest of a body that is not coming).
		rc := http.NewResponseController(w)
		rc.SetReadDeadline(time.Now().Add(cmp.Or(s.opts.BodyReadTimeout, BodyReadTimeout)))
		limit := int64(MaxBodyBytes)
		if strings.HasPrefix(escaped, "/send/") {
			limit = sendMaxBody // 1 MiB of input, escaped as JSON
		}
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
		if err == nil {
			rc.SetReadDeadline(time.Time{})
		} else {
			w.Header().Set("Connection", "close")
		}
		if err != nil {
			s.reject(w, r, 0, newError(agentexec.CodeInvalidRequest, "failed to read request body"))
			return
		}
	}
	defer handling(r)()
	if err := rt.handle(s, w, r, id, body); err != nil {
		s.fail(w, r, err)
	}
}

// fail answers err. A wait abandoned because the client went away or the
// server is shutting down gets no response: the connection is closed.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		panic(http.ErrAbortHandler)
	}
	e := agentexec.AsError(err)
	if e.Code == agentexec.CodeInternal {
		s.log.Warn("request failed", "method", r.Method, "path", r.URL.EscapedPath(), "err", e.Message)
	}
	s.reject(w, r, 0, e)
}

// reject answers a request with the error envelope of e, using status or,
// when 0, the status of e's code. Refusals are logged at debug level
// (method, path, status, code; never headers, so never the token), which
// lets operators and the browser check see what was refused.
func (s *Server) reject(w http.ResponseWriter, r *http.Request, status int, e *agentexec.Error) {
	if status == 0 {
		status = statusOf(e.Code)
	}
	s.log.Debug("request refused", "method", r.Method, "path", r.URL.EscapedPath(), "status", status, "code", string(e.Code))
	writeErrorStatus(w, status, e)
}

// checkHost accepts a Host whose host part is a loopback IP literal, the
// bind IP, any IP literal when bound to an unspecified address, localhost,
// or an --allow-host value. This defeats DNS rebinding: a rebinding page
// sends its own host name.
func (s *Server) checkHost(hostport string) *agentexec.Error {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	if host != "" {
		if strings.EqualFold(host, "localhost") || s.hosts[strings.ToLower(host)] {
			return nil
		}
		if ip, err := netip.ParseAddr(host); err == nil {
			bind := s.opts.Bind.Addr()
			if IsLoopback(ip) || ip.Unmap() == bind.Unmap() || bind.IsUnspecified() {
				return nil
			}
		}
	}
	return newError(agentexec.CodeForbidden, fmt.Sprintf("host %q is not allowed", host))
}

// authorized checks an Authorization header against the token: the scheme
// is case-insensitive; the comparison is of SHA-256 digests in constant
// time, so neither the token's content nor its length leaks through timing.
func (s *Server) authorized(h string) bool {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	return subtle.ConstantTimeCompare(sum[:], s.tokenSum[:]) == 1
}

// scheduleAutoGC starts the bounded cleanup in the background unless one is
// already running: concurrent /exec calls must not pile up scans.
func (s *Server) scheduleAutoGC(justLaunched string) {
	if s.opts.AutoGC == nil {
		return
	}
	s.gcMu.Lock()
	defer s.gcMu.Unlock()
	if s.gcClosed || s.gcRunning {
		return
	}
	s.gcRunning = true
	s.gcWG.Add(1)
	o := *s.opts.AutoGC
	o.JustLaunched = justLaunched
	go func() {
		defer s.gcWG.Done()
		defer func() {
			s.gcMu.Lock()
			s.gcRunning = false
			s.gcMu.Unlock()
		}()
		defer func() {
			if v := recover(); v != nil {
				s.log.Warn("auto-gc panic", "panic", v)
			}
		}()
		s.m.AutoGC(s.base, o)
	}()
}
