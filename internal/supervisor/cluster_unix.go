//go:build unix

package supervisor

import (
	"os"
	"syscall"
)

// clusterSignals are the signals kill may ask Slurm to deliver.
var clusterSignals = []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2}
