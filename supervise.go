package agentexec

import (
	"encoding/json"
	"os"
	"sync"

	"github.com/agentexec/agentexec/internal/proc"
	"github.com/agentexec/agentexec/internal/store"
	"github.com/agentexec/agentexec/internal/supervisor"
)

// SuperviseMain is the supervisor entry point for programs that embed this
// package. Launching a job re-executes the current program as
// "<program> _supervise --root R --job-id ID" (unless Options.SupervisorExe
// names an agent-exec executable), so such a program must call SuperviseMain
// first thing in main:
//
//	func main() {
//		agentexec.SuperviseMain()
//		// … the program as usual …
//	}
//
// It returns at once unless the process was started as a supervisor; then
// it runs the supervisor and exits the process. Either way it first sets up
// the Go runtime's I/O poller while descriptors are free, so that running
// out of them later is an error to report, not a runtime crash.
//
// A program that forgets it cannot multiply itself: in a process started as
// a supervisor, [Open] refuses with launch_failed, so the launch fails fast
// and no job is ever created or launched from there.
func SuperviseMain() {
	proc.InitPoller()
	if startedAsSupervisor() {
		os.Exit(supervisor.Main(os.Args[2:], os.Stdin, os.Stdout))
	}
}

// startedAsSupervisor reports whether this process was started by a
// launcher as a supervisor. The launcher's argv always begins with
// SuperviseArg (SPEC §3.1). Deliberately no environment marker: it would be
// inherited by the job, whose own command may legitimately run agent-exec.
func startedAsSupervisor() bool { return len(os.Args) > 1 && os.Args[1] == SuperviseArg }

var refusalOnce sync.Once

// refuseInSupervisor returns the launch_failed error of a process that was
// started as a supervisor but did not dispatch to SuperviseMain, or nil in
// any other process. The first refusal also answers the waiting launcher
// (our stdout is its acknowledgement pipe) with a refusing negative
// acknowledgement, so it fails at once and kills this process instead of
// waiting 5 s for an acknowledgement that never comes.
func refuseInSupervisor() error {
	if !startedAsSupervisor() {
		return nil
	}
	exe, _ := os.Executable()
	msg := "launch_failed: " + exe + " was started as a supervisor but main did not call agentexec.SuperviseMain first " +
		"(or set Options.SupervisorExe to an agent-exec executable); it refuses to create or launch jobs"
	refusalOnce.Do(func() {
		b, _ := json.Marshal(store.LaunchAck{Error: msg, Refused: true})
		os.Stdout.Write(append(b, '\n'))
	})
	e := &Error{Code: CodeLaunchFailed, Message: msg}
	for i := 2; i+1 < len(os.Args); i += 2 {
		if os.Args[i] == "--job-id" && store.ValidID(os.Args[i+1]) {
			e.Details = &LaunchFailedDetails{JobID: os.Args[i+1], State: StateFailed}
		}
	}
	return e
}
