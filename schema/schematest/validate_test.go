package schematest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/agentexec/agentexec/schema"
)

const (
	idA   = "01JD4Z6V3F8M2Q7R9T0W1X2Y3Z"
	idB   = "01JD4Z7A9B0C1D2E3F4G5H6J7K"
	paths = `"stdout_log_path":"/tmp/r/01JD4Z6V3F8M2Q7R9T0W1X2Y3Z/stdout.log","stderr_log_path":"/tmp/r/01JD4Z6V3F8M2Q7R9T0W1X2Y3Z/stderr.log"`
	snap  = `{"stdout_tail":"out","stderr_tail":"err","truncated":false,"encoding":"utf-8-lossy","stdout_observed_bytes":4,"stderr_observed_bytes":4,"stdout_included_bytes":3,"stderr_included_bytes":3}`
	tails = `"stdout_tail":"start","stderr_tail":"","truncated":false,"encoding":"utf-8-lossy","stdout_observed_bytes":6,"stderr_observed_bytes":0,"stdout_included_bytes":5,"stderr_included_bytes":0`
	head  = `{"schema_version":"0.1","ok":true,`
)

// valid holds one or more samples of every response type, mostly the
// examples of the SPEC.
var valid = map[string]string{
	"error":             `{"schema_version":"0.1","ok":false,"type":"error","error":{"code":"job_not_found","message":"job not found: x","retryable":false}}`,
	"error ambiguous":   `{"schema_version":"0.1","ok":false,"type":"error","error":{"code":"ambiguous_job_id","message":"ambiguous job ID prefix '01': matches A, B","retryable":false,"details":{"candidates":["` + idA + `","` + idB + `"],"truncated":false}}}`,
	"error launch":      `{"schema_version":"0.1","ok":false,"type":"error","error":{"code":"launch_failed","message":"launch_failed: working directory /nonexistent: no such file or directory","retryable":false,"details":{"job_id":"` + idA + `","state":"failed"}}}`,
	"run running":       head + `"type":"run","job_id":"` + idA + `","state":"running","tags":[],` + paths + `,"waited_ms":0,"elapsed_ms":11}`,
	"run exited":        head + `"type":"run","job_id":"` + idA + `","state":"exited","tags":[],` + paths + `,"waited_ms":14,"elapsed_ms":27,"exit_code":3,"finished_at":"2025-01-15T10:00:00Z","final_snapshot":` + snap + `,"duration_ms":6}`,
	"run snapshot":      head + `"type":"run","job_id":"` + idA + `","state":"running","tags":["ci.build"],"env_vars":["TOKEN=***"],"snapshot":` + snap + `,` + paths + `,"waited_ms":300,"elapsed_ms":315}`,
	"run killed":        head + `"type":"run","job_id":"` + idA + `","state":"killed","tags":[],` + paths + `,"waited_ms":1000,"elapsed_ms":1010,"finished_at":"2025-01-15T10:00:01Z","final_snapshot":` + snap + `,"signal":"TERM","duration_ms":1003,"timed_out":true}`,
	"create":            head + `"type":"create","job_id":"` + idA + `","state":"created",` + paths + `}`,
	"start":             head + `"type":"start","job_id":"` + idA + `","state":"running","tags":["nightly"],"env_vars":["K=***"],` + paths + `,"waited_ms":0,"elapsed_ms":12}`,
	"restart":           head + `"type":"restart","job_id":"` + idA + `","state":"exited","tags":["nightly"],` + paths + `,"waited_ms":9,"elapsed_ms":31,"exit_code":0,"finished_at":"2025-01-15T11:00:00Z","final_snapshot":` + snap + `,"duration_ms":4}`,
	"status running":    head + `"type":"status","job_id":"` + idA + `","state":"running","created_at":"2025-01-15T10:00:00Z","started_at":"2025-01-15T10:00:00Z","updated_at":"2025-01-15T10:00:00Z","command":["sh","-c","true"],"tags":[],` + paths + `}`,
	"status exited":     head + `"type":"status","job_id":"` + idA + `","state":"exited","exit_code":42,"created_at":"2025-01-15T10:00:00Z","started_at":"2025-01-15T10:00:00Z","finished_at":"2025-01-15T10:00:02Z","updated_at":"2025-01-15T10:00:02Z","duration_ms":2011,"command":["sh","-c","true"],"tags":[],` + paths + `}`,
	"status lost":       head + `"type":"status","job_id":"` + idA + `","state":"failed","created_at":"2025-01-15T10:00:00Z","started_at":"2025-01-15T10:00:00Z","finished_at":"2025-01-15T10:05:00Z","updated_at":"2025-01-15T10:05:00Z","error":"supervisor_lost","command":["sh","-c","true"],"tags":[],` + paths + `}`,
	"status created":    head + `"type":"status","job_id":"` + idA + `","state":"created","created_at":"2025-01-15T10:00:00Z","updated_at":"2025-01-15T10:00:00Z","command":["sh","-c","true"],"tags":[],` + paths + `}`,
	"tail":              head + `"type":"tail","job_id":"` + idA + `","stdout_tail":"line4\nline5","stderr_tail":"","truncated":true,"encoding":"utf-8-lossy",` + paths + `,"stdout_observed_bytes":30,"stderr_observed_bytes":0,"stdout_included_bytes":11,"stderr_included_bytes":0}`,
	"wait running":      head + `"type":"wait","job_id":"` + idA + `","state":"running",` + tails + `}`,
	"wait exited":       head + `"type":"wait","job_id":"` + idA + `","state":"exited","exit_code":0,"finished_at":"2025-01-15T10:00:05Z","duration_ms":5004,` + tails + `}`,
	"kill":              head + `"type":"kill","job_id":"` + idA + `","signal":"TERM","state":"killed"}`,
	"kill exited":       head + `"type":"kill","job_id":"` + idA + `","signal":"KILL","state":"exited","exit_code":0}`,
	"list":              head + `"type":"list","root":"/tmp/r","jobs":[{"job_id":"` + idB + `","state":"running","created_at":"2025-01-15T10:01:00Z","started_at":"2025-01-15T10:01:00Z","updated_at":"2025-01-15T10:01:00Z","tags":["ci.build"],"command":["make","test"]}],"truncated":true,"skipped":0}`,
	"list unknown":      head + `"type":"list","root":"/tmp/r","jobs":[{"job_id":"` + idB + `","state":"unknown","created_at":"2025-01-15T10:01:00Z","tags":[],"command":["true"]}],"truncated":false,"skipped":2}`,
	"tag_set":           head + `"type":"tag_set","job_id":"` + idA + `","tags":["a","b"]}`,
	"notify.set":        head + `"type":"notify.set","job_id":"` + idA + `","notification":{"notify_command":"cat > /tmp/ev.json","on_output_match":{"pattern":"ERROR","match_type":"contains","stream":"either"}}}`,
	"notify.set empty":  head + `"type":"notify.set","job_id":"` + idA + `","notification":{}}`,
	"gc":                head + `"type":"gc","root":"/tmp/r","dry_run":false,"older_than":"7d","older_than_source":"flag","deleted":1,"skipped":1,"freed_bytes":2411,"jobs":[{"job_id":"01HZZZ0000000000000000000A","state":"exited","action":"deleted","reason":"older_than_7d","bytes":2411},{"job_id":"` + idA + `","state":"running","action":"skipped","reason":"running","bytes":0}]}`,
	"gc caps":           head + `"type":"gc","root":"/tmp/r","dry_run":true,"older_than":"30d","older_than_source":"default","deleted":0,"skipped":0,"freed_bytes":0,"jobs":[],"max_jobs":100}`,
	"gc failed":         head + `"type":"gc","root":"/tmp/r","dry_run":false,"older_than":"30d","older_than_source":"default","deleted":0,"skipped":1,"freed_bytes":0,"jobs":[{"job_id":"` + idA + `","state":"unknown","action":"skipped","reason":"delete_failed: permission denied","bytes":10}],"max_bytes":1}`,
	"delete":            head + `"type":"delete","root":"/tmp/r","dry_run":false,"deleted":1,"skipped":0,"jobs":[{"job_id":"` + idA + `","state":"exited","action":"deleted","reason":"explicit_delete"}]}`,
	"delete all":        head + `"type":"delete","root":"/tmp/r","dry_run":true,"deleted":0,"skipped":1,"jobs":[{"job_id":"` + idA + `","state":"exited","action":"would_delete","reason":"terminal_in_cwd"},{"job_id":"` + idB + `","state":"running","action":"skipped","reason":"running"}]}`,
	"schema":            head + `"type":"schema","schema_format":"json-schema-draft-07","schema":{"$schema":"http://json-schema.org/draft-07/schema#"},"generated_at":"2025-01-15T00:00:00Z"}`,
	"install_skills":    head + `"type":"install_skills","skills":[{"name":"agent-exec","source_type":"self","path":"/home/u/proj/.agents/skills/agent-exec"}],"global":false,"lock_file_path":"/home/u/proj/.agents/.skill-lock.json"}`,
	"health":            head + `"type":"health"}`,
	"run reused":        head + `"type":"run","job_id":"` + idA + `","state":"running","tags":[],` + paths + `,"waited_ms":0,"elapsed_ms":11,"reused":true,"command_differs":true}`,
	"run ensure new":    head + `"type":"run","job_id":"` + idA + `","state":"running","tags":[],` + paths + `,"waited_ms":0,"elapsed_ms":11,"reused":false}`,
	"create reused":     head + `"type":"create","job_id":"` + idA + `","state":"running",` + paths + `,"reused":true,"command_differs":false}`,
	"status named":      head + `"type":"status","job_id":"` + idA + `","state":"created","created_at":"2025-01-15T10:00:00Z","updated_at":"2025-01-15T10:00:00Z","name":"web.dev_1","command":["sh","-c","true"],"tags":[],` + paths + `}`,
	"list named":        head + `"type":"list","root":"/tmp/r","jobs":[{"job_id":"` + idB + `","state":"unknown","created_at":"2025-01-15T10:01:00Z","tags":[],"command":["true"],"name":"web"}],"truncated":false,"skipped":0}`,
	"wait_many":         head + `"type":"wait_many","jobs":[{"job_id":"` + idA + `","state":"running",` + tails + `},{"job_id":"` + idB + `","state":"exited","exit_code":0,"finished_at":"2025-01-15T10:00:05Z","duration_ms":5004,` + tails + `}],"all_terminal":false,"any_terminal":true}`,
	"additional fields": head + `"type":"kill","job_id":"` + idA + `","signal":"TERM","state":"killed","future_field":1}`,
}

