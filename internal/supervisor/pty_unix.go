//go:build !windows

package supervisor

import (
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/agentexec/agentexec/internal/store"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// ptyEOF is the terminal's end-of-file character (^D), what send --eof
// writes to a --pty job.
const ptyEOF = 0x04

// ptyDrainBound is how long the job's end waits for the terminal's output
// to reach stdout.log: a descendant that keeps the terminal open would
// otherwise hold the final state back.
const ptyDrainBound = 2 * time.Second

// ptyTerm is the pseudo-terminal of a --pty job (SPEC §11.5). The master
// stays with the supervisor: a goroutine copies what the job writes to
// stdout.log raw, and send writes to a duplicate of it.
type ptyTerm struct {
	master  *os.File
	slave   *os.File // the child's stdin, stdout and stderr; closed once spawned
	done    chan struct{}
	started bool
}

// openPTYChannel makes the terminal and the control socket that feeds it.
// It returns the slave for the child.
func openPTYChannel(dir string, cols, rows int) (*stdinChannel, *os.File, error) {
	master, slave, err := pty.Open()
	if err != nil {
		return nil, nil, launchFailed("pseudo-terminal: %s", reason(err))
	}
	fail := func(what string, err error) (*stdinChannel, *os.File, error) {
		master.Close()
		slave.Close()
		return nil, nil, launchFailed("%s: %s", what, reason(err))
	}
	if err := pty.Setsize(master, &pty.Winsize{Cols: uint16(cols), Rows: uint16(rows)}); err != nil {
		return fail("pseudo-terminal size", err)
	}
	// A duplicate of the master for writing, taken without Fd() (which
	// would switch the shared description to blocking mode and lose the
	// write deadlines): send --eof closes it while the output keeps flowing.
	raw, err := master.SyscallConn()
	if err != nil {
		return fail("pseudo-terminal", err)
	}
	var dup int
	var dupErr error
	if err := raw.Control(func(fd uintptr) { dup, dupErr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return fail("pseudo-terminal", err)
	}
	if dupErr != nil {
		return fail("pseudo-terminal", dupErr)
	}
	w := os.NewFile(uintptr(dup), "ptmx")
	c, err := newStdinChannel(dir, w)
	if err != nil {
		master.Close()
		slave.Close()
		return nil, nil, err
	}
	c.term = &ptyTerm{master: master, slave: slave, done: make(chan struct{})}
	return c, slave, nil
}

// prepareTerminal puts the command of a --pty job on the terminal: the
// slave is its stdin, stdout and stderr and its controlling terminal, and
// TERM names what the screen emulator understands.
func (s *supervisor) prepareTerminal(cmd *exec.Cmd) {
	if s.stdin == nil || s.stdin.term == nil {
		return
	}
	t := s.stdin.term
	cmd.Stdin, cmd.Stdout, cmd.Stderr = t.slave, t.slave, t.slave
	cmd.SysProcAttr.Setsid, cmd.SysProcAttr.Setctty, cmd.SysProcAttr.Ctty = true, true, 0
	cmd.Env = append(cmd.Env, "TERM=xterm-256color") // the last value of a key wins
}

// startTerminal begins copying the terminal's output to stdout.log once
// the child holds the slave. The supervisor's own copy of the slave is
// closed, so that the master reads EIO when the last process using the
// terminal is gone.
func (s *supervisor) startTerminal() error {
	if s.stdin == nil || s.stdin.term == nil {
		return nil
	}
	t := s.stdin.term
	out, err := openAppend(filepath.Join(s.dir, store.StdoutLog))
	if err != nil {
		return err
	}
	t.slave.Close()
	t.started = true
	go func() {
		defer close(t.done)
		defer out.Close()
		buf := make([]byte, 64<<10)
		for {
			n, err := t.master.Read(buf)
			if n > 0 {
				if _, werr := out.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return // EIO: every process using the terminal is gone
			}
		}
	}()
	return nil
}

// finish waits, bounded, for the output copy, then closes the master.
func (t *ptyTerm) finish() {
	if t.started {
		select {
		case <-t.done:
		case <-time.After(ptyDrainBound):
		}
	} else {
		t.slave.Close()
	}
	t.master.Close()
}
