// Package schema embeds the JSON Schema (draft-07) of every agent-exec
// response: the error envelope and one success envelope per response type.
// The same file is kept in the repository as schema/agent-exec.schema.json
// and printed by `agent-exec schema`.
package schema

import (
	_ "embed"
	"encoding/json"
)

// JSON is the schema document exactly as stored in agent-exec.schema.json.
//
//go:embed agent-exec.schema.json
var JSON []byte

// GeneratedAt returns the schema's $comment, the RFC 3339 timestamp of the
// schema revision.
func GeneratedAt() string {
	var doc struct {
		Comment string `json:"$comment"`
	}
	json.Unmarshal(JSON, &doc)
	return doc.Comment
}
