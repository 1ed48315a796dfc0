package mcpserver

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/agentexec/agentexec"
)

// instructions are sent at initialisation to tell an agent how the tools fit
// together.
const instructions = `agent-exec runs shell commands as detached, persistent jobs that keep running after a tool call returns (and after this server exits).
Typical flow: "run" starts a job and returns its job_id, waiting up to until_ms for it to finish; if the result's state is still "running", call "wait" (bounded, call it again as needed) or "status", read output with "tail", stop it with "kill", and find jobs with "list".
All durations are milliseconds. Every result is a JSON envelope: "ok":true with the fields of the operation, or "ok":false with error.code and error.message.`

// renderProperty is the render input of every tool that returns output
// (SPEC §11.8): terminal is the MCP default.
const renderProperty = `"render":{"type":"string","enum":["raw","terminal"],"default":"terminal","description":"How output text is presented: terminal (default) removes ANSI colour/escape sequences, keeps only the last redraw of a carriage-return progress line, and cuts lines longer than 2000 bytes to their first 1000 and last 500 bytes; raw returns the log bytes as written (decoded as UTF-8)."}`

// Input schemas (SPEC §6.2). Each is an object with additionalProperties
// false; the SDK validates arguments against them and applies the defaults
// before a handler runs, so a call that violates one never reaches the
// Manager.
const (
	runSchema = `{"type":"object","additionalProperties":false,"required":["command"],"properties":{
"command":{"type":"array","items":{"type":"string"},"minItems":1,"description":"The command. One element is a shell string run through the configured shell wrapper (sh -lc by default), e.g. [\"npm test 2>&1 | tail -5\"]; several elements are executed directly as argv, e.g. [\"make\",\"-j4\",\"test\"]."},
"cwd":{"type":"string","description":"Working directory of the job. Relative paths resolve against the server's working directory, which is also the default."},
"env":{"type":"object","additionalProperties":{"type":"string"},"description":"Extra environment variables for the job, e.g. {\"CI\":\"1\"}. The job also inherits the server's environment."},
"timeout_ms":{"type":"integer","minimum":0,"description":"Runtime limit in milliseconds; when it passes the job's process group gets SIGTERM (and SIGKILL after kill_after_ms). 0 (default) = no limit."},
"kill_after_ms":{"type":"integer","minimum":0,"description":"Milliseconds between the timeout's SIGTERM and SIGKILL. 0 (default) = SIGKILL right away. Needs timeout_ms."},
"tags":{"type":"array","items":{"type":"string"},"description":"Labels to find the job later with list, e.g. [\"build\",\"ci.test\"]: dot-separated segments of letters, digits and hyphens."},
"stdin":{"type":"string","description":"Literal text given to the job as its standard input. Without stdin or stdin_file the job's stdin is empty (/dev/null). One message may be at most 32 MiB: large input belongs in stdin_file."},
"stdin_file":{"type":"string","description":"Path of a file whose content is copied now and given to the job as its standard input. Cannot be combined with stdin."},
"until_ms":{"type":"integer","minimum":0,"default":10000,"description":"Wait up to this many milliseconds for the job to finish before returning; the call returns as soon as the job finishes, with its exit status and output snapshot. 0 = return at once without a snapshot. Capped by the server (55000 by default); a job still running afterwards keeps running: use wait."},
"tail_lines":{"type":"integer","minimum":0,"default":40,"description":"Lines per stream in the output snapshot; 0 = no line limit."},
"max_bytes":{"type":"integer","minimum":0,"default":16384,"description":"Bytes read from the end of each output stream for the snapshot (at most 1048576)."},
"settle_ms":{"type":"integer","minimum":0,"default":500,"description":"Return early once the job has printed something and then nothing new for this many milliseconds (e.g. a server's \"listening\" line), instead of waiting the whole until_ms. 0 = wait the whole until_ms unless the job finishes."},
` + renderProperty + `,
"name":{"type":"string","description":"Name for the job (1-64 letters, digits, '.', '_' or '-'). Any job_id argument accepts \"@NAME\" for the newest job of that name, so the id need not be remembered."},
"ensure":{"type":"boolean","default":false,"description":"With name: if a job of that name is already created or running, return it (reused: true; command_differs: true when its command, cwd or env keys differ) instead of starting a second copy. Use it for dev servers and watchers."},
"agent_env":{"type":"boolean","default":true,"description":"Add NO_COLOR=1, TERM=dumb, PAGER=cat, GIT_PAGER=cat and GIT_TERMINAL_PROMPT=0 to the job's environment (unless env sets them), so tools print plain text and never wait for a pager or a password prompt."},
"backend":{"type":"string","enum":["local","slurm"],"description":"Where the job runs: local (a supervisor on this machine) or slurm (the supervisor submitted to the Slurm cluster with sbatch; the job stays created while Slurm has it pending). Default: the server's configuration ([backend] default), else local."},
"descendants":{"type":"string","enum":["leave","kill","wait"],"default":"leave","description":"What happens to processes the command started (e.g. a server put in the background) when the command itself exits: leave (default; they keep running and remain the job's: kill stops them), kill (they are stopped and the job ends after them), wait (the job stays running until they have all exited)."},
"wait_for_output":{"type":"string","description":"Readiness: instead of waiting for the job to finish, return as soon as an output line contains this text (or matches it, with match_type regex), e.g. \"listening on\" for a server. The job keeps running; the result has matched (false when the job ended or until_ms passed first), match ({stream, line, offset}) and a snapshot with a cursor to read later output from."},
"match_type":{"type":"string","enum":["contains","regex"],"default":"contains","description":"How wait_for_output is matched: contains (a substring) or regex (RE2, e.g. \"listening on .*:\\\\d+\")."},
"stream":{"type":"string","enum":["stdout","stderr","either"],"default":"either","description":"Which output wait_for_output searches."},
"wait_for_port":{"type":"integer","minimum":1,"maximum":65535,"description":"Readiness: instead of waiting for the job to finish, return as soon as a process of the job (the command or anything it started, even in the background) listens on this TCP port, e.g. 8000 for a dev server; the result has matched and match {port, address, pid}. Waits up to until_ms. Cannot be combined with wait_for_output."},
"idle_timeout_ms":{"type":"integer","minimum":0,"description":"Stop the job (SIGTERM, then SIGKILL after kill_after_ms) when it writes no output for this many milliseconds; it ends with timed_out true and timeout_kind \"idle\". 0 (default) = off."},
"interactive":{"type":"boolean","default":false,"description":"Keep the job's standard input open so that the send tool can write to it later (a REPL, a database shell, a program asking questions), until send with eof, the job's end or kill. Use until_ms 0 or a wait_for_output for the first prompt. Cannot be combined with stdin or stdin_file."},
"pty":{"type":"boolean","default":false,"description":"Run the command on a pseudo-terminal (implies interactive), 120 columns by 40 rows, TERM=xterm-256color: for programs that need a terminal (prompts, REPLs with line editing, TUIs). Output is raw terminal bytes in stdout; the screen tool shows the screen; send keys such as C-c interrupt."}}}`

	screenSchema = `{"type":"object","additionalProperties":false,"required":["job_id"],"properties":{
"job_id":{"type":"string","description":"Job id (or unique prefix, or @NAME) of a job started with run pty: true."}}}`

	statusSchema = `{"type":"object","additionalProperties":false,"required":["job_id"],"properties":{
"job_id":{"type":"string","description":"Job id returned by run or list, or a unique prefix of it."}}}`

	tailSchema = `{"type":"object","additionalProperties":false,"required":["job_id"],"properties":{
"job_id":{"type":"string","description":"Job id returned by run or list, or a unique prefix of it."},
"tail_lines":{"type":"integer","minimum":0,"default":40,"description":"Last lines returned per stream; 0 = no line limit."},
"max_bytes":{"type":"integer","minimum":0,"default":16384,"description":"Bytes read from the end of each stream (at most 1048576); older output is left out and truncated is true. With cursor: bytes read forward per stream."},
"cursor":{"type":"string","description":"Read only what was written after this cursor (the cursor field of an earlier run, tail or wait result, \"<stdout>.<stderr>\" byte offsets; \"0.0\" = from the start). The result then has stdout and stderr text, more (true when output beyond max_bytes remains) and a new cursor to pass next time."},
` + renderProperty + `}}`

	waitSchema = `{"type":"object","additionalProperties":false,"required":["job_id"],"properties":{
"job_id":{"type":"string","description":"Job id returned by run or list, or a unique prefix of it."},
"until_ms":{"type":"integer","minimum":0,"default":30000,"description":"Wait up to this many milliseconds; returns as soon as the job finishes. Capped by the server (55000 by default). If the returned state is still running, call wait again. 0 = check once without waiting."},
"tail_lines":{"type":"integer","minimum":0,"default":40,"description":"Last lines of output returned per stream; 0 = no line limit."},
"max_bytes":{"type":"integer","minimum":0,"default":16384,"description":"Bytes read from the end of each stream (at most 1048576)."},
"for_output":{"type":"string","description":"Readiness: also return as soon as an output line after cursor contains this text (or matches it, with match_type regex), e.g. \"listening on\". The result then has matched, match ({stream, line, offset}) and a cursor just past the matched line: pass it back as cursor to wait for the next match."},
"match_type":{"type":"string","enum":["contains","regex"],"default":"contains","description":"How for_output is matched: contains (a substring) or regex (RE2, e.g. \"listening on .*:\\\\d+\")."},
"stream":{"type":"string","enum":["stdout","stderr","either"],"default":"either","description":"Which output for_output searches."},
"cursor":{"type":"string","description":"With for_output: where the search starts, a cursor from an earlier result (\"<stdout>.<stderr>\" byte offsets). Default \"0.0\": output written before the call counts."},
"for_port":{"type":"integer","minimum":1,"maximum":65535,"description":"Readiness: also return as soon as a process of the job (the command or anything it started, even in the background) listens on this TCP port; the result has matched and match {port, address, pid}. Cannot be combined with for_output."},
` + renderProperty + `}}`

	killSchema = `{"type":"object","additionalProperties":false,"required":["job_id"],"properties":{
"job_id":{"type":"string","description":"Job id returned by run or list, or a unique prefix of it."},
"signal":{"type":"string","default":"TERM","description":"Signal sent to the job's whole process group: TERM (default), INT, KILL, HUP, QUIT, USR1 or USR2 (with or without SIG, any case)."}}}`

	waitManySchema = `{"type":"object","additionalProperties":false,"properties":{
"job_ids":{"type":"array","items":{"type":"string"},"description":"Jobs to wait for, in order: ids, unique prefixes or @NAME."},
"tags":{"type":"array","items":{"type":"string"},"description":"Also wait for every job carrying all of these tags (patterns as in list, e.g. \"ci.*\")."},
"name":{"type":"string","description":"Also wait for every job with this name."},
"any":{"type":"boolean","default":false,"description":"Return as soon as one job finishes; false (default) waits until all have."},
"until_ms":{"type":"integer","minimum":0,"default":30000,"description":"Wait up to this many milliseconds. Capped by the server (55000 by default). all_terminal/any_terminal in the result say whether the condition was met."},
"tail_lines":{"type":"integer","minimum":0,"default":40,"description":"Last lines of output returned per stream and job; 0 = no line limit."},
"max_bytes":{"type":"integer","minimum":0,"default":16384,"description":"Bytes read from the end of each stream (at most 1048576)."},
` + renderProperty + `}}`

	listSchema = `{"type":"object","additionalProperties":false,"properties":{
"state":{"type":"string","enum":["created","running","exited","killed","failed","unknown"],"description":"Only jobs in this state."},
"tags":{"type":"array","items":{"type":"string"},"description":"Only jobs carrying every one of these tags; a pattern ending in .* matches a tag namespace, e.g. \"ci.*\"."},
"limit":{"type":"integer","minimum":0,"default":50,"description":"Maximum number of jobs returned, newest first; 0 = no limit. truncated is true when jobs were left out."},
"cwd":{"type":"string","description":"Only jobs started in this directory (default: the server's working directory). Cannot be combined with all."},
"all":{"type":"boolean","default":false,"description":"List jobs of every directory instead of one."}}}`
)

