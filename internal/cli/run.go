package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/agentexec/agentexec"
)

func newRunCmd(a *app) *cobra.Command {
	var d defFlags
	var o obsFlags
	var logPath string
	cmd := &cobra.Command{
		Use:   "run [OPTIONS] [--] COMMAND...",
		Short: "Create a job and launch it now",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("run: missing COMMAND")
			}
			return nil
		},
	}
	cmd.RunE = wrapRun(func(cmd *cobra.Command, args []string) error {
		began := time.Now()
		if err := o.check(cmd); err != nil {
			return err
		}
		spec, cfg, err := d.prepare(a, cmd, args, true)
		if err != nil {
			return err
		}
		m, err := a.manager(&cfg)
		if err != nil {
			return err
		}
		defer m.Close()
		if logPath != "" {
			logPath = absPath(a.sys.Cwd, logPath)
		}
		res, err := m.Run(cmd.Context(), agentexec.RunRequest{Spec: spec, Observe: o.options(cmd, false), LogPath: logPath, Began: began, Ensure: d.ensure})
		if err != nil {
			return err
		}
		a.scheduleAutoGC(cfg, o.noAutoGC, res.JobID)
		return a.respond("run", res)
	})
	fs := cmd.Flags()
	fs.SetInterspersed(false)
	d.register(fs, true)
	o.register(fs, 30*time.Second)
	fs.StringVar(&logPath, "log", "", "write the merged log here instead of <job>/full.log")
	return cmd
}

func newCreateCmd(a *app) *cobra.Command {
	var d defFlags
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] [--] COMMAND...",
		Short: "Persist a job definition without launching it (state created)",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("create: missing COMMAND")
			}
			return nil
		},
	}
	cmd.RunE = wrapRun(func(cmd *cobra.Command, args []string) error {
		spec, cfg, err := d.prepare(a, cmd, args, false)
		if err != nil {
			return err
		}
		return a.call("create", &cfg, func(m *agentexec.Manager) (any, error) {
			if d.ensure {
				return m.Ensure(cmd.Context(), spec)
			}
			return m.Create(cmd.Context(), spec)
		})
	})
	fs := cmd.Flags()
	fs.SetInterspersed(false)
	d.register(fs, false)
	return cmd
}

// newRelaunchCmd is start <ID> (SPEC §4.3) or, with restart, restart <ID>
// (§4.4), which adds --signal: both launch a persisted definition and
// observe it.
func newRelaunchCmd(a *app, restart bool) *cobra.Command {
	var o obsFlags
	var configPath, sig string
	cmd := &cobra.Command{
		Use:   "start [OPTIONS] <ID>",
		Short: "Launch a created job",
		Args:  exactArgs(1, "<ID>"),
	}
	typ := "start"
	if restart {
		typ = "restart"
		cmd.Use, cmd.Short = "restart [OPTIONS] <ID>", "Relaunch a job under the same id with the same definition (logs cleared)"
	}
	cmd.RunE = wrapRun(func(cmd *cobra.Command, args []string) error {
		if err := o.check(cmd); err != nil {
			return err
		}
		if restart { // the signal is validated before the configuration and the job
			if _, _, err := agentexec.ParseSignal(sig); err != nil {
				return err
			}
		}
		cfg, err := a.loadConfig(configPath)
		if err != nil {
			return err
		}
		return a.call(typ, &cfg, func(m *agentexec.Manager) (any, error) {
			var res *agentexec.LaunchResult
			var err error
			if restart {
				res, err = m.Restart(cmd.Context(), args[0], agentexec.RestartOptions{Signal: sig, Observe: o.options(cmd, true)})
			} else {
				res, err = m.Start(cmd.Context(), args[0], o.options(cmd, true))
			}
			if err == nil {
				a.scheduleAutoGC(cfg, o.noAutoGC, res.JobID)
			}
			return res, err
		})
	})
	o.register(cmd.Flags(), 0)
	cmd.Flags().StringVar(&configPath, "config", "", "configuration file")
	if restart {
		cmd.Flags().StringVar(&sig, "signal", "TERM", "signal that stops a running job first: TERM, INT, KILL, HUP, QUIT, USR1 or USR2")
	}
	return cmd
}
