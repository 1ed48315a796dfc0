package cli

import (
	"time"

	"github.com/spf13/pflag"

	"github.com/agentexec/agentexec"
	"github.com/agentexec/agentexec/internal/config"
)

// backendFlags are the definition flags that choose where a job runs (SPEC
// §11.7): --backend and the Slurm submission options.
type backendFlags struct {
	backend   string
	partition string
	time      time.Duration
	cpus      int64
	memMB     int64
	args      []string
}

func (b *backendFlags) register(fs *pflag.FlagSet) {
	fs.Var(enumValue{&b.backend, []string{"local", "slurm"}}, "backend", "where the job runs: local|slurm (default from config [backend] default, else local)")
	fs.StringVar(&b.partition, "slurm-partition", "", "Slurm partition (sbatch --partition)")
	addDuration(fs, &b.time, "slurm-time", 0, "Slurm time limit (sbatch --time), e.g. 2h")
	addCount(fs, &b.cpus, "slurm-cpus", 0, "CPUs for the job (sbatch --cpus-per-task)")
	addCount(fs, &b.memMB, "slurm-mem", 0, "memory in MB (sbatch --mem)")
	fs.StringArrayVar(&b.args, "slurm-arg", nil, "further sbatch argument, one --key=value (repeatable)")
}

// apply sets the backend of s: the flags, over the configuration's defaults.
func (b *backendFlags) apply(fs *pflag.FlagSet, s *agentexec.JobSpec, cfg config.Config) {
	s.Backend = cfg.Backend
	if fs.Changed("backend") {
		s.Backend = b.backend
	}
	if s.Backend != "slurm" {
		// Slurm options without the Slurm backend are refused by the core
		// only when given here; configured defaults simply do not apply.
		s.Slurm = agentexec.SlurmSpec{Partition: b.partition, Time: b.time, CPUs: int(b.cpus), MemMB: b.memMB, Args: b.args}
		return
	}
	d := cfg.Slurm
	s.Slurm = agentexec.SlurmSpec{Partition: d.Partition, Time: d.Time, CPUs: d.CPUs, MemMB: d.MemMB, Args: d.Args}
	if fs.Changed("slurm-partition") {
		s.Slurm.Partition = b.partition
	}
	if fs.Changed("slurm-time") {
		s.Slurm.Time = b.time
	}
	if fs.Changed("slurm-cpus") {
		s.Slurm.CPUs = int(b.cpus)
	}
	if fs.Changed("slurm-mem") {
		s.Slurm.MemMB = b.memMB
	}
	if fs.Changed("slurm-arg") {
		s.Slurm.Args = append(append([]string(nil), d.Args...), b.args...)
	}
}
