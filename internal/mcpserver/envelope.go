package mcpserver

import (
	"bytes"
	"encoding/json"

	"github.com/agentexec/agentexec"
)

// schemaVersion is the envelope version shared with the CLI and HTTP API.
const schemaVersion = "0.1"

// successEnvelope renders {"schema_version":"0.1","ok":true,"type":T,…payload}
// as compact JSON with the payload keys in their documented (struct) order,
// exactly as the CLI prints it (without the trailing newline).
func successEnvelope(typ string, payload any) ([]byte, error) {
	body, err := marshal(payload)
	if err != nil {
		return nil, err
	}
	t, err := marshal(typ)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(`{"schema_version":"` + schemaVersion + `","ok":true,"type":`)
	b.Write(t)
	if len(body) > 2 { // a non-empty object: splice its members in after type
		b.WriteByte(',')
		b.Write(body[1:])
	} else {
		b.WriteByte('}')
	}
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

// errorEnvelopeJSON renders the error envelope of e (SPEC §1.5); retryable is
// always false and details appear only when the error carries them.
func errorEnvelopeJSON(e *agentexec.Error) []byte {
	b, err := marshal(errorEnvelope{SchemaVersion: schemaVersion, Type: "error",
		Error: errorBody{Code: e.Code, Message: e.Message, Details: e.Details}})
	if err != nil {
		// Only unmarshalable details can get here; drop them rather than
		// answer with something that is not an envelope.
		b, _ = marshal(errorEnvelope{SchemaVersion: schemaVersion, Type: "error",
			Error: errorBody{Code: e.Code, Message: e.Message}})
	}
	return b
}

// marshal encodes v compactly without HTML escaping (SPEC §1.5: <, > and &
// are not escaped).
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
