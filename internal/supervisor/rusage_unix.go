//go:build unix

package supervisor

import (
	"os"
	"runtime"
	"syscall"
)

// childUsage is the rusage of the waited-for direct child: its own usage
// plus that of the descendants it waited for.
func childUsage(ps *os.ProcessState) usage {
	if ps == nil {
		return usage{}
	}
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok || ru == nil {
		return usage{}
	}
	rss := int64(ru.Maxrss)
	if runtime.GOOS == "darwin" {
		rss /= 1024 // bytes there, KiB on Linux and the BSDs
	}
	return usage{
		maxRSSKB: rss,
		userMS:   int64(ru.Utime.Sec)*1000 + int64(ru.Utime.Usec)/1000,
		sysMS:    int64(ru.Stime.Sec)*1000 + int64(ru.Stime.Usec)/1000,
	}
}