// sendSchema is the send tool's input (SPEC §11.5); the key names come
// from the Manager. A function, not a variable: building it at package
// initialisation would cost every process of the binary, supervisors too.
func sendSchema() string {
	return `{"type":"object","additionalProperties":false,"required":["job_id"],"properties":{
"job_id":{"type":"string","description":"Job id (or unique prefix, or @NAME) of a running job started with interactive: true."},
"text":{"type":"string","description":"Text written to the job's standard input, e.g. \"print(6*7)\". Written first."},
"newline":{"type":"boolean","default":false,"description":"Then write a newline (\\n), as pressing Enter at a line-reading program."},
"keys":{"type":"array","items":{"type":"string","enum":` + jsonStrings(agentexec.KeyNames()) + `},"description":"Then write these keys as a terminal sends them, e.g. [\"C-c\"] or [\"Up\",\"Enter\"]."},
"eof":{"type":"boolean","default":false,"description":"Last, close the job's standard input (end of file): a program reading to the end finishes; later sends are refused."},
"until_ms":{"type":"integer","minimum":0,"default":5000,"description":"How long the job may take to read the input (bytes_written then says how much it took), and with wait_for_output how long to wait for the answer. Capped by the server (55000 by default)."},
"wait_for_output":{"type":"string","description":"After writing, wait for an output line after the send's cursor that contains this text (or matches it, with match_type regex), e.g. a REPL's answer or next prompt; the result has matched, match and a snapshot of everything the job wrote since the send."},
"match_type":{"type":"string","enum":["contains","regex"],"default":"contains","description":"How wait_for_output is matched: contains (a substring) or regex (RE2)."},
"stream":{"type":"string","enum":["stdout","stderr","either"],"default":"either","description":"Which output wait_for_output searches."},
"max_bytes":{"type":"integer","minimum":0,"default":16384,"description":"Bytes of each stream in the snapshot of wait_for_output (at most 1048576)."},
` + renderProperty + `}}`
}

