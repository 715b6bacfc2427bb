package catalog

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/wxpay-chain/wxpay/catalog/internal/wire"
)

// Operation is one APIv3 operation: a method on a path template.
type Operation struct {
	Method     string   // "GET", "POST", "PUT", "PATCH" or "DELETE"
	Template   string   // "v3/refund/domestic/refunds/{out_refund_no}"; a trailing '/' is part of it
	Name       string   // the official name, such as "申请退款API"
	Roles      []string // who may call it, such as "直连商户", "服务商"
	Tags       []string // product groups, such as "基础支付∙退款"
	Deprecated bool
	BaseURL    string // set when the operation lives on another host than api.mch.weixin.qq.com

	// Params are the path, query, header and formData parameters, in the
	// order of the description. Check reads the path and query ones.
	Params []Param

	// Body is the JSON body, nil when the operation takes none. For a
	// Multipart upload it is the signed "meta" part; the file is a formData
	// Param of type "file".
	Body         *Schema
	BodyRequired bool
	Multipart    bool

	// Status is the success status code (200, 202 or 204) and Response
	// the schema of its JSON body, nil when there is none. Produces lists
	// the media types of a non-JSON answer (a file download).
	Status   int
	Response *Schema
	Produces []string

	sensitive, respSensitive []string
	segs                     []string // template segments (see splitPath); placeholders as ""
	phNames                  []string // placeholder names, by position among segs
	phIdx                    []int    // placeholder segment indexes
	hay                      string   // lower-cased search text
	specific                 int      // how many path parameters carry constraints
}

// Param is a path, query, header or formData parameter.
type Param struct {
	Name     string
	In       string // "path", "query", "header" or "formData"
	Required bool   // always true for a path parameter
	Schema   *Schema
}

// Schema describes a JSON value, as much as the catalogue keeps of a JSON
// schema. A zero field is an absent constraint.
type Schema struct {
	// Type is "string", "integer", "number", "boolean", "object" or
	// "array" ("file" for an upload part), "" when anything goes.
	Type string
	// Format refines the type: "rfc3339", "date", "base64" (an RSA-OAEP
	// ciphertext: a sensitive field), "MediaId", "url",
	// "jsonObjectLike" (a string holding JSON, described by JSON), ...
	Format string
	// Enum lists the allowed values in text form: a string's value, a
	// number's decimal digits.
	Enum []string
	// Required names the properties an object must have.
	Required []string
	// Properties of an object, in the order of the description.
	Properties []Property
	// Items is the schema of an array's items.
	Items *Schema
	// JSON is the schema of the JSON text a string holds (x-json).
	JSON *Schema
	// MinLength and MaxLength bound a string's length in characters.
	MinLength, MaxLength int
	// Minimum and Maximum bound a number.
	Minimum, Maximum *float64
	// MinItems and MaxItems bound an array's length.
	MinItems, MaxItems int
	// Pattern is a regular expression (RE2 syntax, unanchored) a string
	// must match.
	Pattern string
	// DocExample is the description's example value, as JSON, nil when
	// it gives none; the Example method gives one that is always valid.
	DocExample json.RawMessage

	re     *regexp.Regexp // Pattern, compiled when the catalogue loads
	byName map[string]int // property index by name, for large objects
}

// Property is a named property of an object schema.
type Property struct {
	Name     string
	Required bool // Name is in the object's Required list
	Schema   *Schema
}

// Sensitive reports whether the schema is a sensitive field: a string that
// must be sent RSA-OAEP encrypted (format base64).
func (s *Schema) Sensitive() bool {
	return s != nil && s.Type == "string" && s.Format == "base64"
}

// prop returns the index of the property called name, or -1.
func (s *Schema) prop(name string) int {
	if s.byName != nil {
		if i, ok := s.byName[name]; ok {
			return i
		}
		return -1
	}
	for i := range s.Properties {
		if s.Properties[i].Name == name {
			return i
		}
	}
	return -1
}

// catalogue is the decoded data.
type catalogue struct {
	ops  []*Operation // sorted by template, then method
	root *node        // path segment tree
}

var (
	loadOnce sync.Once
	loaded   *catalogue
)

// get returns the catalogue, decoding it on first use.
func get() *catalogue {
	loadOnce.Do(func() {
		c, err := load(data)
		if err != nil {
			panic("catalog: embedded data is corrupt: " + err.Error())
		}
		loaded = c
	})
	return loaded
}

// All returns every operation, sorted by template and then method.
func All() []*Operation {
	return slices.Clone(get().ops)
}

// load decodes gzipped catalogue data.
func load(gz []byte) (*catalogue, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	size := 1 << 20
	if len(gz) >= 4 { // the gzip trailer ends with the data's size
		size = min(int(binary.LittleEndian.Uint32(gz[len(gz)-4:])), 64<<20)
	}
	buf := bytes.NewBuffer(make([]byte, 0, size+bytes.MinRead))
	if _, err := buf.ReadFrom(zr); err != nil {
		return nil, err
	}
	raw := buf.Bytes()
	f, err := decodeWire(raw)
	if err != nil {
		return nil, err
	}
	schemas, err := linkSchemas(f.Schemas)
	if err != nil {
		return nil, err
	}
	at := func(i int) (*Schema, error) {
		if i < 0 || i > len(schemas) {
			return nil, fmt.Errorf("schema index %d out of range", i)
		}
		if i == 0 {
			return nil, nil
		}
		return schemas[i-1], nil
	}
	c := &catalogue{root: &node{}}
	for _, w := range f.Ops {
		op, err := newOperation(w, at)
		if err != nil {
			return nil, err
		}
		c.ops = append(c.ops, op)
		c.root.insert(op)
	}
	c.root.sortOps()
	return c, nil
}

