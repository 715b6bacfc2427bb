package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// sch is a schema as the generator builds it: $ref and allOf merged in, the
// enum and example still as YAML until finish knows the type.
type sch struct {
	Type, Format         string
	Required             []string
	Props                []prop
	Items, JSON          *sch
	MinLength, MaxLength int
	MinItems, MaxItems   int
	Minimum, Maximum     *float64
	Pattern              string

	enum       []*yaml.Node
	example    *yaml.Node
	xSensitive []string

	// Set by finish.
	Enum    []string
	Example json.RawMessage
}

type prop struct {
	Name string
	S    *sch
}

// conv converts the schema at n (in file) with its $ref and allOf merged.
// Keys next to a $ref refine the schema it points to.
func (g *gen) conv(n *yaml.Node, file, ctx string, depth int) *sch {
	n = deref(n)
	if depth > 64 {
		g.odd("error", ctx, "schema nested too deeply")
		return &sch{}
	}
	if n == nil || n.Kind != yaml.MappingNode {
		return &sch{}
	}
	var s *sch
	if ref := str(get(n, "$ref")); ref != "" {
		t, f, err := g.spec.resolve(ref, file)
		if err != nil {
			g.fail(err)
			return &sch{}
		}
		s = g.conv(t, f, ctx, depth+1)
	}
	if all := get(n, "allOf"); all != nil {
		for _, part := range all.Content {
			s = mergeAllOf(s, g.conv(part, file, ctx, depth+1))
		}
	}
	return merge(s, g.local(n, file, ctx, depth))
}

// mergeAllOf merges one part of an allOf into the parts before it, as
// merge does, but for the enums: the description writes allOf: [$ref Enum,
// {enum: [...]}] to extend a shared enum (BillType's ALL, SUCCESS and
// REFUND plus the trade bill's RECHARGE_REFUND, ...), so the values of
// every part are allowed. (JSON Schema reads allOf as an intersection,
// which here would allow no value at all.) finishEnum drops repeats.
func mergeAllOf(a, b *sch) *sch {
	m := merge(a, b)
	if a != nil && b != nil && a.enum != nil && b.enum != nil {
		m.enum = append(slices.Clip(a.enum), b.enum...)
	}
	return m
}

// local reads the keys of n itself.
func (g *gen) local(n *yaml.Node, file, ctx string, depth int) *sch {
	s := &sch{
		Type:    strings.TrimSpace(str(get(n, "type"))),
		Format:  strings.TrimSpace(str(get(n, "format"))),
		Pattern: str(get(n, "pattern")),
		example: get(n, "example"),
	}
	if e := get(n, "enum"); e != nil {
		s.enum = e.Content
	}
	if r := get(n, "required"); r != nil && r.Kind == yaml.SequenceNode {
		s.Required = strs(r)
	}
	pairs(get(n, "properties"), func(name string, v *yaml.Node) {
		s.Props = append(s.Props, prop{name, g.conv(v, file, ctx+"."+name, depth+1)})
	})
	if it := get(n, "items"); it != nil {
		s.Items = g.conv(it, file, ctx+"[]", depth+1)
	}
	if j := get(n, "x-json"); j != nil {
		s.JSON = g.conv(j, file, ctx+"{x-json}", depth+1)
	}
	s.MinLength = g.intKey(n, "minLength", ctx)
	s.MaxLength = g.intKey(n, "maxLength", ctx)
	s.MinItems = g.intKey(n, "minItems", ctx)
	s.MaxItems = g.intKey(n, "maxItems", ctx)
	s.Minimum = g.numKey(n, "minimum", ctx)
	s.Maximum = g.numKey(n, "maximum", ctx)
	if x := get(n, "x-is-sensitive"); x != nil && x.Kind == yaml.SequenceNode {
		s.xSensitive = strs(x)
	}
	return s
}

func (g *gen) intKey(n *yaml.Node, key, ctx string) int {
	v := get(n, key)
	if v == nil {
		return 0
	}
	i, err := strconv.Atoi(str(v))
	if err != nil || i < 0 {
		g.odd("dropped", ctx, fmt.Sprintf("%s %q is not a count", key, str(v)))
		return 0
	}
	return i
}

func (g *gen) numKey(n *yaml.Node, key, ctx string) *float64 {
	v := get(n, key)
	if v == nil {
		return nil
	}
	f, err := strconv.ParseFloat(str(v), 64)
	if err != nil {
		g.odd("dropped", ctx, fmt.Sprintf("%s %q is not a number", key, str(v)))
		return nil
	}
	return &f
}

