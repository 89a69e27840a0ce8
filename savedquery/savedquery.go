// Package savedquery is Lodestone's saved-query subsystem apart from HTTP and the
// resolvers: it checks a saved query's document and parameters before it is stored
// (Prepare), turns REST query-string parameters into variables (CoerceParams), merges
// a run's variables over the saved defaults and checks them (MergeVariables), runs a
// saved query on an Executor (Run), describes saved queries as OpenAPI (OpenAPI) and
// flattens a result into CSV (WriteCSV). Documents are read with gqlparser; saved
// queries are stored by graph.Store (graph/savedquery.go).
package savedquery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/graph-gophers/graphql-go"
	"github.com/graph-gophers/graphql-go/ast"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"
	"github.com/lodestone-kg/lodestone/graph"
	gqlast "github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// ReservedParams are variable names a saved document may not declare, because the REST
// endpoint gives them a meaning of its own.
var ReservedParams = []string{"format"}

// DocumentError is an INVALID_INPUT error about a document that does not validate
// against the schema; its extensions list every problem with its locations.
type DocumentError struct {
	err      *graph.Error
	problems []*gqlerrors.QueryError
}

// Error is the message of the first problem, with its location and how many more there are.
func (e *DocumentError) Error() string { return e.err.Error() }

// Unwrap returns the *graph.Error (INVALID_INPUT, naming the field).
func (e *DocumentError) Unwrap() error { return e.err }

// Extensions lists the validation problems (graphql-go copies them into the GraphQL
// error; the server adds the code and field).
func (e *DocumentError) Extensions() map[string]any {
	probs := make([]map[string]any, len(e.problems))
	for i, p := range e.problems {
		probs[i] = map[string]any{"message": p.Message, "locations": p.Locations}
	}
	return map[string]any{"problems": probs}
}

func newDocumentError(field string, problems []*gqlerrors.QueryError) *DocumentError {
	first := problems[0]
	msg := "the document does not validate against the schema: " + first.Message
	if len(first.Locations) > 0 {
		msg += fmt.Sprintf(" (line %d, column %d)", first.Locations[0].Line, first.Locations[0].Column)
	}
	if n := len(problems) - 1; n > 0 {
		msg += fmt.Sprintf("; and %d more problem(s), listed in extensions.problems", n)
	}
	return &DocumentError{err: graph.Invalid(field, "%s", msg), problems: problems}
}

// missingVarRE matches graphql-go's complaint about a non-null variable without a value,
// which validating a document without its run-time variables always raises.
var missingVarRE = regexp.MustCompile(`^Variable "([^"]+)" has invalid value null\.`)

// ValidateDocument validates doc against schema with the given variable values,
// ignoring only non-null variables that were not given (they are the parameters a run
// supplies). It returns a *DocumentError naming field, or nil.
func ValidateDocument(schema *graphql.Schema, field, doc string, vars map[string]any) error {
	var problems []*gqlerrors.QueryError
	for _, e := range schema.ValidateWithVariables(doc, vars) {
		if m := missingVarRE.FindStringSubmatch(e.Message); m != nil && e.Rule == "VariablesOfCorrectType" {
			if _, given := vars[m[1]]; !given {
				continue
			}
		}
		problems = append(problems, e)
	}
	if len(problems) > 0 {
		return newDocumentError(field, problems)
	}
	return nil
}

