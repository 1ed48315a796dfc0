package cli

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/goccy/go-yaml"

	"github.com/agentexec/agentexec"
)

// envelopeJSON renders {"schema_version":"0.1","ok":true,"type":T,…payload}
// as one compact line. Keys keep the documented (struct) order.
func envelopeJSON(typ string, payload any) ([]byte, error) {
	body, err := marshal(payload)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(`{"schema_version":"0.1","ok":true,"type":`)
	t, _ := json.Marshal(typ)
	b.Write(t)
	if len(body) > 2 {
		b.WriteByte(',')
		b.Write(body[1:])
	} else {
		b.WriteByte('}')
	}
	b.WriteByte('\n')
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

// ErrorJSON renders the error envelope of e as one compact line.
func ErrorJSON(e *agentexec.Error) []byte {
	b, _ := marshal(errorEnvelope{SchemaVersion: "0.1", Type: "error",
		Error: errorBody{Code: e.Code, Message: e.Message, Details: e.Details}})
	return append(b, '\n')
}

// EnvelopeJSON renders a success envelope (exported for the adapters).
func EnvelopeJSON(typ string, payload any) ([]byte, error) { return envelopeJSON(typ, payload) }

func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// toYAML re-renders a JSON document as a YAML block mapping with the same
// key order.
func toYAML(js []byte) ([]byte, error) {
	var v yaml.MapSlice
	if err := yaml.UnmarshalWithOptions(js, &v, yaml.UseOrderedMap(), yaml.UseJSONUnmarshaler()); err != nil {
		return nil, err
	}
	out, err := yaml.MarshalWithOptions(v, yaml.Indent(2), yaml.IndentSequence(true))
	if err != nil {
		return nil, err
	}
	return append(bytes.TrimRight(out, "\n"), '\n'), nil
}

// write prints one JSON line (or its YAML form) to w.
func write(w io.Writer, js []byte, asYAML bool) error {
	if asYAML {
		y, err := toYAML(js)
		if err != nil {
			return err
		}
		js = y
	}
	_, err := w.Write(js)
	return err
}