// merge returns a with b laid over it: b's set fields win, properties and
// required names are united (a's first), items merged.
func merge(a, b *sch) *sch {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	m := *a
	if b.Type != "" {
		m.Type = b.Type
	}
	if b.Format != "" {
		m.Format = b.Format
	}
	if b.Pattern != "" {
		m.Pattern = b.Pattern
	}
	if b.example != nil {
		m.example = b.example
	}
	if b.enum != nil {
		m.enum = b.enum
	}
	for _, r := range b.Required {
		if !slices.Contains(m.Required, r) {
			m.Required = append(m.Required, r)
		}
	}
	m.Props = slices.Clone(a.Props)
	for _, p := range b.Props {
		if i := slices.IndexFunc(m.Props, func(q prop) bool { return q.Name == p.Name }); i >= 0 {
			m.Props[i] = prop{p.Name, merge(m.Props[i].S, p.S)}
		} else {
			m.Props = append(m.Props, p)
		}
	}
	m.Items = merge(a.Items, b.Items)
	m.JSON = merge(a.JSON, b.JSON)
	for _, f := range []struct {
		dst *int
		src int
	}{
		{&m.MinLength, b.MinLength}, {&m.MaxLength, b.MaxLength},
		{&m.MinItems, b.MinItems}, {&m.MaxItems, b.MaxItems},
	} {
		if f.src != 0 {
			*f.dst = f.src
		}
	}
	if b.Minimum != nil {
		m.Minimum = b.Minimum
	}
	if b.Maximum != nil {
		m.Maximum = b.Maximum
	}
	if b.xSensitive != nil {
		m.xSensitive = b.xSensitive
	}
	return &m
}

// typeFixes maps misspelt types of the description to JSON schema types.
var typeFixes = map[string]string{"stringde": "string", "int": "integer"}

// finish settles the type, converts enum and example to JSON, and drops
// what contradicts the rest of the schema (reported as spec oddities).
func (g *gen) finish(s *sch, ctx string) {
	if s == nil {
		return
	}
	g.finishType(s, ctx)
	g.finishEnum(s, ctx)
	s.Example = g.example(s, ctx)
	g.finishConstraints(s, ctx)
	for _, p := range s.Props {
		g.finish(p.S, ctx+"."+p.Name)
	}
	g.finish(s.Items, ctx+"[]")
	g.finish(s.JSON, ctx+"{x-json}")
}

func (g *gen) finishType(s *sch, ctx string) {
	if t, ok := typeFixes[s.Type]; ok {
		g.odd("fixed", ctx, fmt.Sprintf("type %q read as %q", s.Type, t))
		s.Type = t
	}
	switch s.Type {
	case "string", "integer", "number", "boolean", "object", "array", "file":
		return
	case "":
	default:
		g.odd("fixed", ctx, fmt.Sprintf("unknown type %q dropped", s.Type))
		s.Type = ""
	}
	switch {
	case len(s.Props) > 0:
		s.Type = "object"
	case s.Items != nil:
		s.Type = "array"
	case len(s.enum) > 0:
		s.Type = scalarType(s.enum[0])
	case s.example != nil:
		s.Type = scalarType(s.example)
	}
}

// scalarType is the JSON type of a YAML value.
func scalarType(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "object"
	case yaml.SequenceNode:
		return "array"
	}
	switch n.Tag {
	case "!!int":
		return "integer"
	case "!!float":
		return "number"
	case "!!bool":
		return "boolean"
	case "!!null":
		return ""
	}
	return "string"
}

// finishEnum writes the enum in text form: a string's value, a number's
// decimal digits.
func (g *gen) finishEnum(s *sch, ctx string) {
	for _, e := range s.enum {
		if e.Kind != yaml.ScalarNode || e.Tag == "!!null" {
			g.odd("dropped", ctx, "enum value that is not a scalar")
			continue
		}
		v := e.Value
		if s.Type == "integer" || s.Type == "number" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				g.odd("dropped", ctx, fmt.Sprintf("enum value %q of a %s", v, s.Type))
				continue
			}
			v = strconv.FormatFloat(f, 'f', -1, 64)
		} else if s.Type == "string" && e.Tag != "!!str" {
			g.odd("fixed", ctx, fmt.Sprintf("enum value %s of a string read as %q", v, v))
		}
		if !slices.Contains(s.Enum, v) {
			s.Enum = append(s.Enum, v)
		}
	}
}