// Prepare checks a saved query in (its Variables are the default variables, a JSON
// object) before it is stored: a slug name, a document that validates against schema and holds exactly one operation, a query (not a mutation
// or subscription) that does not run saved queries itself nor declares a reserved
// variable, and default variables that the document declares, of the declared types.
// It returns a copy whose parameters are derived from the document's variable
// definitions. Errors: INVALID_INPUT naming the input field ("input.query",
// "input.variables.x"…; a *DocumentError lists every validation problem with its
// locations in extensions.problems).
func Prepare(schema *graphql.Schema, in *graph.SavedQuery) (*graph.SavedQuery, error) {
	q := &graph.SavedQuery{Name: in.Name, Description: in.Description, Query: in.Query, Tags: in.Tags}
	if err := graph.ValidateSavedQueryName("input.name", q.Name); err != nil {
		return nil, err
	}
	defaults := map[string]any{}
	if len(in.Variables) > 0 && string(in.Variables) != "null" {
		if err := json.Unmarshal(in.Variables, &defaults); err != nil || defaults == nil {
			return nil, graph.Invalid("input.variables", "must be a JSON object of default values, e.g. {\"threshold\": 0.25}")
		}
		q.Variables = in.Variables
	}
	if err := graph.ValidateSavedQuery("input.", q); err != nil {
		return nil, err
	}
	if err := ValidateDocument(schema, "input.query", q.Query, defaults); err != nil {
		return nil, err
	}
	doc, err := parser.ParseQuery(&gqlast.Source{Input: q.Query})
	if err != nil {
		return nil, graph.Invalid("input.query", "%v", err)
	}
	if n := len(doc.Operations); n != 1 {
		return nil, graph.Invalid("input.query", "holds %d operations; a saved query holds exactly one (save each as its own query)", n)
	}
	op := doc.Operations[0]
	if op.Operation != gqlast.Query {
		return nil, graph.Invalid("input.query", "is a %s; saved queries must be queries, which only read", op.Operation)
	}
	if slices.Contains(TopFields(op), "runSavedQuery") {
		return nil, graph.Invalid("input.query", "runs a saved query; a saved query cannot run saved queries (save the inner document under its own name instead)")
	}
	declared := map[string]bool{}
	for _, v := range op.VariableDefinitions {
		if slices.Contains(ReservedParams, v.Variable) {
			return nil, graph.Invalid("input.query", "declares $%s, a name reserved by GET /queries/{name}?%s=…; rename the variable", v.Variable, v.Variable)
		}
		declared[v.Variable] = true
	}
	for name := range defaults {
		if !declared[name] {
			return nil, graph.Invalid("input.variables."+name, "the document declares no variable $%s", name)
		}
	}
	for _, v := range op.VariableDefinitions {
		typ := typeRefOf(v.Type)
		p := graph.QueryParam{Name: v.Variable, Type: typ.String()}
		if d, ok := defaults[v.Variable]; ok {
			if err := checkValue(schema, typ, d, v.Variable); err != nil {
				return nil, paramError("input.variables."+v.Variable, err)
			}
			p.Default, _ = json.Marshal(d)
		} else if v.DefaultValue != nil {
			p.Default, _ = json.Marshal(constValue(v.DefaultValue))
		}
		p.Required = typ.nonNull && p.Default == nil
		q.Params = append(q.Params, p)
	}
	return q, nil
}

// Executor runs a GraphQL document; *graphql.Schema is one.
type Executor interface {
	Exec(ctx context.Context, query, operationName string, variables map[string]any) *graphql.Response
}

// Run runs the saved query q on exec with merged, the variables MergeVariables
// returned for it (they are not checked again). The response's errors are left as
// graphql-go returned them.
func Run(ctx context.Context, exec Executor, q *graph.SavedQuery, merged map[string]any) (*graphql.Response, error) {
	if exec == nil {
		return nil, errors.New("savedquery: no executor to run a saved query on")
	}
	return exec.Exec(ctx, q.Query, "", merged), nil
}

// MergeVariables returns q's default variables overlaid with vars, checked against q's
// parameters. Errors: INVALID_INPUT whose Field is the parameter's name.
func MergeVariables(schema *graphql.Schema, q *graph.SavedQuery, vars map[string]any) (map[string]any, error) {
	return merge(schema, q, vars, nil)
}

