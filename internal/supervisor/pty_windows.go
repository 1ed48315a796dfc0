package supervisor

import (
	"os"
	"os/exec"
)

const ptyEOF = 0x04

// ptyTerm does not exist on Windows: --pty jobs fail to launch.
type ptyTerm struct{}

func openPTYChannel(dir string, cols, rows int) (*stdinChannel, *os.File, error) {
	return nil, nil, launchFailed("pseudo-terminal: not supported on Windows")
}

func (s *supervisor) prepareTerminal(cmd *exec.Cmd) {}

func (s *supervisor) startTerminal() error { return nil }

func (t *ptyTerm) finish() {}