// invalid holds envelopes that break a presence rule, an enum or a type.
var invalid = map[string]string{
	"unknown type":             head + `"type":"bogus"}`,
	"missing type":             `{"schema_version":"0.1","ok":true}`,
	"wrong schema_version":     `{"schema_version":"0.2","ok":true,"type":"health"}`,
	"error retryable":          `{"schema_version":"0.1","ok":false,"type":"error","error":{"code":"job_not_found","message":"x","retryable":true}}`,
	"error unknown code":       `{"schema_version":"0.1","ok":false,"type":"error","error":{"code":"oops","message":"x","retryable":false}}`,
	"error details not due":    `{"schema_version":"0.1","ok":false,"type":"error","error":{"code":"job_not_found","message":"x","retryable":false,"details":{}}}`,
	"error ambiguous no det":   `{"schema_version":"0.1","ok":false,"type":"error","error":{"code":"ambiguous_job_id","message":"x","retryable":false}}`,
	"error ok true":            `{"schema_version":"0.1","ok":true,"type":"error","error":{"code":"job_not_found","message":"x","retryable":false}}`,
	"run missing tags":         head + `"type":"run","job_id":"` + idA + `","state":"running",` + paths + `,"waited_ms":0,"elapsed_ms":11}`,
	"run exited no code":       head + `"type":"run","job_id":"` + idA + `","state":"exited","tags":[],` + paths + `,"waited_ms":14,"elapsed_ms":27,"finished_at":"2025-01-15T10:00:00Z"}`,
	"run running finished":     head + `"type":"run","job_id":"` + idA + `","state":"running","tags":[],` + paths + `,"waited_ms":0,"elapsed_ms":11,"finished_at":"2025-01-15T10:00:00Z"}`,
	"run timed_out false":      head + `"type":"run","job_id":"` + idA + `","state":"exited","tags":[],` + paths + `,"waited_ms":14,"elapsed_ms":27,"exit_code":0,"finished_at":"2025-01-15T10:00:00Z","timed_out":false}`,
	"run unknown state":        head + `"type":"run","job_id":"` + idA + `","state":"unknown","tags":[],` + paths + `,"waited_ms":0,"elapsed_ms":11}`,
	"run differs not reused":   head + `"type":"run","job_id":"` + idA + `","state":"running","tags":[],` + paths + `,"waited_ms":0,"elapsed_ms":11,"reused":false,"command_differs":true}`,
	"create running not reuse": head + `"type":"create","job_id":"` + idA + `","state":"running",` + paths + `,"reused":false}`,
	"status bad name":          head + `"type":"status","job_id":"` + idA + `","state":"created","created_at":"2025-01-15T10:00:00Z","updated_at":"2025-01-15T10:00:00Z","name":"a b","command":["sh","-c","true"],"tags":[],` + paths + `}`,
	"wait_many no flags":       head + `"type":"wait_many","jobs":[{"job_id":"` + idA + `","state":"running",` + tails + `}]}`,
	"wait_many empty":          head + `"type":"wait_many","jobs":[],"all_terminal":true,"any_terminal":false}`,
	"wait_many bad job":        head + `"type":"wait_many","jobs":[{"job_id":"` + idA + `","state":"exited",` + tails + `}],"all_terminal":true,"any_terminal":true}`,
	"create running":           head + `"type":"create","job_id":"` + idA + `","state":"running",` + paths + `}`,
	"status bad timestamp":     head + `"type":"status","job_id":"` + idA + `","state":"running","created_at":"2025-01-15 10:00:00","started_at":"2025-01-15T10:00:00Z","updated_at":"2025-01-15T10:00:00Z","command":["sh","-c","true"],"tags":[],` + paths + `}`,
	"status created started":   head + `"type":"status","job_id":"` + idA + `","state":"created","created_at":"2025-01-15T10:00:00Z","started_at":"2025-01-15T10:00:00Z","updated_at":"2025-01-15T10:00:00Z","command":["sh","-c","true"],"tags":[],` + paths + `}`,
	"status failed no error":   head + `"type":"status","job_id":"` + idA + `","state":"failed","created_at":"2025-01-15T10:00:00Z","started_at":"2025-01-15T10:00:00Z","finished_at":"2025-01-15T10:05:00Z","updated_at":"2025-01-15T10:05:00Z","command":["sh","-c","true"],"tags":[],` + paths + `}`,
	"tail missing encoding":    head + `"type":"tail","job_id":"` + idA + `","stdout_tail":"","stderr_tail":"","truncated":true,` + paths + `,"stdout_observed_bytes":30,"stderr_observed_bytes":0,"stdout_included_bytes":11,"stderr_included_bytes":0}`,
	"wait missing tails":       head + `"type":"wait","job_id":"` + idA + `","state":"running"}`,
	"kill bad signal":          head + `"type":"kill","job_id":"` + idA + `","signal":"STOP","state":"killed"}`,
	"list string skipped":      head + `"type":"list","root":"/tmp/r","jobs":[],"truncated":false,"skipped":"0"}`,
	"notify bad stream":        head + `"type":"notify.set","job_id":"` + idA + `","notification":{"on_output_match":{"pattern":"x","match_type":"contains","stream":"both"}}}`,
	"gc bad reason":            head + `"type":"gc","root":"/tmp/r","dry_run":false,"older_than":"7d","older_than_source":"flag","deleted":0,"skipped":1,"freed_bytes":0,"jobs":[{"job_id":"` + idA + `","state":"exited","action":"skipped","reason":"whatever","bytes":0}]}`,
	"gc dry run deleted":       head + `"type":"gc","root":"/tmp/r","dry_run":true,"older_than":"7d","older_than_source":"flag","deleted":1,"skipped":0,"freed_bytes":0,"jobs":[]}`,
	"gc max_jobs zero":         head + `"type":"gc","root":"/tmp/r","dry_run":false,"older_than":"7d","older_than_source":"flag","deleted":0,"skipped":0,"freed_bytes":0,"jobs":[],"max_jobs":0}`,
	"delete bad action":        head + `"type":"delete","root":"/tmp/r","dry_run":false,"deleted":1,"skipped":0,"jobs":[{"job_id":"` + idA + `","state":"exited","action":"removed","reason":"explicit_delete"}]}`,
	"schema wrong format":      head + `"type":"schema","schema_format":"draft-04","schema":{},"generated_at":"2025-01-15T00:00:00Z"}`,
	"install_skills relative":  head + `"type":"install_skills","skills":[{"name":"agent-exec","source_type":"ftp","path":"x"}],"global":false,"lock_file_path":"/x"}`,
}

