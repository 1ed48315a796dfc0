package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/agentexec/agentexec"
)

// GET /health: no auth, no payload.
func (s *Server) health(w http.ResponseWriter, r *http.Request, _ string, _ []byte) error {
	return writeOK(w, "health", nil)
}

// GET /status/{id}
func (s *Server) status(w http.ResponseWriter, r *http.Request, id string, _ []byte) error {
	res, err := s.m.Status(r.Context(), id)
	if err != nil {
		return err
	}
	return writeOK(w, "status", res)
}

// GET /screen/{id}: the current screen of a --pty job (SPEC §11.5).
func (s *Server) screen(w http.ResponseWriter, r *http.Request, id string, _ []byte) error {
	res, err := s.m.Screen(r.Context(), id)
	if err != nil {
		return err
	}
	return writeOK(w, "screen", res)
}

// GET /tail/{id}?tail_lines=50&max_bytes=65536&render=raw[&cursor=O.E]
func (s *Server) tail(w http.ResponseWriter, r *http.Request, id string, _ []byte) error {
	q := r.URL.Query()
	lines, err := countParam(q, "tail_lines", 50)
	if err != nil {
		return err
	}
	maxBytes, err := countParam(q, "max_bytes", 65536)
	if err != nil {
		return err
	}
	if q.Has("cursor") {
		res, err := s.m.TailFrom(r.Context(), id, q.Get("cursor"), agentexec.TailOptions{MaxBytes: maxBytes, Render: agentexec.Render(q.Get("render"))})
		if err != nil {
			return err
		}
		return writeOK(w, "tail", res)
	}
	res, err := s.m.Tail(r.Context(), id, agentexec.TailOptions{TailLines: int(lines), MaxBytes: maxBytes, Render: agentexec.Render(q.Get("render"))})
	if err != nil {
		return err
	}
	return writeOK(w, "tail", res)
}

// GET /wait/{id}?until_ms=&tail_lines=50&max_bytes=65536&render=raw
// [&for_output=P&match_type=&stream=&cursor=]. Without until_ms
// the wait lasts until the job is terminal or the client goes away.
func (s *Server) wait(w http.ResponseWriter, r *http.Request, id string, _ []byte) error {
	q := r.URL.Query()
	o := agentexec.WaitOptions{Poll: pollInterval, Forever: true, Render: agentexec.Render(q.Get("render"))}
	if q.Has("until_ms") {
		ms, err := uintParam(q, "until_ms")
		if err != nil {
			return err
		}
		o.Until, o.Forever = millis(ms)
	}
	lines, err := countParam(q, "tail_lines", 50)
	if err != nil {
		return err
	}
	if o.MaxBytes, err = countParam(q, "max_bytes", 65536); err != nil {
		return err
	}
	o.TailLines = int(lines)
	// Readiness by output (SPEC §11.2).
	if q.Has("for_output") {
		o.ForOutput = &agentexec.OutputCondition{Pattern: q.Get("for_output"), MatchType: q.Get("match_type"), Stream: q.Get("stream")}
		o.Cursor = q.Get("cursor")
		if q.Has("cursor") { // an explicit empty cursor is malformed, not "0.0"
			if _, err := agentexec.ParseCursor(o.Cursor); err != nil {
				return err
			}
		}
	} else if q.Has("match_type") || q.Has("stream") || q.Has("cursor") {
		return invalidArg("match_type, stream and cursor require for_output")
	}
	// Readiness by port (SPEC §11.2, §11.4); the Manager rejects it with
	// for_output and out of range.
	if q.Has("for_port") {
		port, err := uintParam(q, "for_port")
		if err != nil {
			return err
		}
		o.ForPort = int(min(port, 1<<20)) // out of range either way
	}
	res, err := s.m.Wait(r.Context(), id, o)
	if err != nil {
		return err
	}
	return writeOK(w, "wait", res)
}

// GET /wait_many?job_id=A&job_id=B&tag=P&name=N&any=true&until_ms=&tail_lines=
// &max_bytes=&render=: wait for several jobs (SPEC §11.6). job_id is repeatable
// (ids, prefixes or @names, in order); tag patterns are ANDed; any
// (true/false, default false) returns when one job is terminal. Without
// until_ms the wait lasts until the condition holds or the client goes away.
func (s *Server) waitMany(w http.ResponseWriter, r *http.Request, _ string, _ []byte) error {
	q := r.URL.Query()
	o := agentexec.WaitManyOptions{IDs: q["job_id"], Tags: q["tag"], Name: q.Get("name"), Poll: pollInterval, Forever: true,
		Render: agentexec.Render(q.Get("render"))}
	if q.Has("name") {
		if err := agentexec.ValidateName(o.Name); err != nil {
			return err
		}
	}
	if q.Has("any") {
		switch v := q.Get("any"); v {
		case "true":
			o.Any = true
		case "false":
		default:
			return invalidArg(fmt.Sprintf("invalid query parameter any=%q: use true or false", v))
		}
	}
	if q.Has("until_ms") {
		ms, err := uintParam(q, "until_ms")
		if err != nil {
			return err
		}
		o.Until, o.Forever = millis(ms)
	}
	lines, err := countParam(q, "tail_lines", 50)
	if err != nil {
		return err
	}
	if o.MaxBytes, err = countParam(q, "max_bytes", 65536); err != nil {
		return err
	}
	o.TailLines = int(lines)
	res, err := s.m.WaitMany(r.Context(), o)
	if err != nil {
		return err
	}
	return writeOK(w, "wait_many", res)
}