// finishConstraints drops required names without a property, fixes
// lengths and patterns the description gets wrong.
func (g *gen) finishConstraints(s *sch, ctx string) {
	kept := s.Required[:0:0]
	for _, r := range s.Required {
		if slices.ContainsFunc(s.Props, func(p prop) bool { return p.Name == r }) {
			kept = append(kept, r)
		} else {
			g.odd("dropped", ctx, fmt.Sprintf("required %q has no property", r))
		}
	}
	s.Required = kept
	if s.Type == "array" && s.MaxLength > 0 {
		if s.MaxItems == 0 {
			s.MaxItems = s.MaxLength
			g.odd("fixed", ctx, fmt.Sprintf("maxLength %d of an array read as maxItems", s.MaxLength))
		}
		s.MaxLength = 0
	}
	if s.MinLength > 32 && s.MaxLength == 0 {
		// WeChat Pay documents lengths as string[1,N]; a lone large
		// minimum is that N written in the wrong key.
		g.odd("fixed", ctx, fmt.Sprintf("lone minLength %d read as maxLength", s.MinLength))
		s.MinLength, s.MaxLength = 0, s.MinLength
	}
	if s.MinLength > 0 && s.Type == "string" && s.example != nil && s.example.Kind == yaml.ScalarNode &&
		utf8.RuneCountInString(s.example.Value) < s.MinLength {
		g.odd("dropped", ctx, fmt.Sprintf("minLength %d longer than the field's own example", s.MinLength))
		s.MinLength = 0
	}
	if s.Type != "string" && s.Type != "" && (s.MinLength > 0 || s.MaxLength > 0) {
		g.odd("dropped", ctx, fmt.Sprintf("string lengths on a %s", s.Type))
		s.MinLength, s.MaxLength = 0, 0
	}
	if s.Pattern != "" {
		p := s.Pattern
		if len(p) >= 2 && p[0] == '/' && p[len(p)-1] == '/' {
			p = p[1 : len(p)-1] // a JavaScript regular expression literal
		}
		if _, err := regexp.Compile(p); err != nil {
			g.odd("dropped", ctx, fmt.Sprintf("pattern %q: %v", s.Pattern, err))
			p = ""
		}
		s.Pattern = p
	}
	for _, name := range s.xSensitive {
		i := slices.IndexFunc(s.Props, func(p prop) bool { return p.Name == name })
		switch {
		case i < 0:
			g.odd("x-is-sensitive", ctx, fmt.Sprintf("%q is not a property", name))
		case s.Props[i].S.Format != "base64":
			g.odd("x-is-sensitive", ctx, fmt.Sprintf("%q is not format base64: not marked sensitive", name))
		}
	}
}

// example converts the example to JSON of the schema's type, or drops it.
func (g *gen) example(s *sch, ctx string) json.RawMessage {
	n := s.example
	if n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return nil
	}
	drop := func() json.RawMessage {
		g.odd("dropped", ctx, fmt.Sprintf("example of a %s: %.40q", s.Type, n.Value))
		return nil
	}
	scalar := n.Kind == yaml.ScalarNode
	switch s.Type {
	case "string":
		if !scalar {
			return drop()
		}
		return jsonString(n.Value)
	case "integer", "number":
		if !scalar {
			return drop()
		}
		v := strings.TrimSpace(n.Value)
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return drop()
		}
		if json.Valid([]byte(v)) && !strings.HasPrefix(v, "+") {
			return json.RawMessage(v)
		}
		return json.RawMessage(strconv.FormatFloat(f, 'f', -1, 64))
	case "boolean":
		if v := n.Value; scalar && (v == "true" || v == "false") {
			return json.RawMessage(v)
		}
		return drop()
	case "array", "object":
		open := byte('[')
		kind := yaml.SequenceNode
		if s.Type == "object" {
			open, kind = '{', yaml.MappingNode
		}
		if n.Kind == kind {
			return encodeNode(nil, n)
		}
		if v := strings.TrimSpace(n.Value); scalar && len(v) > 0 && v[0] == open && json.Valid([]byte(v)) {
			var buf bytes.Buffer
			_ = json.Compact(&buf, []byte(v))
			return buf.Bytes()
		}
		return drop()
	case "file":
		return nil
	}
	return encodeNode(nil, n)
}

// encodeNode appends n as JSON, keeping the order of mapping keys.
func encodeNode(dst []byte, n *yaml.Node) []byte {
	n = deref(n)
	switch n.Kind {
	case yaml.MappingNode:
		dst = append(dst, '{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, jsonString(n.Content[i].Value)...)
			dst = append(dst, ':')
			dst = encodeNode(dst, n.Content[i+1])
		}
		return append(dst, '}')
	case yaml.SequenceNode:
		dst = append(dst, '[')
		for i, c := range n.Content {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = encodeNode(dst, c)
		}
		return append(dst, ']')
	}
	switch n.Tag {
	case "!!null":
		return append(dst, "null"...)
	case "!!bool":
		return append(dst, n.Value...)
	case "!!int", "!!float":
		if json.Valid([]byte(n.Value)) {
			return append(dst, n.Value...)
		}
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return strconv.AppendFloat(dst, f, 'f', -1, 64)
		}
	}
	return append(dst, jsonString(n.Value)...)
}

// jsonString encodes s as a JSON string without HTML escaping.
func jsonString(s string) json.RawMessage {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
