package cli

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/agentexec/agentexec"
)

// readyFlags are the readiness flags (SPEC §11.2): wait --for-output and
// run/start/restart --wait-for-output, each with --match-type and
// --stream, or (exclusive with them) wait --for-port and
// run/start/restart --wait-for-port.
type readyFlags struct {
	flag      string // "for-output" or "wait-for-output"
	portFlag  string // "for-port" or "wait-for-port"
	pattern   string
	matchType string
	stream    string
	port      int64
}

func (r *readyFlags) register(fs *pflag.FlagSet, flag string) {
	r.flag = flag
	// The waits (for-output, wait-for-output) also take a port; follow's
	// --match filters lines and has none.
	if strings.HasSuffix(flag, "-output") {
		r.portFlag = strings.TrimSuffix(flag, "output") + "port"
		fs.Int64Var(&r.port, r.portFlag, 0, "return as soon as a process of the job's tree listens on this TCP port (IPv4 or IPv6, any address)")
	}
	fs.StringVar(&r.pattern, flag, "", "return as soon as an output line matches this pattern (a line ends at a newline, or at the end of a finished job's output)")
	r.matchType = "contains"
	fs.Var(enumValue{&r.matchType, []string{"contains", "regex"}}, "match-type", "contains|regex (RE2) for --"+flag)
	r.stream = "either"
	if flag != "match" { // follow filters lines of both streams
		fs.Var(enumValue{&r.stream, []string{"stdout", "stderr", "either"}}, "stream", "stdout|stderr|either: the output --"+flag+" searches")
	}
}

// given reports whether a readiness wait (output or port) was asked for.
func (r *readyFlags) given(cmd *cobra.Command) bool {
	return cmd.Flags().Changed(r.flag) || r.portFlag != "" && cmd.Flags().Changed(r.portFlag)
}

// check rejects both conditions at once, a port out of range, and
// --match-type and --stream without the pattern they refine.
func (r *readyFlags) check(cmd *cobra.Command) error {
	fs := cmd.Flags()
	if r.portFlag != "" && fs.Changed(r.portFlag) {
		if fs.Changed(r.flag) {
			return usagef("--%s and --%s are mutually exclusive", r.flag, r.portFlag)
		}
		if r.port < 1 || r.port > 65535 {
			return usagef("invalid --%s %d: use a TCP port 1-65535", r.portFlag, r.port)
		}
	}
	if fs.Changed(r.flag) {
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
	if !cmd.Flags().Changed(r.flag) {
		return nil
	}
	return &agentexec.OutputCondition{Pattern: r.pattern, MatchType: r.matchType, Stream: r.stream}
}

// portCondition is the port asked for, or 0.
func (r *readyFlags) portCondition(cmd *cobra.Command) int {
	if r.portFlag == "" || !cmd.Flags().Changed(r.portFlag) {
		return 0
	}
	return int(r.port)
}
