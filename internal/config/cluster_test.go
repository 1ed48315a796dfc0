package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/agentexec/agentexec/internal/config"
)

func loadText(t *testing.T, text string) (config.Config, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return config.Load(p, func(string) string { return "" }, "")
}

func TestBackendSlurmAndLogsSections(t *testing.T) {
	c, err := loadText(t, `
[backend]
default = "slurm"
[slurm]
partition = "debug"
time = "2h"
cpus = 4
mem_mb = 8000
args = ["--qos=normal", "--nice=5"]
[logs]
full_log = false
`)
	if err != nil {
		t.Fatal(err)
	}
	want := config.SlurmDefaults{Partition: "debug", Time: 2 * time.Hour, CPUs: 4, MemMB: 8000, Args: []string{"--qos=normal", "--nice=5"}}
	if c.Backend != "slurm" || !reflect.DeepEqual(c.Slurm, want) || c.FullLog {
		t.Fatalf("got backend %q slurm %+v full_log %v", c.Backend, c.Slurm, c.FullLog)
	}
}

func TestBackendSlurmAndLogsErrors(t *testing.T) {
	for text, key := range map[string]string{
		"[backend]\ndefault = \"k8s\"\n": "backend.default",
		"[backend]\ndefault = 1\n":       "backend.default",
		"[slurm]\npartition = 3\n":       "slurm.partition",
		"[slurm]\ntime = \"soon\"\n":     "slurm.time",
		"[slurm]\ncpus = 0\n":            "slurm.cpus",
		"[slurm]\nmem_mb = \"x\"\n":      "slurm.mem_mb",
		"[slurm]\nargs = \"--a=b\"\n":    "slurm.args",
		"[slurm]\nargs = [1]\n":          "slurm.args",
		"[logs]\nfull_log = \"no\"\n":    "logs.full_log",
	} {
		_, err := loadText(t, text)
		var ce *config.Error
		if !errors.As(err, &ce) || ce.Key != key || !strings.Contains(err.Error(), key) {
			t.Errorf("%q: error %v, want one naming %s", text, err, key)
		}
	}
}
