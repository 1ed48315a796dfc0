package agentexec

import (
	"github.com/agentexec/agentexec/internal/proc"
	"github.com/agentexec/agentexec/internal/store"
)

// outcome holds the outcome fields of a state with their presence rules
// applied (SPEC §4.0).
type outcome struct {
	state      State
	exitCode   *int
	finishedAt string
	signal     string
	durationMS *int64
	timedOut   bool
	err        string
	// Added in v1.1 (SPEC §11.4).
	timeoutKind string
	resources   *Resources
	oomKilled   bool
}

func outcomeOf(st *store.State) outcome {
	o := outcome{state: State(st.Job.Status)}
	if !o.state.Terminal() {
		return o
	}
	o.finishedAt = st.FinishedAt
	if o.state == StateExited {
		o.exitCode = st.Result.ExitCode
	}
	if o.state == StateKilled && st.Result.Signal != nil {
		o.signal = proc.NormalizeSignalField(*st.Result.Signal)
	}
	if o.state != StateFailed {
		o.durationMS = st.Result.DurationMS
	}
	o.timedOut = st.Result.TimedOut
	if o.timedOut {
		o.timeoutKind = st.Result.TimeoutKind
	}
	o.resources, o.oomKilled = resourcesOf(st), st.OOMKilled
	if o.state == StateFailed && st.Result.Error != nil {
		o.err = *st.Result.Error
	}
	return o
}
