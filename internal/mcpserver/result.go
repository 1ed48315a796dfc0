package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/agentexec/agentexec"
)

// toolResult turns an operation's outcome into a tool result: the envelope
// the CLI would print, as structuredContent and as one text item with the
// same compact JSON; isError exactly when the envelope says ok:false.
func toolResult(typ string, payload any, err error) *mcp.CallToolResult {
	var js []byte
	if err == nil {
		js, err = successEnvelope(typ, payload)
	}
	isError := err != nil
	if isError {
		js = errorEnvelopeJSON(contractError(err))
	}
	return &mcp.CallToolResult{
		Content:           []mcp.Content{&mcp.TextContent{Text: string(js)}},
		StructuredContent: json.RawMessage(js),
		IsError:           isError,
	}
}

// contractError maps err onto the contract: *agentexec.Error as is, an
// abandoned wait (the caller cancelled, or the server is stopping) as an
// internal_error that says the job is unaffected, anything else as
// internal_error.
func contractError(err error) *agentexec.Error {
	var ae *agentexec.Error
	if errors.As(err, &ae) {
		return ae
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &agentexec.Error{Code: agentexec.CodeInternal, Message: "call cancelled before it completed; the job is unaffected", Err: err}
	}
	return agentexec.AsError(err)
}

// toolCallMiddleware adjusts tools/call around the SDK's handling:
//
//   - "arguments": null is treated as absent ({}): the SDK decodes null into
//     a nil map and then panics applying schema defaults to it, which would
//     take the whole server down;
//   - arguments the SDK refuses before our handler runs (schema validation,
//     decoding) come back as the JSON error envelope with invalid_argument
//     and a readable message, like every other error, instead of the SDK's
//     bare text;
//   - a successful result carries "isError":false instead of omitting it
//     (the SDK's field is omitempty): the contract shows it, and clients that
//     compare it with false should not need to know that absence means false.
func toolCallMiddleware(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if r, ok := req.(*mcp.CallToolRequest); ok && r.Params != nil && bytes.Equal(bytes.TrimSpace(r.Params.Arguments), []byte("null")) {
			r.Params.Arguments = json.RawMessage("{}")
		}
		res, err := next(ctx, method, req)
		if r, ok := res.(*mcp.CallToolResult); ok && err == nil && r.IsError && r.StructuredContent == nil {
			if msg, refused := sdkArgumentError(r); refused {
				return toolResult("", nil, &agentexec.Error{Code: agentexec.CodeInvalidArgument, Message: msg}), nil
			}
		}
		if r, ok := res.(*mcp.CallToolResult); ok && err == nil && !r.IsError {
			return withIsError{r}, nil
		}
		return res, err
	}
}

// withIsError wraps a successful CallToolResult so it marshals with an
// explicit "isError":false. Embedding the pointer keeps it an mcp.Result.
type withIsError struct{ *mcp.CallToolResult }

// MarshalJSON appends "isError":false to the SDK's encoding.
func (w withIsError) MarshalJSON() ([]byte, error) {
	b, err := w.CallToolResult.MarshalJSON()
	if err != nil || w.IsError || !bytes.HasSuffix(b, []byte("}")) || bytes.Contains(b, []byte(`"isError":`)) {
		return b, err
	}
	out := append([]byte(nil), b[:len(b)-1]...)
	if len(out) > 1 {
		out = append(out, ',')
	}
	return append(out, `"isError":false}`...), nil
}

// sdkArgumentError recognises the SDK's refusal of a call's arguments (an
// error result with one text item and no structured content; our handlers
// always set structured content) and rewrites its text for a reader:
// `validating "arguments": validating root: validating /properties/command:
// type: echo x has type "string", want "array"` becomes `invalid arguments:
// command: type: echo x has type "string", want "array"`, and the
// validator's rationals ("-1/1") become plain numbers.
func sdkArgumentError(r *mcp.CallToolResult) (string, bool) {
	if len(r.Content) != 1 {
		return "", false
	}
	tc, ok := r.Content[0].(*mcp.TextContent)
	if !ok {
		return "", false
	}
	text := tc.Text
	switch {
	case strings.HasPrefix(text, `validating "arguments": `):
		text = strings.TrimPrefix(text, `validating "arguments": `)
	case strings.HasPrefix(text, "json: "), strings.HasPrefix(text, "unmarshaling arguments"):
	default:
		return "", false
	}
	text = strings.ReplaceAll(text, "validating root: ", "")
	text = schemaPath().ReplaceAllString(text, "$1: ")
	text = rational().ReplaceAllString(text, "$1")
	text = zeroFraction().ReplaceAllString(text, "$1")
	text = strings.Join(strings.Fields(text), " ")
	// The validator quotes the offending value, which can be megabytes
	// (a whole stdin given where a number belongs): keep its start only.
	if m := typeMismatch().FindStringSubmatchIndex(text); m != nil && m[5]-m[4] > maxQuotedValue {
		text = strings.ToValidUTF8(text[:m[4]+maxQuotedValue], "") + "…" + text[m[5]:]
	}
	if len(text) > maxArgumentError {
		text = strings.ToValidUTF8(text[:maxArgumentError], "") + "…"
	}
	return "invalid arguments: " + text, true
}

// Bounds of the rewritten message: the quoted value and the whole text.
const (
	maxQuotedValue   = 64
	maxArgumentError = 1000
)

// Patterns are compiled on first use, not at package initialisation,
// which every process of this binary pays, job supervisors included.
var (
	schemaPath   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`validating /properties/([^:]+): `) })
	rational     = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(-?\d+)/1\b`) })
	zeroFraction = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(\d+)\.0+\b`) })
	typeMismatch = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(type: )(.*)( has type "\w+", want )`) })
)
