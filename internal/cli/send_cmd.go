package cli

import (
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/agentexec/agentexec"
)

func init() { extraCommands = append(extraCommands, newSendCmd) }

// sendPart is one input option of send, with the number of positional
// arguments parsed before it: the order TEXT and the options were given
// in is the order they are written in.
type sendPart struct {
	part  agentexec.SendPart
	file  string
	nargs int
}

// partValue is a pflag.Value that records each use of an input option in
// order; kind is "key", "file" or "newline".
type partValue struct {
	kind  string
	parts *[]sendPart
	fs    *pflag.FlagSet
}

func (v partValue) String() string { return "" }
func (v partValue) Type() string {
	if v.kind == "newline" {
		return "bool"
	}
	return "string"
}

func (v partValue) Set(s string) error {
	p := sendPart{nargs: v.fs.NArg()}
	switch v.kind {
	case "key":
		if _, ok := agentexec.SendKeys[s]; !ok {
			return usagef("unknown key %q: use %s", s, strings.Join(agentexec.KeyNames(), ", "))
		}
		p.part.Key = s
	case "file":
		p.file = s
	case "newline":
		if s != "true" {
			return nil
		}
		p.part.Newline = true
	}
	*v.parts = append(*v.parts, p)
	return nil
}

// IsBoolFlag lets --newline stand alone.
func (v partValue) IsBoolFlag() bool { return v.kind == "newline" }

func newSendCmd(a *app) *cobra.Command {
	var parts []sendPart
	var eof bool
	var until time.Duration
	var maxBytes int64
	var render string
	var ready readyFlags
	cmd := &cobra.Command{
		Use:   "send <ID> [TEXT] [--file F] [--newline] [--key K]... [--eof]",
		Short: "Write to the stdin of a running --interactive job",
		Long: "Write TEXT, files, newlines and keys to the stdin of a running job started with --interactive, in the order given, " +
			"then close its stdin with --eof. cursor in the response is where the job's answer starts (tail --cursor). " +
			"With --wait-for-output the call then waits for a matching output line and returns what the job wrote since the cursor.",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 {
				return usagef("%s: missing required argument <ID>", cmd.CommandPath())
			}
			if len(args) > 2 {
				return usagef("%s: unexpected argument %q", cmd.CommandPath(), args[2])
			}
			return nil
		},
	}
	cmd.RunE = wrapRun(func(cmd *cobra.Command, args []string) error {
		if err := ready.check(cmd); err != nil {
			return err
		}
		if len(args) < 2 && len(parts) == 0 && !eof {
			return usagef("send needs TEXT, --file, --newline, --key or --eof")
		}
		if _, err := agentexec.ParseRender(render); err != nil {
			return usagef("%v", err)
		}
		return a.call("send", nil, func(m *agentexec.Manager) (any, error) {
			var in []agentexec.SendPart
			textDone := len(args) < 2
			for _, p := range parts {
				if !textDone && p.nargs >= 2 {
					in, textDone = append(in, agentexec.SendPart{Text: args[1]}), true
				}
				if p.file != "" {
					path := p.file
					if !filepath.IsAbs(path) {
						path = filepath.Join(a.sys.Cwd, path)
					}
					data, err := agentexec.ReadSendFile("--file", path)
					if err != nil {
						return nil, err
					}
					p.part.Text = string(data)
				}
				in = append(in, p.part)
			}
			if !textDone {
				in = append(in, agentexec.SendPart{Text: args[1]})
			}
			return m.Send(cmd.Context(), args[0], agentexec.SendOptions{
				Parts: in, EOF: eof, Until: until, WaitForOutput: ready.condition(cmd), WaitForPort: ready.portCondition(cmd),
				MaxBytes: maxBytes, Render: agentexec.Render(render),
			})
		})
	})
	fs := cmd.Flags()
	fs.Var(partValue{"file", &parts, fs}, "file", "write this file's contents (repeatable)")
	fs.Var(partValue{"newline", &parts, fs}, "newline", "write a newline (\\n) (repeatable)")
	fs.Lookup("newline").NoOptDefVal = "true"
	fs.Var(partValue{"key", &parts, fs}, "key", "write a key: Enter, Tab, Esc, Backspace, Up, Down, Left, Right, Home, End, PageUp, PageDown, C-a…C-z (repeatable)")
	fs.BoolVar(&eof, "eof", false, "close the job's stdin after writing")
	addDuration(fs, &until, "until", agentexec.DefaultSendUntil, "how long to wait for the job to read the input (and for --wait-for-output)")
	addCount(fs, &maxBytes, "max-bytes", 65536, "bytes per stream in the snapshot of --wait-for-output")
	addRender(fs, &render)
	ready.register(fs, "wait-for-output")
	return cmd
}
