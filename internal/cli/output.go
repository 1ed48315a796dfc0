package cli

import (
	"bytes"
	"io"

	"github.com/goccy/go-yaml"

	"github.com/agentexec/agentexec"
)

// envelopeJSON renders a success envelope line.
func envelopeJSON(typ string, payload any) ([]byte, error) {
	b, err := agentexec.Envelope(typ, payload)
	return append(b, '\n'), err
}

// ErrorJSON renders the error envelope line of e.
func ErrorJSON(e *agentexec.Error) []byte { return append(agentexec.ErrorEnvelope(e), '\n') }

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
