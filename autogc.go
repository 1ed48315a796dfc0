package agentexec

import (
	"context"
	"time"
)

// AutoGCOptions bound the automatic cleanup after a launch (SPEC §3.12).
type AutoGCOptions struct {
	OlderThan    time.Duration // default 30d
	ScanLimit    int           // default 200
	DeleteLimit  int           // default 20
	JustLaunched string        // never a candidate
}

// AutoGC performs the bounded, best-effort cleanup; it ignores all errors.
// Serve and MCP call it in the background, at most one at a time.
// (Implemented with gc, issue 4.)
func (m *Manager) AutoGC(ctx context.Context, o AutoGCOptions) {}
