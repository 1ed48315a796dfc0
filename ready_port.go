package agentexec

import (
	"os"
	"time"

	"github.com/agentexec/agentexec/internal/logread"
	"github.com/agentexec/agentexec/internal/proc"
	"github.com/agentexec/agentexec/internal/store"
)

// PortMatch is the match of a port readiness wait (SPEC §11.2, §11.4): a
// process of the job's tree listening on the port.
type PortMatch struct {
	Port    int    `json:"port"`
	Address string `json:"address"`
	PID     int    `json:"pid"`
}

// portPoll is how often a port wait looks at the job's sockets: nothing
// announces a new listening socket, so it polls (cheap: a tree walk and,
// only once a member has a socket, the TCP tables).
const portPoll = 50 * time.Millisecond

// ValidatePort checks a --for-port / --wait-for-port value.
func ValidatePort(port int) error {
	if port < 1 || port > 65535 {
		return newError(CodeInvalidArgument, "invalid port %d: use 1-65535", port)
	}
	return nil
}

// portReady is the readiness of a port: a process of the job's tree (the
// command, its group, everything the supervisor adopted) listens on it,
// IPv4 or IPv6, any address.
type portReady struct {
	j    jobRef
	port int
	// alive: the last check found the job's tree alive, so a terminal
	// job (a shell that backgrounded its server) may still get there.
	alive bool
}

// validateReadiness checks the readiness a wait or launch asks for: at
// most one condition, and a port in range.
func validateReadiness(out *OutputCondition, port int) error {
	if port == 0 {
		return nil
	}
	if out != nil {
		return newError(CodeInvalidArgument, "waiting for output and for a port are mutually exclusive")
	}
	return ValidatePort(port)
}

func (r *portReady) check(final bool) (*Match, logread.Cursor, error) {
	st, err := store.ReadState(r.j.dir)
	if err != nil {
		r.alive = false
		return nil, logread.Cursor{}, nil // unreadable now: no match yet
	}
	members := jobTree(r.j, st)
	if store.Terminal(st.Job.Status) {
		members = leftoverTree(r.j, st)
	}
	r.alive = len(members) > 0
	for _, l := range proc.Listening(members) {
		if l.Port == r.port {
			pm := PortMatch(l)
			return &Match{PortMatch: &pm}, logSizes(r.j), nil
		}
	}
	return nil, logread.Cursor{}, nil
}

// pending reports whether the port may still come up although the job is
// terminal: its tree lives on (--descendants leave).
func (r *portReady) pending() bool { return r.alive }

// logSizes is the cursor at the logs' current ends: where a port wait
// leaves a caller that goes on reading output.
func logSizes(j jobRef) logread.Cursor {
	var c logread.Cursor
	if fi, err := os.Stat(j.stdoutPath()); err == nil {
		c.Out = fi.Size()
	}
	if fi, err := os.Stat(j.stderrPath()); err == nil {
		c.Err = fi.Size()
	}
	return c
}

func (r *portReady) wake() (<-chan struct{}, time.Duration) { return nil, portPoll }
func (r *portReady) heard()                                 {}
func (r *portReady) close()                                 {}
