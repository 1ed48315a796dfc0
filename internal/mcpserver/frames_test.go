package mcpserver

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"
)

// malformedFrames are the frames the SDK alone would end the session on,
// with the answer each must get instead (SPEC §11.8).
var malformedFrames = []struct {
	frame string
	code  float64
	id    any // nil = JSON null
}{
	{`not json`, -32700, nil},
	{`[]`, -32600, nil},
	{`null`, -32600, nil},
	{`"str"`, -32600, nil},
	{`42`, -32600, nil},
	{`{"jsonrpc":"2.0"}`, -32600, nil},
	{`{"jsonrpc":"1.0","id":7,"method":"ping"}`, -32600, 7.0},
	{`{"id":"s","method":"ping"}`, -32600, "s"},
	{`{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}`, -32600, nil},
	{`{"jsonrpc":"2.0","id":[1],"method":"ping"}`, -32600, nil},
	{`{"jsonrpc":"2.0","id":8,"method":5}`, -32600, 8.0},
	{`{"jsonrpc":"2.0","id":9,"meth`, -32700, nil},
	{`{"jsonrpc":"2.0","id":10,"method":"ping"}{"jsonrpc":"2.0","id":11,"method":"ping"}`, -32700, nil},
	{"\xff\xfe{\x00}\x00", -32700, nil},
	{"\xef\xbb\xbf{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"ping\"}", -32700, nil},
	{`[1]`, -32600, nil},
	{`{"jsonrpc":"2.0","result":{}}`, -32600, nil},
	{`[{"jsonrpc":"2.0","id":13,"method":"ping"}]`, -32600, nil},
	{`[{"jsonrpc":"2.0","id":14,"method":"ping"},{"jsonrpc":"2.0","id":14,"method":"ping"}]`, -32600, nil},
	{`{"jsonrpc":"2.0","id":15,"method":"ping","params":` + strings.Repeat("[", 1001) + strings.Repeat("]", 1001) + `}`, -32600, 15.0},
}

func TestCheckFrameAcceptsValidMessages(t *testing.T) {
	for _, f := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"ping"}`,
		`{"jsonrpc":"2.0","id":"a","method":"tools/list","params":{}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":3,"result":{}}`,
		`{"jsonrpc":"2.0","id":4,"error":{"code":-1,"message":"x"}}`,
	} {
		if _, code, msg := checkFrame([]byte(f)); code != 0 {
			t.Errorf("checkFrame(%s) = %d %s, want accepted", f, code, msg)
		}
	}
}

