package slurm

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// needCluster skips without a reachable cluster, unless CI requires one
// (REQUIRE_SLURM_CLUSTER=1), where a missing cluster fails the test.
func needCluster(t *testing.T) {
	t.Helper()
	if Available(context.Background()) {
		return
	}
	if os.Getenv("REQUIRE_SLURM_CLUSTER") != "" {
		t.Fatal("no Slurm cluster answers, and REQUIRE_SLURM_CLUSTER is set (start one with scripts/slurm-dev-cluster.sh)")
	}
	t.Skip("no Slurm cluster answers `scontrol ping`; start one with scripts/slurm-dev-cluster.sh")
}

func TestValidArg(t *testing.T) {
	for _, ok := range []string{"--begin=now+1hour", "--nice=10", "--qos=normal", "--constraint=a&b"} {
		if err := ValidArg(ok); err != nil {
			t.Errorf("ValidArg(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"", "--nice", "-p=x", "--wrap", "x=y", "--a=b\n--c=d", "--Output=x"} {
		if err := ValidArg(bad); err == nil {
			t.Errorf("ValidArg(%q) = nil, want an error", bad)
		}
	}
}

func TestLongTimeUnits(t *testing.T) {
	for in, want := range map[string]string{
		"--begin=now+1h":    "--begin=now+1hours",
		"--begin=now+90m":   "--begin=now+90minutes",
		"--begin=now+2d":    "--begin=now+2days",
		"--begin=now+1hour": "--begin=now+1hour",
		"--begin=16:00":     "--begin=16:00",
		"--nice=1h":         "--nice=1h",
		"--begin=now+1h30m": "--begin=now+1h30m",
		"--comment=now+1h":  "--comment=now+1h",
	} {
		if got := longTimeUnits(in); got != want {
			t.Errorf("longTimeUnits(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFormatTime(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Second:                      "0-00:00:01",
		1500 * time.Millisecond:          "0-00:00:02",
		90 * time.Minute:                 "0-01:30:00",
		49*time.Hour + 2*time.Second:     "2-01:00:02",
		time.Millisecond:                 "0-00:00:01",
		24*time.Hour - time.Nanosecond*0: "1-00:00:00",
	} {
		if got := FormatTime(d); got != want {
			t.Errorf("FormatTime(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestSubmitQueryCancel(t *testing.T) {
	needCluster(t)
	ctx := context.Background()
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	id, err := Submit(ctx, SubmitOptions{
		Name:   "agent-exec-slurm-test",
		Script: "#!/bin/sh\necho \"$SLURM_JOB_ID\" > " + marker + "\n",
		Dir:    dir,
		Env:    os.Environ(),
	})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(marker)
		if strings.TrimSpace(string(b)) == id {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s did not write its SLURM_JOB_ID within 60 s (got %q)", id, b)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// A job held until later stays pending and can be cancelled.
	held, err := Submit(ctx, SubmitOptions{Name: "agent-exec-slurm-held", Script: "#!/bin/sh\ntrue\n", Dir: dir,
		Env: os.Environ(), Args: []string{"--begin=now+1hour"}})
	if err != nil {
		t.Fatalf("Submit held: %v", err)
	}
	info, err := Query(ctx, held)
	if err != nil || !info.Known || info.State != "PENDING" || !info.Pending() {
		t.Fatalf("Query(held) = %+v, %v; want known PENDING", info, err)
	}
	if err := Cancel(ctx, held); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	info, err = Query(ctx, held)
	if err != nil || info.State != "CANCELLED" || info.Active() {
		t.Fatalf("Query(cancelled) = %+v, %v; want CANCELLED", info, err)
	}

	if info, err := Query(ctx, "999999999"); err != nil || info.Known {
		t.Fatalf("Query(unknown) = %+v, %v; want unknown, nil", info, err)
	}
}

func TestSubmitRejected(t *testing.T) {
	needCluster(t)
	_, err := Submit(context.Background(), SubmitOptions{Name: "x", Script: "#!/bin/sh\ntrue\n", Dir: t.TempDir(),
		Partition: "no-such-partition"})
	se, ok := err.(*Error)
	if !ok || se.Op != "sbatch" || !strings.Contains(se.Message, "nvalid partition") {
		t.Fatalf("Submit with a bad partition = %v, want sbatch error naming the partition", err)
	}
	if _, err := Submit(context.Background(), SubmitOptions{Name: "x", Script: "#!/bin/sh\n", Args: []string{"--nice"}}); err == nil ||
		!strings.Contains(err.Error(), "--key=value") {
		t.Fatalf("Submit with a bad argument = %v, want a validation error", err)
	}
}
