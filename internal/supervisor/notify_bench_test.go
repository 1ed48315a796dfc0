package supervisor

import (
	"strconv"
	"testing"
	"time"

	"github.com/agentexec/agentexec/internal/store"
)

// BenchmarkNotifierLine measures the per-line cost of output matching on
// the lines of `seq 1000000` (one b.N unit = one million lines).
func BenchmarkNotifierLine(b *testing.B) {
	lines := make([][]byte, 1000000)
	for i := range lines {
		lines[i] = []byte(strconv.Itoa(i + 1))
	}
	for _, bc := range []struct {
		name string
		om   *store.OutputMatch
	}{
		{"none", nil},
		{"contains-never", &store.OutputMatch{Pattern: "NEVER", MatchType: "contains", Stream: "either"}},
		{"regex-never", &store.OutputMatch{Pattern: "NEVER$", MatchType: "regex", Stream: "either"}},
		{"contains-77777", &store.OutputMatch{Pattern: "77777", MatchType: "contains", Stream: "either"}},
		{"regex-nines", &store.OutputMatch{Pattern: "^9+$", MatchType: "regex", Stream: "either"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			dir := b.TempDir()
			n := benchNotifier(b, dir, "seq", bc.om)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for _, l := range lines {
					n.Line("stdout", l)
				}
			}
			b.StopTimer()
			if n.q != nil {
				n.q.Close(time.Now().Add(time.Minute))
			}
		})
	}
}

// benchNotifier writes the meta.json of a job "B" running command, with
// output matching om (nil: none), in dir and returns its notifier.
func benchNotifier(b *testing.B, dir, command string, om *store.OutputMatch) *notifier {
	b.Helper()
	meta := &store.Meta{Job: store.JobRef{ID: "B"}, SchemaVersion: "0.1", Command: []string{command}, CreatedAt: "x",
		ShellWrapper: []string{"sh", "-c"}}
	if om != nil {
		meta.Notification = &store.Notification{OnOutputMatch: om}
	}
	if err := store.WriteMeta(dir, meta); err != nil {
		b.Fatal(err)
	}
	return newNotifier(&supervisor{dir: dir, id: "B", meta: meta})
}