func TestValidSamples(t *testing.T) {
	for name, doc := range valid {
		t.Run(name, func(t *testing.T) {
			if err := Validate([]byte(doc)); err != nil {
				t.Errorf("valid sample rejected: %v\n%s", err, doc)
			}
		})
	}
}

func TestInvalidSamples(t *testing.T) {
	for name, doc := range invalid {
		t.Run(name, func(t *testing.T) {
			if !json.Valid([]byte(doc)) {
				t.Fatalf("sample is not JSON: %s", doc)
			}
			if err := Validate([]byte(doc)); err == nil {
				t.Errorf("invalid sample accepted:\n%s", doc)
			}
		})
	}
}

// TestEveryTypeHasABranch checks the root oneOf covers each response type
// of the SPEC exactly once.
func TestEveryTypeHasABranch(t *testing.T) {
	var doc struct {
		Schema  string `json:"$schema"`
		Comment string `json:"$comment"`
		OneOf   []struct {
			Ref string `json:"$ref"`
		} `json:"oneOf"`
		Definitions map[string]struct {
			Properties map[string]struct {
				Const any `json:"const"`
			} `json:"properties"`
		} `json:"definitions"`
	}
	if err := json.Unmarshal(schema.JSON, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != "http://json-schema.org/draft-07/schema#" {
		t.Errorf("$schema = %q", doc.Schema)
	}
	if doc.Comment != schema.GeneratedAt() || len(doc.Comment) != len("2025-01-15T00:00:00Z") || !strings.HasSuffix(doc.Comment, "Z") {
		t.Errorf("$comment = %q, GeneratedAt = %q", doc.Comment, schema.GeneratedAt())
	}
	want := []string{"error", "run", "create", "start", "restart", "status", "tail", "wait", "wait_many", "kill", "list",
		"tag_set", "notify.set", "gc", "delete", "schema", "install_skills", "health", "send", "screen"}
	var got []string
	for _, b := range doc.OneOf {
		name := strings.TrimPrefix(b.Ref, "#/definitions/")
		got = append(got, name)
		if c := doc.Definitions[name].Properties["type"].Const; c != name {
			t.Errorf("branch %s fixes type %v", name, c)
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("branches %v, want %v", got, want)
	}
}
