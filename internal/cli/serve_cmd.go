package cli

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/agentexec/agentexec"
	"github.com/agentexec/agentexec/internal/config"
	"github.com/agentexec/agentexec/internal/httpapi"
)

func init() { extraCommands = append(extraCommands, newServeCmd) }

// serveTokenEnv names the bearer token variable; it is stripped from the
// environment jobs inherit so a job cannot call back into the server.
const serveTokenEnv = "AGENT_EXEC_SERVE_TOKEN"

// serveOptions are the flags of serve.
type serveOptions struct {
	bind         string
	port         int64
	insecure     bool
	allowOrigins []string
	allowHosts   []string
	configPath   string
}

func newServeCmd(a *app) *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve [--bind HOST:PORT | --port N] [--insecure] [--allow-origin ORIGIN]... [--allow-host HOST]... [--config PATH]",
		Short: "Serve the HTTP API (blocks until SIGINT/SIGTERM)",
		Args:  exactArgs(0, ""),
	}
	cmd.RunE = wrapRun(func(cmd *cobra.Command, args []string) error {
		fs := cmd.Flags()
		if fs.Changed("bind") && fs.Changed("port") {
			return usagef("--bind and --port are mutually exclusive")
		}
		return a.serveRun(cmd, &o, fs.Changed("bind"), fs.Changed("port"))
	})
	fs := cmd.Flags()
	fs.StringVar(&o.bind, "bind", httpapi.DefaultBind.String(), "listen address, IPv4:PORT or [IPv6]:PORT")
	fs.Var(countValue{n: &o.port, max: 65535}, "port", "listen on 127.0.0.1:N (0 = any free port)")
	fs.BoolVar(&o.insecure, "insecure", false, "allow a non-loopback --bind (also needs AGENT_EXEC_SERVE_TOKEN)")
	fs.StringArrayVar(&o.allowOrigins, "allow-origin", nil, "origin allowed to call the API with CORS, http(s)://host[:port] (repeatable)")
	fs.StringArrayVar(&o.allowHosts, "allow-host", nil, "extra Host header name to accept (repeatable)")
	fs.StringVar(&o.configPath, "config", "", "configuration file")
	return cmd
}

// serveRun validates the startup options, listens and serves until a
// signal arrives. Every startup failure is a contract error (exit 1).
func (a *app) serveRun(cmd *cobra.Command, o *serveOptions, bindSet, portSet bool) error {
	addr := httpapi.DefaultBind
	switch {
	case bindSet:
		var err error
		if addr, err = httpapi.ParseBind(o.bind); err != nil {
			return err
		}
	case portSet:
		addr = netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(o.port))
	}
	token := a.sys.Getenv(serveTokenEnv)
	if err := httpapi.CheckBind(addr, o.insecure, token); err != nil {
		return err
	}
	for _, v := range o.allowOrigins {
		if _, err := httpapi.ValidateOrigin(v); err != nil {
			return err
		}
	}
	cfg, err := a.loadConfig(o.configPath)
	if err != nil {
		return err
	}
	m, err := agentexec.Open(a.rootPath(), jobOptions(a, &cfg))
	if err != nil {
		return err
	}
	defer m.Close()
	// The same bounds as the CLI's automatic GC (autogc_cmd.go); the
	// server runs it in the background, at most one at a time.
	gc := autoGCOptions(cfg)
	srv, err := httpapi.New(m, httpapi.Options{
		Bind: addr, AllowOrigins: o.allowOrigins, AllowHosts: o.allowHosts,
		Token: token, AutoGC: gc, Logger: a.logger(),
	})
	if err != nil {
		return err
	}
	// Install the handlers before listening, so a signal sent as soon as
	// the listening line appears always ends in an orderly shutdown.
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Listen on exactly the family asked for: "tcp" on 0.0.0.0 would also
	// accept IPv6 connections.
	network := "tcp6"
	if addr.Addr().Unmap().Is4() {
		network = "tcp4"
	}
	ln, err := net.Listen(network, addr.String())
	if err != nil {
		return &agentexec.Error{Code: agentexec.CodeInternal, Message: fmt.Sprintf("listen on %s: %v", addr, err), Err: err}
	}
	fmt.Fprintf(a.sys.Stderr, "agent-exec serve listening on http://%s\n", ln.Addr())
	return srv.Serve(ctx, ln)
}

// withoutVar returns env without entries for name.
func withoutVar(env []string, name string) []string {
	out := make([]string, 0, len(env))
	for _, e := range env {
		if k, _, _ := strings.Cut(e, "="); k != name {
			out = append(out, e)
		}
	}
	return out
}

// jobOptions: jobs and sinks started by the server never see its token.
func jobOptions(a *app, cfg *config.Config) agentexec.Options {
	opts := a.managerOptions(cfg)
	opts.Env = withoutVar(opts.Env, serveTokenEnv)
	opts.LongLived = true
	return opts
}