// merge is MergeVariables, leaving out of the type check the values named in checked
// (they were checked already).
func merge(schema *graphql.Schema, q *graph.SavedQuery, vars map[string]any, checked map[string]bool) (map[string]any, error) {
	merged := map[string]any{}
	if len(q.Variables) > 0 {
		if err := json.Unmarshal(q.Variables, &merged); err != nil {
			return nil, fmt.Errorf("savedquery: saved query %q has malformed default variables: %w", q.Name, err)
		}
	}
	for k, v := range vars {
		if paramIndex(q, k) < 0 {
			return nil, graph.Invalid(k, "saved query %q has no parameter %q; %s", q.Name, k, describeParams(q))
		}
		merged[k] = v
	}
	for _, p := range q.Params {
		v, ok := merged[p.Name]
		if !ok || v == nil {
			if p.Required {
				return nil, graph.Invalid(p.Name, "saved query %q needs the parameter %s (%s)", q.Name, p.Name, p.Type)
			}
			continue
		}
		if checked[p.Name] {
			continue
		}
		t, err := parseTypeRef(p.Type)
		if err != nil {
			return nil, fmt.Errorf("savedquery: saved query %q: parameter %s has type %q: %w", q.Name, p.Name, p.Type, err)
		}
		if err := checkValue(schema, t, v, p.Name); err != nil {
			return nil, paramError(p.Name, err)
		}
	}
	return merged, nil
}

// paramError is the INVALID_INPUT error about a parameter (field), without repeating
// its name at the start of the message (Error() prefixes the field).
func paramError(field string, err error) *graph.Error {
	name := field[strings.LastIndexByte(field, '.')+1:]
	return graph.Invalid(field, "%s", strings.TrimPrefix(err.Error(), name+" "))
}

func paramIndex(q *graph.SavedQuery, name string) int {
	return slices.IndexFunc(q.Params, func(p graph.QueryParam) bool { return p.Name == name })
}

func describeParams(q *graph.SavedQuery) string {
	if len(q.Params) == 0 {
		return "it takes none"
	}
	parts := make([]string, len(q.Params))
	for i, p := range q.Params {
		parts[i] = p.Name + " (" + p.Type + ")"
	}
	return "its parameters are " + strings.Join(parts, ", ")
}

// checkValue checks that v, a value decoded from JSON (numbers float64 or json.Number),
// has GraphQL type t; path names the value in the error.
func checkValue(schema *graphql.Schema, t typeRef, v any, path string) error {
	return checkValueDepth(schema, t, v, path, 0)
}

