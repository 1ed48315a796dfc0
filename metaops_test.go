package agentexec_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/agentexec/agentexec"
)

func sp(s string) *string { return &s }

// compact encodes v as the CLI does: no HTML escaping.
func compact(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	return strings.TrimSuffix(b.String(), "\n")
}

func readMetaFile(t *testing.T, m *agentexec.Manager, id string) map[string]json.RawMessage {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(m.Root(), id, "meta.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]json.RawMessage
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("meta.json does not parse: %v\n%s", err, data)
	}
	return v
}

// TestTagSetNotifySetNoLostUpdate runs tag set and notify set in parallel
// on one job, 20 times: after each pair both updates must be in meta.json,
// and an unknown key must survive every rewrite (SPEC §2.7, §9.2 R6).
func TestTagSetNotifySetNoLostUpdate(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	c, err := m.Create(ctx, agentexec.JobSpec{Command: []string{"true"}})
	if err != nil {
		t.Fatal(err)
	}
	metaPath := filepath.Join(m.Root(), c.JobID, "meta.json")
	data, _ := os.ReadFile(metaPath)
	data = []byte(strings.Replace(string(data), "{", `{"x_future":{"keep":true},`, 1))
	if err := os.WriteFile(metaPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		tag, cmd := fmt.Sprintf("t-%d", i), fmt.Sprintf("echo %d", i)
		var wg sync.WaitGroup
		var tagErr, notifyErr error
		wg.Add(2)
		go func() { defer wg.Done(); _, tagErr = m.TagSet(ctx, c.JobID, []string{tag}) }()
		go func() {
			defer wg.Done()
			_, notifyErr = m.NotifySet(ctx, c.JobID, agentexec.NotifyUpdate{Command: sp(cmd)})
		}()
		wg.Wait()
		if tagErr != nil || notifyErr != nil {
			t.Fatal(tagErr, notifyErr)
		}
		meta := readMetaFile(t, m, c.JobID)
		var tags []string
		var n agentexec.Notification
		json.Unmarshal(meta["tags"], &tags)
		json.Unmarshal(meta["notification"], &n)
		if len(tags) != 1 || tags[0] != tag || n.NotifyCommand != cmd {
			t.Fatalf("pair %d: tags %v notification %+v: an update was lost", i, tags, n)
		}
		if string(meta["x_future"]) != `{"keep":true}` && !strings.Contains(string(meta["x_future"]), `"keep": true`) {
			t.Fatalf("unknown key lost: %s", meta["x_future"])
		}
	}
}

