package cli

import (
	"reflect"
	"testing"
	"time"

	"github.com/agentexec/agentexec"
	"github.com/agentexec/agentexec/internal/config"
)

// TestAutoGCOptions: the [gc] keys reach automatic GC — for the CLI, serve
// and mcp alike, which all build their options here (issue #14: max_jobs and
// max_bytes were dropped on the way).
func TestAutoGCOptions(t *testing.T) {
	cfg := config.Default()
	cfg.GCOlderThan, cfg.GCScanLimit, cfg.GCDeleteLimit = 7*24*time.Hour, 50, 5
	cfg.GCMaxJobs, cfg.GCMaxBytes = 2, 1<<20
	want := &agentexec.AutoGCOptions{OlderThan: 7 * 24 * time.Hour, ScanLimit: 50, DeleteLimit: 5, MaxJobs: 2, MaxBytes: 1 << 20}
	if got := autoGCOptions(cfg); !reflect.DeepEqual(got, want) {
		t.Fatalf("autoGCOptions = %+v; want %+v", got, want)
	}
	cfg.GCAuto = false
	if got := autoGCOptions(cfg); got != nil {
		t.Fatalf("gc.auto = false: autoGCOptions = %+v; want nil", got)
	}
	cfg.GCAuto, cfg.GCDeleteLimit = true, 0
	if got := autoGCOptions(cfg); got != nil {
		t.Fatalf("gc.delete_limit = 0: autoGCOptions = %+v; want nil", got)
	}
}
