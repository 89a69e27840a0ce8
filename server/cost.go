package server

import (
	"encoding/json"
	"math"
	"strings"

	"github.com/graph-gophers/graphql-go"
	"github.com/graph-gophers/graphql-go/ast"
	gqlast "github.com/vektah/gqlparser/v2/ast"
)

// The cost estimate of a request, computed from the document and its variables before
// anything runs (graphql-go keeps its query parser internal, so the document is parsed
// with gqlparser and the field types come from graphql-go's schema AST):
//
//	cost(field)  = own + m × Σ cost(subfields)
//	own          = 1 for a field, s × min(8^d, V) for a traversal
//	m            = the field's first or limit argument (its default when not given), else 1
//
// A traversal is a field with a depth or maxDepth argument (d; its default when not
// given) or one of the analytics that follow ownership or supply as far as it goes
// (ownership, ultimateController, beneficialOwners, exposure, runSavedQuery: d = ∞); s is
// the number of start ids (subgraph's ids, else 1), 8 a typical fan-out, and V the
// store's visit budget of one traversal (--max-visits), which bounds what any traversal
// may read. Fragments count once per spread; aliases are counted in the same walk. The
// estimate is an upper-bound flavoured guess, not a measurement: it exists so that a
// request asking for a hundred deep traversals or for pages nested in pages is refused
// before it starts, while the store's own caps bound each traversal.
const costFanOut = 8

// unboundedTraversals are the fields without a depth argument that traverse as far as
// the data goes.
var unboundedTraversals = map[string]bool{
	"ownership": true, "ultimateController": true, "beneficialOwners": true, "exposure": true, "runSavedQuery": true,
}

// costEstimate is what the walk found.
type costEstimate struct {
	cost, aliases float64
	introspection bool // __schema or __type is selected
}

type costWalker struct {
	types    map[string]ast.NamedType
	doc      *gqlast.QueryDocument
	vars     map[string]any
	visitCap float64
	memo     map[string]costEstimate
	active   map[string]bool
}

// estimateCost estimates the operation opName (the only one when opName is empty) of
// doc; ok is false when there is no such operation.
func estimateCost(schema *graphql.Schema, doc *gqlast.QueryDocument, opName string, vars map[string]any, visitCap float64) (est costEstimate, ok bool) {
	var op *gqlast.OperationDefinition
	switch {
	case opName != "":
		op = doc.Operations.ForName(opName)
	case len(doc.Operations) == 1:
		op = doc.Operations[0]
	}
	if op == nil {
		return est, false
	}
	// Variables with the operation's defaults filled in, as execution will see them.
	all := make(map[string]any, len(vars)+len(op.VariableDefinitions))
	for k, v := range vars {
		all[k] = v
	}
	for _, vd := range op.VariableDefinitions {
		if _, given := all[vd.Variable]; !given && vd.DefaultValue != nil {
			if v, err := vd.DefaultValue.Value(nil); err == nil {
				all[vd.Variable] = v
			}
		}
	}
	s := schema.AST()
	root := "Query"
	if t := s.RootOperationTypes[string(op.Operation)]; t != nil {
		root = t.TypeName()
	}
	w := &costWalker{types: s.Types, doc: doc, vars: all, visitCap: visitCap, memo: map[string]costEstimate{}, active: map[string]bool{}}
	return w.selectionSet(op.SelectionSet, root), true
}

func (w *costWalker) selectionSet(set gqlast.SelectionSet, typeName string) costEstimate {
	var est costEstimate
	add := func(e costEstimate) {
		est.cost += e.cost
		est.aliases += e.aliases
		est.introspection = est.introspection || e.introspection
	}
	for _, sel := range set {
		switch sel := sel.(type) {
		case *gqlast.Field:
			add(w.field(sel, typeName))
		case *gqlast.InlineFragment:
			tc := sel.TypeCondition
			if tc == "" {
				tc = typeName
			}
			add(w.selectionSet(sel.SelectionSet, tc))
		case *gqlast.FragmentSpread:
			add(w.fragment(sel.Name))
		}
	}
	est.cost = math.Min(est.cost, math.MaxFloat64/4)
	return est
}

// fragment estimates a named fragment once; a cycle counts nothing (validation refuses
// it before anything runs).
func (w *costWalker) fragment(name string) costEstimate {
	if e, ok := w.memo[name]; ok {
		return e
	}
	def := w.doc.Fragments.ForName(name)
	if def == nil || w.active[name] {
		return costEstimate{}
	}
	w.active[name] = true
	e := w.selectionSet(def.SelectionSet, def.TypeCondition)
	delete(w.active, name)
	w.memo[name] = e
	return e
}

func (w *costWalker) field(f *gqlast.Field, typeName string) costEstimate {
	est := costEstimate{cost: 1}
	if f.Alias != "" && f.Alias != f.Name {
		est.aliases = 1
	}
	if strings.HasPrefix(f.Name, "__") {
		est.introspection = f.Name == "__schema" || f.Name == "__type"
		return est
	}
	def := w.fieldDef(typeName, f.Name)
	if def == nil {
		return est // unknown: validation refuses it
	}
	arg := func(name string) (float64, bool) { return w.number(f, def, name) }
	if d, ok := arg("depth"); ok {
		est.cost = w.traversal(f, d)
	} else if d, ok := arg("maxDepth"); ok {
		est.cost = w.traversal(f, d)
	} else if unboundedTraversals[f.Name] {
		est.cost = w.visitCap
	}
	m := 1.0
	if n, ok := arg("first"); ok {
		m = n
	} else if n, ok := arg("limit"); ok {
		m = n
	}
	sub := w.selectionSet(f.SelectionSet, namedType(def.Type))
	est.cost += math.Max(m, 0) * sub.cost
	est.aliases += sub.aliases
	est.introspection = sub.introspection
	return est
}

// traversal is s × min(8^d, V).
func (w *costWalker) traversal(f *gqlast.Field, d float64) float64 {
	starts := 1.0
	if a := f.Arguments.ForName("ids"); a != nil {
		if v, err := a.Value.Value(w.vars); err == nil {
			if list, ok := v.([]any); ok && len(list) > 1 {
				starts = float64(len(list))
			}
		}
	}
	return starts * math.Min(math.Pow(costFanOut, math.Max(d, 0)), w.visitCap)
}

// number returns the numeric value of argument name of f: given (literal or variable),
// else the schema's default. ok is false when the field has no such argument or the
// value is not a number.
func (w *costWalker) number(f *gqlast.Field, def *ast.FieldDefinition, name string) (float64, bool) {
	ad := def.Arguments.Get(name)
	if ad == nil {
		return 0, false
	}
	var v any
	if a := f.Arguments.ForName(name); a != nil {
		v, _ = a.Value.Value(w.vars)
	} else if ad.Default != nil {
		v = ad.Default.Deserialize(nil)
	}
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	case int:
		return float64(n), true
	case float64:
		return n, true
	case json.Number:
		x, err := n.Float64()
		return x, err == nil
	}
	return 0, false
}

func (w *costWalker) fieldDef(typeName, field string) *ast.FieldDefinition {
	switch t := w.types[typeName].(type) {
	case *ast.ObjectTypeDefinition:
		return t.Fields.Get(field)
	case *ast.InterfaceTypeDefinition:
		return t.Fields.Get(field)
	}
	return nil
}

// namedType unwraps lists and non-null.
func namedType(t ast.Type) string {
	for {
		switch u := t.(type) {
		case *ast.List:
			t = u.OfType
		case *ast.NonNull:
			t = u.OfType
		case ast.NamedType:
			return u.TypeName()
		default:
			return ""
		}
	}
}
