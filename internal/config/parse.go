package config

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/agentexec/agentexec/internal/duration"
)

// parse decodes the TOML document data read from path and overlays it on the
// defaults. Values are decoded into generic maps and checked here rather than
// by the TOML library's struct decoding, so that key matching is exact
// (the library falls back to case-insensitive field names), the first error
// is deterministic (keys are checked in table order) and every error names
// its key.
func parse(path string, data []byte) (Config, error) {
	var doc map[string]any
	if _, err := toml.Decode(string(data), &doc); err != nil {
		e := &Error{Path: path, Msg: err.Error(), Err: err}
		if pe, ok := errors.AsType[toml.ParseError](err); ok {
			e.Line = pe.Position.Line
			e.Msg = pe.Message
		}
		return Config{}, e
	}

	c := Default()
	c.Path = path
	p := &parser{path: path, data: string(data), doc: doc}

	if shell, ok := p.section("shell"); ok {
		if v, ok := shell["unix"]; ok {
			c.ShellUnix = p.argv("shell", "unix", v)
		}
		if v, ok := shell["windows"]; ok {
			c.ShellWindows = p.argv("shell", "windows", v)
		}
	}
	if gc, ok := p.section("gc"); ok {
		if v, ok := gc["auto"]; ok {
			c.GCAuto = p.boolean("gc", "auto", v)
		}
		if v, ok := gc["older_than"]; ok {
			if raw, ok := p.str("gc", "older_than", v); ok {
				d, err := duration.ParseWithUnit(raw)
				if err != nil {
					p.fail("gc", "older_than", err.Error(), err)
				}
				c.GCOlderThan, c.GCOlderThanRaw = d, raw
			}
		}
		if v, ok := gc["scan_limit"]; ok {
			c.GCScanLimit = toInt(p.integer("gc", "scan_limit", v, 1))
		}
		if v, ok := gc["delete_limit"]; ok {
			c.GCDeleteLimit = toInt(p.integer("gc", "delete_limit", v, 0))
		}
		if v, ok := gc["max_jobs"]; ok {
			c.GCMaxJobs = p.integer("gc", "max_jobs", v, 0)
		}
		if v, ok := gc["max_bytes"]; ok {
			c.GCMaxBytes = p.integer("gc", "max_bytes", v, 0)
		}
	}
	if notify, ok := p.section("notify"); ok {
		if v, ok := notify["timeout_ms"]; ok {
			ms := p.integer("notify", "timeout_ms", v, 1)
			if ms > int64(duration.Never/time.Millisecond) {
				c.NotifyTimeout = duration.Never
			} else {
				c.NotifyTimeout = time.Duration(ms) * time.Millisecond
			}
		}
	}
	if stdin, ok := p.section("stdin"); ok {
		if v, ok := stdin["max_bytes"]; ok {
			c.StdinMaxBytes = p.integer("stdin", "max_bytes", v, 0)
		}
		if v, ok := stdin["grace_ms"]; ok {
			ms := p.integer("stdin", "grace_ms", v, 0)
			c.StdinGrace = time.Duration(min(ms, int64(duration.Never/time.Millisecond))) * time.Millisecond
		}
	}
	p.cluster(&c)

	if p.err != nil {
		return Config{}, p.err
	}
	return c, nil
}

// parser accumulates the first validation error; later checks become no-ops
// for the result but keep the code straight-line.
type parser struct {
	path string
	data string
	doc  map[string]any
	err  *Error
}

func (p *parser) fail(section, key, msg string, cause error) {
	if p.err != nil {
		return
	}
	p.err = &Error{
		Path: p.path,
		Line: keyLine(p.data, section, key),
		Key:  dotted(section, key),
		Msg:  msg,
		Err:  cause,
	}
}

// section returns the table named name, if the document has one. A known
// section holding something other than a table is an error.
func (p *parser) section(name string) (map[string]any, bool) {
	v, ok := p.doc[name]
	if !ok {
		return nil, false
	}
	t, ok := v.(map[string]any)
	if !ok {
		p.fail(name, "", "expected a table, found "+tomlType(v), nil)
		return nil, false
	}
	return t, true
}

func (p *parser) argv(section, key string, v any) []string {
	arr, ok := v.([]any)
	if !ok {
		p.fail(section, key, "expected an array of strings, found "+tomlType(v), nil)
		return nil
	}
	if len(arr) == 0 {
		p.fail(section, key, "the shell wrapper array must not be empty", nil)
		return nil
	}
	out := make([]string, len(arr))
	for i, el := range arr {
		s, ok := el.(string)
		if !ok {
			p.fail(section, key, fmt.Sprintf("expected an array of strings, found %s at index %d", tomlType(el), i), nil)
			return nil
		}
		out[i] = s
	}
	return out
}

func (p *parser) boolean(section, key string, v any) bool {
	b, ok := v.(bool)
	if !ok {
		p.fail(section, key, "expected a boolean, found "+tomlType(v), nil)
	}
	return b
}

func (p *parser) str(section, key string, v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		p.fail(section, key, "expected a duration string such as \"30d\", found "+tomlType(v), nil)
	}
	return s, ok
}

func (p *parser) integer(section, key string, v any, minimum int64) int64 {
	n, ok := v.(int64)
	if !ok {
		p.fail(section, key, "expected an integer, found "+tomlType(v), nil)
		return 0
	}
	if n < minimum {
		p.fail(section, key, fmt.Sprintf("must be at least %d, found %d", minimum, n), nil)
		return 0
	}
	return n
}

// toInt narrows a non-negative limit to int, saturating on 32-bit platforms
// (a limit larger than int can count is equivalent to no limit).
func toInt(n int64) int {
	if n > math.MaxInt {
		return math.MaxInt
	}
	return int(n)
}

func dotted(section, key string) string {
	if key == "" {
		return section
	}
	return section + "." + key
}

// tomlType names the TOML type of a value decoded into an any.
func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case int64:
		return "integer"
	case float64:
		return "float"
	case bool:
		return "boolean"
	case time.Time:
		return "datetime"
	case []any:
		return "array"
	case []map[string]any:
		return "array of tables"
	case map[string]any:
		return "table"
	}
	return fmt.Sprintf("%T", v)
}

// keyLine returns the 1-based line on which section.key (or the section
// itself, for key "") is defined in data, or 0 if it cannot be determined.
//
// The TOML library records key positions but does not export them; it does
// report them in the ParseError it returns when a toml.Unmarshaler fails.
// So decode data again into a struct built for just this key, whose only
// field always fails.
func keyLine(data, section, key string) int {
	field := func(name string, typ reflect.Type) reflect.Type {
		return reflect.StructOf([]reflect.StructField{{
			Name: "F",
			Type: typ,
			Tag:  reflect.StructTag(`toml:` + fmt.Sprintf("%q", name)),
		}})
	}
	target := reflect.TypeFor[lineProbe]()
	if key != "" {
		target = field(key, target)
	}
	v := reflect.New(field(section, target))
	_, err := toml.Decode(data, v.Interface())
	// Parsing already succeeded, so the only error that can carry this key
	// is the probe's own.
	if pe, ok := errors.AsType[toml.ParseError](err); ok && pe.LastKey == dotted(section, key) {
		return pe.Position.Line
	}
	return 0
}

type lineProbe struct{}

func (lineProbe) UnmarshalTOML(any) error { return errors.New("line probe") }
