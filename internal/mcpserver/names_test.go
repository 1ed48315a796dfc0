package mcpserver

import (
	"testing"
)

// TestRunNameEnsure: run with name + ensure returns the live job instead of
// starting another; job_id accepts @name; invalid names are
// invalid_argument.
func TestRunNameEnsure(t *testing.T) {
	e := newEnv(t, Options{})
	first := e.ok("run", map[string]any{"command": []string{"sleep", "30"}, "name": "srv", "ensure": true, "until_ms": 0}, "run")
	wantField(t, first, "reused", false)
	wantAbsent(t, first, "command_differs")
	id := first["job_id"]
	again := e.ok("run", map[string]any{"command": []string{"sleep", "31"}, "name": "srv", "ensure": true, "until_ms": 0}, "run")
	wantField(t, again, "job_id", id)
	wantField(t, again, "reused", true)
	wantField(t, again, "command_differs", true)
	same := e.ok("run", map[string]any{"command": []string{"sleep", "30"}, "name": "srv", "ensure": true, "until_ms": 0}, "run")
	wantField(t, same, "command_differs", false)
	if n := e.jobCount(); n != 1 {
		t.Fatalf("%d jobs, want 1", n)
	}
	st := e.ok("status", map[string]any{"job_id": "@srv"}, "status")
	wantField(t, st, "job_id", id)
	wantField(t, st, "name", "srv")
	e.fail("status", map[string]any{"job_id": "@nosuch"}, "job_not_found")
	e.fail("run", map[string]any{"command": []string{"true"}, "name": "bad name"}, "invalid_argument")
	e.fail("run", map[string]any{"command": []string{"true"}, "name": ""}, "invalid_argument")
	e.fail("run", map[string]any{"command": []string{"true"}, "ensure": true}, "invalid_argument")
	if n := e.jobCount(); n != 1 {
		t.Fatalf("%d jobs after invalid calls, want 1", n)
	}
}

func TestWaitMany(t *testing.T) {
	e := newEnv(t, Options{})
	slow := e.ok("run", map[string]any{"command": []string{"sleep", "30"}, "tags": []string{"grp"}, "until_ms": 0}, "run")
	quick := e.ok("run", map[string]any{"command": []string{"sh", "-c", "sleep 0.2; exit 4"}, "tags": []string{"grp"}, "name": "q", "until_ms": 0}, "run")
	res := e.ok("wait_many", map[string]any{"job_ids": []string{slow["job_id"].(string), "@q"}, "any": true, "until_ms": 20000}, "wait_many")
	wantField(t, res, "all_terminal", false)
	wantField(t, res, "any_terminal", true)
	jobs := res["jobs"].([]any)
	if len(jobs) != 2 || jobs[0].(map[string]any)["job_id"] != slow["job_id"] || jobs[1].(map[string]any)["exit_code"] != 4.0 {
		t.Fatalf("jobs %v", jobs)
	}
	res = e.ok("wait_many", map[string]any{"tags": []string{"grp"}, "until_ms": 100}, "wait_many")
	wantField(t, res, "all_terminal", false)
	if jobs := res["jobs"].([]any); len(jobs) != 2 || jobs[1].(map[string]any)["job_id"] != quick["job_id"] {
		t.Fatalf("--tag jobs %v", jobs)
	}
	e.fail("wait_many", map[string]any{"name": "nosuch"}, "job_not_found")
	e.fail("wait_many", map[string]any{"name": "a b"}, "invalid_argument")
	e.fail("wait_many", map[string]any{"tags": []string{"bad!"}}, "invalid_tag")
	e.fail("wait_many", map[string]any{}, "invalid_argument")
}