func jsonStrings(v []string) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Tool descriptions: what an agent reads to choose and call a tool.
const (
	runDescription = `Start a command as a detached background job and observe it for up to until_ms milliseconds (default 10000). ` +
		`Returns as soon as the job finishes, once its output has settled (it printed something, then nothing new for settle_ms, default 500 — e.g. a server's "listening" line), or when until_ms passes, with state "running" in the last two cases; the job keeps running either way and is never stopped by this server. ` +
		`The result has job_id, state (running, exited, killed, failed), exit_code when exited, and a snapshot of the last stdout/stderr lines (omitted when until_ms is 0). ` +
		`Use wait to keep waiting, tail for later output, kill to stop it. A command that cannot start gives error code launch_failed. ` +
		`To start a server and return once it is ready, set wait_for_output (e.g. "listening on"): the call returns at the first matching line with matched and match.`
	screenDescription = `The terminal screen of a job started with run pty: true, as a person would see it now: lines (one string per row, right-trimmed), cursor {row, col}, cols, rows and title. ` +
		`Use it to read a full-screen or prompt-driven program (a TUI, a pager, a password prompt) after a send. A job not started with pty gives error code invalid_state.`
	statusDescription = `Current state of a job: state (created, running, exited, killed, failed), exit_code when exited, timestamps, and signal, duration_ms, timed_out or error when finished. Does not include output: use tail.`
	tailDescription   = `Last lines of a job's stdout and stderr (stdout_tail, stderr_tail), without waiting. Works while the job runs and after it ended. truncated is true when older output was left out. ` +
		`Every result carries a cursor: pass it back as cursor to get only the output written since (stdout, stderr, more, and the next cursor) instead of re-reading the same lines.`
	waitDescription = `Wait up to until_ms milliseconds (default 30000, capped by the server at 55000 by default) for a job to finish, then return its state, exit status and the last lines of output. ` +
		`Returns as soon as the job finishes. Reaching the deadline is not an error: the state is then still running, and you can call wait again. ` +
		`With for_output it also returns as soon as an output line matches (readiness), with matched, match and a cursor for the next call.`
	waitManyDescription = `Wait for several jobs at once (job_ids, tags and/or name): until all have finished, or with any: true until one has, or until_ms passes. ` +
		`Returns type wait_many: jobs (one wait result per job, in order), all_terminal and any_terminal.`
	killDescription = `Send a signal (default TERM) to a running job's process group, then observe for up to 3000 milliseconds and report the resulting state. Killing an already finished job does nothing and is not an error.`
	sendDescription = `Write to the standard input of a running job started with run interactive: true — a REPL, a shell, a program waiting for an answer — through its supervisor, so the job keeps its input across calls and server restarts. ` +
		`Writes text, then a newline, then keys, then closes stdin with eof. The result has bytes_written and cursor (where the job's answer starts: pass it to tail as cursor). ` +
		`With wait_for_output it is one request/response turn: it returns at the first matching output line with matched, match and a snapshot of what the job wrote since the send. ` +
		`A job not started interactive, finished, or with stdin closed gives error code invalid_state; more than 1 MiB of input invalid_argument.`
	listDescription = `List jobs, newest first, with state, exit_code, timestamps, tags and command. By default only jobs started in the server's working directory; set all to true for every job, or cwd for another directory. Filter with state and tags.`
)

