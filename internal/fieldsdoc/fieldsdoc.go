// Package fieldsdoc renders the JSON field reference (docs/fields.md) from
// the embedded JSON Schema of every response, so the reference cannot drift
// from what the binary prints: `go generate ./internal/fieldsdoc` rewrites
// the file and a test fails while it is stale.
package fieldsdoc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// node is a JSON Schema (draft-07) node, as far as the schema uses it.
type node struct {
	Ref         string           `json:"$ref"`
	Description string           `json:"description"`
	Type        any              `json:"type"` // string or []string
	Const       any              `json:"const"`
	Enum        []any            `json:"enum"`
	Pattern     string           `json:"pattern"`
	Minimum     *float64         `json:"minimum"`
	Maximum     *float64         `json:"maximum"`
	MinLength   *int             `json:"minLength"`
	MinItems    *int             `json:"minItems"`
	MaxItems    *int             `json:"maxItems"`
	Items       *node            `json:"items"`
	Properties  map[string]*node `json:"properties"`
	Required    []string         `json:"required"`
	AllOf       []*node          `json:"allOf"`
	AnyOf       []*node          `json:"anyOf"`
	OneOf       []*node          `json:"oneOf"`
	Not         *node            `json:"not"`
	If          *node            `json:"if"`
	Then        *node            `json:"then"`
	Else        *node            `json:"else"`
	Definitions map[string]*node `json:"definitions"`

	hasConst bool     // Const was given (it may be null or false)
	order    []string // property names in document order
}

