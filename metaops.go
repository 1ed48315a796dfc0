package agentexec

import (
	"context"
	"errors"
	"path/filepath"

	"github.com/agentexec/agentexec/internal/store"
)

// TagSet replaces a job's tags with the validated, de-duplicated list (an
// empty list clears them). It works in any state. The read-modify-write of
// meta.json happens under the job lock, so concurrent tag set and notify
// set never lose each other's update; every other key is preserved.
func (m *Manager) TagSet(ctx context.Context, id string, tags []string) (*TagSetResult, error) {
	norm, err := normalizeTags(tags)
	if err != nil {
		return nil, err
	}
	j, err := m.resolve(id)
	if err != nil {
		return nil, err
	}
	meta, err := m.updateMeta(ctx, j, func(meta *store.Meta) error {
		meta.Tags = norm
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &TagSetResult{JobID: j.id, Tags: meta.Tags}, nil
}

// NotifyUpdate is a notify set request. A nil field leaves that setting as
// it is; see Manager.NotifySet for the merge rules.
type NotifyUpdate struct {
	// Command sets notify_command; "" removes it.
	Command *string
	// OutputPattern sets the output-match pattern; "" removes output
	// matching.
	OutputPattern *string
	// OutputMatchType is "contains" or "regex".
	OutputMatchType *string
	// OutputStream is "stdout", "stderr" or "either".
	OutputStream *string
	// OutputCommand and OutputFile set the output-match sinks ("" removes).
	OutputCommand *string
	OutputFile    *string
}

func (u NotifyUpdate) touchesOutput() bool {
	return u.OutputPattern != nil || u.OutputMatchType != nil || u.OutputStream != nil ||
		u.OutputCommand != nil || u.OutputFile != nil
}

// NotifySet edits a job's notification configuration (SPEC §4.11). It only
// rewrites meta.json — no sink ever runs — and works in any state; a running
// job's supervisor picks the change up for lines read afterwards and for
// completion. Rules: notify_file is kept; output matching is kept unless an
// output field is given, in which case the given fields overlay the
// existing configuration (or pattern "", contains, either, no sinks) and an
// empty resulting pattern removes it; a regex must compile
// (invalid_argument). The result's Notification is never nil: {} when
// nothing is configured.
func (m *Manager) NotifySet(ctx context.Context, id string, u NotifyUpdate) (*NotifySetResult, error) {
	if err := checkEnums(u); err != nil {
		return nil, err
	}
	j, err := m.resolve(id)
	if err != nil {
		return nil, err
	}
	meta, err := m.updateMeta(ctx, j, func(meta *store.Meta) error {
		n, err := m.mergeNotification(meta.Notification, u)
		if err != nil {
			return err
		}
		meta.Notification = n
		return nil
	})
	if err != nil {
		return nil, err
	}
	n := meta.Notification
	if n == nil {
		n = &Notification{}
	}
	return &NotifySetResult{JobID: j.id, Notification: n}, nil
}

// checkEnums validates the enum fields before any lookup (SPEC §1.7:
// validation happens before the job is resolved).
func checkEnums(u NotifyUpdate) error {
	om := OutputMatch{MatchType: "contains", Stream: "either"}
	if u.OutputMatchType != nil {
		om.MatchType = *u.OutputMatchType
	}
	if u.OutputStream != nil {
		om.Stream = *u.OutputStream
	}
	if u.OutputPattern != nil {
		om.Pattern = *u.OutputPattern
	}
	if om.MatchType == "regex" && u.OutputPattern == nil {
		om.MatchType = "contains" // the pattern comes from meta: checked after the merge
	}
	return ValidateOutputMatch(&om)
}

// mergeNotification applies u to the current configuration and returns the
// new one, nil when nothing remains.
func (m *Manager) mergeNotification(cur *Notification, u NotifyUpdate) (*Notification, error) {
	var n Notification
	if cur != nil {
		n = *cur
	}
	if u.Command != nil {
		n.NotifyCommand = *u.Command
	}
	if u.touchesOutput() {
		om := OutputMatch{MatchType: "contains", Stream: "either"}
		if n.OnOutputMatch != nil {
			om = *n.OnOutputMatch
		}
		set := func(dst *string, v *string) {
			if v != nil {
				*dst = *v
			}
		}
		set(&om.Pattern, u.OutputPattern)
		set(&om.MatchType, u.OutputMatchType)
		set(&om.Stream, u.OutputStream)
		set(&om.Command, u.OutputCommand)
		set(&om.File, u.OutputFile)
		if om.File != "" && !filepath.IsAbs(om.File) {
			om.File = filepath.Join(m.opts.Cwd, om.File)
		}
		if om.MatchType == "" {
			om.MatchType = "contains"
		}
		if om.Stream == "" {
			om.Stream = "either"
		}
		n.OnOutputMatch = nil
		if om.Pattern != "" {
			if err := ValidateOutputMatch(&om); err != nil {
				return nil, err
			}
			n.OnOutputMatch = &om
		}
	}
	if n.Empty() {
		return nil, nil
	}
	return &n, nil
}

// updateMeta performs a locked read-modify-write of meta.json. Unknown keys
// survive because store.Meta keeps them.
func (m *Manager) updateMeta(ctx context.Context, j jobRef, edit func(*store.Meta) error) (*store.Meta, error) {
	lock, err := m.lockJob(ctx, j)
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	meta, err := readMetaWith(j, store.ReadMetaForUpdate)
	if err != nil {
		return nil, err
	}
	if err := edit(meta); err != nil {
		return nil, err
	}
	if err := store.WriteMeta(j.dir, meta); err != nil {
		if se := (*store.MetaSizeError)(nil); errors.As(err, &se) {
			return nil, definitionTooLarge(se)
		}
		return nil, newError(CodeInternal, "write meta.json of job %s: %v", j.id, err)
	}
	return meta, nil
}
