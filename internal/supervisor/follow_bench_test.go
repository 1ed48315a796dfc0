package supervisor

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/agentexec/agentexec/internal/store"
)

// BenchmarkFollow measures the supervisor's log following on the P5 `yes`
// workload (§9.1): 64 MiB of 99-character lines read back from stdout.log,
// turned into full.log records and offered to output matching. One b.N unit
// is the whole 64 MiB; b.SetBytes makes the result a throughput.
func BenchmarkFollow(b *testing.B) {
	const size = 64 << 20
	line := append(bytes.Repeat([]byte{'y'}, 99), '\n')
	for _, bc := range []struct {
		name   string
		noFull bool
		om     *store.OutputMatch
	}{
		{"full", false, nil},
		{"nofull", true, nil},
		{"full-contains-never", false, &store.OutputMatch{Pattern: "NEVER", MatchType: "contains", Stream: "either"}},
		{"full-regex-never", false, &store.OutputMatch{Pattern: "NEVER$", MatchType: "regex", Stream: "either"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			dir := b.TempDir()
			out := bytes.Repeat(line, size/len(line))
			if err := os.WriteFile(filepath.Join(dir, store.StdoutLog), out, 0o600); err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, store.StderrLog), nil, 0o600); err != nil {
				b.Fatal(err)
			}
			full, err := os.OpenFile(filepath.Join(dir, store.FullLog), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
			if err != nil {
				b.Fatal(err)
			}
			defer full.Close()
			n := benchNotifier(b, dir, "yes", bc.om)
			defer n.timer.Stop()
			b.SetBytes(int64(len(out)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				if err := full.Truncate(0); err != nil {
					b.Fatal(err)
				}
				fo := newFollower(dir, full, n)
				fo.noFull = bc.noFull
				b.StartTimer()
				fo.readAvailable(time.Now().Add(time.Hour))
				fo.finish()
			}
			b.StopTimer()
			if fi, err := full.Stat(); err != nil || (!bc.noFull && fi.Size() < int64(len(out))) {
				b.Fatalf("full.log: %v %v", fi.Size(), err)
			}
		})
	}
}
