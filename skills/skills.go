// Package skills embeds the agent skill that `agent-exec install-skills`
// writes into .agents/skills/: a SKILL.md teaching an agent to use
// agent-exec, and its reference documents.
package skills

import (
	"embed"
	"io/fs"
)

//go:embed agent-exec/SKILL.md agent-exec/references/*.md
var files embed.FS

// Name is the name of the bundled skill (its directory name).
const Name = "agent-exec"

// FS returns the bundled skill's files, rooted at the skill directory
// (SKILL.md, references/cli-contract.md, …).
func FS() fs.FS {
	sub, err := fs.Sub(files, Name)
	if err != nil {
		panic(err) // the embedded directory exists by construction
	}
	return sub
}