// UnmarshalJSON keeps what encoding/json loses: whether const was present,
// and the document order of properties (the documented key order).
func (n *node) UnmarshalJSON(b []byte) error {
	type plain node
	if err := json.Unmarshal(b, (*plain)(n)); err != nil {
		return err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	_, n.hasConst = raw["const"]
	if props, ok := raw["properties"]; ok {
		keys, err := objectKeys(props)
		if err != nil {
			return err
		}
		n.order = keys
	}
	return nil
}

// objectKeys returns the keys of a JSON object in document order.
func objectKeys(b []byte) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		keys = append(keys, t.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// Markdown renders the field reference of the schema document.
func Markdown(schemaJSON []byte) ([]byte, error) {
	var root node
	if err := json.Unmarshal(schemaJSON, &root); err != nil {
		return nil, fmt.Errorf("parse schema: %w", err)
	}
	r := &renderer{defs: root.Definitions}
	// Response types in the schema's oneOf order; shared objects and value
	// types in definition order.
	var responses []string
	isResponse := map[string]bool{}
	for _, b := range root.OneOf {
		name := strings.TrimPrefix(b.Ref, "#/definitions/")
		if d := r.defs[name]; d != nil {
			responses = append(responses, name)
			isResponse[name] = true
		}
	}
	defOrder, err := definitionOrder(schemaJSON)
	if err != nil {
		return nil, err
	}
	var objects, values []string
	for _, name := range defOrder {
		switch d := r.defs[name]; {
		case isResponse[name]:
		case len(d.Properties) > 0 || d.Type == "object":
			objects = append(objects, name)
		default:
			values = append(values, name)
		}
	}
	r.objects = objects

	w := &r.out
	w.WriteString("# JSON field reference\n\n")
	w.WriteString("<!-- Generated from schema/agent-exec.schema.json by `go generate ./internal/fieldsdoc`. Do not edit: a test fails when this file is stale. -->\n\n")
	if d := clean(root.Description); d != "" {
		w.WriteString(d + "\n\n")
	}
	w.WriteString("Every response carries `schema_version`, `ok` and `type` first; the payload fields follow at the top level in the order listed here. Consumers must ignore fields they do not know: new optional fields are appended after the documented ones. `agent-exec schema` prints the schema itself.\n\n")
	w.WriteString("Presence: **always** — the key is always there; **optional** — omitted when it does not apply (see the notes and rules); a condition — present exactly when it holds.\n\n")
	w.WriteString("## Responses\n\n")
	for i, name := range responses {
		if i > 0 {
			w.WriteString(" · ")
		}
		fmt.Fprintf(w, "[`%s`](#%s)", r.typeName(name), anchor(name))
	}
	w.WriteString("\n\n")
	for _, name := range responses {
		r.object(name, "`"+r.typeName(name)+"`")
	}
	w.WriteString("## Shared objects\n\n")
	for _, name := range objects {
		r.object(name, name)
	}
	w.WriteString("## Value types\n\n| Name | Values | Meaning |\n|---|---|---|\n")
	for _, name := range values {
		d := r.defs[name]
		fmt.Fprintf(w, "| <a id=\"%s\"></a>`%s` | %s | %s |\n", anchor(name), name, cell(r.valueShape(d)), cell(clean(d.Description)))
	}
	return bytes.TrimRight(w.Bytes(), "\n"), nil
}

func definitionOrder(schemaJSON []byte) ([]string, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(schemaJSON, &top); err != nil {
		return nil, err
	}
	return objectKeys(top["definitions"])
}

type renderer struct {
	defs    map[string]*node
	objects []string
	out     bytes.Buffer
}

// typeName is the response type a definition stands for: its type const.
func (r *renderer) typeName(def string) string {
	if t := r.defs[def].Properties["type"]; t != nil && t.hasConst {
		if s, ok := t.Const.(string); ok {
			return s
		}
	}
	return def
}

func anchor(name string) string {
	return "def-" + strings.NewReplacer(".", "-", "_", "-").Replace(strings.ToLower(name))
}

// row is one field of a table.
type row struct {
	field, typ, presence, notes string
}

// object renders one definition with properties as a table of its fields
// (nested inline objects flattened as parent.child, array items as
// parent[].child) followed by its conditional rules.
func (r *renderer) object(name, title string) {
	d := r.defs[name]
	w := &r.out
	fmt.Fprintf(w, "<a id=\"%s\"></a>\n### %s\n\n", anchor(name), title)
	if desc := clean(d.Description); desc != "" {
		w.WriteString(desc + "\n\n")
	}
	var rows []row
	var rules []string
	r.fields(d, "", &rows, &rules)
	w.WriteString("| Field | Type | Presence | Notes |\n|---|---|---|---|\n")
	for _, rw := range rows {
		fmt.Fprintf(w, "| `%s` | %s | %s | %s |\n", rw.field, cell(rw.typ), cell(rw.presence), cell(rw.notes))
	}
	if len(rules) > 0 {
		w.WriteString("\nRules:\n\n")
		for _, rule := range rules {
			w.WriteString("- " + rule + "\n")
		}
	}
	w.WriteString("\n")
}

func (r *renderer) fields(d *node, prefix string, rows *[]row, rules *[]string) {
	presence := map[string]string{}
	for _, req := range d.Required {
		presence[req] = "always"
	}
	for _, a := range d.AllOf {
		r.condition(a, prefix, presence, rules)
	}
	for _, name := range d.order {
		p := d.Properties[name]
		pres := presence[name]
		if pres == "" {
			pres = "optional"
		}
		*rows = append(*rows, row{field: prefix + name, typ: r.shape(p), presence: pres, notes: clean(p.Description)})
		switch {
		case len(p.Properties) > 0:
			r.fields(p, prefix+name+".", rows, rules)
		case p.Items != nil && len(p.Items.Properties) > 0:
			r.fields(p.Items, prefix+name+"[].", rows, rules)
		}
	}
}

// condition turns an if/then/else item of allOf into presence notes for the
// fields it requires or forbids, and into rules for anything else.
func (r *renderer) condition(a *node, prefix string, presence map[string]string, rules *[]string) {
	if a.If == nil {
		*rules = append(*rules, "also: "+r.constraint(a, prefix))
		return
	}
	then, els := a.Then, a.Else
	ifc := a.If
	if ifc.Not != nil && len(ifc.Properties) == 0 {
		// "if not C then X else Y" reads better as "if C then Y else X".
		ifc, then, els = ifc.Not, els, then
	}
	cond := r.predicate(ifc, prefix)
	req := func(n *node) []string {
		if n == nil {
			return nil
		}
		return n.Required
	}
	forbid := func(n *node) []string {
		if n == nil || n.Not == nil {
			return nil
		}
		return n.Not.Required
	}
	thenReq, thenForbid, elseReq, elseForbid := req(then), forbid(then), req(els), forbid(els)
	note := func(f, text string) {
		switch presence[f] {
		case "always", text:
		case "":
			presence[f] = text
		default: // several conditions on one field: all of them hold
			presence[f] += "; " + text
		}
	}
	for _, f := range thenReq {
		if slices.Contains(elseForbid, f) {
			note(f, "iff "+cond)
		} else {
			note(f, "when "+cond)
		}
	}
	for _, f := range thenForbid {
		if slices.Contains(elseReq, f) {
			note(f, "unless "+cond)
		} else {
			note(f, "omitted when "+cond)
		}
	}
	for _, f := range elseReq {
		if !slices.Contains(thenForbid, f) {
			note(f, "unless "+cond)
		}
	}
	for _, f := range elseForbid {
		if !slices.Contains(thenReq, f) {
			note(f, "omitted unless "+cond)
		}
	}
	if extra := r.constraint(strip(then), prefix); extra != "" {
		*rules = append(*rules, "when "+cond+": "+extra)
	}
	if extra := r.constraint(strip(els), prefix); extra != "" {
		*rules = append(*rules, "unless "+cond+": "+extra)
	}
}

// strip returns n without the required/not-required parts condition already
// turned into presence notes.
func strip(n *node) *node {
	if n == nil {
		return nil
	}
	c := *n
	c.Required = nil
	if c.Not != nil && len(c.Not.Properties) == 0 && c.Not.If == nil {
		c.Not = nil
	}
	return &c
}

// predicate describes an if-clause: `state` is `exited`, `state` is one of
// …, and their negation.
func (r *renderer) predicate(n *node, prefix string) string {
	if n.Not != nil {
		return "not (" + r.predicate(n.Not, prefix) + ")"
	}
	var parts []string
	for _, name := range n.order {
		p := n.Properties[name]
		field := "`" + prefix + name + "`"
		switch {
		case p.hasConst:
			parts = append(parts, field+" is "+literal(p.Const))
		case len(p.Enum) > 0:
			parts = append(parts, field+" is one of "+literals(p.Enum))
		default:
			parts = append(parts, field+" is "+r.shape(p))
		}
	}
	if len(parts) == 0 {
		return "always"
	}
	return strings.Join(parts, " and ")
}

// constraint describes what a then/else clause requires beyond presence:
// property values and nested shapes. "" when nothing is left.
func (r *renderer) constraint(n *node, prefix string) string {
	if n == nil {
		return ""
	}
	var parts []string
	for _, f := range n.Required {
		parts = append(parts, "`"+prefix+f+"` present")
	}
	for _, name := range n.order {
		p := n.Properties[name]
		field := "`" + prefix + name + "`"
		switch {
		case p.hasConst:
			parts = append(parts, field+" is "+literal(p.Const))
		case len(p.Enum) > 0:
			parts = append(parts, field+" is one of "+literals(p.Enum))
		default:
			parts = append(parts, field+" is "+r.inline(p))
		}
	}
	if n.Not != nil {
		if s := r.constraint(n.Not, prefix); s != "" {
			parts = append(parts, "not ("+s+")")
		}
	}
	return strings.Join(parts, ", ")
}

// inline is shape with the fields of an inline object spelled out, for
// rules (tables flatten such objects into rows instead).
func (r *renderer) inline(p *node) string {
	if len(p.Properties) == 0 || p.Ref != "" {
		return r.shape(p)
	}
	var fields []string
	for _, name := range p.order {
		f := "`" + name + "`: " + r.inline(p.Properties[name])
		if !slices.Contains(p.Required, name) {
			f += " (optional)"
		}
		fields = append(fields, f)
	}
	return "object {" + strings.Join(fields, "; ") + "}"
}

// shape describes a property's type in a few words.
func (r *renderer) shape(p *node) string {
	switch {
	case p.Ref != "":
		name := strings.TrimPrefix(p.Ref, "#/definitions/")
		if slices.Contains(r.objects, name) {
			return fmt.Sprintf("object [%s](#%s)", name, anchor(name))
		}
		return fmt.Sprintf("[%s](#%s)", name, anchor(name))
	case p.hasConst:
		return literal(p.Const)
	case len(p.Enum) > 0:
		return "one of " + literals(p.Enum)
	case len(p.AnyOf) > 0 || len(p.OneOf) > 0:
		var alts []string
		for _, a := range append(slices.Clone(p.AnyOf), p.OneOf...) {
			alts = append(alts, r.shape(a))
		}
		return strings.Join(alts, " or ")
	}
	var types []string
	switch t := p.Type.(type) {
	case string:
		types = []string{t}
	case []any:
		for _, x := range t {
			types = append(types, fmt.Sprint(x))
		}
	}
	for i, t := range types {
		switch t {
		case "array":
			s := "array"
			if p.Items != nil {
				s += " of " + r.shape(p.Items)
			}
			types[i] = s + bounds(" items", p.MinItems, p.MaxItems)
		case "integer", "number":
			types[i] = t + numberBounds(p.Minimum, p.Maximum)
		case "string":
			s := "string"
			if p.Pattern != "" {
				s += " matching `" + p.Pattern + "`"
			}
			if p.MinLength != nil && *p.MinLength > 0 {
				s += " (non-empty)"
			}
			types[i] = s
		case "object":
			if len(p.Properties) > 0 && p.Ref == "" {
				types[i] = "object"
			}
		}
	}
	if len(types) == 0 {
		if p.Pattern != "" {
			return "string matching `" + p.Pattern + "`"
		}
		return "any"
	}
	return strings.Join(types, " or ")
}

// valueShape describes a value-type definition.
func (r *renderer) valueShape(d *node) string {
	return r.shape(&node{Type: d.Type, Const: d.Const, hasConst: d.hasConst, Enum: d.Enum, Pattern: d.Pattern,
		Minimum: d.Minimum, Maximum: d.Maximum, MinLength: d.MinLength, MinItems: d.MinItems, MaxItems: d.MaxItems,
		Items: d.Items, AnyOf: d.AnyOf, OneOf: d.OneOf})
}

func bounds(unit string, lo, hi *int) string {
	switch {
	case lo != nil && hi != nil:
		return fmt.Sprintf(" (%d–%d%s)", *lo, *hi, unit)
	case lo != nil && *lo > 0:
		return fmt.Sprintf(" (at least %d%s)", *lo, strings.TrimSuffix(unit, "s")+plural(*lo))
	case hi != nil:
		return fmt.Sprintf(" (at most %d%s)", *hi, unit)
	}
	return ""
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func numberBounds(lo, hi *float64) string {
	switch {
	case lo != nil && hi != nil:
		return fmt.Sprintf(" %g–%g", *lo, *hi)
	case lo != nil:
		return fmt.Sprintf(" ≥ %g", *lo)
	case hi != nil:
		return fmt.Sprintf(" ≤ %g", *hi)
	}
	return ""
}

func literal(v any) string {
	b, _ := json.Marshal(v)
	return "`" + string(b) + "`"
}

func literals(vs []any) string {
	var out []string
	for _, v := range vs {
		out = append(out, literal(v))
	}
	return strings.Join(out, ", ")
}

// specRef matches references to the project's internal specification,
// which is not part of the repository: the reference stands on its own.
// Patterns are compiled on first use, not at package initialisation,
// which every process of this binary pays, job supervisors included.
var (
	specParen  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\s*\((?:see |per )?SPEC §[0-9.]+[^()]*\)`) })
	specInner  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\s*[,;]\s*(?:see |per )?SPEC §[0-9]+(?:\.[0-9]+)*`) })
	specRef    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?:(?:see |per )?SPEC )?§[0-9]+(?:\.[0-9]+)*\.?`) })
	spaces     = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\s+`) })
	strayPunct = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\s([.,;:])(\s|$)`) })
)

// Clean drops references to the project's specification (which is not
// part of the repository) and normalises whitespace, for text shown in the
// user documentation.
func Clean(s string) string { return clean(s) }

// clean drops specification references and normalises whitespace.
func clean(s string) string {
	s = specParen().ReplaceAllString(s, "")
	s = specInner().ReplaceAllString(s, "")
	s = specRef().ReplaceAllString(s, "")
	s = strings.ReplaceAll(s, "()", "")
	s = strings.ReplaceAll(s, "( ", "(")
	s = strings.ReplaceAll(s, " )", ")")
	s = strings.ReplaceAll(s, "; )", ")")
	s = spaces().ReplaceAllString(strings.TrimSpace(s), " ")
	// A removed reference can leave a space before punctuation
	// ("foo (SPEC §1)." → "foo ."); a leading dot of a name (".agents")
	// is not punctuation.
	s = strayPunct().ReplaceAllString(s, "$1$2")
	return strings.TrimSpace(s)
}

// cell escapes text for a Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}
