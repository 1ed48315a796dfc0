package cli

import (
	"github.com/spf13/cobra"

	"github.com/agentexec/agentexec"
)

func init() { extraCommands = append(extraCommands, newRestartCmd) }

// newRestartCmd is restart [OPTIONS] <ID> (SPEC §4.4): start's flags plus
// --signal.
func newRestartCmd(a *app) *cobra.Command {
	var o obsFlags
	var configPath, sig string
	cmd := &cobra.Command{
		Use:   "restart [OPTIONS] <ID>",
		Short: "Relaunch a job under the same id with the same definition (logs cleared)",
		Args:  exactArgs(1, "<ID>"),
	}
	cmd.RunE = wrapRun(func(cmd *cobra.Command, args []string) error {
		if err := o.check(cmd); err != nil {
			return err
		}
		// The signal is validated before the configuration and the job.
		if _, _, err := agentexec.ParseSignal(sig); err != nil {
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
		res, err := m.Restart(cmd.Context(), args[0], agentexec.RestartOptions{Signal: sig, Observe: o.options(cmd, true)})
		if err != nil {
			return err
		}
		a.scheduleAutoGC(cfg, o.noAutoGC, res.JobID)
		return a.respond("restart", res)
	})
	o.register(cmd.Flags(), 0)
	cmd.Flags().StringVar(&sig, "signal", "TERM", "signal that stops a running job first: TERM, INT, KILL, HUP, QUIT, USR1 or USR2")
	cmd.Flags().StringVar(&configPath, "config", "", "configuration file")
	return cmd
}
