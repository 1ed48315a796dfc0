// Package watch delivers file-system change notifications with exactly the
// events agent-exec needs. On Linux it uses inotify directly, because the
// kernel cost of a watch depends on its mask: a directory watched for
// "anything" generates an event for every write a job makes to its logs
// (measured: 4 KiB writes ran 1.8× slower while a waiter watched the job
// directory), and fsnotify offers no way to narrow the mask or to arm a
// watch for one event only. Elsewhere it wraps fsnotify.
package watch

// Kind selects what a watch reports.
type Kind int

const (
	// Replaced reports files created in or renamed into a directory (how
	// state.json is atomically replaced) and the directory's removal.
	Replaced Kind = iota
	// Grown reports the next write to a file, once: the watch must be
	// re-armed with Add after the reader caught up, so a burst of writes
	// costs one event instead of one per write.
	Grown
)
