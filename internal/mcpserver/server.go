// Package mcpserver is the MCP adapter of agent-exec (SPEC §6): it offers
// run, status, tail, wait, kill and list as MCP tools over any transport of
// the official Go SDK (stdio in production, in-memory in tests). Like the
// CLI and HTTP adapters it only parses input, calls the agentexec package and
// serialises the result; it holds no job logic.
package mcpserver

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/agentexec/agentexec"
)

// Name is the MCP server name.
const Name = "agent-exec"

// Environment variables holding the MCP caps (SPEC §6.3).
const (
	EnvMaxUntil     = "AGENT_EXEC_MCP_MAX_UNTIL_SECONDS"
	EnvDefaultUntil = "AGENT_EXEC_MCP_DEFAULT_UNTIL_SECONDS"
)

// DefaultMaxUntil is the default cap on every until_ms: it keeps each call
// under the 60 s request timeout common in MCP hosts.
const DefaultMaxUntil = 55 * time.Second

// MaxBytesCap is the largest max_bytes a tool honours; larger values are
// clamped.
const MaxBytesCap = 1048576

// pollInterval is the fallback re-check interval of waits (the CLI default).
const pollInterval = 200 * time.Millisecond

// shutdownGrace bounds how long Serve waits for in-flight calls and a
// running automatic GC once it has been told to stop, so the process ends
// within the 1 s the contract allows.
const shutdownGrace = 400 * time.Millisecond

// Options configure the MCP server.
type Options struct {
	// Version is reported as the server version (the binary's version).
	Version string
	// Cwd is the server's working directory, against which a relative
	// stdin_file is resolved. Empty means the process cwd. (The Manager's
	// own Cwd is the default cwd of run and the scope of list.)
	Cwd string
	// MaxUntil caps every until_ms of run and wait; 0 means DefaultMaxUntil.
	MaxUntil time.Duration
	// DefaultUntil, when > 0, replaces the defaults of an omitted until_ms
	// (10 s for run, 30 s for wait); MaxUntil still applies.
	DefaultUntil time.Duration
	// StdinMaxBytes is the job-input limit (configuration [stdin]
	// max_bytes); 0 means agentexec.DefaultStdinMaxBytes.
	StdinMaxBytes int64
	// AutoGC, when non-nil, is the bounded cleanup run in the background
	// after each successful run, at most one at a time (SPEC §3.12). Nil
	// disables it (configuration [gc] auto = false).
	AutoGC *agentexec.AutoGCOptions
	// Logger receives diagnostics (stderr in production, never stdout).
	// Nil discards them.
	Logger *slog.Logger
}

// CapsFromEnv reads AGENT_EXEC_MCP_MAX_UNTIL_SECONDS and
// AGENT_EXEC_MCP_DEFAULT_UNTIL_SECONDS into opts. An unset or empty variable
// keeps the default; any other value that is not a positive decimal integer
// is an invalid_config error, reported before any JSON-RPC traffic.
func CapsFromEnv(getenv func(string) string, opts *Options) error {
	maxUntil, err := positiveSeconds(getenv, EnvMaxUntil)
	if err != nil {
		return err
	}
	defUntil, err := positiveSeconds(getenv, EnvDefaultUntil)
	if err != nil {
		return err
	}
	if maxUntil > 0 {
		opts.MaxUntil = maxUntil
	}
	if defUntil > 0 {
		opts.DefaultUntil = defUntil
	}
	return nil
}

// positiveSeconds parses one cap variable; 0 means unset. Values too large
// for a time.Duration saturate (they mean "no practical cap").
func positiveSeconds(getenv func(string) string, name string) (time.Duration, error) {
	v := getenv(name)
	if v == "" {
		return 0, nil
	}
	bad := &agentexec.Error{Code: agentexec.CodeInvalidConfig,
		Message: fmt.Sprintf("invalid %s %q: must be a positive integer number of seconds", name, v)}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, bad
		}
	}
	n, err := strconv.ParseUint(v, 10, 64)
	switch {
	case err != nil: // all digits, so only a range error: saturate
		return time.Duration(math.MaxInt64), nil
	case n == 0:
		return 0, bad
	case n > uint64(math.MaxInt64/int64(time.Second)):
		return time.Duration(math.MaxInt64), nil
	}
	return time.Duration(n) * time.Second, nil
}