func boolp(b bool) *bool { return &b }

// addTools registers the six tools of SPEC §6.2 and the v1.1 additions.
func (s *server) addTools(srv *mcp.Server) {
	readOnly := &mcp.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: boolp(false)}
	addTool(s, srv, &mcp.Tool{Name: "run", Title: "Run a command as a background job", Description: runDescription,
		InputSchema: json.RawMessage(runSchema),
		Annotations: &mcp.ToolAnnotations{DestructiveHint: boolp(true), OpenWorldHint: boolp(true)}}, s.run)
	addTool(s, srv, &mcp.Tool{Name: "screen", Title: "Job terminal screen", Description: screenDescription,
		InputSchema: json.RawMessage(screenSchema), Annotations: readOnly}, s.screen)
	addTool(s, srv, &mcp.Tool{Name: "status", Title: "Job status", Description: statusDescription,
		InputSchema: json.RawMessage(statusSchema), Annotations: readOnly}, s.status)
	addTool(s, srv, &mcp.Tool{Name: "tail", Title: "Job output", Description: tailDescription,
		InputSchema: json.RawMessage(tailSchema), Annotations: readOnly}, s.tail)
	addTool(s, srv, &mcp.Tool{Name: "wait", Title: "Wait for a job", Description: waitDescription,
		InputSchema: json.RawMessage(waitSchema), Annotations: readOnly}, s.wait)
	addTool(s, srv, &mcp.Tool{Name: "wait_many", Title: "Wait for several jobs", Description: waitManyDescription,
		InputSchema: json.RawMessage(waitManySchema), Annotations: readOnly}, s.waitMany)
	addTool(s, srv, &mcp.Tool{Name: "kill", Title: "Signal a job", Description: killDescription,
		InputSchema: json.RawMessage(killSchema),
		Annotations: &mcp.ToolAnnotations{DestructiveHint: boolp(true), IdempotentHint: true, OpenWorldHint: boolp(false)}}, s.kill)
	addTool(s, srv, &mcp.Tool{Name: "send", Title: "Write to a job's stdin", Description: sendDescription,
		InputSchema: json.RawMessage(sendSchema()),
		Annotations: &mcp.ToolAnnotations{DestructiveHint: boolp(true), OpenWorldHint: boolp(false)}}, s.send)
	addTool(s, srv, &mcp.Tool{Name: "list", Title: "List jobs", Description: listDescription,
		InputSchema: json.RawMessage(listSchema), Annotations: readOnly}, s.list)
}

