// Command forgetful is examples/embed with the mistake SPEC §0.6 guards
// against: main does not call agentexec.SuperviseMain. The tests run it to
// show that a launch then fails fast with launch_failed and that the program
// never starts copies of itself. Do not copy it.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/agentexec/agentexec"
)

func main() {
	// The mistake under test: no agentexec.SuperviseMain() here.

	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: embed COMMAND [ARG...]")
		os.Exit(2)
	}
	os.Exit(run(os.Args[1:]))
}

func run(command []string) int {
	home, _ := os.UserHomeDir()
	cwd, err := os.Getwd()
	if err != nil {
		return fail(agentexec.AsError(err))
	}
	m, err := agentexec.Open(agentexec.ResolveRoot("", os.Getenv, home, cwd), agentexec.Options{})
	if err != nil {
		return fail(agentexec.AsError(err))
	}
	defer m.Close()
	res, err := m.Run(context.Background(), agentexec.RunRequest{
		Spec:    agentexec.JobSpec{Command: command},
		Observe: agentexec.ObserveOptions{Wait: true, Until: time.Minute, Poll: 100 * time.Millisecond, TailLines: 20, MaxBytes: 4096},
	})
	if err != nil {
		return fail(agentexec.AsError(err))
	}
	out, err := agentexec.Envelope("run", res)
	if err != nil {
		return fail(agentexec.AsError(err))
	}
	fmt.Println(string(out))
	if res.State != agentexec.StateExited || res.ExitCode == nil || *res.ExitCode != 0 {
		return 1
	}
	return 0
}

func fail(e *agentexec.Error) int {
	fmt.Println(string(agentexec.ErrorEnvelope(e)))
	return 1
}
