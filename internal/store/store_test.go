package store

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestValidID(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"01JD4Z6V3F8M2Q7R9T0W1X2Y3Z", true},
		{"a", true},
		{strings.Repeat("A", 64), true},
		{strings.Repeat("A", 65), false},
		{"", false},
		{".", false},
		{"..", false},
		{"../x", false},
		{"a/b", false},
		{`a\b`, false},
		{"a%2F", false},
		{"a b", false},
		{"é", false},
	}
	for _, tt := range tests {
		if got := ValidID(tt.in); got != tt.want {
			t.Errorf("ValidID(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestNewIDIsULID(t *testing.T) {
	now := time.Date(2025, 1, 15, 10, 0, 0, 0, time.UTC)
	a, b := NewID(now), NewID(now.Add(time.Millisecond))
	if len(a) != 26 || !ValidID(a) || strings.ToUpper(a) != a {
		t.Fatalf("bad id %q", a)
	}
	if !(a < b) {
		t.Fatalf("ids do not sort by time: %s >= %s", a, b)
	}
}

func TestResolve(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"01AAA1", "01AAA2", "01BBB1", ".new-01CCC", "01CCC9x"} {
		os.Mkdir(filepath.Join(root, d), 0o700)
	}
	os.WriteFile(filepath.Join(root, "01DDDfile"), nil, 0o600)
	tests := []struct {
		in, want string
		err      string
	}{
		{"01AAA1", "01AAA1", ""},
		{"01B", "01BBB1", ""},
		{"01AAA", "", "ambiguous"},
		{"01C", "01CCC9x", ""}, // staging dirs are ignored
		{"01D", "", "not found"},
		{"zz", "", "not found"},
	}
	for _, tt := range tests {
		got, err := Resolve(root, tt.in)
		switch {
		case tt.err == "ambiguous":
			var ae *AmbiguousError
			if !errors.As(err, &ae) || strings.Join(ae.Candidates, ",") != "01AAA1,01AAA2" {
				t.Errorf("Resolve(%q) = %v, want ambiguous 01AAA1,01AAA2", tt.in, err)
			}
		case tt.err == "not found":
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("Resolve(%q) err = %v, want ErrNotFound", tt.in, err)
			}
		case err != nil || got != tt.want:
			t.Errorf("Resolve(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := Resolve(filepath.Join(root, "missing"), "01"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing root: %v", err)
	}
}

func TestMetaRoundTripKeepsUnknownKeys(t *testing.T) {
	in := `{"job":{"id":"X1"},"schema_version":"0.1","command":["true"],"created_at":"2025-01-15T10:00:00Z","zzz_future":{"a":[1,2]},"aaa":"<&>"}`
	m, err := DecodeMetaForUpdate([]byte(in), "/r/X1")
	if err != nil {
		t.Fatal(err)
	}
	if m.Root != "/r" || !m.InheritEnv || len(m.Tags) != 0 || len(m.EnvKeys) != 0 || strings.Join(m.ShellWrapper, " ") != "sh -lc" {
		t.Fatalf("defaults not applied: %+v", m)
	}
	m.Tags = []string{"t"}
	out, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]json.RawMessage
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	if string(back["aaa"]) != `"<&>"` {
		t.Errorf("aaa = %s", back["aaa"])
	}
	if !strings.Contains(string(out), `"zzz_future": {`) {
		t.Errorf("unknown key lost:\n%s", out)
	}
	if strings.HasSuffix(string(out), "\n") {
		t.Errorf("trailing newline")
	}
	// documented order: job first, then schema_version …
	if !strings.HasPrefix(string(out), "{\n  \"job\": {\n    \"id\": \"X1\"\n  },\n  \"schema_version\": \"0.1\",") {
		t.Errorf("order/indent wrong:\n%s", out)
	}
}

func TestDecodeMetaRejects(t *testing.T) {
	for _, in := range []string{``, `{`, `[]`, `{"job":{"id":"X"}}`, `{"job":{"id":"X"},"schema_version":"0.1","command":[],"created_at":"x"}`, `{"job":"X","schema_version":"0.1","command":["a"],"created_at":"x"}`} {
		if _, err := DecodeMeta([]byte(in), "/r/X"); err == nil {
			t.Errorf("DecodeMeta(%q) accepted", in)
		}
	}
}