// present is the set of argument names the caller actually sent (before
// the SDK applied schema defaults): some behaviour depends on whether an
// argument was given at all (until_ms with a configured default, stdin vs
// stdin_file, cwd with all).
type present map[string]bool

// opFunc performs one tool's operation and returns the response type and
// payload.
type opFunc[In any] func(ctx context.Context, given present, in In) (string, any, error)

// addTool registers a tool whose input the SDK validates against the
// tool's schema (rejecting wrong types, missing required and unknown
// properties before the handler runs) and whose result is the envelope.
func addTool[In any](s *server, srv *mcp.Server, t *mcp.Tool, op opFunc[In]) {
	mcp.AddTool(srv, t, func(ctx context.Context, req *mcp.CallToolRequest, in In) (*mcp.CallToolResult, any, error) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		defer context.AfterFunc(s.life, cancel)()
		var given present
		if req.Params != nil {
			given = argumentNames(req.Params.Arguments)
		}
		ctx = withProgress(ctx, req)
		typ, payload, err := op(ctx, given, in)
		return toolResult(typ, payload, err), nil, nil
	})
}

func argumentNames(raw any) present {
	var b []byte
	switch v := raw.(type) {
	case json.RawMessage:
		b = v
	case []byte:
		b = v
	default:
		b, _ = json.Marshal(v)
	}
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	p := make(present, len(m))
	for k := range m {
		p[k] = true
	}
	return p
}

// Numbers arrive as JSON numbers already validated as integers ≥ 0; they
// are decoded as float64 so that absurdly large values saturate instead of
// failing to decode.

