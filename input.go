package agentexec

import (
	"errors"
	"fmt"

	"github.com/agentexec/agentexec/internal/userfile"
)

// ReadStdinFile reads job input from the file at path for run/create
// --stdin-file and MCP stdin_file (SPEC §3.5). option names the flag or
// property in messages. Only a regular file is read, opened without
// blocking (a FIFO without a writer must not hang the launcher), and at
// most limit bytes: a larger file is stdin_too_large; anything else that
// prevents reading it (missing, a FIFO, a device, a directory) is
// invalid_argument.
func ReadStdinFile(option, path string, limit int64) ([]byte, error) {
	if limit < 0 {
		limit = 0
	}
	data, err := userfile.Read(path, limit)
	switch {
	case err == nil:
		return data, nil
	case errors.Is(err, userfile.ErrTooLarge):
		return nil, &Error{Code: CodeStdinTooLarge, Message: fmt.Sprintf("stdin exceeds %d bytes", limit)}
	}
	msg := fmt.Sprintf("cannot read %s %s: %s", option, path, userfile.Describe(err))
	if option == "--stdin-file" && errors.Is(err, userfile.ErrNotRegular) {
		msg += "; to give the job a pipe's output, use --stdin - and pipe it in"
	}
	return nil, &Error{Code: CodeInvalidArgument, Message: msg, Err: err}
}