func TestDecodeStateLegacyAndInvalid(t *testing.T) {
	legacy := `{"job":{"id":"X","status":"killed","started_at":"2025-01-15T10:00:00Z"},"result":{"exit_code":null,"signal":"15","duration_ms":5},"pid":42,"finished_at":"2025-01-15T10:00:01Z","updated_at":"2025-01-15T10:00:01Z"}`
	st, err := DecodeState([]byte(legacy))
	if err != nil {
		t.Fatal(err)
	}
	if st.Result.TimedOut || st.Result.Error != nil || *st.Result.Signal != "15" || st.PID != 42 || st.Supervisor != nil {
		t.Fatalf("legacy state decoded wrong: %+v", st)
	}
	for _, in := range []string{``, `{}`, `{"job":{"id":"X","status":"zombie"}}`, `{"job":{"id":"X","status":5}}`, `not json`} {
		if _, err := DecodeState([]byte(in)); err == nil {
			t.Errorf("DecodeState(%q) accepted", in)
		}
	}
}

func TestWriteFileAtomicConcurrent(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	var wg sync.WaitGroup
	stop := make(chan struct{})
	bad := make(chan string, 1)
	go func() { // a reader never sees a partial file
		for {
			select {
			case <-stop:
				return
			default:
			}
			data, err := os.ReadFile(path)
			if err == nil && !json.Valid(data) {
				select {
				case bad <- string(data):
				default:
				}
			}
		}
	}()
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				payload, _ := json.Marshal(map[string]any{"w": w, "i": i, "pad": strings.Repeat("x", 4096)})
				if err := WriteFileAtomic(path, payload); err != nil {
					t.Error(err)
				}
			}
		}(w)
	}
	wg.Wait()
	close(stop)
	select {
	case s := <-bad:
		t.Fatalf("reader saw a partial file (%d bytes)", len(s))
	default:
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v err %v", fi.Mode(), err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("temporaries left: %v", ents)
	}
}

func TestCreateIsCompleteAndLocked(t *testing.T) {
	root := filepath.Join(t.TempDir(), "jobs")
	meta := &Meta{Command: []string{"true"}, Root: root, ShellWrapper: DefaultShellWrapper}
	id, lock, err := Create(root, NewJob{Meta: meta, Stdin: []byte("in"), Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	dir := Dir(root, id)
	if _, err := TryLock(dir); !errors.Is(err, ErrLockBusy) {
		t.Fatalf("lock not held after Create: %v", err)
	}
	lock.Unlock()
	l2, err := TryLock(dir)
	if err != nil {
		t.Fatalf("lock not released: %v", err)
	}
	l2.Unlock()
	for _, f := range []string{MetaFile, StateFile, StdoutLog, StderrLog, FullLog, StdinFile, LockFile} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatalf("%s missing: %v", f, err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v", f, fi.Mode().Perm())
		}
	}
	for _, d := range []string{root, dir} {
		if fi, _ := os.Stat(d); fi.Mode().Perm() != 0o700 {
			t.Errorf("%s mode %v", d, fi.Mode().Perm())
		}
	}
	st, err := ReadState(dir)
	if err != nil || st.Job.Status != "created" || st.Job.StartedAt != "" || st.PID != 0 {
		t.Fatalf("state %+v err %v", st, err)
	}
	m, err := ReadMeta(dir)
	if err != nil || m.Job.ID != id || m.StdinFile != "stdin.bin" || m.SchemaVersion != "0.1" {
		t.Fatalf("meta %+v err %v", m, err)
	}
	ents, _ := os.ReadDir(root)
	if len(ents) != 1 {
		t.Fatalf("staging left behind: %v", ents)
	}
}

func TestLockWaitTimesOut(t *testing.T) {
	dir := t.TempDir()
	l, err := TryLock(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	if _, err := LockWait(t.Context(), dir, 30*time.Millisecond); !errors.Is(err, ErrLockTimeout) {
		t.Fatalf("err = %v, want ErrLockTimeout", err)
	}
}

func FuzzDecodeState(f *testing.F) {
	f.Add([]byte(`{"job":{"id":"X","status":"running"},"result":{},"updated_at":"x"}`))
	f.Add([]byte(`{"job":{"id":"X","status":"exited"},"result":{"exit_code":3}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := DecodeState(data)
		if err == nil {
			if _, err := st.Encode(); err != nil {
				t.Fatalf("decoded state does not encode: %v", err)
			}
		}
	})
}

func FuzzResolveID(f *testing.F) {
	f.Add("01AB")
	f.Add("../x")
	f.Fuzz(func(t *testing.T, s string) {
		if ValidID(s) && strings.ContainsAny(s, "./\\%") {
			t.Fatalf("ValidID accepted %q", s)
		}
	})
}