// millis converts a millisecond count, saturating at the largest Duration
// (which means "never", as for the CLI's duration flags).
func millis(ms float64) time.Duration {
	if ms >= float64(math.MaxInt64/int64(time.Millisecond)) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(ms) * time.Millisecond
}

// count converts a count, saturating at MaxInt64.
func count(n float64) int64 {
	if n >= math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(n)
}

func lines(n float64) int { return int(min(count(n), math.MaxInt)) }

func maxBytes(n float64) int64 { return min(count(n), MaxBytesCap) }

// until resolves an until_ms: the value given, else the configured default,
// else the built-in one; then the cap (SPEC §6.3).
func (s *server) until(given present, ms float64, builtin time.Duration) time.Duration {
	d := builtin
	switch {
	case given["until_ms"]:
		d = millis(ms)
	case s.opts.DefaultUntil > 0:
		d = s.opts.DefaultUntil
	}
	return min(d, s.opts.MaxUntil)
}

func invalidArgument(format string, args ...any) *agentexec.Error {
	return &agentexec.Error{Code: agentexec.CodeInvalidArgument, Message: fmt.Sprintf(format, args...)}
}

type runInput struct {
	Command     []string          `json:"command"`
	Cwd         string            `json:"cwd"`
	Env         map[string]string `json:"env"`
	TimeoutMS   float64           `json:"timeout_ms"`
	KillAfterMS float64           `json:"kill_after_ms"`
	Tags        []string          `json:"tags"`
	Stdin       string            `json:"stdin"`
	StdinFile   string            `json:"stdin_file"`
	UntilMS     float64           `json:"until_ms"`
	TailLines   float64           `json:"tail_lines"`
	MaxBytes    float64           `json:"max_bytes"`
	Name        string            `json:"name"`
	Ensure      bool              `json:"ensure"`
	SettleMS    float64           `json:"settle_ms"`
	Render      string            `json:"render"`
	AgentEnv    bool              `json:"agent_env"`
	Backend     string            `json:"backend"`
	// Process tree and idleness (SPEC §11.4).
	Descendants   string  `json:"descendants"`
	IdleTimeoutMS float64 `json:"idle_timeout_ms"`
	// Readiness by output (SPEC §11.2).
	WaitForOutput string `json:"wait_for_output"`
	MatchType     string `json:"match_type"`
	Stream        string `json:"stream"`
	// Readiness by port (SPEC §11.2, §11.4).
	WaitForPort float64 `json:"wait_for_port"`
	// Interactive keeps stdin open for send (SPEC §11.5).
	Interactive bool `json:"interactive"`
	// PTY runs the command on a terminal (SPEC §11.5).
	PTY bool `json:"pty"`
}

func (s *server) run(ctx context.Context, given present, in runInput) (string, any, error) {
	spec := agentexec.JobSpec{
		Command: in.Command, Cwd: in.Cwd, Tags: in.Tags,
		Timeout: millis(in.TimeoutMS), KillAfter: millis(in.KillAfterMS),
		StdinMaxBytes: s.opts.StdinMaxBytes, Name: in.Name, AgentEnv: in.AgentEnv, Backend: in.Backend,
		Descendants: in.Descendants, IdleTimeout: millis(in.IdleTimeoutMS), Interactive: in.Interactive, PTY: in.PTY,
	}
	if given["name"] {
		if err := agentexec.ValidateName(in.Name); err != nil {
			return "", nil, err
		}
	}
	if in.Ensure && !given["name"] {
		return "", nil, invalidArgument("ensure requires name")
	}
	keys := make([]string, 0, len(in.Env))
	for k := range in.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return "", nil, invalidArgument("invalid env key %q: keys must be non-empty and contain neither '=' nor NUL", k)
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		spec.Env = append(spec.Env, k+"="+in.Env[k])
	}
	switch {
	case given["stdin"] && given["stdin_file"]:
		return "", nil, invalidArgument("stdin and stdin_file are mutually exclusive")
	case given["stdin"]:
		spec.Stdin, spec.HasStdin = []byte(in.Stdin), true
	case given["stdin_file"]:
		data, err := s.readStdinFile(in.StdinFile)
		if err != nil {
			return "", nil, err
		}
		spec.Stdin, spec.HasStdin = data, true
	}
	// until_ms is run --snapshot-after without the CLI's 10 s clamp: the
	// MCP cap bounds it instead; 0 means no observation and no snapshot.
	d := s.until(given, in.UntilMS, 10*time.Second)
	obs := agentexec.ObserveOptions{
		SnapshotAfter: d, NoWait: d == 0, Poll: pollInterval,
		TailLines: lines(in.TailLines), MaxBytes: maxBytes(in.MaxBytes),
		Settle: millis(in.SettleMS), Render: agentexec.Render(in.Render),
	}
	if given["wait_for_output"] {
		// Wait up to until_ms like wait, returning at the match.
		obs.ForOutput = &agentexec.OutputCondition{Pattern: in.WaitForOutput, MatchType: in.MatchType, Stream: in.Stream}
		obs.Until, obs.NoWait = d, true
	}
	if given["wait_for_port"] {
		obs.ForPort = int(in.WaitForPort)
		obs.Until, obs.NoWait = d, true
	}
	stop := func() {}
	obs.Launched = func(id string) { stop = s.reportProgress(ctx, id) }
	res, err := s.m.Run(ctx, agentexec.RunRequest{Spec: spec, Observe: obs, Ensure: in.Ensure})
	stop()
	if err != nil {
		return "", nil, err
	}
	s.autoGC(res.JobID)
	return "run", res, nil
}

