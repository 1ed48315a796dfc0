package agentexec_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/agentexec/agentexec"
)

// TestDefinitionSizeLimit: a definition whose meta.json would exceed what
// readers accept is refused when the job is created (invalid_argument,
// nothing written), whatever the path — 480 KB of control characters that
// JSON escapes sixfold, or one 10 MB value — and so is a metadata rewrite
// that would grow past it. A large definition under the limit is accepted
// and stays readable.
func TestDefinitionSizeLimit(t *testing.T) {
	m := newManager(t)
	ctx := context.Background()
	ctl := strings.Repeat("\x01\x02\x03", 40000) // 120 KB, 720 KB escaped
	for name, env := range map[string][]string{
		"control characters": {"A=" + ctl, "B=" + ctl, "C=" + ctl, "D=" + ctl},
		"10 MB value":        {"BIG=" + strings.Repeat("x", 10<<20)},
	} {
		_, err := m.Run(ctx, agentexec.RunRequest{Spec: agentexec.JobSpec{Command: []string{"true"}, Env: env}, Observe: agentexec.ObserveOptions{NoWait: true}})
		ae := wantCode(t, name+": run", err, agentexec.CodeInvalidArgument)
		if !strings.Contains(ae.Message, "job definition too large") || strings.Contains(ae.Message, "\x01") {
			t.Errorf("%s: message %.200q", name, ae.Message)
		}
		_, err = m.Create(ctx, agentexec.JobSpec{Command: []string{"true"}, Env: env})
		wantCode(t, name+": create", err, agentexec.CodeInvalidArgument)
	}
	if ents, _ := os.ReadDir(m.Root()); len(ents) != 0 {
		t.Fatalf("refused definitions left %d entries in the root", len(ents))
	}

	var big []string // 800 KB, within what execve takes
	for i := range 8 {
		big = append(big, "BIG"+string(rune('A'+i))+"="+strings.Repeat("y", 100<<10))
	}
	c, err := m.Create(ctx, agentexec.JobSpec{Command: []string{"true"}, Env: big})
	if err != nil {
		t.Fatal(err)
	}
	huge := strings.Repeat("\x01", 1<<20)
	_, err = m.NotifySet(ctx, c.JobID, agentexec.NotifyUpdate{Command: &huge})
	wantCode(t, "notify set", err, agentexec.CodeInvalidArgument)
	res, err := m.Start(ctx, c.JobID, waitOpts())
	if err != nil || res.State != agentexec.StateExited {
		t.Fatalf("start of a large definition: %+v %v", res, err)
	}
}
