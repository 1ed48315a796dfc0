package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/agentexec/agentexec"
)

// decodeObject parses a request body that must be one JSON object into its
// raw fields. Fields are then decoded one by one with exact, case-sensitive
// names (encoding/json would match "Command" to "command") and a precise
// message for the first field of the wrong type.
func decodeObject(body []byte) (map[string]json.RawMessage, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		if !json.Valid(trimmed) {
			var v any
			err := json.Unmarshal(trimmed, &v)
			return nil, invalidRequest("invalid JSON: " + jsonDetail(err))
		}
		return nil, invalidRequest("invalid JSON: expected a JSON object")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &fields); err != nil {
		return nil, invalidRequest("invalid JSON: " + jsonDetail(err))
	}
	return fields, nil
}

func jsonDetail(err error) string {
	if se, ok := err.(*json.SyntaxError); ok {
		return fmt.Sprintf("%v at offset %d", se, se.Offset)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// present returns a field's raw value unless it is absent or null (both
// mean "use the default", as in the original serde-based server).
func present(fields map[string]json.RawMessage, name string) (json.RawMessage, bool) {
	raw, ok := fields[name]
	if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, false
	}
	return raw, true
}

func fieldError(name, want string) error {
	return invalidRequest(fmt.Sprintf("invalid JSON: field %q: expected %s", name, want))
}

// fieldDecoder decodes fields of an object and keeps the first error.
type fieldDecoder struct {
	fields map[string]json.RawMessage
	err    error
}

// get decodes a present field into dst and reports whether it was present;
// absent and null leave dst untouched.
func (d *fieldDecoder) get(name, want string, dst any) bool {
	if d.err != nil {
		return false
	}
	raw, ok := present(d.fields, name)
	if !ok {
		return false
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		d.err = fieldError(name, want)
		return false
	}
	return true
}

// parseExec turns a POST /exec body (SPEC §5.3) into a run request: the
// original fields command, cwd, env, timeout_ms, wait plus the additions.
func parseExec(body []byte) (agentexec.RunRequest, error) {
	var req agentexec.RunRequest
	if len(body) == 0 {
		return req, invalidRequest("request body is required")
	}
	fields, err := decodeObject(body)
	if err != nil {
		return req, err
	}
	const uintWant = "a non-negative integer"
	var (
		command, tags                   []string
		cwd, stdin, name, render        string
		backend                         string
		env                             map[string]string
		wait, ensure, agentEnv          bool
		timeoutMS, killAfterMS, untilMS uint64
		tailLines, maxBytes             uint64 = 50, 65536
		settleMS                        uint64 = uint64(agentexec.DefaultSettle / time.Millisecond)
		timeoutSecs                     float64
	)
	d := fieldDecoder{fields: fields}
	d.get("command", "an array of strings", &command)
	d.get("cwd", "a string", &cwd)
	d.get("env", "an object of strings", &env)
	hasTimeoutMS := d.get("timeout_ms", uintWant, &timeoutMS)
	d.get("wait", "a boolean", &wait)
	hasTimeout := d.get("timeout", "a non-negative number", &timeoutSecs)
	if hasTimeout && timeoutSecs < 0 && d.err == nil {
		d.err = fieldError("timeout", "a non-negative number")
	}
	d.get("kill_after_ms", uintWant, &killAfterMS)
	hasUntil := d.get("until_ms", uintWant, &untilMS)
	d.get("tail_lines", uintWant, &tailLines)
	d.get("max_bytes", uintWant, &maxBytes)
	d.get("tags", "an array of strings", &tags)
	hasStdin := d.get("stdin", "a string", &stdin)
	hasName := d.get("name", "a string", &name)
	d.get("ensure", "a boolean", &ensure)
	d.get("settle_ms", uintWant, &settleMS)
	d.get("render", "a string", &render)
	d.get("agent_env", "a boolean", &agentEnv)
	d.get("backend", `"local" or "slurm"`, &backend)
	// Process tree and idleness (SPEC §11.4).
	var descendants string
	var idleTimeoutMS uint64
	d.get("descendants", `"leave", "kill" or "wait"`, &descendants)
	d.get("idle_timeout_ms", uintWant, &idleTimeoutMS)
	var interactive bool
	d.get("interactive", "a boolean", &interactive) // SPEC §11.5
	var pty bool
	d.get("pty", "a boolean", &pty)
	// Readiness by output (SPEC §11.2).
	var forOutput agentexec.OutputCondition
	hasForOutput := d.get("wait_for_output", "a string", &forOutput.Pattern)
	hasMatchType := d.get("match_type", `"contains" or "regex"`, &forOutput.MatchType)
	hasStream := d.get("stream", `"stdout", "stderr" or "either"`, &forOutput.Stream)
	var forPort uint64
	hasForPort := d.get("wait_for_port", "a TCP port (1-65535)", &forPort)
	if d.err != nil {
		return req, d.err
	}
	if len(command) == 0 {
		return req, invalidRequest("command field is required and must be non-empty")
	}
	if hasTimeout && hasTimeoutMS {
		return req, invalidRequest("timeout and timeout_ms are mutually exclusive")
	}
	if hasName {
		if err := agentexec.ValidateName(name); err != nil {
			return req, err
		}
	}
	if ensure && !hasName {
		return req, invalidRequest("ensure requires name")
	}
	req.Ensure = ensure
	spec := agentexec.JobSpec{Command: command, Cwd: cwd, Tags: tags, Name: name, AgentEnv: agentEnv, Backend: backend}
	spec.Timeout, _ = millis(timeoutMS)
	if hasTimeout {
		spec.Timeout, _ = millis(secondsToMillis(timeoutSecs))
	}
	spec.KillAfter, _ = millis(killAfterMS)
	spec.Descendants = descendants
	spec.IdleTimeout, _ = millis(idleTimeoutMS)
	spec.Interactive = interactive
	spec.PTY = pty
	// env is applied in key order so that the stored env_vars are stable.
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if strings.Contains(k, "=") {
			return req, invalidArg(fmt.Sprintf("invalid env key %q: must not contain '='", k))
		}
		spec.Env = append(spec.Env, k+"="+env[k])
	}
	if hasStdin {
		spec.Stdin, spec.HasStdin = []byte(stdin), true
	}
	req.Spec = spec
	req.Observe = agentexec.ObserveOptions{
		NoWait:    true,
		Wait:      wait,
		Forever:   wait && !hasUntil,
		Poll:      pollInterval,
		TailLines: int(min(tailLines, math.MaxInt)),
		MaxBytes:  int64(min(maxBytes, math.MaxInt64)),
		Render:    agentexec.Render(render),
	}
	// /exec has no snapshot delay of its own today; settle_ms applies to
	// any observation phase it gains.
	req.Observe.Settle, _ = millis(settleMS)
	if hasUntil {
		var never bool
		req.Observe.Until, never = millis(untilMS)
		req.Observe.Forever = wait && never
	}
	if (hasMatchType || hasStream) && !hasForOutput {
		return req, invalidArg("match_type and stream require wait_for_output")
	}
	if hasForPort {
		if forPort < 1 || forPort > 65535 {
			return req, invalidArg(fmt.Sprintf("invalid wait_for_port %d: use a TCP port 1-65535", forPort))
		}
		req.Observe.ForPort = int(forPort) // exclusive with wait_for_output: the Manager says so
	}
	if hasForOutput || hasForPort {
		// Waits like wait:true but returns at the match; the deadline is
		// until_ms, 30000 by default.
		if hasForOutput {
			req.Observe.ForOutput = &forOutput
		}
		req.Observe.Until, req.Observe.Forever = 30*time.Second, false
		if hasUntil {
			req.Observe.Until, req.Observe.Forever = millis(untilMS)
		}
	}
	return req, nil
}

// secondsToMillis is ceil(s × 1000), saturating.
func secondsToMillis(s float64) uint64 {
	ms := math.Ceil(s * 1000)
	if ms >= math.MaxUint64 {
		return math.MaxUint64
	}
	return uint64(ms)
}