// readStdinFile copies the job input from path (relative to the server's
// cwd), like run --stdin-file: unreadable → invalid_argument, larger than
// the limit → stdin_too_large.
func (s *server) readStdinFile(path string) ([]byte, error) {
	p := path
	if !filepath.IsAbs(p) {
		p = filepath.Join(s.cwd, p)
	}
	return agentexec.ReadStdinFile("stdin_file", p, s.opts.StdinMaxBytes)
}

type jobInput struct {
	JobID string `json:"job_id"`
}

func (s *server) screen(ctx context.Context, _ present, in jobInput) (string, any, error) {
	res, err := s.m.Screen(ctx, in.JobID)
	return "screen", res, err
}

func (s *server) status(ctx context.Context, _ present, in jobInput) (string, any, error) {
	res, err := s.m.Status(ctx, in.JobID)
	return "status", res, err
}

type tailInput struct {
	JobID     string  `json:"job_id"`
	TailLines float64 `json:"tail_lines"`
	MaxBytes  float64 `json:"max_bytes"`
	Render    string  `json:"render"`
	Cursor    string  `json:"cursor"`
}

func (s *server) tail(ctx context.Context, given present, in tailInput) (string, any, error) {
	if given["cursor"] {
		res, err := s.m.TailFrom(ctx, in.JobID, in.Cursor, agentexec.TailOptions{MaxBytes: maxBytes(in.MaxBytes), Render: agentexec.Render(in.Render)})
		return "tail", res, err
	}
	res, err := s.m.Tail(ctx, in.JobID, agentexec.TailOptions{TailLines: lines(in.TailLines), MaxBytes: maxBytes(in.MaxBytes), Render: agentexec.Render(in.Render)})
	return "tail", res, err
}

type waitInput struct {
	JobID     string  `json:"job_id"`
	UntilMS   float64 `json:"until_ms"`
	TailLines float64 `json:"tail_lines"`
	MaxBytes  float64 `json:"max_bytes"`
	Render    string  `json:"render"`
	ForOutput string  `json:"for_output"`
	MatchType string  `json:"match_type"`
	Stream    string  `json:"stream"`
	Cursor    string  `json:"cursor"`
	ForPort   float64 `json:"for_port"`
}

func (s *server) wait(ctx context.Context, given present, in waitInput) (string, any, error) {
	o := agentexec.WaitOptions{
		Until: s.until(given, in.UntilMS, 30*time.Second), Poll: pollInterval,
		TailLines: lines(in.TailLines), MaxBytes: maxBytes(in.MaxBytes), Render: agentexec.Render(in.Render),
	}
	if given["cursor"] && !given["for_output"] {
		return "", nil, invalidArgument("cursor requires for_output")
	}
	if given["for_output"] {
		o.ForOutput = &agentexec.OutputCondition{Pattern: in.ForOutput, MatchType: in.MatchType, Stream: in.Stream}
		o.Cursor = in.Cursor
		if given["cursor"] { // an explicit empty cursor is malformed, not "0.0"
			if _, err := agentexec.ParseCursor(in.Cursor); err != nil {
				return "", nil, err
			}
		}
	}
	if given["for_port"] {
		o.ForPort = int(in.ForPort)
	}
	stop := s.reportProgress(ctx, in.JobID)
	res, err := s.m.Wait(ctx, in.JobID, o)
	stop()
	return "wait", res, err
}

