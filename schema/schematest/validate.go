// Package schematest validates agent-exec responses against the embedded
// JSON Schema. It is a separate package so that the validator library (which
// compiles every JSON Schema meta-schema at init) stays out of the
// agent-exec binary; only tests import it.
package schematest

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/agentexec/agentexec/schema"
)

// schemaURL names the embedded document inside the compiler; nothing is
// fetched from it.
const schemaURL = "https://agentexec.invalid/agent-exec.schema.json"

var compiled = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema.JSON))
	if err != nil {
		return nil, fmt.Errorf("parse schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, fmt.Errorf("load schema: %w", err)
	}
	return c.Compile(schemaURL)
})

// Validate checks one JSON document (a CLI response line or an HTTP body)
// against the root schema. The schema is compiled once.
func Validate(doc []byte) error {
	sch, err := compiled()
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("parse document: %w", err)
	}
	return sch.Validate(v)
}
