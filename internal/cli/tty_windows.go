//go:build windows

package cli

import (
	"os"
	"time"

	"golang.org/x/sys/windows"
)

func isatty(f *os.File) bool {
	var mode uint32
	return windows.GetConsoleMode(windows.Handle(f.Fd()), &mode) == nil
}

// pipeReady cannot poll a pipe portably on Windows; forward only when asked.
func pipeReady(f *os.File, grace time.Duration) bool { return false }
