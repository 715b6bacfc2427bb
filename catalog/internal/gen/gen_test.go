package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wxpay-chain/wxpay/catalog/internal/wire"
)

// specDir is the WeChat Pay OpenAPI description to test against:
// $WXPAY_OPENAPI, else ../shared/openapi beside the repository. The tests
// that need it skip when it is not there.
func specDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("WXPAY_OPENAPI")
	if dir == "" {
		root, err := repoRoot()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(root, "..", "shared", "openapi")
	}
	if _, err := os.Stat(filepath.Join(dir, "v3")); err != nil {
		t.Skipf("no OpenAPI description at %s (set WXPAY_OPENAPI)", dir)
	}
	return dir
}

// generateTo runs the generator as go generate would, into a new directory.
func generateTo(t *testing.T, spec string) string {
	t.Helper()
	out := t.TempDir()
	if err := run([]string{"-out", out, spec}, io.Discard); err != nil {
		t.Fatal(err)
	}
	return out
}

func readData(t *testing.T, dir string) []byte {
	t.Helper()
	gz, err := os.ReadFile(filepath.Join(dir, dataFile))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestDeterministic: the same description gives byte-identical output.
func TestDeterministic(t *testing.T) {
	spec := specDir(t)
	a, b := generateTo(t, spec), generateTo(t, spec)
	for _, f := range []string{dataFile, goFile, noticeFile} {
		fa, errA := os.ReadFile(filepath.Join(a, f))
		fb, errB := os.ReadFile(filepath.Join(b, f))
		if errA != nil || errB != nil {
			t.Fatal(errA, errB)
		}
		if !bytes.Equal(fa, fb) {
			t.Errorf("%s differs between two runs", f)
		}
	}
}

// TestCommittedIsFresh: the committed catalogue is what the generator makes
// of the description (the data compared uncompressed, so that another
// version of compress/flate does not matter).
func TestCommittedIsFresh(t *testing.T) {
	spec := specDir(t)
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	committed := filepath.Join(root, "catalog")
	fresh := generateTo(t, spec)
	if !bytes.Equal(readData(t, committed), readData(t, fresh)) {
		t.Errorf("catalog/%s is not what the generator makes of %s: run go generate ./catalog", dataFile, spec)
	}
	for _, f := range []string{goFile, noticeFile} {
		a, errA := os.ReadFile(filepath.Join(committed, f))
		b, errB := os.ReadFile(filepath.Join(fresh, f))
		if errA != nil || errB != nil {
			t.Fatal(errA, errB)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("catalog/%s is not what the generator makes: run go generate ./catalog", f)
		}
	}
}

// TestNoProse: no description text reaches the catalogue.
func TestNoProse(t *testing.T) {
	data := readData(t, generateTo(t, "testdata/spec"))
	for _, prose := range []string{"prose that must not be kept", "more prose"} {
		if bytes.Contains(data, []byte(prose)) {
			t.Errorf("the catalogue holds %q", prose)
		}
	}
}

// decoded is the generated catalogue with helpers to walk it.
type decoded struct {
	t *testing.T
	f wire.File
}

func decode(t *testing.T, dir string) *decoded {
	d := &decoded{t: t}
	if err := json.Unmarshal(readData(t, dir), &d.f); err != nil {
		t.Fatal(err)
	}
	return d
}

func (d *decoded) op(method, template string) wire.Op {
	for _, o := range d.f.Ops {
		if o.Method == method && o.Template == template {
			return o
		}
	}
	d.t.Fatalf("no %s %s", method, template)
	return wire.Op{}
}

// schema follows a dotted path of property names ("[]" for items) from the
// schema at index i (plus one).
func (d *decoded) schema(i int, path string) wire.Schema {
	d.t.Helper()
	if i == 0 {
		d.t.Fatalf("no schema for %q", path)
	}
	s := d.f.Schemas[i-1]
	if path == "" {
		return s
	}
	head, rest, _ := strings.Cut(path, ".")
	if head == "[]" {
		return d.schema(s.Items, rest)
	}
	j := slices.Index(s.PropNames, head)
	if j < 0 {
		d.t.Fatalf("no property %q among %v", head, s.PropNames)
	}
	return d.schema(s.PropIdx[j], rest)
}

// TestOddities: the generator's reading of the description's spellings and
// mistakes, on a small made-up description.
func TestOddities(t *testing.T) {
	d := decode(t, generateTo(t, "testdata/spec"))
	var templates []string
	for _, o := range d.f.Ops {
		templates = append(templates, o.Method+" "+o.Template)
	}
	// "{empty}" is a trailing slash; a top-level key that is no method is skipped.
	if diff := cmp.Diff([]string{"POST v3/demo/", "GET v3/demo/items/{item_id}", "GET v3/demo/kinds/{kind}"}, templates); diff != "" {
		t.Errorf("operations (-want +got):\n%s", diff)
	}

	post := d.op("POST", "v3/demo/")
	if post.Name != "提交演示" || !slices.Equal(post.Tags, []string{"演示"}) || !slices.Equal(post.Roles, []string{"服务商"}) {
		t.Errorf("name %q, tags %v (from \"tag\"), roles %v", post.Name, post.Tags, post.Roles)
	}
	if post.Status != 204 || post.Response != 0 || !post.BodyReq {
		t.Errorf("status %d, response %d, body required %v: want the 2xx answer without a body", post.Status, post.Response, post.BodyReq)
	}
	// A $ref parameter, its type taken from its example.
	if diff := cmp.Diff([]wire.Param{{Name: "Wechatpay-Serial", In: "header", Required: true, Schema: post.Params[0].Schema}}, post.Params); diff != "" {
		t.Errorf("params (-want +got):\n%s", diff)
	}
	if s := d.schema(post.Params[0].Schema, ""); s.Type != "string" {
		t.Errorf("header type %q", s.Type)
	}
	body := d.schema(post.Body, "")
	// allOf merged: both parts' properties, then the local ones; required united.
	if diff := cmp.Diff([]string{"kind", "amount", "people", "code", "when", "bad"}, body.PropNames); diff != "" {
		t.Errorf("body properties (-want +got):\n%s", diff)
	}
	if !slices.Equal(body.Required, []string{"kind"}) {
		t.Errorf("body required %v", body.Required)
	}
	tests := []struct {
		path string
		want wire.Schema
	}{
		// "#Name" reference with a local example laid over it.
		{"kind", wire.Schema{Type: "string", Enum: []string{"A", "B"}, Example: json.RawMessage(`"B"`)}},
		// "#/Name" reference; a required name without a property dropped.
		{"amount.total", wire.Schema{Type: "number", Example: json.RawMessage(`100`)}},
		{"people.[].name", wire.Schema{Type: "string", Format: "base64"}},
		{"people.[].nick", wire.Schema{Type: "string"}},         // "stringde"
		{"code", wire.Schema{Type: "string", MaxLength: 128}},   // a lone minLength 128
		{"when", wire.Schema{Type: "string", Pattern: `\d{8}`}}, // a JavaScript literal
		{"bad", wire.Schema{Type: "string"}},                    // a pattern RE2 cannot compile
	}
	for _, tt := range tests {
		got := d.schema(post.Body, tt.path)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.path, diff)
		}
	}
	if a := d.schema(post.Body, "amount"); !slices.Equal(a.Required, []string{"total"}) {
		t.Errorf("amount required %v, want [total]", a.Required)
	}
	if p := d.schema(post.Body, "people"); p.MaxItems != 3 || p.MaxLength != 0 {
		t.Errorf("people: maxItems %d, maxLength %d: an array's maxLength is its maxItems", p.MaxItems, p.MaxLength)
	}

	get := d.op("GET", "v3/demo/items/{item_id}")
	// The declared path parameter "id" is not in the template: replaced by {item_id}.
	var names []string
	for _, p := range get.Params {
		names = append(names, p.In+":"+p.Name)
	}
	if diff := cmp.Diff([]string{"query:limit", "query:kind", "path:item_id"}, names); diff != "" {
		t.Errorf("params (-want +got):\n%s", diff)
	}
	// allOf of a $ref enum and an inline one: either list's values are
	// accepted (the description extends a shared enum this way), each once.
	if diff := cmp.Diff(wire.Schema{Type: "string", Enum: []string{"A", "B", "C"}}, d.schema(get.Params[1].Schema, "")); diff != "" {
		t.Errorf("kind parameter (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"A", "B", "D"}, d.schema(get.Response, "kind").Enum); diff != "" {
		t.Errorf("kind answer field enum (-want +got):\n%s", diff)
	}
	one, ten := 1.0, 10.0
	if diff := cmp.Diff(wire.Schema{Type: "integer", Minimum: &one, Maximum: &ten}, d.schema(get.Params[0].Schema, "")); diff != "" {
		t.Errorf("limit (-want +got):\n%s", diff)
	}
	// A placeholder the description declares "in: query" is the path
	// parameter, with its constraints; no query parameter of that name is
	// required (WeChat Pay takes the value in the path only).
	kinds := d.op("GET", "v3/demo/kinds/{kind}")
	names = names[:0]
	for _, p := range kinds.Params {
		names = append(names, p.In+":"+p.Name)
		if p.Name == "kind" && (!p.Required || !slices.Equal(d.schema(p.Schema, "").Enum, []string{"A", "B"})) {
			t.Errorf("kind: required %v, enum %v; want the path parameter with the declared enum", p.Required, d.schema(p.Schema, "").Enum)
		}
	}
	if diff := cmp.Diff([]string{"path:kind", "query:limit"}, names); diff != "" {
		t.Errorf("params of GET v3/demo/kinds/{kind} (-want +got):\n%s", diff)
	}
	// An enum of numbers on a string is read as text.
	if diff := cmp.Diff([]string{"1", "2"}, d.schema(get.Response, "status").Enum); diff != "" {
		t.Errorf("status enum (-want +got):\n%s", diff)
	}
}

func TestUsage(t *testing.T) {
	if err := run([]string{"a", "b"}, io.Discard); err == nil {
		t.Error("two SPECDIRs accepted")
	}
	if err := run([]string{"-out", t.TempDir(), t.TempDir()}, io.Discard); err == nil || !strings.Contains(err.Error(), "v3") {
		t.Errorf("a directory without v3/: %v", err)
	}
}
