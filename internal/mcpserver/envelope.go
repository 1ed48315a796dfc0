package mcpserver

import "github.com/agentexec/agentexec"

// successEnvelope renders the success envelope exactly as the CLI prints it
// (without the trailing newline).
func successEnvelope(typ string, payload any) ([]byte, error) {
	return agentexec.Envelope(typ, payload)
}

// errorEnvelopeJSON renders the error envelope of e (SPEC §1.5).
func errorEnvelopeJSON(e *agentexec.Error) []byte { return agentexec.ErrorEnvelope(e) }
