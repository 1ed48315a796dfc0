package agentexec

import (
	"errors"
	"strings"
)

// ValidateTag checks a stored tag (SPEC §2.10) and returns the first
// rejection reason in the documented precedence.
func ValidateTag(tag string) error {
	if tag == "" {
		return errors.New("tag must not be empty")
	}
	if strings.HasSuffix(tag, ".*") {
		return errors.New("stored tag may not end with '.*' (use exact tag names for run/tag set)")
	}
	for _, seg := range strings.Split(tag, ".") {
		if seg == "" {
			return errors.New("tag segments must not be empty (no leading, trailing, or consecutive dots)")
		}
	}
	for i := 0; i < len(tag); i++ {
		c := tag[i]
		if !(c == '.' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return errors.New("tag segments may only contain alphanumeric characters and hyphens")
		}
	}
	return nil
}

// ValidateTagPattern checks a list filter pattern: a stored tag or
// "<stored tag>.*".
func ValidateTagPattern(p string) error {
	if base, ok := strings.CutSuffix(p, ".*"); ok {
		if base == "" {
			return errors.New("tag must not be empty")
		}
		return ValidateTag(base)
	}
	return ValidateTag(p)
}

// matchTagPattern reports whether one of tags matches pattern p.
func matchTagPattern(tags []string, p string) bool {
	base, ns := strings.CutSuffix(p, ".*")
	for _, t := range tags {
		if t == p || ns && (t == base || strings.HasPrefix(t, base+".")) {
			return true
		}
	}
	return false
}

// normalizeTags validates tags and removes duplicates keeping the first.
func normalizeTags(tags []string) ([]string, error) {
	out := make([]string, 0, len(tags))
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		if err := ValidateTag(t); err != nil {
			return nil, &Error{Code: CodeInvalidTag, Message: "invalid tag " + quote(t) + ": " + err.Error()}
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out, nil
}

func quote(s string) string { return "\"" + strings.ReplaceAll(s, "\"", "\\\"") + "\"" }
