package store

// LaunchRequest is the private launcher → supervisor message, sent as one
// JSON line on the supervisor's stdin. Nothing secret is on the argv.
type LaunchRequest struct {
	Proto   int    `json:"proto"`
	JobID   string `json:"job_id"`
	LogPath string `json:"log_path,omitempty"` // run --log: merged log target
	// NotifyTimeoutMS is the command-sink timeout from the launcher's
	// configuration ([notify] timeout_ms, honouring --config); 0 = default.
	NotifyTimeoutMS int64 `json:"notify_timeout_ms,omitempty"`
	// LockFD is the inherited descriptor of the job lock, held by the
	// launcher: the supervisor keeps it until it has written S1 or S2, so
	// a launch in flight is never mistaken for an abandoned one. 0 = none.
	LockFD int `json:"lock_fd,omitempty"`
}

// LaunchProto is the version of LaunchRequest/LaunchAck.
const LaunchProto = 1

// LaunchAck is the supervisor's reply on its stdout, one JSON line. Right
// after spawning the child it first sends an interim line with only
// Spawned set, so a launcher that gives up on a stalled supervisor can still
// kill the child it started.
//
// Refused marks the answer of a process that was started as a supervisor
// but is not one (an embedding program that did not dispatch to the
// supervisor entry point): it wrote no state and may not exit by itself, so
// the launcher kills it.
type LaunchAck struct {
	OK      bool     `json:"ok"`
	Error   string   `json:"error,omitempty"`
	Spawned *Process `json:"spawned,omitempty"`
	Refused bool     `json:"refused,omitempty"`
}
