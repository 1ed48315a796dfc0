package agentexec

import (
	"errors"
	"fmt"
	"strings"
)

// Code is a stable error code of the contract (SPEC §1.7).
type Code string

// Error codes. Their meaning, exit code and HTTP status are frozen.
const (
	CodeJobNotFound         Code = "job_not_found"
	CodeAmbiguousJobID      Code = "ambiguous_job_id"
	CodeInvalidState        Code = "invalid_state"
	CodeInvalidTag          Code = "invalid_tag"
	CodeInvalidArgument     Code = "invalid_argument"
	CodeInvalidConfig       Code = "invalid_config"
	CodeLaunchFailed        Code = "launch_failed"
	CodeStdinTooLarge       Code = "stdin_too_large"
	CodeStdinRequired       Code = "stdin_required"
	CodeUnauthorized        Code = "unauthorized"
	CodeForbidden           Code = "forbidden"
	CodeInvalidRequest      Code = "invalid_request"
	CodeServeUnsafeBind     Code = "serve_unsafe_bind"
	CodeUnknownSourceScheme Code = "unknown_source_scheme"
	CodeInternal            Code = "internal_error"
)

// Error is the contract error: a stable code, a human message and, for
// ambiguous_job_id and launch_failed, details.
type Error struct {
	Code    Code
	Message string
	Details any // *AmbiguousDetails, *LaunchFailedDetails or nil
	Err     error
}

// AmbiguousDetails are the details of ambiguous_job_id.
type AmbiguousDetails struct {
	Candidates []string `json:"candidates"`
	Truncated  bool     `json:"truncated"`
}

// LaunchFailedDetails are the details of launch_failed.
type LaunchFailedDetails struct {
	JobID string `json:"job_id"`
	State State  `json:"state"`
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.Err }

// Is matches another *Error by code, so errors.Is(err, ErrJobNotFound) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	ErrJobNotFound    = &Error{Code: CodeJobNotFound}
	ErrAmbiguousJobID = &Error{Code: CodeAmbiguousJobID}
	ErrInvalidState   = &Error{Code: CodeInvalidState}
	ErrInvalidArg     = &Error{Code: CodeInvalidArgument}
	ErrLaunchFailed   = &Error{Code: CodeLaunchFailed}
	ErrInternal       = &Error{Code: CodeInternal}
)

func newError(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// internalError wraps an unexpected failure as internal_error.
func internalError(err error) *Error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	return &Error{Code: CodeInternal, Message: err.Error(), Err: err}
}

// AsError converts any error into a contract *Error (internal_error unless it
// already is one).
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	return internalError(err)
}

func ambiguousError(prefix string, candidates []string) *Error {
	shown := candidates
	msg := "ambiguous job ID prefix '" + prefix + "': matches "
	if len(shown) > 5 {
		msg += strings.Join(shown[:5], ", ") + fmt.Sprintf(", ... and %d more", len(shown)-5)
	} else {
		msg += strings.Join(shown, ", ")
	}
	d := &AmbiguousDetails{Candidates: candidates}
	if len(candidates) > 20 {
		d.Candidates = candidates[:20]
		d.Truncated = true
	}
	return &Error{Code: CodeAmbiguousJobID, Message: msg, Details: d}
}

func notFoundError(given string) *Error {
	return newError(CodeJobNotFound, "job not found: %s", given)
}

func invalidIDError(given string) *Error {
	return newError(CodeJobNotFound, "job not found: invalid job id %q: job ids contain only ASCII letters and digits", given)
}
