package cli

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/agentexec/agentexec/internal/fieldsdoc"
)

// Reference renders the command-line reference (docs/cli.md) from the same
// cobra tree the binary runs: every visible command with its usage line,
// aliases and flags, then the global flags. `go generate ./internal/cli`
// rewrites docs/cli.md, and a test fails while the file is stale, so the
// reference cannot drift from the flags.
func Reference() []byte {
	root := newRootCmd(&app{sys: System{Getenv: func(string) string { return "" }, Environ: func() []string { return nil }}})
	var b bytes.Buffer
	b.WriteString("# Command-line reference\n\n")
	b.WriteString("<!-- Generated from the command definitions by `go generate ./internal/cli`. Do not edit: a test fails when this file is stale. -->\n\n")
	b.WriteString("Every command prints exactly one JSON object on stdout (YAML with `--yaml`) and exits 0 on success, 1 with an error envelope, 2 on a usage error (nothing on stdout). `agent-exec <command> --help` prints the same information. Durations are milliseconds when bare (`500`) or take a unit (`500ms`, `5s`, `2m`, `1h`, `1d`); counts are non-negative decimal integers.\n\n")
	var cmds []*cobra.Command
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" {
				continue
			}
			if sub.Runnable() && !sub.HasSubCommands() {
				cmds = append(cmds, sub)
			}
			walk(sub)
		}
	}
	walk(root)
	b.WriteString("## Commands\n\n| Command | Purpose |\n|---|---|\n")
	for _, c := range cmds {
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s |\n", commandName(c), refAnchor(c), mdCell(c.Short))
	}
	b.WriteString("\n")
	for _, c := range cmds {
		fmt.Fprintf(&b, "<a id=\"%s\"></a>\n## `%s`\n\n%s.\n\n", refAnchor(c), commandName(c), strings.TrimSuffix(mdCell(c.Short), "."))
		fmt.Fprintf(&b, "```\n%s\n```\n\n", strings.TrimSuffix(c.UseLine(), " [flags]"))
		if len(c.Aliases) > 0 {
			fmt.Fprintf(&b, "Alias: `%s`.\n\n", strings.Join(c.Aliases, "`, `"))
		}
		flagTable(&b, c.LocalNonPersistentFlags())
	}
	b.WriteString("## Global flags\n\nAccepted before the command or among its options.\n\n")
	flagTable(&b, root.PersistentFlags())
	return bytes.TrimRight(b.Bytes(), "\n")
}

func commandName(c *cobra.Command) string {
	return strings.TrimPrefix(c.CommandPath(), c.Root().Name()+" ")
}

func refAnchor(c *cobra.Command) string {
	return "cmd-" + strings.ReplaceAll(commandName(c), " ", "-")
}

func flagTable(b *bytes.Buffer, fs *pflag.FlagSet) {
	var rows []string
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden || f.Name == "help" {
			return
		}
		name := "`--" + f.Name + "`"
		if f.Shorthand != "" {
			name = "`-" + f.Shorthand + "`, " + name
		}
		varname, usage := pflag.UnquoteUsage(f)
		def := ""
		switch f.DefValue {
		case "", "[]", "false", "0":
		default:
			def = "`" + f.DefValue + "`"
		}
		rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s |", name, varname, def, mdCell(usage)))
	})
	if len(rows) == 0 {
		b.WriteString("No options.\n\n")
		return
	}
	b.WriteString("| Flag | Value | Default | Meaning |\n|---|---|---|---|\n")
	b.WriteString(strings.Join(rows, "\n") + "\n\n")
}

// mdCell makes s fit a Markdown table cell (and the documentation, which
// never cites the specification).
func mdCell(s string) string {
	return strings.ReplaceAll(fieldsdoc.Clean(s), "|", `\|`)
}
