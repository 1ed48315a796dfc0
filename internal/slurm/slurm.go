// Package slurm talks to a Slurm cluster through its command-line clients
// (sbatch, scontrol, scancel): submitting a batch job, asking for its state
// and signalling it. It knows nothing of agent-exec jobs; the root package
// submits a job's supervisor through it.
package slurm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// commandTimeout bounds one call of a Slurm client: a controller that does
// not answer must not hang a status or kill.
const commandTimeout = 20 * time.Second

// outputLimit bounds what is kept of a client's output.
const outputLimit = 64 << 10

// SubmitOptions describe one batch submission.
type SubmitOptions struct {
	Name      string   // --job-name
	Script    string   // the batch script's text (starts with #!)
	Dir       string   // --chdir
	Env       []string // the submitting environment (exported to the job)
	Partition string   // --partition, if set
	TimeLimit time.Duration
	CPUs      int   // --cpus-per-task, if > 0
	MemMB     int64 // --mem, if > 0
	Args      []string
}

// Error is a failure reported by a Slurm client, with its message.
type Error struct {
	Op      string // "sbatch", "scontrol", "scancel"
	Message string
}

func (e *Error) Error() string { return e.Op + ": " + e.Message }

// argPattern is one --key=value argument (SPEC §11.7 --slurm-arg).
// Patterns are compiled on first use, not at package initialisation,
// which every process of this binary pays, job supervisors included.
var argPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^--[a-z][a-z0-9-]*=.+$`) })

// ValidArg checks that a is a single --key=value sbatch argument.
func ValidArg(a string) error {
	if !argPattern().MatchString(a) || strings.ContainsAny(a, "\n\x00") {
		return fmt.Errorf("invalid Slurm argument %q: must be one --key=value argument", a)
	}
	return nil
}

// shortBegin is a relative --begin with a one-letter unit ("now+1h").
var shortBegin = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(--begin=now[+-][0-9]+)([smhdw])$`) })

// longTimeUnits spells out the unit of a relative --begin ("now+1h" →
// "now+1hours"): Slurm (22.05 at least) accepts only seconds, minutes,
// hours, days and weeks there, while users write the short form.
func longTimeUnits(a string) string {
	m := shortBegin().FindStringSubmatch(a)
	if m == nil {
		return a
	}
	return m[1] + map[string]string{"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[m[2]]
}

// FormatTime renders a duration as Slurm's days-hours:minutes:seconds,
// rounded up to whole seconds.
func FormatTime(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	return fmt.Sprintf("%d-%02d:%02d:%02d", s/86400, s%86400/3600, s%3600/60, s%60)
}

// Submit runs sbatch --parsable and returns the Slurm job id.
func Submit(ctx context.Context, o SubmitOptions) (string, error) {
	args := []string{"--parsable", "--job-name=" + o.Name, "--output=/dev/null", "--error=/dev/null"}
	if o.Dir != "" {
		args = append(args, "--chdir="+o.Dir)
	}
	if o.Partition != "" {
		args = append(args, "--partition="+o.Partition)
	}
	if o.TimeLimit > 0 {
		args = append(args, "--time="+FormatTime(o.TimeLimit))
	}
	if o.CPUs > 0 {
		args = append(args, "--cpus-per-task="+strconv.Itoa(o.CPUs))
	}
	if o.MemMB > 0 {
		args = append(args, "--mem="+strconv.FormatInt(o.MemMB, 10))
	}
	for _, a := range o.Args {
		if err := ValidArg(a); err != nil {
			return "", err
		}
		args = append(args, longTimeUnits(a))
	}
	out, err := run(ctx, "sbatch", o.Env, strings.NewReader(o.Script), args...)
	if err != nil {
		return "", err
	}
	// --parsable prints "jobid" or "jobid;cluster".
	id, _, _ := strings.Cut(strings.TrimSpace(lastLine(out)), ";")
	if _, err := strconv.ParseUint(id, 10, 64); err != nil {
		return "", &Error{Op: "sbatch", Message: "unexpected output: " + strings.TrimSpace(out)}
	}
	return id, nil
}

// Info is what Slurm says of a job.
type Info struct {
	Known bool   // false: Slurm no longer (or never) knew the job
	State string // JobState, e.g. PENDING, RUNNING, COMPLETED, CANCELLED
	// Reason is Slurm's pending or failure reason, "None" when there is none.
	Reason string
}

// Query asks scontrol for a job's state.
func Query(ctx context.Context, jobID string) (Info, error) {
	out, err := run(ctx, "scontrol", nil, nil, "show", "job", "-o", jobID)
	if err != nil {
		var se *Error
		if errors.As(err, &se) && strings.Contains(se.Message, "Invalid job id") {
			return Info{}, nil
		}
		return Info{}, err
	}
	info := Info{Known: true}
	for _, f := range strings.Fields(firstLine(out)) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "JobState":
			info.State = v
		case "Reason":
			info.Reason = v
		}
	}
	if info.State == "" {
		return Info{}, &Error{Op: "scontrol", Message: "no JobState in: " + strings.TrimSpace(firstLine(out))}
	}
	return info, nil
}

// Pending reports whether Slurm has not started the job yet.
func (i Info) Pending() bool {
	switch i.State {
	case "PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD", "SUSPENDED":
		return true
	}
	return false
}

// Active reports whether the job is pending or running (or finishing) in
// Slurm: its supervisor may still write the job's state.
func (i Info) Active() bool {
	switch i.State {
	case "RUNNING", "COMPLETING", "STAGE_OUT", "SIGNALING", "RESIZING":
		return true
	}
	return i.Pending()
}

// Signal sends sig (a name such as TERM) to every process of the job,
// the batch script included.
func Signal(ctx context.Context, jobID, sig string) error {
	_, err := run(ctx, "scancel", nil, nil, "--signal="+sig, "--full", jobID)
	return err
}

// Cancel cancels a job (pending or running).
func Cancel(ctx context.Context, jobID string) error {
	_, err := run(ctx, "scancel", nil, nil, jobID)
	return err
}

// Available reports whether the Slurm clients are installed and the
// controller answers.
func Available(ctx context.Context) bool {
	_, err := run(ctx, "scontrol", nil, nil, "ping")
	return err == nil
}

func run(ctx context.Context, name string, env []string, stdin *strings.Reader, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	if env != nil {
		cmd.Env = env
	}
	if stdin != nil {
		cmd.Stdin = stdin
	}
	var out, errb limitedBuffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errb.String())
		if msg == "" {
			msg = strings.TrimSpace(out.String())
		}
		var ee *exec.Error
		switch {
		case errors.As(err, &ee):
			msg = ee.Err.Error()
		case ctx.Err() != nil:
			msg = fmt.Sprintf("no answer within %s", commandTimeout)
		case msg == "":
			msg = err.Error()
		}
		return "", &Error{Op: name, Message: oneLine(name, msg)}
	}
	return out.String(), nil
}

// oneLine joins a client's error lines ("sbatch: error: …") into one,
// without the repeated program prefixes.
func oneLine(name, s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		l = strings.TrimSpace(l)
		l = strings.TrimPrefix(l, name+": ")
		l = strings.TrimPrefix(l, "error: ")
		lines[i] = l
	}
	return strings.Join(lines, "; ")
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// limitedBuffer keeps the first outputLimit bytes written to it.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := outputLimit - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
