package cli

import (
	"bytes"
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/agentexec/agentexec"
)

func init() { extraCommands = append(extraCommands, newCompletionsCmd) }

var completionShells = []string{"bash", "zsh", "fish", "powershell"}

func newCompletionsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:       "completions <bash|zsh|fish|powershell>",
		Short:     "Print a shell completion script",
		Args:      exactArgs(1, "<SHELL>"),
		ValidArgs: completionShells,
		Long: `Print a shell completion script to stdout. Job ids are completed
dynamically from the jobs of the current directory. For example:

  bash:        source <(agent-exec completions bash)
  zsh:         agent-exec completions zsh > "${fpath[1]}/_agent-exec"
  fish:        agent-exec completions fish > ~/.config/fish/completions/agent-exec.fish
  powershell:  agent-exec completions powershell | Out-String | Invoke-Expression`,
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		root := cmd.Root()
		var buf bytes.Buffer
		var err error
		switch args[0] {
		case "bash":
			// Without descriptions: with them, bash shows "id (desc)"
			// entries in COMPREPLY whenever several ids match.
			err = root.GenBashCompletionV2(&buf, false)
			buf = *bytes.NewBuffer(bashWithoutPackage(buf.Bytes()))
		case "zsh":
			err = root.GenZshCompletion(&buf)
		case "fish":
			err = root.GenFishCompletion(&buf, true)
		case "powershell":
			err = root.GenPowerShellCompletionWithDesc(&buf)
		default:
			return usagef("completions: unsupported shell %q (use bash, zsh, fish or powershell)", args[0])
		}
		if err != nil {
			return agentexec.AsError(err)
		}
		if _, err := a.sys.Stdout.Write(buf.Bytes()); err != nil {
			return errWriteStdout
		}
		return nil
	}
	return cmd
}

// bashWordsCall is the line of cobra's bash script that needs the
// bash-completion package.
const bashWordsCall = "    _get_comp_words_by_ref \"$@\" cur prev words cword\n"

// bashWordsFallback keeps the script working in a bare bash without the
// bash-completion package (common in containers and CI images): words are
// then taken from COMP_WORDS as bash split them.
const bashWordsFallback = `    if declare -F _get_comp_words_by_ref >/dev/null 2>&1; then
        _get_comp_words_by_ref "$@" cur prev words cword
    else
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD-1]}
    fi
`

func bashWithoutPackage(script []byte) []byte {
	return bytes.Replace(script, []byte(bashWordsCall), []byte(bashWordsFallback), 1)
}

// idCompletionStates says which job states each command's <ID> completion
// offers (SPEC §4.15); commands not listed offer every job.
var idCompletionStates = map[string][]agentexec.State{
	"start":  {agentexec.StateCreated},
	"kill":   {agentexec.StateRunning},
	"send":   {agentexec.StateRunning},
	"delete": {agentexec.StateExited, agentexec.StateKilled, agentexec.StateFailed},
	"wait":   {agentexec.StateCreated, agentexec.StateRunning},
}

// idCommands are the commands whose first positional argument is a job id.
var idCommands = []string{"start", "restart", "status", "tail", "wait", "kill", "send", "screen", "delete", "tag set", "notify set"}

var descendantsModes = []string{agentexec.DescendantsLeave, agentexec.DescendantsKill, agentexec.DescendantsWait}

var signalNames = []string{"TERM", "INT", "KILL", "HUP", "QUIT", "USR1", "USR2"}

// flagValues are the fixed values completed for flags of that name on any
// command.
var flagValues = map[string][]string{"signal": signalNames, "descendants": descendantsModes, "render": renderModes,
	"match-type": {"contains", "regex"}, "stream": {"stdout", "stderr", "either"}, "key": agentexec.KeyNames()}

// attachCompletions walks the finished command tree and installs dynamic
// job-id completion on every command that takes an <ID>, and the
// flagValues completions. It runs after construction so that commands
// defined in other files need no completion code of their own.
func attachCompletions(root *cobra.Command, a *app) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		path := strings.TrimSpace(strings.TrimPrefix(c.CommandPath(), root.Name()))
		for _, name := range idCommands {
			if path == name && c.ValidArgsFunction == nil {
				c.ValidArgsFunction = jobIDCompletion(a, idCompletionStates[name]...)
			}
		}
		for flag, values := range flagValues {
			if c.Flags().Lookup(flag) == nil {
				continue
			}
			if _, ok := c.GetFlagCompletionFunc(flag); !ok {
				c.RegisterFlagCompletionFunc(flag, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// jobIDCompletion completes the first positional argument with the ids of
// the current directory's jobs (meta.cwd equal to the canonical cwd) whose
// reported state is one of states (any state when none is given), and with
// "@NAME" for those that have a name. Each candidate carries "<state>
// <command>" as its description.
func jobIDCompletion(a *app, states ...agentexec.State) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 && cmd.Name() != "wait" { // wait takes several ids
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		m, err := a.manager(nil)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		defer m.Close()
		ctx := cmd.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		res, err := m.List(ctx, agentexec.ListOptions{})
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		newest := map[string]agentexec.JobSummary{}
		var names []string
		for _, j := range res.Jobs {
			// @NAME refers to the newest job of that name (SPEC §11.6); ids
			// sort by creation time.
			if j.Name != "" {
				if cur, ok := newest[j.Name]; !ok || j.JobID > cur.JobID {
					if !ok {
						names = append(names, j.Name)
					}
					newest[j.Name] = j
				}
			}
			if strings.HasPrefix(j.JobID, toComplete) && offered(cmd, states, j) {
				out = append(out, cobra.CompletionWithDesc(j.JobID, completionDesc(j)))
			}
		}
		for _, n := range names {
			j := newest[n]
			if ref := agentexec.NamePrefix + n; strings.HasPrefix(ref, toComplete) && offered(cmd, states, j) {
				out = append(out, cobra.CompletionWithDesc(ref, completionDesc(j)))
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// offered reports whether job j is a candidate for cmd's <ID>: its state is
// one of states (any when none), except that a finished job whose tree
// still lives can be killed but not deleted (SPEC §11.4).
func offered(cmd *cobra.Command, states []agentexec.State, j agentexec.JobSummary) bool {
	ok := len(states) == 0 || hasState(states, j.State)
	switch cmd.Name() {
	case "kill":
		ok = ok || j.DescendantsAlive > 0
	case "delete":
		ok = ok && j.DescendantsAlive == 0
	}
	return ok
}

// completionDesc renders "<state> <command>" on one short line: a tab or
// newline would break the completion protocol.
func completionDesc(j agentexec.JobSummary) string {
	desc := strings.Join(strings.Fields(string(j.State)+" "+strings.Join(j.Command, " ")), " ")
	if r := []rune(desc); len(r) > 60 {
		desc = string(r[:57]) + "..."
	}
	return desc
}

func hasState(states []agentexec.State, s agentexec.State) bool {
	for _, x := range states {
		if x == s {
			return true
		}
	}
	return false
}
