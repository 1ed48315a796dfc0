//go:build windows

package supervisor

import "os"

// childUsage: no rusage on Windows.
func childUsage(ps *os.ProcessState) usage { return usage{} }
