// Package agentexec runs commands as detached, persistent jobs for AI agents
// and scripts. It is the typed API behind the agent-exec CLI, its HTTP server
// and its MCP server, which are thin adapters over a [Manager].
//
// # Job lifecycle
//
// A job is created in state created ([Manager.Create], or [Manager.Run] which
// also launches it). Launching re-executes the current binary as
// "agent-exec _supervise" in its own session; that supervisor spawns the job
// in its own process group with the job's log files as stdout and stderr,
// records state running and acknowledges. The launcher returns only after the
// acknowledgement, so a job is never left running without a supervisor; any
// launch failure ends the job failed with a launch_failed reason. The
// supervisor alone writes the terminal state (exited or killed), after the
// output has been drained. Readers detect a supervisor that vanished (killed,
// reboot, pid reuse) and report failed/supervisor_lost instead of a stale
// running.
//
//	created ──launch──▶ running ──child exits──▶ exited | killed
//	   │                   └──supervisor lost──▶ failed
//	   └──launch fails──▶ failed
//
// # Observing
//
// After a launch, [ObserveOptions] decide what the caller sees: a snapshot
// once the job ends, or once its output has been quiet for Settle
// ([DefaultSettle], 500 ms), or at SnapshotAfter at the latest; with Wait, the
// final snapshot, or — when the deadline passes first — a snapshot of the
// output so far. Every excerpt reads at most MaxBytes per stream from the end
// of the logs (clamped to [MaxExcerptBytes]); [RenderTerminal] presents it as
// a terminal would show it, without escape sequences, carriage-return
// redraws or overlong lines.
//
// Every excerpt carries a cursor, the two logs' sizes when it was read:
// [Manager.TailFrom] returns exactly what was written after a cursor.
// [WaitOptions.ForOutput] (and [ObserveOptions.ForOutput] at launch) end a
// wait at the first output line that matches, scanning each log forward
// once; [Manager.FollowLogs] streams the raw logs as they grow and
// [Manager.Follow] streams line and state events of one or many jobs,
// including jobs created later. All of them wake on the logs' growth, not
// on a timer.
//
// # Embedding
//
// Because launching re-executes the current program as the supervisor, a
// program embedding this package does one of two things. Either it calls
// [SuperviseMain] first thing in main, which returns at once unless the
// process was started as a supervisor (it then runs the supervisor and
// exits):
//
//	func main() {
//		agentexec.SuperviseMain()
//		m, err := agentexec.Open(root, agentexec.Options{})
//		…
//		res, err := m.Run(ctx, agentexec.RunRequest{Spec: agentexec.JobSpec{Command: []string{"make", "test"}}})
//	}
//
// Or it names an agent-exec executable as the supervisor:
//
//	m, err := agentexec.Open(root, agentexec.Options{SupervisorExe: "/usr/local/bin/agent-exec"})
//
// A program that does neither cannot start copies of itself: in a process
// started as a supervisor, [Open] refuses with launch_failed, and the
// launcher kills that process and fails the launch with launch_failed at
// once. The runnable example is examples/embed in the repository.
//
// # On-disk layout
//
// Each job lives in <root>/<id>/ (0700): meta.json (definition), state.json
// (lifecycle), stdout.log and stderr.log (raw bytes), full.log (merged,
// timestamped lines), stdin.bin (job input, if any), completion_event.json
// and notification_events.ndjson (events), and .lock (the per-job flock that
// serialises read-modify-write operations). JSON files are replaced
// atomically (temporary file, fsync, rename); a job directory appears
// atomically by renaming a complete staging directory.
//
// Job names (SPEC §11.6) are indexed in <root>/.names/: for a name N,
// N.ids lists the ids of the jobs created with that name (oldest first) and
// N.lock is the flock under which they are created. "@N" reads N.ids and
// the listed jobs' meta.json only, newest first, skipping jobs that no
// longer exist; [Manager.Run] with Ensure looks up and creates under the
// lock, so concurrent callers create one job. Like every entry whose name
// starts with '.', the directory is ignored by list, gc and delete as jobs;
// gc (not a dry run) removes the files of names whose jobs are all gone.
//
// # Error codes
//
// Every failure is an [*Error] with a stable [Code]: job_not_found,
// ambiguous_job_id, invalid_state, invalid_tag, invalid_argument,
// invalid_config, launch_failed, stdin_too_large, stdin_required and
// internal_error (plus the HTTP-only codes). Use errors.Is with the Err*
// sentinels, or errors.As to read the code and details.
package agentexec
