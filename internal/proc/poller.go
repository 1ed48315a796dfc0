package proc

import "os"

// InitPoller makes the Go runtime set up its I/O poller now, while
// descriptors are free. The runtime does it lazily at the first file open
// and treats a failure there (EMFILE under a limit of a handful of
// descriptors) as fatal — a crash with exit status 2 — where every later
// open would merely fail with an error the caller can report.
func InitPoller() {
	if f, err := os.Open(os.DevNull); err == nil {
		f.Close()
	}
}
