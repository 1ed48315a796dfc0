// Package store owns the on-disk job store: the layout of <root>/<id>/, the
// meta.json and state.json formats, atomic replacement, job creation through
// a staging directory, the per-job lock and id lookup. It knows formats and
// file names; lifecycle rules live in package agentexec.
package store

import "path/filepath"

// File names inside a job directory (SPEC §2.1).
const (
	MetaFile        = "meta.json"
	StateFile       = "state.json"
	StdoutLog       = "stdout.log"
	StderrLog       = "stderr.log"
	FullLog         = "full.log"
	StdinFile       = "stdin.bin"
	CompletionEvent = "completion_event.json"
	NotificationLog = "notification_events.ndjson"
	LockFile        = ".lock"
	ReserveFile     = ".reserve"
	// KillRequestFile (added in v1.1) is written by kill just before it
	// signals a cluster job, whose supervisor receives the signal too.
	KillRequestFile  = ".kill-request"
	SchemaVersion    = "0.1"
	TimestampLayout  = "2006-01-02T15:04:05Z"
	stagingPrefix    = StagingPrefix
	maxCreateAttempt = 16
)

// Prefixes of the reserved entries crashed writers can leave behind
// (SPEC §2.1, §2.6): staging directories of job creation in the root, job
// directories renamed away for removal in the root, and temporaries of
// atomic writes in job directories.
const (
	StagingPrefix  = ".new-"
	DeletingPrefix = ".del-"
	TempPrefix     = ".tmp-"
)

// Dir returns the directory of job id under root. The id must be valid.
func Dir(root, id string) string { return filepath.Join(root, id) }