// server is one MCP server over a Manager.
type server struct {
	m    *agentexec.Manager
	opts Options
	log  *slog.Logger
	cwd  string

	// life is cancelled when Serve is told to stop: every tool call waits
	// under it as well as under its own request context, so shutdown does
	// not wait for long in-flight waits (the jobs are unaffected).
	life context.Context

	gcMu     sync.Mutex
	gcDone   chan struct{} // non-nil while an automatic GC runs
	gcClosed bool          // set once Serve is stopping: no new GC starts
}

func newServer(m *agentexec.Manager, opts Options, life context.Context) *server {
	if opts.MaxUntil <= 0 {
		opts.MaxUntil = DefaultMaxUntil
	}
	switch {
	case opts.StdinMaxBytes == 0:
		opts.StdinMaxBytes = agentexec.DefaultStdinMaxBytes
	case opts.StdinMaxBytes < 0:
		opts.StdinMaxBytes = 0
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cwd := opts.Cwd
	if cwd == "" {
		cwd, _ = os.Getwd()
	}
	return &server{m: m, opts: opts, log: log, cwd: cwd, life: life}
}

// mcpServer builds the SDK server with the six tools.
func (s *server) mcpServer() *mcp.Server {
	version := s.opts.Version
	if version == "" {
		version = "0.0.0-dev"
	}
	srv := mcp.NewServer(&mcp.Implementation{Name: Name, Version: version}, &mcp.ServerOptions{
		Instructions: instructions,
		Logger:       s.log,
		// Tools only; the tool list never changes.
		Capabilities: &mcp.ServerCapabilities{Tools: &mcp.ToolCapabilities{}},
	})
	s.addTools(srv)
	srv.AddReceivingMiddleware(toolCallMiddleware)
	return srv
}

// Serve serves MCP on t until the peer ends the session (end of input, a
// broken output stream) or ctx is cancelled, and then returns nil. Tool calls
// run concurrently; cancelling a call (notifications/cancelled) or stopping
// the server only abandons waiting: jobs are never cancelled.
func Serve(ctx context.Context, m *agentexec.Manager, opts Options, t mcp.Transport) error {
	life, stop := context.WithCancel(ctx)
	defer stop()
	s := newServer(m, opts, life)
	ss, err := s.mcpServer().Connect(life, t, nil)
	if err != nil {
		return agentexec.AsError(fmt.Errorf("start MCP session: %w", err))
	}
	ended := make(chan error, 1)
	go func() { ended <- ss.Wait() }()
	select {
	case err := <-ended:
		if err != nil {
			s.log.Debug("mcp session ended", "error", err)
		}
	case <-ctx.Done():
		stop()
		// Close drains in-flight calls, which return promptly now that life
		// is cancelled; do not let a stuck transport hold the exit.
		go ss.Close()
		select {
		case <-ended:
		case <-time.After(shutdownGrace):
		}
	}
	stop()
	s.waitGC(shutdownGrace)
	return nil
}

// autoGC starts the bounded cleanup after a successful run unless one is
// already running (SPEC §3.12: in the background, at most one at a time).
func (s *server) autoGC(justLaunched string) {
	if s.opts.AutoGC == nil {
		return
	}
	s.gcMu.Lock()
	defer s.gcMu.Unlock()
	if s.gcClosed || s.gcDone != nil {
		return
	}
	done := make(chan struct{})
	s.gcDone = done
	o := *s.opts.AutoGC
	o.JustLaunched = justLaunched
	go func() {
		defer close(done)
		s.m.AutoGC(s.life, o)
		s.gcMu.Lock()
		s.gcDone = nil
		s.gcMu.Unlock()
	}()
}

// waitGC stops new automatic GCs and waits up to d for a running one, which
// has already been told to stop through life.
func (s *server) waitGC(d time.Duration) {
	s.gcMu.Lock()
	s.gcClosed = true
	done := s.gcDone
	s.gcMu.Unlock()
	if done == nil {
		return
	}
	select {
	case <-done:
	case <-time.After(d):
	}
}
