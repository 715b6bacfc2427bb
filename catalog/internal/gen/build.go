package main

import (
	"cmp"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// gen compiles the description into operations, collecting the oddities it
// had to work around.
type gen struct {
	spec   *spec
	ops    []*op
	oddity map[string][]string // by category
	errs   []error
}

// op is an operation before interning.
type op struct {
	Method, Template, Name string
	Roles, Tags, Produces  []string
	Deprecated, Multipart  bool
	BaseURL                string
	Params                 []param
	Body                   *sch
	BodyReq                bool
	Status                 int
	Response               *sch
}

type param struct {
	Name, In string
	Required bool
	S        *sch
}

// methods are the operation keys of a path file, in catalogue order.
var methods = []string{"get", "post", "put", "patch", "delete"}

func (g *gen) odd(category, ctx, msg string) {
	g.oddity[category] = append(g.oddity[category], ctx+": "+msg)
}

func (g *gen) fail(err error) { g.errs = append(g.errs, err) }

// run reads every file under v3/ of the description.
func (g *gen) run() error {
	var files []string
	root := filepath.Join(g.spec.dir, "v3")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".yaml") {
			rel, err := filepath.Rel(g.spec.dir, path)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no v3/*.yaml files under %s", g.spec.dir)
	}
	slices.Sort(files)
	for _, f := range files {
		if err := g.file(f); err != nil {
			return err
		}
	}
	if len(g.errs) > 0 {
		return g.errs[0]
	}
	slices.SortFunc(g.ops, func(a, b *op) int {
		return cmp.Or(cmp.Compare(a.Template, b.Template),
			cmp.Compare(slices.Index(methods, strings.ToLower(a.Method)), slices.Index(methods, strings.ToLower(b.Method))))
	})
	return nil
}

// template turns a file name into its path template. The description
// spells a trailing slash as a last segment "{empty}".
func template(file string) string {
	t := strings.TrimSuffix(file, ".yaml")
	if strings.HasSuffix(t, "/{empty}") {
		t = strings.TrimSuffix(t, "{empty}")
	}
	return t
}

func (g *gen) file(f string) error {
	doc, err := g.spec.file(f)
	if err != nil {
		return err
	}
	tmpl := template(f)
	pairs(doc, func(key string, v *yaml.Node) {
		if !slices.Contains(methods, key) {
			g.odd("ignored", f, fmt.Sprintf("top-level key %q is not a method", key))
			return
		}
		g.ops = append(g.ops, g.op(f, tmpl, key, v))
	})
	return nil
}

func (g *gen) op(file, tmpl, method string, n *yaml.Node) *op {
	ctx := file + " " + method
	o := &op{
		Method:     strings.ToUpper(method),
		Template:   tmpl,
		Name:       strings.TrimSpace(str(get(n, "summary"))),
		Roles:      strs(get(n, "x-role")),
		Tags:       strs(get(n, "tags")),
		Deprecated: isTrue(get(n, "deprecated")),
		BaseURL:    str(get(n, "x-baseuri")),
		Produces:   strs(get(n, "produces")),
	}
	if o.Tags == nil {
		if o.Tags = strs(get(n, "tag")); o.Tags != nil {
			g.odd("fixed", ctx, `"tag" read as "tags"`)
		}
	}
	if c := strs(get(n, "consumes")); slices.Contains(c, "multipart/form-data") {
		o.Multipart = true
	}
	if len(o.Produces) == 1 && o.Produces[0] == "application/json" {
		o.Produces = nil
	}
	for _, p := range get(n, "parameters").Content {
		g.param(o, p, file, ctx)
	}
	g.pathParams(o, ctx)
	g.notRequired(o, ctx)
	g.response(o, get(n, "responses"), file, ctx)
	g.finish(o.Body, ctx+" body")
	g.finish(o.Response, ctx+" response")
	for _, p := range o.Params {
		g.finish(p.S, ctx+" "+p.In+":"+p.Name)
	}
	return o
}

// paramKeys are the keys of a parameter that are not part of its schema.
var paramKeys = map[string]bool{"name": true, "in": true, "required": true, "description": true, "schema": true}

func (g *gen) param(o *op, n *yaml.Node, file, ctx string) {
	n = deref(n)
	if ref := str(get(n, "$ref")); ref != "" {
		t, f, err := g.spec.resolve(ref, file)
		if err != nil {
			g.fail(err)
			return
		}
		n, file = t, f
	}
	p := param{Name: str(get(n, "name")), In: str(get(n, "in")), Required: isTrue(get(n, "required"))}
	pctx := ctx + " " + p.In + ":" + p.Name
	switch {
	case p.In == "body":
		o.Body = g.conv(get(n, "schema"), file, pctx, 0)
		o.BodyReq = p.Required
		return
	case p.In == "formData" && get(n, "schema") != nil:
		// The JSON "meta" part of an upload: the part that is signed.
		o.Body = g.conv(get(n, "schema"), file, pctx, 0)
		o.BodyReq = true
		o.Multipart = true
		p.S = &sch{Type: "string"}
	default:
		// The parameter itself carries its schema keys.
		own := &yaml.Node{Kind: yaml.MappingNode}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if !paramKeys[n.Content[i].Value] {
				own.Content = append(own.Content, n.Content[i], n.Content[i+1])
			}
		}
		p.S = g.conv(own, file, pctx, 0)
	}
	if p.In == "formData" {
		o.Multipart = true
	}
	if p.In == "path" {
		p.Required = true
	}
	if p.In == "header" && p.S.Type == "" {
		p.S.Type = "string"
	}
	o.Params = append(o.Params, p)
}

var placeholderRE = regexp.MustCompile(`\{([^}]+)\}`)

// pathParams makes the path parameters those of the template: a declared
// one the template lacks is dropped; a placeholder declared as a query
// parameter only is that parameter moved to the path, its constraints kept
// (WeChat Pay takes the value in the path, not in the query); one nothing
// declares is added as a required string.
func (g *gen) pathParams(o *op, ctx string) {
	var names []string
	for _, m := range placeholderRE.FindAllStringSubmatch(o.Template, -1) {
		names = append(names, m[1])
	}
	kept := o.Params[:0]
	for _, p := range o.Params {
		if p.In == "path" && !slices.Contains(names, p.Name) {
			g.odd("fixed", ctx, fmt.Sprintf("path parameter %q is not in the template: dropped", p.Name))
			continue
		}
		kept = append(kept, p)
	}
	o.Params = kept
	for _, name := range names {
		if slices.ContainsFunc(o.Params, func(p param) bool { return p.In == "path" && p.Name == name }) {
			continue
		}
		if i := slices.IndexFunc(o.Params, func(p param) bool { return p.In == "query" && p.Name == name }); i >= 0 {
			g.odd("fixed", ctx, fmt.Sprintf("placeholder {%s} declared in: query: read as the path parameter", name))
			o.Params[i].In, o.Params[i].Required = "path", true
			continue
		}
		g.odd("fixed", ctx, fmt.Sprintf("placeholder {%s} not declared: added as a string", name))
		o.Params = append(o.Params, param{Name: name, In: "path", Required: true, S: &sch{Type: "string"}})
	}
}

// notRequired lists, by operation, body fields the description marks
// required that WeChat Pay does not require: the check must never refuse a
// call WeChat Pay takes.
//
//   - POST v3/ecommerce/refunds/apply: the order is named by transaction_id
//     or by out_trade_no, either one (as for v3/refund/domestic/refunds,
//     which the description gets right), and combine_transaction_id goes
//     with combine_mchid and combine_out_trade_no, for a repayment (还款)
//     order only (docs/ecommerce-refund.md).
var notRequired = map[string][]string{
	"POST v3/ecommerce/refunds/apply": {"combine_transaction_id", "transaction_id"},
}

// notRequired drops the required marks notRequired lists for o.
func (g *gen) notRequired(o *op, ctx string) {
	names := notRequired[o.Method+" "+o.Template]
	if len(names) == 0 || o.Body == nil {
		return
	}
	o.Body.Required = slices.DeleteFunc(slices.Clone(o.Body.Required), func(r string) bool {
		if slices.Contains(names, r) {
			g.odd("fixed", ctx, fmt.Sprintf("body field %q is not required, whatever the description says", r))
			return true
		}
		return false
	})
}

// response keeps the lowest 2xx answer.
func (g *gen) response(o *op, n *yaml.Node, file, ctx string) {
	best := 0
	var schema *yaml.Node
	pairs(n, func(code string, v *yaml.Node) {
		c, err := strconv.Atoi(code)
		if err != nil || c < 200 || c > 299 {
			return
		}
		if best == 0 || c < best {
			best, schema = c, get(v, "schema")
		}
	})
	if best == 0 {
		g.odd("fixed", ctx, "no 2xx response: 200 assumed")
		best = 200
	}
	o.Status = best
	if schema != nil {
		s := g.conv(schema, file, ctx+" response", 0)
		if s.Type != "" || len(s.Props) > 0 || s.Items != nil || s.example != nil || s.Format != "" {
			o.Response = s
		}
	}
}
