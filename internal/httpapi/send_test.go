package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestSendInteractive: POST /exec with interactive, then POST /send turns
// with wait_for_output, refusals, and eof.
func TestSendInteractive(t *testing.T) {
	e := newEnv(t)
	r := e.post("/exec", `{"command":["python3","-u","-i","-q"],"interactive":true}`)
	wantOK(t, r, "run")
	id := r.str("job_id")
	s := e.post("/send/"+id, `{"text":"6*7","newline":true,"wait_for_output":"42","stream":"stdout","until_ms":20000}`)
	wantOK(t, s, "send")
	if s.str("state") != "running" || s.str("cursor") == "" {
		t.Fatalf("send: %s", s.body)
	}
	if m, _ := s.field("matched"); m != true {
		t.Fatalf("not matched: %s", s.body)
	}
	snap, _ := s.field("snapshot")
	if out := snap.(map[string]any)["stdout_tail"]; out != "42\n" {
		t.Fatalf("snapshot stdout %q", out)
	}
	if n, _ := s.field("bytes_written"); n != float64(4) {
		t.Fatalf("bytes_written %v", n)
	}
	// keys follow text and newline
	wantError(t, e.post("/send/"+id, `{"keys":["F13"]}`), 400, "invalid_argument", "")
	wantError(t, e.post("/send/"+id, `{}`), 400, "invalid_argument", "send needs text, newline, keys or eof")
	wantError(t, e.post("/send/"+id, `{"text":7}`), 400, "invalid_request", "")
	wantError(t, e.post("/send/"+id, `{"text":"x","stream":"stdout"}`), 400, "invalid_argument", "")
	big, _ := json.Marshal(map[string]any{"text": strings.Repeat("\x01", 1<<20+1)})
	wantError(t, e.post("/send/"+id, string(big)), 400, "invalid_argument", "send input over 1048576 bytes: send it in parts")
	s = e.post("/send/"+id, `{"eof":true}`)
	wantOK(t, s, "send")
	w := e.do("GET", "/wait/"+id+"?until_ms=30000", "")
	if w.str("state") != "exited" {
		t.Fatalf("after eof: %s", w.body)
	}
	wantError(t, e.post("/send/"+id, `{"text":"x"}`), 400, "invalid_state", "")

	plain := e.post("/exec", `{"command":["sleep 30"]}`)
	pid := plain.str("job_id")
	wantError(t, e.post("/send/"+pid, `{"text":"x"}`), 400, "invalid_state", "job "+pid+" was not started with --interactive")
	e.post("/kill/"+pid, `{"signal":"KILL"}`)
	wantError(t, e.post("/exec", `{"command":["cat"],"interactive":true,"stdin":"x"}`), 400, "invalid_argument", "")
}
