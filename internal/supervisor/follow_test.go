package supervisor

import (
	"bytes"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agentexec/agentexec/internal/lines"
	"github.com/agentexec/agentexec/internal/store"
)

// recordingHook keeps every line offered to it; wants decides Wants.
type recordingHook struct {
	wants func(stream string, block []byte) bool
	got   []string
}

func (h *recordingHook) Wants(stream string, block []byte) bool { return h.wants(stream, block) }
func (h *recordingHook) Line(stream string, line []byte) {
	h.got = append(h.got, stream+":"+string(line))
}

// randomOutput mixes short and long lines, lines over the record limit,
// invalid UTF-8, multi-byte characters near the limit, '\r' and a missing
// final newline.
func randomOutput(r *rand.Rand, size int) []byte {
	var b []byte
	pieces := [][]byte{[]byte("hello"), []byte("é"), []byte("日本"), {0xff}, {0xe2, 0x82}, []byte("\r"), []byte("MATCH"), []byte("\n")}
	for len(b) < size {
		switch r.Intn(20) {
		case 0:
			b = append(b, bytes.Repeat([]byte("a"), lines.DefaultMax-1-r.Intn(3))...)
			b = append(b, "€€"...)
		case 1:
			b = append(b, bytes.Repeat([]byte("z"), lines.DefaultMax+r.Intn(3*lines.DefaultMax))...)
		default:
			for n := r.Intn(8); n >= 0; n-- {
				b = append(b, pieces[r.Intn(len(pieces))]...)
			}
			b = append(b, bytes.Repeat([]byte{'x'}, r.Intn(120))...)
			b = append(b, '\n')
		}
	}
	return b[:size]
}

// logDir makes a job directory whose stdout.log holds initial (open for
// appending, as the child has it), with an empty stderr.log and full.log
// open for the follower; the files are closed at the end of the test.
func logDir(t *testing.T, initial string) (dir string, stdout, full *os.File) {
	t.Helper()
	dir = t.TempDir()
	stdout, err := os.OpenFile(filepath.Join(dir, store.StdoutLog), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdout.Close() })
	if _, err := stdout.WriteString(initial); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, store.StderrLog), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	full, err = os.OpenFile(filepath.Join(dir, store.FullLog), os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { full.Close() })
	return dir, stdout, full
}

// expected is what the follower must produce from out: the records of a
// single Splitter fed everything, in full.log form without the timestamp,
// and the lines offered to a hook that wants everything.
func expected(out []byte) (records, hooked []string) {
	var sp lines.Splitter
	emit := func(line []byte) {
		rec := lines.AppendRecord(nil, "", lines.Stdout, line)
		records = append(records, string(rec[:len(rec)-1]))
		hooked = append(hooked, "stdout:"+string(line))
	}
	sp.Write(out, emit)
	sp.Flush(emit)
	return records, hooked
}

// TestFollowerMatchesSplitter feeds random output to stdout.log in random
// pieces, with reads between them, and checks full.log and the hook against
// a plain Splitter over the whole output: the block fast path must not
// change a record or a line.
func TestFollowerMatchesSplitter(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for round := 0; round < 20; round++ {
		out := randomOutput(r, 1+r.Intn(2<<20))
		dir, stdout, full := logDir(t, "")
		hook := &recordingHook{wants: func(string, []byte) bool { return true }}
		fo := newFollower(dir, full, hook)
		for rest := out; len(rest) > 0; {
			n := min(len(rest), 1+r.Intn(300<<10))
			if _, err := stdout.Write(rest[:n]); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
			fo.readAvailable(time.Now().Add(time.Hour))
		}
		fo.finish()
		stdout.Close()
		data, err := os.ReadFile(filepath.Join(dir, store.FullLog))
		full.Close()
		if err != nil {
			t.Fatal(err)
		}
		wantRecords, wantHooked := expected(out)
		var gotRecords []string
		for _, rec := range strings.SplitAfter(string(data), "\n") {
			if rec == "" {
				continue
			}
			sp := strings.IndexByte(rec, ' ')
			if sp < 0 || !strings.HasSuffix(rec, "\n") {
				t.Fatalf("round %d: malformed record %q", round, rec)
			}
			gotRecords = append(gotRecords, rec[sp:len(rec)-1])
		}
		if len(gotRecords) != len(wantRecords) {
			t.Fatalf("round %d: %d records, want %d", round, len(gotRecords), len(wantRecords))
		}
		for i := range wantRecords {
			if gotRecords[i] != wantRecords[i] {
				t.Fatalf("round %d: record %d = %.80q, want %.80q", round, i, gotRecords[i], wantRecords[i])
			}
		}
		if len(hook.got) != len(wantHooked) {
			t.Fatalf("round %d: hook got %d lines, want %d", round, len(hook.got), len(wantHooked))
		}
		for i := range wantHooked {
			if hook.got[i] != wantHooked[i] {
				t.Fatalf("round %d: hook line %d = %.80q, want %.80q", round, i, hook.got[i], wantHooked[i])
			}
		}
	}
}

// TestFollowerSkipsUnwantedBlocks: lines of a block the hook does not want
// are not offered, lines it wants are, and with full.log off an unwanted
// block leaves nothing behind.
func TestFollowerSkipsUnwantedBlocks(t *testing.T) {
	for _, noFull := range []bool{false, true} {
		dir, stdout, full := logDir(t, "one\ntwo\nthr")
		hook := &recordingHook{wants: func(_ string, block []byte) bool { return bytes.Contains(block, []byte("MATCH")) }}
		fo := newFollower(dir, full, hook)
		fo.noFull = noFull
		fo.readAvailable(time.Now().Add(time.Hour))
		stdout.WriteString("ee\nMATCH here\nlast")
		stdout.Close()
		fo.readAvailable(time.Now().Add(time.Hour))
		fo.finish()
		data, _ := os.ReadFile(filepath.Join(dir, store.FullLog))
		full.Close()
		// "three" completes a line begun earlier: the splitter offers it
		// whatever the block says; "last" is the partial line at the end.
		want := []string{"stdout:three", "stdout:MATCH here", "stdout:last"}
		if strings.Join(hook.got, "|") != strings.Join(want, "|") {
			t.Errorf("noFull=%v: hook got %q, want %q", noFull, hook.got, want)
		}
		wantRecords := 5
		if noFull {
			wantRecords = 0
		}
		if n := strings.Count(string(data), "\n"); n != wantRecords {
			t.Errorf("noFull=%v: full.log has %d records, want %d:\n%s", noFull, n, wantRecords, data)
		}
	}
}
