package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"regexp"
	"sync"

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
	out, err := yaml.MarshalWithOptions(quoteAmbiguous(v), yaml.Indent(2), yaml.IndentSequence(true))
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

// ambiguousScalar matches plain scalars that the YAML 1.2 core schema reads
// as null, bool, int or float; such strings must be quoted. The library
// already quotes most of them, but not e.g. "1e5".
// Patterns are compiled on first use, not at package initialisation,
// which every process of this binary pays, job supervisors included.
var ambiguousScalar = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(|~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$`)
})

// quotedString is a string rendered double-quoted (JSON quoting is valid
// YAML double-quoted style).
type quotedString string

// MarshalYAML implements yaml.BytesMarshaler.
func (q quotedString) MarshalYAML() ([]byte, error) { return json.Marshal(string(q)) }

// quoteAmbiguous wraps every string value that would not read back as a
// string.
func quoteAmbiguous(v any) any {
	switch x := v.(type) {
	case yaml.MapSlice:
		for i := range x {
			x[i].Value = quoteAmbiguous(x[i].Value)
		}
		return x
	case []any:
		for i := range x {
			x[i] = quoteAmbiguous(x[i])
		}
		return x
	case string:
		if ambiguousScalar().MatchString(x) {
			return quotedString(x)
		}
	}
	return v
}
