package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/agentexec/agentexec"
)

// statusOf is the single contract-code → HTTP status table (SPEC §5.5).
// invalid_request is 400 here; the router answers its 404, 405 and 415
// variants with an explicit status.
func statusOf(c agentexec.Code) int {
	switch c {
	case agentexec.CodeJobNotFound:
		return http.StatusNotFound
	case agentexec.CodeAmbiguousJobID, agentexec.CodeInvalidState, agentexec.CodeInvalidTag,
		agentexec.CodeInvalidArgument, agentexec.CodeInvalidRequest:
		return http.StatusBadRequest
	case agentexec.CodeUnauthorized:
		return http.StatusUnauthorized
	case agentexec.CodeForbidden:
		return http.StatusForbidden
	case agentexec.CodeStdinTooLarge:
		return http.StatusRequestEntityTooLarge
	case agentexec.CodeLaunchFailed:
		return http.StatusUnprocessableEntity
	}
	return http.StatusInternalServerError
}

// marshal encodes v compactly without HTML escaping, as the CLI does, so
// that both adapters print byte-identical payloads.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// successJSON renders {"schema_version":"0.1","ok":true,"type":T,…payload}:
// the payload's fields follow type at the top level, in struct order.
func successJSON(typ string, payload any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"schema_version":"0.1","ok":true,"type":`)
	t, _ := marshal(typ)
	b.Write(t)
	if payload != nil {
		body, err := marshal(payload)
		if err != nil {
			return nil, err
		}
		if len(body) > 2 {
			b.WriteByte(',')
			b.Write(body[1:])
			b.WriteByte('\n')
			return b.Bytes(), nil
		}
	}
	b.WriteString("}\n")
	return b.Bytes(), nil
}

type errorBody struct {
	Code      agentexec.Code `json:"code"`
	Message   string         `json:"message"`
	Retryable bool           `json:"retryable"`
	Details   any            `json:"details,omitempty"`
}

type errorEnvelope struct {
	SchemaVersion string    `json:"schema_version"`
	OK            bool      `json:"ok"`
	Type          string    `json:"type"`
	Error         errorBody `json:"error"`
}

// errorJSON renders the error envelope of e (retryable is always false).
func errorJSON(e *agentexec.Error) []byte {
	b, err := marshal(errorEnvelope{SchemaVersion: "0.1", Type: "error",
		Error: errorBody{Code: e.Code, Message: e.Message, Details: e.Details}})
	if err != nil {
		b, _ = marshal(errorEnvelope{SchemaVersion: "0.1", Type: "error",
			Error: errorBody{Code: agentexec.CodeInternal, Message: "encode error response: " + err.Error()}})
	}
	return append(b, '\n')
}

// setJSONHeaders sets the headers every JSON response carries (SPEC §5.2).
func setJSONHeaders(h http.Header) {
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}

func writeBody(w http.ResponseWriter, status int, body []byte) {
	setJSONHeaders(w.Header())
	w.WriteHeader(status)
	w.Write(body)
}

// writeOK writes a 200 success envelope.
func writeOK(w http.ResponseWriter, typ string, payload any) error {
	body, err := successJSON(typ, payload)
	if err != nil {
		return err
	}
	writeBody(w, http.StatusOK, body)
	return nil
}

// writeErrorStatus writes the error envelope of e with an explicit status
// (the 404/405/415 variants of invalid_request).
func writeErrorStatus(w http.ResponseWriter, status int, e *agentexec.Error) {
	writeBody(w, status, errorJSON(e))
}

func newError(code agentexec.Code, msg string) *agentexec.Error {
	return &agentexec.Error{Code: code, Message: msg}
}