func checkValueDepth(schema *graphql.Schema, t typeRef, v any, path string, depth int) error {
	if depth > maxNesting {
		return fmt.Errorf("%s: nested too deeply", path)
	}
	if v == nil {
		if t.nonNull {
			return fmt.Errorf("%s must not be null (type %s)", path, t)
		}
		return nil
	}
	if t.elem != nil {
		list, ok := v.([]any)
		if !ok { // input coercion: a single value stands for a list of one
			return checkValueDepth(schema, *t.elem, v, path, depth+1)
		}
		for i, e := range list {
			if err := checkValueDepth(schema, *t.elem, e, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	bad := func(want string) error {
		got, _ := json.Marshal(v)
		return fmt.Errorf("%s must be %s, got %s", path, want, truncate(string(got), 60))
	}
	switch t.name {
	case "Int":
		f, ok := number(v)
		if !ok || f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
			return bad("an Int (a whole number within ±2³¹)")
		}
	case "Float":
		if f, ok := number(v); !ok || math.IsInf(f, 0) || math.IsNaN(f) {
			return bad("a Float (a number)")
		}
	case "Boolean":
		if _, ok := v.(bool); !ok {
			return bad("a Boolean (true or false)")
		}
	case "String", "ID":
		if _, ok := v.(string); !ok {
			return bad("a " + t.name + " (a string)")
		}
	case "Date":
		s, ok := v.(string)
		if !ok {
			return bad("a Date (YYYY-MM-DD)")
		}
		if _, err := graph.ParseDate(s); err != nil {
			return bad("a Date (YYYY-MM-DD)")
		}
	case "Time":
		s, ok := v.(string)
		if !ok {
			return bad("a Time (RFC 3339)")
		}
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			return bad("a Time (RFC 3339, e.g. 2025-07-10T14:00:00Z)")
		}
	case "JSON":
	default:
		switch nt := schema.AST().Types[t.name].(type) {
		case *ast.EnumTypeDefinition:
			s, _ := v.(string)
			var names []string
			for _, e := range nt.EnumValuesDefinition {
				if e.EnumValue == s {
					return nil
				}
				names = append(names, e.EnumValue)
			}
			return bad("one of " + strings.Join(names, ", "))
		case *ast.InputObject:
			obj, ok := v.(map[string]any)
			if !ok {
				return bad("an object (" + t.name + ")")
			}
			for k := range obj {
				if nt.Values.Get(k) == nil {
					return fmt.Errorf("%s.%s is not a field of %s", path, k, t.name)
				}
			}
			for _, f := range nt.Values {
				ft, err := parseTypeRef(f.Type.String())
				if err != nil {
					return err
				}
				fv, given := obj[f.Name.Name]
				if !given && f.Default != nil {
					continue
				}
				if err := checkValueDepth(schema, ft, fv, path+"."+f.Name.Name, depth+1); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// maxNesting bounds the nesting of the values and types saved queries check.
const maxNesting = 128

// typeRef is a GraphQL type reference: a named type or a list, maybe non-null.
type typeRef struct {
	name    string   // the named type; "" for a list
	elem    *typeRef // the element type of a list
	nonNull bool
}

func (t typeRef) String() string {
	s := t.name
	if t.elem != nil {
		s = "[" + t.elem.String() + "]"
	}
	if t.nonNull {
		s += "!"
	}
	return s
}

// typeRefOf converts gqlparser's type reference.
func typeRefOf(t *gqlast.Type) typeRef {
	r := typeRef{name: t.NamedType, nonNull: t.NonNull}
	if t.Elem != nil {
		elem := typeRefOf(t.Elem)
		r.name, r.elem = "", &elem
	}
	return r
}

// parseTypeRef reads a type written as in a document ("[String!]!").
func parseTypeRef(s string) (typeRef, error) {
	doc, err := parser.ParseQuery(&gqlast.Source{Input: "query($v: " + s + ") { __typename }"})
	if err != nil || len(doc.Operations) != 1 || len(doc.Operations[0].VariableDefinitions) != 1 {
		return typeRef{}, fmt.Errorf("savedquery: %q is not a GraphQL type", s)
	}
	t := doc.Operations[0].VariableDefinitions[0].Type
	if t.String() != strings.TrimSpace(s) {
		return typeRef{}, fmt.Errorf("savedquery: %q is not a GraphQL type", s)
	}
	return typeRefOf(t), nil
}

// constValue is a constant value of a document as JSON-like Go data: numbers keep
// their text (json.Number), enum values become strings.
func constValue(v *gqlast.Value) any {
	switch v.Kind {
	case gqlast.IntValue, gqlast.FloatValue:
		return json.Number(v.Raw)
	case gqlast.StringValue, gqlast.BlockValue, gqlast.EnumValue:
		return v.Raw
	case gqlast.BooleanValue:
		return v.Raw == "true"
	case gqlast.ListValue:
		list := make([]any, len(v.Children))
		for i, c := range v.Children {
			list[i] = constValue(c.Value)
		}
		return list
	case gqlast.ObjectValue:
		obj := make(map[string]any, len(v.Children))
		for _, c := range v.Children {
			obj[c.Name] = constValue(c.Value)
		}
		return obj
	}
	return nil // null (variables cannot appear in a constant)
}

// TopFields returns the names (not aliases) of op's top-level fields, and "" for each
// fragment spread or inline fragment there, whose fields it does not list.
func TopFields(op *gqlast.OperationDefinition) []string {
	names := make([]string, len(op.SelectionSet))
	for i, sel := range op.SelectionSet {
		if f, ok := sel.(*gqlast.Field); ok {
			names[i] = f.Name
		}
	}
	return names
}
