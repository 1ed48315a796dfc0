package agentexec

import (
	"bytes"
	"encoding/json"
)

// SchemaVersion is the envelope and file-format version of this contract.
const SchemaVersion = "0.1"

// Envelope renders a success response as one compact JSON object without a
// trailing newline: {"schema_version":"0.1","ok":true,"type":typ,…} with the
// payload's fields spliced in after type, in struct (documented) order.
// <, > and & are not escaped. Every adapter prints exactly these bytes.
func Envelope(typ string, payload any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"schema_version":"` + SchemaVersion + `","ok":true,"type":`)
	t, _ := marshalCompact(typ)
	b.Write(t)
	if payload != nil {
		body, err := marshalCompact(payload)
		if err != nil {
			return nil, err
		}
		if len(body) > 2 { // a non-empty object
			b.WriteByte(',')
			b.Write(body[1:])
			return b.Bytes(), nil
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

type errorBody struct {
	Code      Code   `json:"code"`
	Message   string `json:"message"`
	Retryable bool   `json:"retryable"`
	Details   any    `json:"details,omitempty"`
}

type errorEnvelope struct {
	SchemaVersion string    `json:"schema_version"`
	OK            bool      `json:"ok"`
	Type          string    `json:"type"`
	Error         errorBody `json:"error"`
}

// ErrorEnvelope renders the error envelope of e as one compact JSON object
// without a trailing newline; retryable is always false and details appear
// only for the codes that carry them.
func ErrorEnvelope(e *Error) []byte {
	b, err := marshalCompact(errorEnvelope{SchemaVersion: SchemaVersion, Type: "error",
		Error: errorBody{Code: e.Code, Message: e.Message, Details: e.Details}})
	if err != nil { // only unencodable details can get here
		b, _ = marshalCompact(errorEnvelope{SchemaVersion: SchemaVersion, Type: "error",
			Error: errorBody{Code: e.Code, Message: e.Message}})
	}
	return b
}

func marshalCompact(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
