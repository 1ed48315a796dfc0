package notify

import (
	"math/rand/v2"
	"testing"
)

func ev0() *Matched {
	return &Matched{SchemaVersion: "0.1", EventType: TypeOutputMatched, JobID: "J", Pattern: "x", MatchType: "contains", Stream: "stdout"}
}

func checkSame(t *testing.T, ev *Matched, results []Result) {
	t.Helper()
	want := string(Record(ev, results)) + "\n"
	if got := string(AppendMatchedRecord(nil, ev, results)); got != want {
		t.Fatalf("hand-encoded record differs\n got %q\nwant %q", got, want)
	}
	if got, want := string(EncodeMatched(ev)), string(Encode(ev)); got != want {
		t.Fatalf("hand-encoded event differs\n got %q\nwant %q", got, want)
	}
}

func TestAppendRecordMatchesEncodingJSON(t *testing.T) {
	lines := []string{
		"", "plain", `quote " back \ slash`, "tab\there\r\n", "\x00\x01\x1f\x7f", "<b>&amp;</b>",
		"emoji 😀 é ü", "sep \u2028 \u2029 end", "bad \xff utf8 \xe2\x82", "\uFFFD replacement",
	}
	res := [][]Result{nil, {}, {
		{SinkType: "command", Target: `cat > "$X" <in>`, Success: true, AttemptedAt: "2025-01-15T10:00:00Z"},
		{SinkType: "file", Target: "/p\n", Error: DroppedFull, AttemptedAt: "2025-01-15T10:00:00Z"},
	}}
	for _, l := range lines {
		for _, r := range res {
			ev := ev0()
			ev.Line, ev.Pattern = l, l
			checkSame(t, ev, r)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 5000; i++ {
		b := make([]byte, rng.IntN(40))
		for k := range b {
			if rng.IntN(3) == 0 {
				b[k] = byte(rng.IntN(256))
			} else {
				b[k] = byte(rng.IntN(0x80))
			}
		}
		ev := ev0()
		ev.Line = string(b)
		checkSame(t, ev, res[2])
	}
}
