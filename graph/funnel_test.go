package graph

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"
)

// TestDeletesGoThroughTheJournal: the package deletes Badger keys in writer.del only (the
// write funnel, which records them in the deletion journal), and in pruneJournalOnce and
// pruneChangesOnce, which delete journal entries and old commits of the change log (the
// log's floor, not a journal, tells readers what was pruned). A txn.Delete anywhere else would be a
// deletion that incremental backups can lose (journal.go).
func TestDeletesGoThroughTheJournal(t *testing.T) {
	allowed := map[string]bool{"del": true, "pruneJournalOnce": true, "pruneChangesOnce": true}
	files, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		name := f.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range file.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil || allowed[fn.Name.Name] {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Delete" {
					t.Errorf("%s: %s calls %s.Delete; delete through writer.del so that the deletion journal has it",
						fset.Position(call.Pos()), fn.Name.Name, exprText(sel.X))
				}
				return true
			})
		}
	}
}

// exprText renders the receiver expression of a call for the message.
func exprText(x ast.Expr) string {
	switch x := x.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return exprText(x.X) + "." + x.Sel.Name
	}
	return "…"
}