// TestGuardAnswersMalformedFramesAndPassesTheRest runs the guard over
// pipes: valid frames come out unchanged and in order, every other frame
// is answered with its error and nothing else.
func TestGuardAnswersMalformedFramesAndPassesTheRest(t *testing.T) {
	var in strings.Builder
	for i, f := range malformedFrames {
		in.WriteString(f.frame + "\n")
		in.WriteString(`{"jsonrpc":"2.0","id":` + itoa(100+i) + `,"method":"ping"}` + "\r\n")
	}
	in.WriteString("\n   \n")                                    // blank lines are skipped
	in.WriteString(`{"jsonrpc":"2.0","id":999,"method":"ping"}`) // last line without newline
	var out bytes.Buffer
	sdk, err := io.ReadAll(GuardFrames(strings.NewReader(in.String()), NewFrameWriter(&out)))
	if err != nil {
		t.Fatal(err)
	}
	var wantSDK strings.Builder
	for i := range malformedFrames {
		wantSDK.WriteString(`{"jsonrpc":"2.0","id":` + itoa(100+i) + `,"method":"ping"}` + "\n")
	}
	wantSDK.WriteString(`{"jsonrpc":"2.0","id":999,"method":"ping"}` + "\n")
	if string(sdk) != wantSDK.String() {
		t.Errorf("frames passed to the SDK:\n%s\nwant\n%s", sdk, wantSDK.String())
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != len(malformedFrames) {
		t.Fatalf("%d answers for %d malformed frames:\n%s", len(lines), len(malformedFrames), out.String())
	}
	for i, f := range malformedFrames {
		checkErrorFrame(t, lines[i], f.frame, f.code, f.id)
	}
}

func TestGuardRefusesAnOversizedFrameAndGoesOn(t *testing.T) {
	big := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"stdin":"` + strings.Repeat("x", MaxFrameBytes) + `"}}`
	in := big + "\n" + `{"jsonrpc":"2.0","id":2,"method":"ping"}` + "\n"
	var out bytes.Buffer
	sdk, err := io.ReadAll(GuardFrames(strings.NewReader(in), NewFrameWriter(&out)))
	if err != nil {
		t.Fatal(err)
	}
	if string(sdk) != `{"jsonrpc":"2.0","id":2,"method":"ping"}`+"\n" {
		t.Errorf("passed to the SDK: %.200q", sdk)
	}
	msg := checkErrorFrame(t, strings.TrimSpace(out.String()), "oversized", -32600, 1.0)
	if !strings.Contains(msg, "33554432 bytes") || !strings.Contains(msg, "stdin_file") {
		t.Errorf("message %q should name the limit and stdin_file", msg)
	}
}

// TestStdioMalformedFramesKeepTheSession sends every malformed frame to the
// real server while a tool call is in flight: each gets its error, the
// call still answers, and the session goes on.
func TestStdioMalformedFramesKeepTheSession(t *testing.T) {
	s := startStdio(t)
	s.initialize()
	s.send(`{"jsonrpc":"2.0","id":50,"method":"tools/call","params":{"name":"run","arguments":{"command":["sh","-c","sleep 1; echo done"],"until_ms":20000,"settle_ms":0}}}`)
	for _, f := range malformedFrames {
		s.send(f.frame)
		checkErrorFrame(t, s.nextErrorFrame(), f.frame, f.code, f.id)
	}
	s.send(`{"jsonrpc":"2.0","id":51,"method":"ping"}`)
	if r := s.response(51); r["result"] == nil {
		t.Fatalf("ping after malformed frames: %v", r)
	}
	r := s.response(50)
	sc := r["result"].(map[string]any)["structuredContent"].(map[string]any)
	if sc["state"] != "exited" {
		t.Fatalf("in-flight run answered %v", sc)
	}
}

// nextErrorFrame returns the next output line that answers a rejected
// frame (an error response with no result), keeping other answers.
func (s *stdioServer) nextErrorFrame() string {
	s.t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				s.t.Fatalf("stdout closed; stderr:\n%s", s.stderr)
			}
			s.transcript = append(s.transcript, "← "+line)
			var msg map[string]any
			if err := json.Unmarshal([]byte(line), &msg); err != nil {
				s.t.Fatalf("stdout line is not JSON: %q", line)
			}
			if _, isErr := msg["error"]; isErr {
				return line
			}
			id, _ := msg["id"].(float64)
			s.pending[id] = msg
		case <-timeout:
			s.t.Fatalf("no error frame; stderr:\n%s", s.stderr)
		}
	}
}

func checkErrorFrame(t *testing.T, line, frame string, code float64, id any) string {
	t.Helper()
	var msg struct {
		JSONRPC string `json:"jsonrpc"`
		ID      any    `json:"id"`
		Error   struct {
			Code    float64 `json:"code"`
			Message string  `json:"message"`
		} `json:"error"`
		Result any `json:"result"`
	}
	if err := json.Unmarshal([]byte(line), &msg); err != nil {
		t.Fatalf("answer to %.60q is not JSON: %q", frame, line)
	}
	if msg.JSONRPC != "2.0" || msg.Error.Code != code || msg.ID != id || msg.Result != nil || msg.Error.Message == "" {
		t.Errorf("answer to %.60q = %s; want code %v id %v", frame, line, code, id)
	}
	return msg.Error.Message
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// TestSniffID reads the id of a frame cut short only when it comes before
// the cut and is a string or a number.
func TestSniffID(t *testing.T) {
	for prefix, want := range map[string]any{
		`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"x":"aaa`: json.Number("7"),
		`{"id":"a-b","params":`:                          "a-b",
		`{"params":{"id":3},"id":4`:                      nil,
		`{"params":{"id":3},"id":4,`:                     json.Number("4"),
		`{"id":{"x":1},"method":"a"`:                     nil,
		`{"method":"tools/call","params":{"stdin":"xxxx`: nil,
		`[{"id":1}`: nil,
	} {
		if got := sniffID([]byte(prefix)); got != want {
			t.Errorf("sniffID(%s) = %v; want %v", prefix, got, want)
		}
	}
}
