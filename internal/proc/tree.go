package proc

// # Process trees
//
// A job owns a tree of processes (SPEC §11.4): its direct child, the child's
// process group and every live descendant of its supervisor, which makes
// itself a child subreaper so that orphans are re-parented to it. [JobTree]
// finds the members of such a tree from what was recorded (the supervisor,
// the child, a list of identities the supervisor wrote down) and what
// /proc says now; [SignalVerified] signals one member only if it is still
// the recorded process; [Usage] and [Listening] read live facts about
// members. On platforms without /proc these report nothing (an empty tree),
// so every caller degrades to the v1 behaviour.

// MaxTree bounds every tree walk: a job that forks without limit cannot
// make a reader read without limit.
const MaxTree = 256

// TreeSpec is what is known about a job's tree before looking at /proc.
type TreeSpec struct {
	// BootID is the boot the identities were recorded in; a different
	// current boot means nothing recorded is alive.
	BootID string
	// Supervisor, when its pid is > 1, is walked for adopted children if it
	// still verifies (same start time, not a zombie).
	Supervisor Identity
	// Child is the job's direct child.
	Child Identity
	// Recorded are further members the supervisor wrote down; each counts
	// only if its pid still has the recorded (non-empty) start time.
	Recorded []Identity
	// SkipEnv marks the supervisor's children that are not the job's
	// (notification sinks): a child whose environment contains this
	// "KEY=" prefix is left out with its descendants.
	SkipEnv string
	// SkipPIDs are further children of the supervisor to leave out.
	SkipPIDs []int
	// SupervisorArgs must all appear in the supervisor's command line
	// (its "_supervise" and the job id) before its children are walked: a
	// damaged record cannot make a stranger's children the job's.
	SupervisorArgs []string
	// NotBefore is the direct child's start time: every member started at
	// or after it, so an older process (init, a daemon, a shell) named by a
	// stale or forged record is never a member. "" = no such check.
	NotBefore string
	// Limit bounds the result; 0 means MaxTree.
	Limit int
}

// Member is one live process of a tree, as read now.
type Member struct {
	PID       int
	PGID      int
	StartTime string
}

// Identity returns m as an Identity for [SignalVerified].
func (m Member) Identity() Identity {
	return Identity{PID: m.PID, PGID: m.PGID, StartTime: m.StartTime}
}

// Listener is a TCP socket in LISTEN state owned by a tree member.
type Listener struct {
	Port    int    `json:"port"`
	Address string `json:"address"`
	PID     int    `json:"pid"`
}

// TreeUsage sums live facts of tree members.
type TreeUsage struct {
	RSSKB int64
	CPUMS int64
}