// linkSchemas turns the interned schemas into linked Schemas. A schema's
// children always come before it.
func linkSchemas(ws []wire.Schema) ([]*Schema, error) {
	out := make([]*Schema, len(ws))
	all := make([]Schema, len(ws))
	at := func(self, i int) (*Schema, error) {
		if i < 0 || i > self {
			return nil, fmt.Errorf("schema %d refers to schema %d", self, i)
		}
		if i == 0 {
			return nil, nil
		}
		return out[i-1], nil
	}
	for i, w := range ws {
		s := &all[i]
		*s = Schema{
			Type: w.Type, Format: w.Format, Enum: w.Enum, Required: w.Required,
			MinLength: w.MinLength, MaxLength: w.MaxLength, Minimum: w.Minimum, Maximum: w.Maximum,
			MinItems: w.MinItems, MaxItems: w.MaxItems, Pattern: w.Pattern, DocExample: w.Example,
		}
		var err error
		if s.Items, err = at(i+1, w.Items); err != nil {
			return nil, err
		}
		if s.JSON, err = at(i+1, w.JSON); err != nil {
			return nil, err
		}
		if len(w.PropNames) != len(w.PropIdx) {
			return nil, fmt.Errorf("schema %d: %d property names, %d schemas", i+1, len(w.PropNames), len(w.PropIdx))
		}
		s.Properties = make([]Property, len(w.PropNames))
		for j, name := range w.PropNames {
			ps, err := at(i+1, w.PropIdx[j])
			if err != nil {
				return nil, err
			}
			s.Properties[j] = Property{Name: name, Schema: ps}
		}
		if len(s.Properties) == 0 {
			s.Properties = nil
		}
		prepare(s)
		out[i] = s
	}
	return out, nil
}

// prepare marks the required properties and precomputes what Check needs.
func prepare(s *Schema) {
	for _, r := range s.Required {
		if i := s.prop(r); i >= 0 {
			s.Properties[i].Required = true
		}
	}
	if len(s.Properties) > 8 {
		s.byName = make(map[string]int, len(s.Properties))
		for i, p := range s.Properties {
			s.byName[p.Name] = i
		}
	}
	if s.Pattern != "" {
		s.re, _ = regexp.Compile(s.Pattern) // the generator keeps only patterns that compile
	}
}

// regexp returns the compiled Pattern, nil if none (or if it does not
// compile).
func (s *Schema) regexp() *regexp.Regexp {
	if s.re != nil || s.Pattern == "" {
		return s.re
	}
	re, _ := regexp.Compile(s.Pattern) // a Schema made by hand
	return re
}

// isInteger reports whether a number must be an integer. WeChat Pay amounts
// are integers in fen and the description writes most of them "type:
// number": only a float or double format allows a fraction.
func (s *Schema) isInteger() bool {
	return s.Type == "integer" || (s.Type == "number" && s.Format != "float" && s.Format != "double")
}

func newOperation(w wire.Op, at func(int) (*Schema, error)) (*Operation, error) {
	op := &Operation{
		Method: w.Method, Template: w.Template, Name: w.Name, Roles: w.Roles, Tags: w.Tags,
		Deprecated: w.Deprecated, BaseURL: w.BaseURL, BodyRequired: w.BodyReq, Multipart: w.Multipart,
		Status: w.Status, Produces: w.Produces,
	}
	var err error
	if op.Body, err = at(w.Body); err != nil {
		return nil, err
	}
	if op.Response, err = at(w.Response); err != nil {
		return nil, err
	}
	for _, p := range w.Params {
		s, err := at(p.Schema)
		if err != nil {
			return nil, err
		}
		if s == nil {
			s = &Schema{}
		}
		op.Params = append(op.Params, Param{Name: p.Name, In: p.In, Required: p.Required, Schema: s})
		if p.In == "path" && (s.Format != "" || s.Pattern != "" || len(s.Enum) > 0 || s.MaxLength > 0 || s.MinLength > 0) {
			op.specific++
		}
	}
	for i, seg := range splitPath(op.Template) {
		if name, ok := placeholder(seg); ok {
			op.segs = append(op.segs, "")
			op.phNames = append(op.phNames, name)
			op.phIdx = append(op.phIdx, i)
			continue
		}
		op.segs = append(op.segs, seg)
	}
	op.sensitive = sensitivePaths(op.Body)
	op.respSensitive = sensitivePaths(op.Response)
	op.hay = strings.ToLower(op.Name + "\x00" + op.Template + "\x00" + strings.Join(op.Tags, "\x00"))
	return op, nil
}

// placeholder reports whether a normalised segment is one placeholder,
// "{name}" or "{+name}", and its name.
func placeholder(seg string) (string, bool) {
	if len(seg) < 3 || seg[0] != '{' || seg[len(seg)-1] != '}' || strings.ContainsAny(seg[1:len(seg)-1], "{}") {
		return "", false
	}
	return strings.TrimPrefix(seg[1:len(seg)-1], "+"), true
}

// String returns "METHOD template".
func (op *Operation) String() string { return op.Method + " " + op.Template }
