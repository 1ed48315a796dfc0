//go:build !unix

package supervisor

import (
	"os"
	"syscall"
)

// clusterSignals: Slurm runs on Unix only; this keeps the package building.
var clusterSignals = []os.Signal{syscall.SIGTERM, syscall.SIGINT}
