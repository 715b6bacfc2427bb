// Command gen compiles the WeChat Pay OpenAPI description into the
// catalogue embedded by package catalog. It keeps facts only (methods, path
// templates, API names, roles, tags, parameters, schemas, example values),
// never the descriptions.
//
// Usage (from anywhere in the repository; go generate ./catalog runs it):
//
//	go run ./catalog/internal/gen [-out DIR] [-v] [SPECDIR]
//
// SPECDIR defaults to ../shared/openapi relative to the repository root, DIR
// to the catalog directory. The output is byte for byte the same for the
// same description.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// run generates as the command line args say, reporting to stderr.
func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "output directory (default: the catalog directory)")
	verbose := fs.Bool("v", false, "list every oddity of the description worked around")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: gen [-out DIR] [-v] [SPECDIR]  (SPECDIR: default $WXPAY_OPENAPI, else ../shared/openapi beside the repository)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		fs.Usage()
		return errors.New("at most one SPECDIR")
	}
	specDir, outDir := fs.Arg(0), *out
	if specDir == "" || outDir == "" {
		root, err := repoRoot()
		if err != nil {
			return err
		}
		if specDir == "" {
			specDir = os.Getenv("WXPAY_OPENAPI")
		}
		if specDir == "" {
			specDir = filepath.Join(root, "..", "shared", "openapi")
		}
		if outDir == "" {
			outDir = filepath.Join(root, "catalog")
		}
	}
	g, err := generate(specDir)
	if err != nil {
		return err
	}
	data, err := g.encode()
	if err != nil {
		return err
	}
	license, err := os.ReadFile(filepath.Join(specDir, "LICENSE"))
	if err != nil {
		return fmt.Errorf("the description's license must go with the catalogue: %w", err)
	}
	if err := writeOutput(outDir, data, license); err != nil {
		return err
	}
	g.summary(stderr, *verbose)
	return nil
}

// generate reads the description at dir.
func generate(dir string) (*gen, error) {
	if _, err := os.Stat(filepath.Join(dir, "v3")); err != nil {
		return nil, fmt.Errorf("spec directory %s: %w (give the OpenAPI description's directory as an argument or in WXPAY_OPENAPI)", dir, err)
	}
	g := &gen{spec: newSpec(dir), oddity: map[string][]string{}}
	if err := g.run(); err != nil {
		return nil, err
	}
	return g, nil
}

// repoRoot finds the module root from the working directory, so that the
// defaults hold wherever go generate or go run is started.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(b, []byte("module github.com/wxpay-chain/wxpay\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the wxpay module: give SPECDIR and -out")
		}
		dir = parent
	}
}

func (g *gen) summary(w io.Writer, verbose bool) {
	ops, bodies, sensitive := len(g.ops), 0, 0
	for _, o := range g.ops {
		if o.Body != nil {
			bodies++
		}
		if hasSensitive(o.Body) {
			sensitive++
		}
	}
	fmt.Fprintf(w, "gen: %d operations, %d with a body, %d with sensitive request fields\n", ops, bodies, sensitive)
	cats := make([]string, 0, len(g.oddity))
	for c := range g.oddity {
		cats = append(cats, c)
	}
	slices.Sort(cats)
	for _, c := range cats {
		fmt.Fprintf(w, "gen: %d oddities of the description (%s)\n", len(g.oddity[c]), c)
		if verbose {
			fmt.Fprintln(w, "\t"+strings.Join(g.oddity[c], "\n\t"))
		}
	}
}

func hasSensitive(s *sch) bool {
	if s == nil {
		return false
	}
	if s.Type == "string" && s.Format == "base64" {
		return true
	}
	for _, p := range s.Props {
		if hasSensitive(p.S) {
			return true
		}
	}
	return hasSensitive(s.Items)
}
