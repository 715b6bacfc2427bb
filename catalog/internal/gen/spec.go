package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// spec reads the YAML files of the OpenAPI description, each once, and
// resolves $ref pointers between them.
type spec struct {
	dir   string
	files map[string]*yaml.Node // by path relative to dir, slash-separated
}

func newSpec(dir string) *spec {
	return &spec{dir: dir, files: map[string]*yaml.Node{}}
}

// file returns the top-level mapping of the file at rel (relative to the
// spec directory).
func (s *spec) file(rel string) (*yaml.Node, error) {
	if n, ok := s.files[rel]; ok {
		return n, nil
	}
	b, err := os.ReadFile(filepath.Join(s.dir, filepath.FromSlash(rel)))
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	n := &doc
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	s.files[rel] = n
	return n, nil
}

// resolve follows ref, written in file from, to the node it names and the
// file that node lives in. Both fragment spellings of the description are
// accepted: "file.yaml#/Name" and "file.yaml#Name".
func (s *spec) resolve(ref, from string) (*yaml.Node, string, error) {
	target, frag, _ := strings.Cut(ref, "#")
	file := from
	if target != "" {
		file = pathJoin(dirOf(from), target)
	}
	n, err := s.file(file)
	if err != nil {
		return nil, "", fmt.Errorf("$ref %q in %s: %w", ref, from, err)
	}
	for part := range strings.SplitSeq(strings.Trim(frag, "/"), "/") {
		if part == "" {
			continue
		}
		next := get(n, part)
		if next == nil {
			return nil, "", fmt.Errorf("$ref %q in %s: %q not found", ref, from, part)
		}
		n = next
	}
	return deref(n), file, nil
}

func dirOf(rel string) string {
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		return rel[:i]
	}
	return ""
}

// pathJoin joins a relative reference onto dir, resolving "." and "..".
func pathJoin(dir, ref string) string {
	parts := []string{}
	if dir != "" {
		parts = strings.Split(dir, "/")
	}
	for p := range strings.SplitSeq(ref, "/") {
		switch p {
		case "", ".":
		case "..":
			if len(parts) > 0 {
				parts = parts[:len(parts)-1]
			}
		default:
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, "/")
}

// deref follows YAML aliases.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// get returns the value of key in mapping n, or nil.
func get(n *yaml.Node, key string) *yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return deref(n.Content[i+1])
		}
	}
	return nil
}

// pairs calls fn for each key and value of mapping n, in file order.
func pairs(n *yaml.Node, fn func(key string, v *yaml.Node)) {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		fn(n.Content[i].Value, deref(n.Content[i+1]))
	}
}

// str returns the scalar text of n, "" if n is not a scalar.
func str(n *yaml.Node) string {
	if n = deref(n); n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// strs returns a sequence of scalars (or one scalar) as strings.
func strs(n *yaml.Node) []string {
	n = deref(n)
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		if n.Tag == "!!null" || n.Value == "" {
			return nil
		}
		return []string{strings.TrimSpace(n.Value)}
	}
	var out []string
	for _, c := range n.Content {
		if v := strings.TrimSpace(str(c)); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func isTrue(n *yaml.Node) bool {
	return str(n) == "true"
}
