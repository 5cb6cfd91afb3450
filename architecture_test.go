package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// forbiddenImports is the layering of docs/ARCHITECTURE.md: for each
// package (and those below it), the packages of ours it must not import.
var forbiddenImports = map[string][]string{
	"easel/store":    {"easel/"}, // nothing of ours
	"easel/policy":   {"easel/actions", "easel/handlers", "easel/views", "easel/web", "easel/jobs", "easel/app", "easel/gpu"},
	"easel/views":    {"easel/actions", "easel/handlers", "easel/web", "easel/jobs", "easel/app", "easel/policy"},
	"easel/actions":  {"easel/handlers", "easel/views", "easel/web", "easel/app", "github.com/labstack/echo"},
	"easel/handlers": {"easel/web", "easel/app"},
	"easel/jobs":     {"easel/actions", "easel/handlers", "easel/views", "easel/web", "easel/app"},
	"easel/gpu":      {"easel/store", "easel/actions", "easel/handlers", "easel/views", "easel/web", "easel/jobs", "easel/app"},
	"easel/blob":     {"easel/"},
	"easel/netguard": {"easel/"},
	"easel/web":      {"easel/app", "easel/jobs"},
	// A worker runs on a GPU machine: it speaks to Easel only over HTTP.
	"easel/worker": {"easel/actions", "easel/handlers", "easel/views", "easel/web", "easel/app", "easel/store",
		"easel/policy", "easel/jobs", "easel/gpu", "easel/blob", "easel/embedded", "easel/migrations"},
}

func TestLayering(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		for layer, banned := range forbiddenImports {
			if pkg != layer && !strings.HasPrefix(pkg, layer+"/") {
				continue
			}
			checked++
			for _, imp := range imports {
				for _, b := range banned {
					if strings.HasPrefix(imp, b) && !strings.HasPrefix(imp, layer) {
						t.Errorf("%s imports %s; the layering forbids it", pkg, imp)
					}
				}
			}
		}
	}
	if checked < len(forbiddenImports) {
		t.Errorf("checked %d packages, want at least %d: is go list answering?", checked, len(forbiddenImports))
	}
}

// storeWritePrefixes begin the names of the store functions that change
// rows (a verb, then a capital or nothing): handlers reach them only
// through actions.
var storeWritePrefixes = []string{"Create", "Update", "Upsert", "Delete", "Save", "Mark", "Audit", "Lock", "Begin", "End", "Claim"}

func TestHandlersDoNotWrite(t *testing.T) {
	files, err := filepath.Glob("handlers/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no handler files: %v", err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == "store" {
				for _, p := range storeWritePrefixes {
					if rest, ok := strings.CutPrefix(sel.Sel.Name, p); ok && (rest == "" || rest[:1] == strings.ToUpper(rest[:1])) {
						t.Errorf("%s: handlers call store.%s; writes belong in actions", fset.Position(sel.Pos()), sel.Sel.Name)
					}
				}
			}
			if sel.Sel.Name == "InTx" {
				t.Errorf("%s: handlers open a transaction; writes belong in actions", fset.Position(sel.Pos()))
			}
			return true
		})
	}
}
