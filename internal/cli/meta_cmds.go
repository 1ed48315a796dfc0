package cli

import (
	"github.com/spf13/cobra"

	"github.com/agentexec/agentexec"
)

func init() { extraCommands = append(extraCommands, newTagCmd, newNotifyCmd) }

// parentCmd is a command that only groups subcommands: without one, or with
// an unknown one, it is a usage error (cobra would print help and exit 0).
func parentCmd(use, short string) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("%s: unknown command %q", cmd.CommandPath(), args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return usagef("%s: missing subcommand", cmd.CommandPath())
		},
	}
}

// newTagCmd is tag set <ID> [--tag TAG]... (SPEC §4.10).
func newTagCmd(a *app) *cobra.Command {
	parent := parentCmd("tag", "Edit a job's tags")
	var tags []string
	set := &cobra.Command{
		Use:   "set <ID> [--tag TAG]...",
		Short: "Replace a job's tags (no --tag clears them)",
		Args:  exactArgs(1, "<ID>"),
	}
	set.RunE = wrapRun(func(cmd *cobra.Command, args []string) error {
		for _, t := range tags {
			if err := agentexec.ValidateTag(t); err != nil {
				return usagef("invalid tag %q: %v", t, err)
			}
		}
		m, err := a.manager(nil)
		if err != nil {
			return err
		}
		defer m.Close()
		res, err := m.TagSet(cmd.Context(), args[0], tags)
		if err != nil {
			return err
		}
		return a.respond("tag_set", res)
	})
	set.Flags().StringArrayVar(&tags, "tag", nil, "tag (repeatable)")
	parent.AddCommand(set)
	return parent
}

// newNotifyCmd is notify set <ID> [OPTIONS] (SPEC §4.11).
func newNotifyCmd(a *app) *cobra.Command {
	parent := parentCmd("notify", "Edit a job's notification configuration")
	var command, pattern, matchType, stream, outCommand, outFile string
	set := &cobra.Command{
		Use:   "set <ID> [OPTIONS]",
		Short: "Edit a job's notification configuration (metadata only; never runs a sink)",
		Args:  exactArgs(1, "<ID>"),
	}
	set.RunE = wrapRun(func(cmd *cobra.Command, args []string) error {
		fs := cmd.Flags()
		var u agentexec.NotifyUpdate
		opt := func(name string, v *string) *string {
			if fs.Changed(name) {
				return v
			}
			return nil
		}
		u.Command = opt("command", &command)
		u.OutputPattern = opt("output-pattern", &pattern)
		u.OutputMatchType = opt("output-match-type", &matchType)
		u.OutputStream = opt("output-stream", &stream)
		u.OutputCommand = opt("output-command", &outCommand)
		u.OutputFile = opt("output-file", &outFile)
		m, err := a.manager(nil)
		if err != nil {
			return err
		}
		defer m.Close()
		res, err := m.NotifySet(cmd.Context(), args[0], u)
		if err != nil {
			return err
		}
		return a.respond("notify.set", res)
	})
	fs := set.Flags()
	fs.StringVar(&command, "command", "", `completion command sink (shell string); "" removes it`)
	fs.StringVar(&pattern, "output-pattern", "", `output-match pattern; "" removes output matching`)
	matchType = "contains"
	fs.Var(enumValue{&matchType, []string{"contains", "regex"}}, "output-match-type", "contains|regex")
	stream = "either"
	fs.Var(enumValue{&stream, []string{"stdout", "stderr", "either"}}, "output-stream", "stdout|stderr|either")
	fs.StringVar(&outCommand, "output-command", "", "output-match command sink (shell string)")
	fs.StringVar(&outFile, "output-file", "", "output-match file sink (NDJSON)")
	parent.AddCommand(set)
	return parent
}
