package httpapi

import (
	"math"
	"net/http"

	"github.com/agentexec/agentexec"
)

// sendMaxBody bounds a POST /send body: 1 MiB of input may take six bytes
// per byte as JSON (\u0001), and the Manager refuses more than 1 MiB.
const sendMaxBody = 8 << 20

// POST /send/{id} with {"text","newline","keys","eof","until_ms",
// "wait_for_output","match_type","stream","wait_for_port","max_bytes",
// "render"} (SPEC §11.5): text, then a newline, then the keys, then EOF.
func (s *Server) send(w http.ResponseWriter, r *http.Request, id string, body []byte) error {
	if len(body) == 0 {
		return invalidRequest("request body is required")
	}
	fields, err := decodeObject(body)
	if err != nil {
		return err
	}
	const uintWant = "a non-negative integer"
	var (
		text, render      string
		keys              []string
		newline, eof      bool
		untilMS, maxBytes uint64
		forOutput         agentexec.OutputCondition
		forPort           uint64
	)
	d := fieldDecoder{fields: fields}
	d.get("text", "a string", &text)
	d.get("newline", "a boolean", &newline)
	d.get("keys", "an array of key names", &keys)
	d.get("eof", "a boolean", &eof)
	hasUntil := d.get("until_ms", uintWant, &untilMS)
	hasForOutput := d.get("wait_for_output", "a string", &forOutput.Pattern)
	hasMatchType := d.get("match_type", `"contains" or "regex"`, &forOutput.MatchType)
	hasStream := d.get("stream", `"stdout", "stderr" or "either"`, &forOutput.Stream)
	hasForPort := d.get("wait_for_port", "a TCP port (1-65535)", &forPort)
	d.get("max_bytes", uintWant, &maxBytes)
	d.get("render", "a string", &render)
	if d.err != nil {
		return d.err
	}
	if (hasMatchType || hasStream) && !hasForOutput {
		return invalidArg("match_type and stream require wait_for_output")
	}
	o := agentexec.SendOptions{EOF: eof, MaxBytes: int64(min(maxBytes, math.MaxInt64)), Render: agentexec.Render(render)}
	if text != "" {
		o.Parts = append(o.Parts, agentexec.SendPart{Text: text})
	}
	if newline {
		o.Parts = append(o.Parts, agentexec.SendPart{Newline: true})
	}
	for _, k := range keys {
		if k == "" {
			return invalidArg("keys must not contain an empty name")
		}
		o.Parts = append(o.Parts, agentexec.SendPart{Key: k})
	}
	if len(o.Parts) == 0 && !eof {
		return invalidArg("send needs text, newline, keys or eof")
	}
	if hasUntil { // 0 is the default; over an hour the Manager refuses
		o.Until, _ = millis(min(untilMS, 1<<40))
	}
	if hasForOutput {
		o.WaitForOutput = &forOutput
	}
	if hasForPort {
		o.WaitForPort = int(min(forPort, 1<<20)) // out of range either way
	}
	res, err := s.m.Send(r.Context(), id, o)
	if err != nil {
		return err
	}
	return writeOK(w, "send", res)
}
