package cli

import (
	"github.com/spf13/cobra"

	"github.com/agentexec/agentexec"
)

func init() { extraCommands = append(extraCommands, newScreenCmd) }

func newScreenCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "screen <ID>",
		Short: "Show the current terminal screen of a --pty job",
		Long: "Render the terminal of a job started with --pty as it looks now: lines (one per row, right-trimmed), " +
			"cursor {row,col}, cols, rows and the title if the program set one.",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("%s: want exactly one <ID>", cmd.CommandPath())
			}
			return nil
		},
	}
	cmd.RunE = wrapRun(func(cmd *cobra.Command, args []string) error {
		return a.call("screen", nil, func(m *agentexec.Manager) (any, error) {
			return m.Screen(cmd.Context(), args[0])
		})
	})
	return cmd
}