// listStates is the set accepted by list --state.
var listStates = map[string]bool{"created": true, "running": true, "exited": true, "killed": true, "failed": true, "unknown": true}

// GET /jobs?state=&tag=…&limit=50&cwd=&all=. all defaults to true unless
// cwd is given: the server's cwd is rarely the caller's.
func (s *Server) jobs(w http.ResponseWriter, r *http.Request, _ string, _ []byte) error {
	q := r.URL.Query()
	limit, err := countParam(q, "limit", 50)
	if err != nil {
		return err
	}
	o := agentexec.ListOptions{Limit: int(limit), Tags: q["tag"], All: !q.Has("cwd")}
	if q.Has("state") {
		st := q.Get("state")
		if !listStates[st] {
			return invalidArg(fmt.Sprintf("invalid query parameter state=%q: use created, running, exited, killed, failed or unknown", st))
		}
		o.State = agentexec.State(st)
	}
	if q.Has("all") {
		switch v := q.Get("all"); v {
		case "true":
			o.All = true
		case "false":
			o.All = false
		default:
			return invalidArg(fmt.Sprintf("invalid query parameter all=%q: use true or false", v))
		}
	}
	if q.Has("cwd") {
		if o.All {
			return invalidArg("query parameters cwd and all=true conflict")
		}
		o.Cwd = q.Get("cwd")
	}
	res, err := s.m.List(r.Context(), o)
	if err != nil {
		return err
	}
	return writeOK(w, "list", res)
}

// POST /kill/{id} with an empty body or {"signal":"…"}.
func (s *Server) kill(w http.ResponseWriter, r *http.Request, id string, body []byte) error {
	var sig string
	if len(bytes.TrimSpace(body)) > 0 {
		fields, err := decodeObject(body)
		if err != nil {
			return err
		}
		if raw, ok := present(fields, "signal"); ok {
			if err := json.Unmarshal(raw, &sig); err != nil {
				return fieldError("signal", "a string")
			}
			if _, _, err := agentexec.ParseSignal(sig); err != nil {
				return err // an explicit "" is not TERM
			}
		}
	}
	res, err := s.m.Kill(r.Context(), id, agentexec.KillOptions{Signal: sig})
	if err != nil {
		return err
	}
	return writeOK(w, "kill", res)
}

// POST /exec: create and launch a job, optionally waiting for it.
func (s *Server) exec(w http.ResponseWriter, r *http.Request, _ string, body []byte) error {
	req, err := parseExec(body)
	if err != nil {
		return err
	}
	res, err := s.m.Run(r.Context(), req)
	if err != nil {
		return err
	}
	// The /exec response never lists env_vars (SPEC §5.3).
	res.EnvVars = nil
	if err := writeOK(w, "run", res); err != nil {
		return err
	}
	// Auto-GC runs only after the response has been written and flushed.
	http.NewResponseController(w).Flush()
	s.scheduleAutoGC(res.JobID)
	return nil
}

func invalidArg(msg string) error { return newError(agentexec.CodeInvalidArgument, msg) }

func invalidRequest(msg string) error { return newError(agentexec.CodeInvalidRequest, msg) }

// uintParam parses a decimal non-negative integer that fits in 64 bits.
func uintParam(q url.Values, name string) (uint64, error) {
	v := q.Get(name)
	ok := v != ""
	for i := 0; i < len(v); i++ {
		ok = ok && v[i] >= '0' && v[i] <= '9'
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if !ok || err != nil {
		return 0, invalidArg(fmt.Sprintf("invalid query parameter %s=%q: expected a non-negative decimal integer", name, v))
	}
	return n, nil
}

// countParam parses a count (SPEC §1.4: fits in 63 bits); absent → def.
func countParam(q url.Values, name string, def int64) (int64, error) {
	if !q.Has(name) {
		return def, nil
	}
	n, err := uintParam(q, name)
	if err != nil {
		return 0, err
	}
	if n > math.MaxInt64 {
		return 0, invalidArg(fmt.Sprintf("invalid query parameter %s=%q: out of range", name, q.Get(name)))
	}
	return int64(n), nil
}

// millis converts a millisecond count to a Duration; values beyond
// time.Duration's range mean "never" (SPEC §1.4).
func millis(ms uint64) (d time.Duration, never bool) {
	if ms > math.MaxInt64/uint64(time.Millisecond) {
		return time.Duration(math.MaxInt64), true
	}
	return time.Duration(ms) * time.Millisecond, false
}
