package main

import (
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/agentexec/agentexec/schema/schematest"
)

// schemavalid: the last stdout validates against the embedded JSON Schema
// (with !, it must not).
func cmdSchemaValid(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 0 {
		ts.Fatalf("usage: schemavalid")
	}
	out := ts.ReadFile("stdout")
	err := schematest.Validate([]byte(out))
	switch {
	case err != nil && !neg:
		ts.Fatalf("stdout does not match the schema: %v\n%s", err, out)
	case err == nil && neg:
		ts.Fatalf("stdout unexpectedly matches the schema:\n%s", out)
	}
}
