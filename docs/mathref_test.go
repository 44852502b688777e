// Package docs holds the project's reference documents. Its test keeps docs/MATH.md's
// table "Where each formula lives" true: every function it names exists.
package docs

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// decls returns the exported top-level names of the package in dir (functions, types,
// constants, variables) and its methods as "Type.Method", from the non-test files.
func decls(t *testing.T, dir string) map[string]bool {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		{
			for _, d := range f.Decls {
				switch d := d.(type) {
				case *ast.FuncDecl:
					if d.Recv == nil {
						names[d.Name.Name] = true
						continue
					}
					typ := d.Recv.List[0].Type
					if s, ok := typ.(*ast.StarExpr); ok {
						typ = s.X
					}
					if id, ok := typ.(*ast.Ident); ok {
						names[id.Name+"."+d.Name.Name] = true
					}
				case *ast.GenDecl:
					for _, s := range d.Specs {
						switch s := s.(type) {
						case *ast.TypeSpec:
							names[s.Name.Name] = true
						case *ast.ValueSpec:
							for _, n := range s.Names {
								names[n.Name] = true
							}
						}
					}
				}
			}
		}
	}
	return names
}

var refRE = regexp.MustCompile("`([a-z]+(?:/[a-z]+)?)\\.([A-Za-z_][A-Za-z0-9_]*(?:\\.[A-Za-z_][A-Za-z0-9_]*)?)`")

// TestFormulaTable: each `pkg.Name` (or `pkg.Type.Method`, exported or not) in the table of
// docs/MATH.md is declared in that package, and the table covers every numbered section.
func TestFormulaTable(t *testing.T) {
	b, err := os.ReadFile("MATH.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i := strings.Index(text, "## Where each formula lives")
	if i < 0 {
		t.Fatal(`docs/MATH.md has no section "Where each formula lives"`)
	}
	table := text[i:]
	cache := map[string]map[string]bool{}
	n := 0
	for _, m := range refRE.FindAllStringSubmatch(table, -1) {
		pkg, name := m[1], m[2]
		dir := filepath.Join("..", filepath.FromSlash(pkg))
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("%s.%s: no package %s", pkg, name, pkg)
			continue
		}
		if cache[pkg] == nil {
			cache[pkg] = decls(t, dir)
		}
		if !cache[pkg][name] {
			t.Errorf("the table names %s.%s, which package %s does not declare", pkg, name, pkg)
		}
		n++
	}
	if n < 40 {
		t.Errorf("the table names only %d functions", n)
	}
	for s := 1; s <= 10; s++ {
		if !regexp.MustCompile(`\| §` + strconv.Itoa(s) + `\b`).MatchString(table) {
			t.Errorf("the table has no row for §%d", s)
		}
	}
}
