package cli

import "github.com/agentexec/agentexec/internal/config"

// scheduleAutoGC arranges the bounded automatic cleanup (SPEC §3.12) to run
// after the response is written. Implemented with gc (issue 4).
func (a *app) scheduleAutoGC(cfg config.Config, disabled bool, justLaunched string) {}
