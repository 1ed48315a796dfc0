package cli

import (
	"time"

	"github.com/spf13/pflag"

	"github.com/agentexec/agentexec"
)

// backendFlags are the definition flags that choose where a job runs (SPEC
// §11.7): --backend and the Slurm submission options. The configuration's
// [backend] and [slurm] defaults reach the core through Options.
type backendFlags struct {
	backend   string
	partition string
	time      time.Duration
	cpus      int64
	memMB     int64
	args      []string
	noFullLog bool
}

func (b *backendFlags) register(fs *pflag.FlagSet) {
	fs.Var(enumValue{&b.backend, []string{"local", "slurm"}}, "backend", "where the job runs: local|slurm (default: config [backend] default, else local)")
	fs.StringVar(&b.partition, "slurm-partition", "", "Slurm partition (sbatch --partition)")
	addDuration(fs, &b.time, "slurm-time", 0, "Slurm time limit (sbatch --time), e.g. 2h")
	addCount(fs, &b.cpus, "slurm-cpus", 0, "CPUs for the job (sbatch --cpus-per-task)")
	addCount(fs, &b.memMB, "slurm-mem", 0, "memory in MB (sbatch --mem)")
	fs.StringArrayVar(&b.args, "slurm-arg", nil, "further sbatch argument, one --key=value (repeatable)")
	fs.BoolVar(&b.noFullLog, "no-full-log", false, "do not write full.log (stdout.log and stderr.log are kept; default: config [logs] full_log)")
}

// apply sets the backend flags given on the command line into s.
func (b *backendFlags) apply(s *agentexec.JobSpec) {
	s.Backend, s.NoFullLog = b.backend, b.noFullLog
	s.Slurm = agentexec.SlurmSpec{Partition: b.partition, Time: b.time, CPUs: int(b.cpus), MemMB: b.memMB, Args: b.args}
}
