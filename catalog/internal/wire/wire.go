// Package wire defines the compact JSON form of the catalogue, written by
// catalog/internal/gen and read by package catalog.
//
// Schemas are interned: identical subtrees are stored once in File.Schemas
// and referred to by index plus one, so that zero means "none".
package wire

import "encoding/json"

// File is the whole catalogue.
type File struct {
	Generated string   `json:"generated"` // the "Code generated ... DO NOT EDIT." marker
	Source    string   `json:"source"`    // where the facts come from
	Schemas   []Schema `json:"schemas"`
	Ops       []Op     `json:"ops"`
}

// Op is one operation: a method on a path template.
type Op struct {
	Method     string   `json:"m"`
	Template   string   `json:"t"`
	Name       string   `json:"n,omitempty"`
	Roles      []string `json:"r,omitempty"`
	Tags       []string `json:"g,omitempty"`
	Deprecated bool     `json:"d,omitempty"`
	BaseURL    string   `json:"u,omitempty"`
	Params     []Param  `json:"p,omitempty"`
	Body       int      `json:"b,omitempty"`  // schema index + 1
	BodyReq    bool     `json:"br,omitempty"` // the body is required
	Multipart  bool     `json:"mp,omitempty"` // multipart/form-data; Body is the meta part
	Status     int      `json:"s"`            // success status code
	Response   int      `json:"o,omitempty"`  // schema index + 1
	Produces   []string `json:"pr,omitempty"` // media types of a non-JSON answer
}

// Param is a path, query, header or formData parameter.
type Param struct {
	Name     string `json:"n"`
	In       string `json:"i"`
	Required bool   `json:"r,omitempty"`
	Schema   int    `json:"s,omitempty"` // schema index + 1
}

// Schema is the part of a JSON schema the catalogue keeps.
type Schema struct {
	Type      string          `json:"t,omitempty"`
	Format    string          `json:"f,omitempty"`
	Enum      []string        `json:"e,omitempty"`
	Required  []string        `json:"r,omitempty"`
	PropNames []string        `json:"pn,omitempty"`
	PropIdx   []int           `json:"pi,omitempty"` // schema index + 1, parallel to PropNames
	Items     int             `json:"i,omitempty"`  // schema index + 1
	JSON      int             `json:"j,omitempty"`  // x-json: schema index + 1 of the JSON held in the string
	MinLength int             `json:"nl,omitempty"`
	MaxLength int             `json:"xl,omitempty"`
	Minimum   *float64        `json:"nv,omitempty"`
	Maximum   *float64        `json:"xv,omitempty"`
	MinItems  int             `json:"ni,omitempty"`
	MaxItems  int             `json:"xi,omitempty"`
	Pattern   string          `json:"pa,omitempty"`
	Example   json.RawMessage `json:"x,omitempty"`
}
