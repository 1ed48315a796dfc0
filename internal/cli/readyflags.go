package cli

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/agentexec/agentexec"
)

// readyFlags are the readiness-by-output flags (SPEC §11.2): wait
// --for-output and run/start/restart --wait-for-output, each with
// --match-type and --stream.
type readyFlags struct {
	flag      string // "for-output" or "wait-for-output"
	pattern   string
	matchType string
	stream    string
}

func (r *readyFlags) register(fs *pflag.FlagSet, flag string) {
	r.flag = flag
	fs.StringVar(&r.pattern, flag, "", "return as soon as an output line matches this pattern (a line ends at a newline, or at the end of a finished job's output)")
	r.matchType = "contains"
	fs.Var(enumValue{&r.matchType, []string{"contains", "regex"}}, "match-type", "contains|regex (RE2) for --"+flag)
	r.stream = "either"
	if flag != "match" { // follow filters lines of both streams
		fs.Var(enumValue{&r.stream, []string{"stdout", "stderr", "either"}}, "stream", "stdout|stderr|either: the output --"+flag+" searches")
	}
}

// given reports whether the readiness wait was asked for.
func (r *readyFlags) given(cmd *cobra.Command) bool { return cmd.Flags().Changed(r.flag) }

// check rejects --match-type and --stream without the pattern they refine.
func (r *readyFlags) check(cmd *cobra.Command) error {
	if r.given(cmd) {
		return nil
	}
	for _, f := range []string{"match-type", "stream"} {
		if fl := cmd.Flags().Lookup(f); fl != nil && fl.Changed {
			return usagef("--%s requires --%s", f, r.flag)
		}
	}
	return nil
}

// condition is the output condition asked for, or nil.
func (r *readyFlags) condition(cmd *cobra.Command) *agentexec.OutputCondition {
	if !r.given(cmd) {
		return nil
	}
	return &agentexec.OutputCondition{Pattern: r.pattern, MatchType: r.matchType, Stream: r.stream}
}