// TestManyConcurrentMetaUpdates: 100 goroutines each set a different
// completion command or tag list; meta.json always parses and ends with
// one of the written values for each key.
func TestManyConcurrentMetaUpdates(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	c, _ := m.Create(ctx, agentexec.JobSpec{Command: []string{"true"}})
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := 0; i < 100; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if _, err := m.TagSet(ctx, c.JobID, []string{fmt.Sprintf("t%d", i)}); err != nil {
				errs <- err
			}
		}()
		go func() {
			defer wg.Done()
			if _, err := m.NotifySet(ctx, c.JobID, agentexec.NotifyUpdate{OutputPattern: sp(fmt.Sprintf("p%d", i))}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	meta := readMetaFile(t, m, c.JobID)
	var n agentexec.Notification
	var tags []string
	json.Unmarshal(meta["notification"], &n)
	json.Unmarshal(meta["tags"], &tags)
	if len(tags) != 1 || n.OnOutputMatch == nil || !strings.HasPrefix(n.OnOutputMatch.Pattern, "p") {
		t.Fatalf("final meta: tags %v notification %+v", tags, n)
	}
}

func TestTagSet(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	c, _ := m.Create(ctx, agentexec.JobSpec{Command: []string{"true"}, Tags: []string{"old"}})
	res, err := m.TagSet(ctx, c.JobID[:10], []string{"a", "b.c", "a"})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := json.Marshal(res); string(got) != `{"job_id":"`+c.JobID+`","tags":["a","b.c"]}` {
		t.Fatalf("result %s", got)
	}
	res, err = m.TagSet(ctx, c.JobID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := json.Marshal(res); string(got) != `{"job_id":"`+c.JobID+`","tags":[]}` {
		t.Fatalf("cleared: %s", got)
	}
	_, err = m.TagSet(ctx, c.JobID, []string{"bad!tag"})
	var ae *agentexec.Error
	if !errors.As(err, &ae) || ae.Code != agentexec.CodeInvalidTag {
		t.Fatalf("invalid tag: %v", err)
	}
	if _, err := m.TagSet(ctx, "NOPE", []string{"a"}); !errors.Is(err, agentexec.ErrJobNotFound) {
		t.Fatalf("missing job: %v", err)
	}
}

// TestNotifySetMerge walks the merge rules of SPEC §4.11 step by step.
func TestNotifySetMerge(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	c, _ := m.Create(ctx, agentexec.JobSpec{
		Command:      []string{"true"},
		Notification: &agentexec.Notification{NotifyFile: "/tmp/done.ndjson"},
	})
	steps := []struct {
		name string
		u    agentexec.NotifyUpdate
		want string
	}{
		{"nothing given keeps all", agentexec.NotifyUpdate{}, `{"notify_file":"/tmp/done.ndjson"}`},
		{"set command and pattern", agentexec.NotifyUpdate{Command: sp("cat > /tmp/ev.json"), OutputPattern: sp("ERROR")},
			`{"notify_command":"cat > /tmp/ev.json","notify_file":"/tmp/done.ndjson","on_output_match":{"pattern":"ERROR","match_type":"contains","stream":"either"}}`},
		{"overlay keeps pattern", agentexec.NotifyUpdate{OutputMatchType: sp("regex"), OutputStream: sp("stderr"), OutputCommand: sp("true")},
			`{"notify_command":"cat > /tmp/ev.json","notify_file":"/tmp/done.ndjson","on_output_match":{"pattern":"ERROR","match_type":"regex","stream":"stderr","command":"true"}}`},
		{"relative output file made absolute", agentexec.NotifyUpdate{OutputFile: sp("m.ndjson")},
			`{"notify_command":"cat > /tmp/ev.json","notify_file":"/tmp/done.ndjson","on_output_match":{"pattern":"ERROR","match_type":"regex","stream":"stderr","command":"true","file":"CWD/m.ndjson"}}`},
		{"command removed", agentexec.NotifyUpdate{Command: sp("")},
			`{"notify_file":"/tmp/done.ndjson","on_output_match":{"pattern":"ERROR","match_type":"regex","stream":"stderr","command":"true","file":"CWD/m.ndjson"}}`},
		{"empty pattern removes matching", agentexec.NotifyUpdate{OutputPattern: sp("")}, `{"notify_file":"/tmp/done.ndjson"}`},
		{"sink without pattern stores nothing", agentexec.NotifyUpdate{OutputCommand: sp("true")}, `{"notify_file":"/tmp/done.ndjson"}`},
	}
	cwd := ""
	for _, s := range steps {
		res, err := m.NotifySet(ctx, c.JobID, s.u)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		got := compact(res.Notification)
		if cwd == "" && res.Notification.OnOutputMatch != nil && res.Notification.OnOutputMatch.File != "" {
			cwd = filepath.Dir(res.Notification.OnOutputMatch.File)
		}
		if want := strings.ReplaceAll(s.want, "CWD", cwd); got != want {
			t.Fatalf("%s:\n got %s\nwant %s", s.name, got, want)
		}
		meta := readMetaFile(t, m, c.JobID)
		var stored agentexec.Notification
		json.Unmarshal(meta["notification"], &stored)
		if sg := compact(stored); sg != got {
			t.Fatalf("%s: stored %s, reported %s", s.name, sg, got)
		}
	}

	// Nothing left: meta.notification is removed and the result is {}.
	c2, _ := m.Create(ctx, agentexec.JobSpec{Command: []string{"true"}, Notification: &agentexec.Notification{NotifyCommand: "x"}})
	res, err := m.NotifySet(ctx, c2.JobID, agentexec.NotifyUpdate{Command: sp("")})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := json.Marshal(res); string(got) != `{"job_id":"`+c2.JobID+`","notification":{}}` {
		t.Fatalf("empty result %s", got)
	}
	if _, ok := readMetaFile(t, m, c2.JobID)["notification"]; ok {
		t.Fatal("meta.notification kept although empty")
	}
}

func TestNotifySetErrors(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	c, _ := m.Create(ctx, agentexec.JobSpec{Command: []string{"true"},
		Notification: &agentexec.Notification{OnOutputMatch: &agentexec.OutputMatch{Pattern: "a", MatchType: "regex"}}})
	var ae *agentexec.Error
	for name, u := range map[string]agentexec.NotifyUpdate{
		"bad regex given":        {OutputPattern: sp("("), OutputMatchType: sp("regex")},
		"bad regex with meta's":  {OutputPattern: sp("(")},
		"bad match type":         {OutputMatchType: sp("glob")},
		"bad stream":             {OutputStream: sp("both")},
		"bad regex before found": {OutputPattern: sp("("), OutputMatchType: sp("regex")},
	} {
		id := c.JobID
		if name == "bad regex before found" || name == "bad match type" {
			id = "NOPE" // validation precedes the lookup
		}
		if _, err := m.NotifySet(ctx, id, u); !errors.As(err, &ae) || ae.Code != agentexec.CodeInvalidArgument {
			t.Fatalf("%s: %v", name, err)
		}
	}
	before := readMetaFile(t, m, c.JobID)
	if string(before["notification"]) == "" || !strings.Contains(string(before["notification"]), `"pattern": "a"`) {
		t.Fatalf("failed update changed meta: %s", before["notification"])
	}
}
