package server

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/graph-gophers/graphql-go"
	"github.com/graph-gophers/graphql-go/ast"
	"github.com/lodestone-kg/lodestone/graph"
	gqlast "github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// The cost estimate of a request, computed from the document and its variables before
// anything runs, in the work units of the request's work budget (graph.Work): one unit
// is about one relationship read or one entity decoded. The estimate and the budget are
// the same number (RequestLimits.MaxCost): a request estimated above it is refused before
// it starts, and a request that was estimated below it but does more work is stopped
// when the work is done (LIMIT_EXCEEDED, or a truncated answer where the type says so).
//
//	cost(field)  = own + m × Σ cost(subfields)
//	own          = 1 for a plain field, and for the fields that do work:
//	  traversal with depth d (subgraph, supplyChain, shortestPath, paths,
//	    supplyPaths)                   s × min(8^d, V)
//	  ownership analytics (owners, holdings, ownership, ultimateController,
//	    beneficialOwners, exposure)     V, whatever maxDepth says: they solve the whole
//	                                   component of the start, which maxDepth does not bound
//	  search                           graph.SearchCost(text): candidates × text length
//	  RelationshipConnection.totalCount  V: it counts by reading every relationship
//	  runSavedQuery                    the estimate of the saved document with its
//	                                   variables, exactly as GET /queries/{name} costs it
//	  elements of a Subgraph or Path   2 × its list cap (below): each entity and
//	                                   relationship written once
//	m            = for a list, its first or limit argument (its default when not given;
//	               a connection's first multiplies its edges only; subgraph's limit caps
//	               the Subgraph's lists); for a list without one, its cap: the subgraph's limit for Subgraph lists,
//	               maxDepth + 1 for a Path's (the depth cap + 1 for the analytics'
//	               paths), the result cap R for the lists of owners, holdings,
//	               beneficialOwners and exposure, 100 for Ownership and Control paths,
//	               MaxFirst for other top-level lists, and 100 for a record's own lists
//	               (identifiers, sources, tags)
//
// s is the number of start ids (subgraph's ids, else 1), 8 a typical fan-out, V the
// visit budget of one traversal (--max-visits), R the result cap (--max-subgraph, which
// the analytics' lists may not exceed either). Fragments count once per spread; aliases
// are counted in the same walk. The estimate is an upper bound where the store caps the
// work (V, limit, first) and a typical figure where only the data does (8^d on a hub);
// the work budget catches what the estimate could not know.
const costFanOut = 8

// solverFields solve the ownership or supply component of their start, however deep.
var solverFields = map[string]bool{
	"owners": true, "holdings": true, "ownership": true, "ultimateController": true, "beneficialOwners": true, "exposure": true,
}

// stakeLists are the solver fields whose answer is a list of up to V entries.
var stakeLists = map[string]bool{"owners": true, "holdings": true, "beneficialOwners": true}

// Multipliers of lists without first or limit (see the cost model above).
const (
	costRecordList = 100 // a record's own lists: identifiers, sources, tags, versions
	costPathsList  = 100 // Ownership.paths and Control.paths (graph's maxOwnershipPaths)
)

// costEstimate is what the walk found.
type costEstimate struct {
	cost, aliases float64
	introspection bool // __schema or __type is selected
}

// costScope carries what an enclosing field says of the lists below it.
type costScope struct {
	items   float64 // entries of a Subgraph's or an Exposure's lists
	pathLen float64 // entities of a Path
	edges   float64 // edges of a connection: its first
}

// savedLookup returns the document of a saved query and its variables merged as a run
// would see them; ok is false when there is no such query (the run then fails before
// doing any work).
type savedLookup func(name string, version int, vars map[string]any) (query string, merged map[string]any, ok bool)

type costWalker struct {
	types  map[string]ast.NamedType
	doc    *gqlast.QueryDocument
	vars   map[string]any
	limits graph.Limits
	saved  savedLookup // nil: runSavedQuery costs V
	memo   map[string]costEstimate
	active map[string]bool
}

