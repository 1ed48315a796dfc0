package httpapi_test

import (
	"testing"
)

// TestScreenPTY: POST /exec with pty, a send, then GET /screen renders the
// terminal; a job without pty is refused.
func TestScreenPTY(t *testing.T) {
	e := newEnv(t)
	r := e.post("/exec", `{"command":["echo ready; read -p 'name? ' x; echo \"hi $x\"; sleep 30"],"pty":true,"wait_for_output":"ready","until_ms":20000}`)
	wantOK(t, r, "run")
	id := r.str("job_id")
	s := e.post("/send/"+id, `{"text":"bob","keys":["Enter"],"wait_for_output":"hi bob","until_ms":20000}`)
	wantOK(t, s, "send")
	sc := e.do("GET", "/screen/"+id, "")
	wantOK(t, sc, "screen")
	lines, _ := sc.field("lines")
	got := lines.([]any)
	if len(got) != 40 || got[0] != "ready" || got[1] != "name? bob" || got[2] != "hi bob" {
		t.Fatalf("screen: %s", sc.body)
	}
	if c, _ := sc.field("cols"); c != float64(120) {
		t.Fatalf("cols: %s", sc.body)
	}
	e.post("/kill/"+id, `{"signal":"KILL"}`)

	p := e.post("/exec", `{"command":["true"]}`)
	wantError(t, e.do("GET", "/screen/"+p.str("job_id"), ""), 400, "invalid_state", "job "+p.str("job_id")+" was not started with --pty")
}
