// Package watch delivers file-system change notifications with exactly the
// events agent-exec needs. On Linux it uses inotify directly, because the
// kernel cost of a watch depends on its mask: a job directory watched for
// "anything" generates an event for every write the job makes to its logs
// (measured: 4 KiB writes ran 1.8x slower while a waiter watched the job
// directory), and fsnotify offers no way to narrow the mask. Elsewhere it
// wraps fsnotify.
package watch

// Kind selects what a watch reports.
type Kind int

const (
	// Replaced reports files created in or renamed into a directory (how
	// state.json is atomically replaced) and the directory's removal.
	Replaced Kind = iota
	// Modified reports writes to (and truncation of) a regular file: how
	// a log grows. Meant for short watches (an observation phase), since
	// every write of the job then costs an event.
	Modified
)
