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
		if err := d.check(cmd); err != nil {
			return err
		}
		if err := o.check(cmd); err != nil {
			return err
		}
		cfg, err := a.loadConfig(d.configPath)
		if err != nil {
			return err
		}
		spec, err := d.spec(cmd, args, cfg)
		if err != nil {
			return err
		}
		if spec.Notification != nil && spec.Notification.OnOutputMatch != nil {
			if err := agentexec.ValidateOutputMatch(spec.Notification.OnOutputMatch); err != nil {
				return err
			}
		}
		for _, e := range spec.Env {
			if err := agentexec.ValidateEnvEntry(e); err != nil {
				return &agentexec.Error{Code: agentexec.CodeInvalidArgument, Message: err.Error()}
			}
		}
		if !cmd.Flags().Changed("stdin-max-bytes") {
			d.stdinMaxBytes = cfg.StdinMaxBytes
		}
		spec.StdinMaxBytes = agentexec.StdinLimit(d.stdinMaxBytes)
		spec.Stdin, spec.HasStdin, err = a.readInput(&d, cmd.Flags().Changed("stdin"), true)
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
		res, err := m.Run(cmd.Context(), agentexec.RunRequest{Spec: spec, Observe: o.options(cmd, false), LogPath: logPath})
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
		if err := d.check(cmd); err != nil {
			return err
		}
		cfg, err := a.loadConfig(d.configPath)
		if err != nil {
			return err
		}
		spec, err := d.spec(cmd, args, cfg)
		if err != nil {
			return err
		}
		if !cmd.Flags().Changed("stdin-max-bytes") {
			d.stdinMaxBytes = cfg.StdinMaxBytes
		}
		spec.StdinMaxBytes = agentexec.StdinLimit(d.stdinMaxBytes)
		spec.Stdin, spec.HasStdin, err = a.readInput(&d, cmd.Flags().Changed("stdin"), false)
		if err != nil {
			return err
		}
		m, err := a.manager(&cfg)
		if err != nil {
			return err
		}
		defer m.Close()
		res, err := m.Create(cmd.Context(), spec)
		if err != nil {
			return err
		}
		return a.respond("create", res)
	})
	fs := cmd.Flags()
	fs.SetInterspersed(false)
	d.register(fs, false)
	return cmd
}

func newStartCmd(a *app) *cobra.Command {
	var o obsFlags
	var configPath string
	cmd := &cobra.Command{
		Use:   "start [OPTIONS] <ID>",
		Short: "Launch a created job",
		Args:  exactArgs(1, "<ID>"),
	}
	cmd.RunE = wrapRun(func(cmd *cobra.Command, args []string) error {
		if err := o.check(cmd); err != nil {
			return err
		}
		cfg, err := a.loadConfig(configPath)
		if err != nil {
			return err
		}
		m, err := a.manager(&cfg)
		if err != nil {
			return err
		}
		defer m.Close()
		res, err := m.Start(cmd.Context(), args[0], o.options(cmd, true))
		if err != nil {
			return err
		}
		a.scheduleAutoGC(cfg, o.noAutoGC, res.JobID)
		return a.respond("start", res)
	})
	o.register(cmd.Flags(), 0)
	cmd.Flags().StringVar(&configPath, "config", "", "configuration file")
	return cmd
}