type waitManyInput struct {
	JobIDs    []string `json:"job_ids"`
	Tags      []string `json:"tags"`
	Name      string   `json:"name"`
	Any       bool     `json:"any"`
	UntilMS   float64  `json:"until_ms"`
	TailLines float64  `json:"tail_lines"`
	MaxBytes  float64  `json:"max_bytes"`
	Render    string   `json:"render"`
}

func (s *server) waitMany(ctx context.Context, given present, in waitManyInput) (string, any, error) {
	if given["name"] {
		if err := agentexec.ValidateName(in.Name); err != nil {
			return "", nil, err
		}
	}
	res, err := s.m.WaitMany(ctx, agentexec.WaitManyOptions{
		IDs: in.JobIDs, Tags: in.Tags, Name: in.Name, Any: in.Any,
		Until: s.until(given, in.UntilMS, 30*time.Second), Poll: pollInterval,
		TailLines: lines(in.TailLines), MaxBytes: maxBytes(in.MaxBytes), Render: agentexec.Render(in.Render),
	})
	return "wait_many", res, err
}

type killInput struct {
	JobID  string `json:"job_id"`
	Signal string `json:"signal"`
}

func (s *server) kill(ctx context.Context, _ present, in killInput) (string, any, error) {
	// The schema default fills an omitted signal; an explicit "" is invalid.
	if _, _, err := agentexec.ParseSignal(in.Signal); err != nil {
		return "kill", nil, err
	}
	res, err := s.m.Kill(ctx, in.JobID, agentexec.KillOptions{Signal: in.Signal})
	return "kill", res, err
}

type listInput struct {
	State string   `json:"state"`
	Tags  []string `json:"tags"`
	Limit float64  `json:"limit"`
	Cwd   string   `json:"cwd"`
	All   bool     `json:"all"`
}

func (s *server) list(ctx context.Context, given present, in listInput) (string, any, error) {
	if given["cwd"] && in.All {
		return "", nil, invalidArgument("cwd and all: true are mutually exclusive")
	}
	res, err := s.m.List(ctx, agentexec.ListOptions{
		Limit: int(min(count(in.Limit), math.MaxInt)), State: agentexec.State(in.State),
		Cwd: in.Cwd, All: in.All, Tags: in.Tags,
	})
	return "list", res, err
}

type sendInput struct {
	JobID         string   `json:"job_id"`
	Text          string   `json:"text"`
	Newline       bool     `json:"newline"`
	Keys          []string `json:"keys"`
	EOF           bool     `json:"eof"`
	UntilMS       float64  `json:"until_ms"`
	WaitForOutput string   `json:"wait_for_output"`
	MatchType     string   `json:"match_type"`
	Stream        string   `json:"stream"`
	MaxBytes      float64  `json:"max_bytes"`
	Render        string   `json:"render"`
}

func (s *server) send(ctx context.Context, given present, in sendInput) (string, any, error) {
	o := agentexec.SendOptions{EOF: in.EOF, MaxBytes: maxBytes(in.MaxBytes), Render: agentexec.Render(in.Render),
		Until: min(millis(in.UntilMS), s.opts.MaxUntil)}
	if in.Text != "" {
		o.Parts = append(o.Parts, agentexec.SendPart{Text: in.Text})
	}
	if in.Newline {
		o.Parts = append(o.Parts, agentexec.SendPart{Newline: true})
	}
	for _, k := range in.Keys {
		o.Parts = append(o.Parts, agentexec.SendPart{Key: k})
	}
	if len(o.Parts) == 0 && !in.EOF {
		return "", nil, invalidArgument("send needs text, newline, keys or eof")
	}
	if (given["match_type"] || given["stream"]) && !given["wait_for_output"] {
		return "", nil, invalidArgument("match_type and stream require wait_for_output")
	}
	if given["wait_for_output"] {
		o.WaitForOutput = &agentexec.OutputCondition{Pattern: in.WaitForOutput, MatchType: in.MatchType, Stream: in.Stream}
	}
	res, err := s.m.Send(ctx, in.JobID, o)
	return "send", res, err
}
