// Command embed shows how a Go program embeds agent-exec: it runs the
// command given as arguments as a durable job, waits for it and prints the
// result as one JSON object.
//
//	go run ./examples/embed echo hello
//
// Jobs go to the usual root (AGENT_EXEC_ROOT, else the per-user default), so
// the agent-exec CLI sees them too. The exit status is 0 when the job exited
// 0, else 1.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/agentexec/agentexec"
)

func main() {
	// First thing in main: launching a job re-executes this program as its
	// supervisor, and this call is where that copy becomes the supervisor
	// (it does not return there). In any other process it returns at once.
	// The alternative is Options.SupervisorExe naming an agent-exec binary.
	agentexec.SuperviseMain()

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
