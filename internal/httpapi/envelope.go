package httpapi

import (
	"net/http"

	"github.com/agentexec/agentexec"
)

// statusOf is the single contract-code → HTTP status table (SPEC §5.5).
// invalid_request is 400 here; the router answers its 404, 405 and 415
// variants with an explicit status.
func statusOf(c agentexec.Code) int {
	switch c {
	case agentexec.CodeJobNotFound:
		return http.StatusNotFound
	case agentexec.CodeAmbiguousJobID, agentexec.CodeInvalidState, agentexec.CodeInvalidTag,
		agentexec.CodeInvalidArgument, agentexec.CodeInvalidRequest:
		return http.StatusBadRequest
	case agentexec.CodeUnauthorized:
		return http.StatusUnauthorized
	case agentexec.CodeForbidden:
		return http.StatusForbidden
	case agentexec.CodeStdinTooLarge:
		return http.StatusRequestEntityTooLarge
	case agentexec.CodeLaunchFailed:
		return http.StatusUnprocessableEntity
	}
	return http.StatusInternalServerError
}

// successJSON renders a success envelope line.
func successJSON(typ string, payload any) ([]byte, error) {
	b, err := agentexec.Envelope(typ, payload)
	return append(b, '\n'), err
}

// errorJSON renders the error envelope line of e.
func errorJSON(e *agentexec.Error) []byte { return append(agentexec.ErrorEnvelope(e), '\n') }

// setJSONHeaders sets the headers every JSON response carries (SPEC §5.2).
func setJSONHeaders(h http.Header) {
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}

func writeBody(w http.ResponseWriter, status int, body []byte) {
	setJSONHeaders(w.Header())
	w.WriteHeader(status)
	w.Write(body)
}

// writeOK writes a 200 success envelope.
func writeOK(w http.ResponseWriter, typ string, payload any) error {
	body, err := successJSON(typ, payload)
	if err != nil {
		return err
	}
	writeBody(w, http.StatusOK, body)
	return nil
}

// writeErrorStatus writes the error envelope of e with an explicit status
// (the 404/405/415 variants of invalid_request).
func writeErrorStatus(w http.ResponseWriter, status int, e *agentexec.Error) {
	writeBody(w, status, errorJSON(e))
}

func newError(code agentexec.Code, msg string) *agentexec.Error {
	return &agentexec.Error{Code: code, Message: msg}
}