// estimateCost estimates the operation opName (the only one when opName is empty) of
// doc; ok is false when there is no such operation. lim gives the caps the multipliers
// use; saved (may be nil) finds the documents runSavedQuery runs.
func estimateCost(schema *graphql.Schema, doc *gqlast.QueryDocument, opName string, vars map[string]any, lim graph.Limits, saved savedLookup) (est costEstimate, ok bool) {
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
	s := schema.AST()
	root := "Query"
	if t := s.RootOperationTypes[string(op.Operation)]; t != nil {
		root = t.TypeName()
	}
	return estimateOperation(s.Types, doc, op, root, vars, lim.WithDefaults(), saved), true
}

// estimateOperation estimates op of doc, whose root type is root.
func estimateOperation(types map[string]ast.NamedType, doc *gqlast.QueryDocument, op *gqlast.OperationDefinition, root string, vars map[string]any, lim graph.Limits, saved savedLookup) costEstimate {
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
	w := &costWalker{types: types, doc: doc, vars: all, limits: lim, saved: saved, memo: map[string]costEstimate{}, active: map[string]bool{}}
	sc := costScope{items: float64(lim.MaxSubgraph), pathLen: float64(lim.MaxDepth + 1)}
	return w.selectionSet(op.SelectionSet, root, sc)
}

func (w *costWalker) selectionSet(set gqlast.SelectionSet, typeName string, sc costScope) costEstimate {
	var est costEstimate
	add := func(e costEstimate) {
		est.cost += e.cost
		est.aliases += e.aliases
		est.introspection = est.introspection || e.introspection
	}
	for _, sel := range set {
		switch sel := sel.(type) {
		case *gqlast.Field:
			add(w.field(sel, typeName, sc))
		case *gqlast.InlineFragment:
			tc := sel.TypeCondition
			if tc == "" {
				tc = typeName
			}
			add(w.selectionSet(sel.SelectionSet, tc, sc))
		case *gqlast.FragmentSpread:
			add(w.fragment(sel.Name, sc))
		}
	}
	est.cost = math.Min(est.cost, math.MaxFloat64/4)
	return est
}

// fragment estimates a named fragment once per scope; a cycle counts nothing
// (validation refuses it before anything runs).
func (w *costWalker) fragment(name string, sc costScope) costEstimate {
	key := fmt.Sprintf("%s/%g/%g/%g", name, sc.items, sc.pathLen, sc.edges)
	if e, ok := w.memo[key]; ok {
		return e
	}
	def := w.doc.Fragments.ForName(name)
	if def == nil || w.active[name] {
		return costEstimate{}
	}
	w.active[name] = true
	e := w.selectionSet(def.SelectionSet, def.TypeCondition, sc)
	delete(w.active, name)
	w.memo[key] = e
	return e
}

func (w *costWalker) field(f *gqlast.Field, typeName string, sc costScope) costEstimate {
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
	visits := float64(w.limits.MaxVisits)
	child := sc
	switch {
	case solverFields[f.Name] && typeName == "Query":
		est.cost = visits
		child.items = float64(w.limits.MaxSubgraph)
	case f.Name == "search" && typeName == "Query":
		text, _ := w.value(f, "text").(string)
		est.cost = float64(graph.SearchCost(text))
	case f.Name == "totalCount" && typeName == "RelationshipConnection":
		est.cost = visits
	case f.Name == "runSavedQuery" && typeName == "Query":
		est.cost = w.savedQuery(f)
	case f.Name == "elements" && typeName == "Subgraph":
		est.cost = 2 * sc.items // every entity and relationship, written once
	case f.Name == "elements" && typeName == "Path":
		est.cost = 2 * sc.pathLen
	default:
		if d, ok := arg("depth"); ok {
			est.cost = w.traversal(f, d)
		} else if d, ok := arg("maxDepth"); ok {
			est.cost = w.traversal(f, d)
			child.pathLen = math.Max(d, 0) + 1
		}
	}
	if f.Name == "subgraph" || f.Name == "supplyChain" {
		child.items = float64(w.limits.MaxSubgraph)
		if n, ok := arg("limit"); ok {
			child.items = n
		}
	}
	m := 1.0
	connection := strings.HasSuffix(namedType(def.Type), "Connection")
	if isList(def.Type) || connection {
		if n, ok := arg("first"); ok {
			m = n
		} else if n, ok := arg("limit"); ok {
			m = n
		} else if isList(def.Type) {
			m = w.listCap(typeName, f.Name, sc)
		}
	}
	if connection {
		// A page's first multiplies its edges, not its totalCount or pageInfo.
		child.edges, m = m, 1
	}
	sub := w.selectionSet(f.SelectionSet, namedType(def.Type), child)
	est.cost += math.Max(m, 0) * sub.cost
	est.aliases += sub.aliases
	est.introspection = sub.introspection
	return est
}

