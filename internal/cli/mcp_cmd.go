package cli

import (
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/agentexec/agentexec"
	"github.com/agentexec/agentexec/internal/config"
	"github.com/agentexec/agentexec/internal/mcpserver"
)

func init() { extraCommands = append(extraCommands, newMCPCmd) }

// newMCPCmd is `mcp [--config PATH]` (SPEC §4.18, §6): an MCP server on
// stdio that blocks until end of input, a broken stdout, SIGINT or SIGTERM
// (exit 0). Startup errors are printed as an error envelope (exit 1) before
// any JSON-RPC traffic.
func newMCPCmd(a *app) *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:   "mcp [--config PATH]",
		Short: "Serve the job operations as MCP tools over stdio (blocks)",
		Args:  exactArgs(0, ""),
	}
	cmd.RunE = wrapRun(func(cmd *cobra.Command, args []string) error {
		opts := mcpserver.Options{Version: Version, Cwd: a.sys.Cwd, Logger: a.logger()}
		if err := mcpserver.CapsFromEnv(a.sys.Getenv, &opts); err != nil {
			return err
		}
		cfg, err := a.loadConfig(configPath)
		if err != nil {
			return err
		}
		opts.StdinMaxBytes = agentexec.StdinLimit(cfg.StdinMaxBytes)
		opts.AutoGC = autoGCOptions(cfg)
		m, err := agentexec.Open(a.rootPath(), mcpOptions(a, &cfg))
		if err != nil {
			return err
		}
		defer m.Close()

		ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		// With SIGPIPE delivered to a channel, a write to a closed stdout
		// fails with EPIPE instead of killing the process, so a broken stdout
		// ends the session with exit 0. (signal.Ignore would instead be
		// inherited by every job started from here.)
		pipe := make(chan os.Signal, 1)
		signal.Notify(pipe, syscall.SIGPIPE)
		defer signal.Stop(pipe)

		var in io.ReadCloser = a.sys.Stdin
		if a.sys.Stdin == nil {
			in = io.NopCloser(strings.NewReader(""))
		}
		// The SDK's IOTransport over our stdin/stdout is its StdioTransport
		// with three additions: a failed write to stdout stops the server;
		// answers to requests already read still go out after end of input
		// (within the 1 s the spec allows for shutting down); and frames the
		// SDK would end the session on are answered with their JSON-RPC
		// error by GuardFrames instead (which also bounds frame size, so the
		// SDK's own limit is off).
		pending := mcpserver.NewPending()
		out := mcpserver.NewFrameWriter(&frameWriter{w: pending.Writer(a.sys.Stdout), broken: stop})
		guarded := mcpserver.GuardFrames(in, out)
		a.logger().Info("mcp server starting", "root", m.Root(), "version", Version)
		return mcpserver.Serve(ctx, m, opts, &mcp.IOTransport{Reader: pending.Reader(guarded, 900*time.Millisecond), Writer: out, MaxLineLength: -1})
	})
	cmd.Flags().StringVar(&configPath, "config", "", "configuration file")
	return cmd
}

// frameWriter is the server's stdout: JSON-RPC frames only. The first
// failed write (the host closed the pipe) calls broken, ending the session.
type frameWriter struct {
	w      io.Writer
	once   sync.Once
	broken func()
}

func (f *frameWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err != nil {
		f.once.Do(f.broken)
	}
	return n, err
}

// Close leaves stdout open: nothing else is written to it, and the process
// exits right after the session.
func (f *frameWriter) Close() error { return nil }

// mcpOptions: supervisors are reaped while the server lives.
func mcpOptions(a *app, cfg *config.Config) agentexec.Options {
	opts := a.managerOptions(cfg)
	opts.LongLived = true
	return opts
}
