package cli

import (
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/agentexec/agentexec/schema"
)

func init() { extraCommands = append(extraCommands, newSchemaCmd) }

// schemaResult is the payload of schema (SPEC §4.14).
type schemaResult struct {
	SchemaFormat string          `json:"schema_format"`
	Schema       json.RawMessage `json:"schema"`
	GeneratedAt  string          `json:"generated_at"`
}

func newSchemaCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of every response (embedded in the binary)",
		Args:  exactArgs(0, ""),
	}
	cmd.RunE = wrapRun(func(cmd *cobra.Command, args []string) error {
		// The raw document keeps its key order; the encoder compacts it
		// onto the single response line.
		return a.respond("schema", schemaResult{
			SchemaFormat: "json-schema-draft-07",
			Schema:       json.RawMessage(schema.JSON),
			GeneratedAt:  schema.GeneratedAt(),
		})
	})
	return cmd
}