// listCap is the multiplier of a list field without first or limit (the cost model).
func (w *costWalker) listCap(typeName, field string, sc costScope) float64 {
	switch {
	case typeName == "Query" && stakeLists[field]:
		return float64(w.limits.MaxSubgraph)
	case typeName == "Subgraph", typeName == "Exposure" && field != "paths":
		return sc.items
	case typeName == "Exposure": // a path to each entity
		return sc.items
	case typeName == "Path":
		return sc.pathLen
	case strings.HasSuffix(typeName, "Connection") && field == "edges":
		return sc.edges
	case typeName == "Ownership", typeName == "Control":
		return costPathsList
	case typeName == "Query", typeName == "Mutation":
		return float64(w.limits.MaxFirst)
	}
	return costRecordList
}

// savedQuery estimates runSavedQuery: the saved document with the given variables
// merged with the saved ones, as GET /queries/{name} costs it; V when it cannot be
// looked up here, 1 when there is no such query (the run fails before any work).
func (w *costWalker) savedQuery(f *gqlast.Field) float64 {
	if w.saved == nil {
		return float64(w.limits.MaxVisits)
	}
	name, _ := w.value(f, "name").(string)
	version := 0
	if v, ok := asNumber(w.value(f, "version")); ok {
		version = int(v)
	}
	vars := map[string]any{}
	switch v := w.value(f, "variables").(type) {
	case map[string]any:
		vars = v
	case string: // a JSON scalar given as a string
		_ = json.Unmarshal([]byte(v), &vars)
	}
	query, merged, ok := w.saved(name, version, vars)
	if !ok {
		return 1
	}
	doc, err := parser.ParseQuery(&gqlast.Source{Input: query})
	if err != nil {
		return 1
	}
	if len(doc.Operations) != 1 {
		return 1 // saveQuery accepts one operation only
	}
	// A saved query cannot run saved queries: no lookup inside.
	est := estimateOperation(w.types, doc, doc.Operations[0], "Query", merged, w.limits, nil)
	return 1 + est.cost
}

// value returns the value of argument name of f (literal or variable), or nil.
func (w *costWalker) value(f *gqlast.Field, name string) any {
	a := f.Arguments.ForName(name)
	if a == nil {
		return nil
	}
	v, err := a.Value.Value(w.vars)
	if err != nil {
		return nil
	}
	return v
}

// isList reports whether t is a list type (under non-null).
func isList(t ast.Type) bool {
	if nn, ok := t.(*ast.NonNull); ok {
		t = nn.OfType
	}
	_, ok := t.(*ast.List)
	return ok
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
	return starts * math.Min(math.Pow(costFanOut, math.Max(d, 0)), float64(w.limits.MaxVisits))
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
	return asNumber(v)
}

// asNumber returns v as a float64 when it is a number (a literal, or a JSON variable).
func asNumber(v any) (float64, bool) {
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
