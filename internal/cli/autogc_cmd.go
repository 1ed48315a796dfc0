package cli

import (
	"context"
	"time"

	"github.com/agentexec/agentexec"
	"github.com/agentexec/agentexec/internal/config"
)

// scheduleAutoGC arranges the bounded automatic cleanup (SPEC §3.12) to run
// after the response is written (Main runs a.after only on exit code 0). It
// prints nothing and ignores every error.
func (a *app) scheduleAutoGC(cfg config.Config, disabled bool, justLaunched string) {
	gc := autoGCOptions(cfg)
	if disabled || gc == nil {
		return
	}
	gc.JustLaunched = justLaunched
	a.after = func() {
		m, err := a.manager(&cfg)
		if err != nil {
			return
		}
		defer m.Close()
		m.AutoGC(context.Background(), *gc)
	}
}

// autoGCOptions are the configured bounds of automatic GC ([gc]); nil when
// it is off. The CLI, serve and mcp all use them.
func autoGCOptions(cfg config.Config) *agentexec.AutoGCOptions {
	if !cfg.GCAuto || cfg.GCDeleteLimit <= 0 {
		return nil
	}
	olderThan := cfg.GCOlderThan
	if olderThan <= 0 {
		// AutoGCOptions reads 0 as "the default"; a configured "0s" means
		// every terminal job is old enough.
		olderThan = time.Nanosecond
	}
	return &agentexec.AutoGCOptions{
		OlderThan: olderThan, ScanLimit: cfg.GCScanLimit, DeleteLimit: cfg.GCDeleteLimit,
		MaxJobs: cfg.GCMaxJobs, MaxBytes: cfg.GCMaxBytes,
	}
}
