package mcpserver

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/agentexec/agentexec"
)

func TestCapsFromEnv(t *testing.T) {
	tests := []struct {
		name          string
		max, def      string
		wantMax       time.Duration
		wantDef       time.Duration
		wantErrSubstr string
	}{
		{name: "unset", wantMax: 0, wantDef: 0},
		{name: "both", max: "20", def: "5", wantMax: 20 * time.Second, wantDef: 5 * time.Second},
		{name: "leading zeros", max: "055", wantMax: 55 * time.Second},
		{name: "huge saturates", max: "99999999999999999999999", wantMax: time.Duration(math.MaxInt64)},
		{name: "zero", max: "0", wantErrSubstr: EnvMaxUntil},
		{name: "negative", max: "-5", wantErrSubstr: EnvMaxUntil},
		{name: "plus", max: "+5", wantErrSubstr: EnvMaxUntil},
		{name: "unit", max: "5s", wantErrSubstr: EnvMaxUntil},
		{name: "decimal", def: "1.5", wantErrSubstr: EnvDefaultUntil},
		{name: "space", def: " 5", wantErrSubstr: EnvDefaultUntil},
		{name: "default zero", def: "0", wantErrSubstr: EnvDefaultUntil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{EnvMaxUntil: tc.max, EnvDefaultUntil: tc.def}
			var o Options
			err := CapsFromEnv(func(k string) string { return env[k] }, &o)
			if tc.wantErrSubstr != "" {
				var ae *agentexec.Error
				if !errors.As(err, &ae) || ae.Code != agentexec.CodeInvalidConfig {
					t.Fatalf("err = %v, want invalid_config", err)
				}
				if want := "invalid " + tc.wantErrSubstr + " "; len(ae.Message) < len(want) || ae.Message[:len(want)] != want {
					t.Errorf("message = %q, want prefix %q", ae.Message, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.MaxUntil != tc.wantMax || o.DefaultUntil != tc.wantDef {
				t.Errorf("caps = %v, %v; want %v, %v", o.MaxUntil, o.DefaultUntil, tc.wantMax, tc.wantDef)
			}
		})
	}
}

func TestUntilResolution(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		given   bool
		ms      float64
		builtin time.Duration
		want    time.Duration
	}{
		{"builtin run default", Options{}, false, 10000, 10 * time.Second, 10 * time.Second},
		{"builtin wait default", Options{}, false, 30000, 30 * time.Second, 30 * time.Second},
		{"explicit", Options{}, true, 1234, 30 * time.Second, 1234 * time.Millisecond},
		{"explicit capped", Options{}, true, 600000, 30 * time.Second, 55 * time.Second},
		{"explicit zero", Options{}, true, 0, 30 * time.Second, 0},
		{"huge", Options{}, true, 1e30, 30 * time.Second, 55 * time.Second},
		{"default larger than cap", Options{MaxUntil: 5 * time.Second}, false, 30000, 30 * time.Second, 5 * time.Second},
		{"configured default", Options{DefaultUntil: 2 * time.Second}, false, 30000, 30 * time.Second, 2 * time.Second},
		{"configured default capped", Options{DefaultUntil: 90 * time.Second}, false, 10000, 10 * time.Second, 55 * time.Second},
		{"explicit beats configured default", Options{DefaultUntil: 2 * time.Second}, true, 100, 10 * time.Second, 100 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(nil, tc.opts, t.Context())
			given := present{}
			if tc.given {
				given["until_ms"] = true
			}
			if got := s.until(given, tc.ms, tc.builtin); got != tc.want {
				t.Errorf("until = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEnvelopes(t *testing.T) {
	code := 0
	js, err := successEnvelope("kill", &agentexec.KillResult{JobID: "A", Signal: "TERM", State: agentexec.StateExited, ExitCode: &code})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"schema_version":"0.1","ok":true,"type":"kill","job_id":"A","signal":"TERM","state":"exited","exit_code":0}`; string(js) != want {
		t.Errorf("success = %s\nwant      %s", js, want)
	}
	js = errorEnvelopeJSON(&agentexec.Error{Code: agentexec.CodeLaunchFailed, Message: "launch_failed: <x> & y",
		Details: &agentexec.LaunchFailedDetails{JobID: "A", State: agentexec.StateFailed}})
	if want := `{"schema_version":"0.1","ok":false,"type":"error","error":{"code":"launch_failed","message":"launch_failed: <x> & y","retryable":false,"details":{"job_id":"A","state":"failed"}}}`; string(js) != want {
		t.Errorf("error = %s\nwant    %s", js, want)
	}
	js = errorEnvelopeJSON(&agentexec.Error{Code: agentexec.CodeJobNotFound, Message: "job not found: X"})
	if want := `{"schema_version":"0.1","ok":false,"type":"error","error":{"code":"job_not_found","message":"job not found: X","retryable":false}}`; string(js) != want {
		t.Errorf("error = %s\nwant    %s", js, want)
	}
}
