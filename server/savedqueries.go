package server

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

// Saved queries: named GraphQL documents with parameters and a version history, kept by
// the store (graph/savedquery.go) and run by name over GraphQL (runSavedQuery), REST
// (savedqueries_rest.go) and the CLI. This file holds their GraphQL resolvers and the
// two operations every transport shares: preparing a document to be saved and running a
// saved one.

// reservedParams are variable names a saved document may not declare, because the REST
// endpoint gives them a meaning of its own.
var reservedParams = []string{"format"}

// savedOnlyFields are the Query fields a document may use in allow-list mode without
// being saved or approved itself: they only list, show and run saved queries.
var savedOnlyFields = []string{"runSavedQuery", "savedQueries", "savedQuery", "__typename"}

// schemaKey carries the executing schema in a request's context: runSavedQuery executes
// the saved document on it (the root Resolver does not hold the schema it belongs to).
type schemaKey struct{}

// insideSavedKey marks the context of a saved document being run, so that it cannot run
// saved queries itself.
type insideSavedKey struct{}

// withSchema returns ctx carrying schema for runSavedQuery.
func withSchema(ctx context.Context, schema *graphql.Schema) context.Context {
	return context.WithValue(ctx, schemaKey{}, schema)
}

func schemaFrom(ctx context.Context) *graphql.Schema {
	s, _ := ctx.Value(schemaKey{}).(*graphql.Schema)
	return s
}

// savedQueryInput is the GraphQL SavedQueryInput.
type savedQueryInput struct {
	Name        string
	Description *string
	Query       string
	Variables   *JSON
	Tags        *[]string
}

// documentError is an INVALID_INPUT error about a document that does not validate
// against the schema; its extensions list every problem with its locations.
type documentError struct {
	err      *graph.Error
	problems []*gqlerrors.QueryError
}

func (e *documentError) Error() string { return e.err.Error() }
func (e *documentError) Unwrap() error { return e.err }

// Extensions lists the validation problems (graphql-go copies them into the GraphQL
// error; publicErrors adds code and field).
func (e *documentError) Extensions() map[string]any {
	probs := make([]map[string]any, len(e.problems))
	for i, p := range e.problems {
		probs[i] = map[string]any{"message": p.Message, "locations": p.Locations}
	}
	return map[string]any{"problems": probs}
}

func newDocumentError(field string, problems []*gqlerrors.QueryError) *documentError {
	first := problems[0]
	msg := "the document does not validate against the schema: " + first.Message
	if len(first.Locations) > 0 {
		msg += fmt.Sprintf(" (line %d, column %d)", first.Locations[0].Line, first.Locations[0].Column)
	}
	if n := len(problems) - 1; n > 0 {
		msg += fmt.Sprintf("; and %d more problem(s), listed in extensions.problems", n)
	}
	return &documentError{err: graph.Invalid(field, "%s", msg), problems: problems}
}

// missingVarRE matches graphql-go's complaint about a non-null variable without a value,
// which validating a document without its run-time variables always raises.
var missingVarRE = regexp.MustCompile(`^Variable "([^"]+)" has invalid value null\.`)

// validateDocument validates doc against schema with the given variable values,
// ignoring only non-null variables that were not given (they are the parameters a run
// supplies). It returns a *documentError naming field, or nil.
func validateDocument(schema *graphql.Schema, field, doc string, vars map[string]any) error {
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

// prepareSavedQuery checks a saved query before it is stored: a slug name, a document
// that validates against schema and holds exactly one operation, a query (not a mutation
// or subscription) that does not run saved queries itself nor declares a reserved
// variable, and default variables that the document declares, of the declared types.
// It derives the parameters from the document's variable definitions.
// Errors: INVALID_INPUT naming the input field (a document error lists every
// validation problem with its locations in extensions.problems).
func prepareSavedQuery(schema *graphql.Schema, in *savedQueryInput) (*graph.SavedQuery, error) {
	q := &graph.SavedQuery{Name: in.Name, Description: deref(in.Description), Query: in.Query}
	if in.Tags != nil {
		q.Tags = *in.Tags
	}
	if err := graph.ValidateSavedQueryName("input.name", q.Name); err != nil {
		return nil, err
	}
	defaults := map[string]any{}
	if in.Variables != nil && len(in.Variables.raw) > 0 && string(in.Variables.raw) != "null" {
		if err := json.Unmarshal(in.Variables.raw, &defaults); err != nil || defaults == nil {
			return nil, graph.Invalid("input.variables", "must be a JSON object of default values, e.g. {\"threshold\": 0.25}")
		}
		q.Variables = in.Variables.raw
	}
	if err := graph.ValidateSavedQuery("input.", q); err != nil {
		return nil, err
	}
	if err := validateDocument(schema, "input.query", q.Query, defaults); err != nil {
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
	if slices.Contains(topFields(op), "runSavedQuery") {
		return nil, graph.Invalid("input.query", "runs a saved query; a saved query cannot run saved queries (save the inner document under its own name instead)")
	}
	declared := map[string]bool{}
	for _, v := range op.VariableDefinitions {
		if slices.Contains(reservedParams, v.Variable) {
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

// PrepareSavedQuery checks q as saveQuery does before storing it (name, tags, the
// document against schema, default variables) and returns a copy whose parameters are
// derived from the document's variable definitions, ready for graph.Store.SaveQuery.
// The seed loader uses it to validate the seeded queries against the live schema.
// Errors: INVALID_INPUT naming the field ("input.query", "input.variables.x"…).
func PrepareSavedQuery(schema *graphql.Schema, q *graph.SavedQuery) (*graph.SavedQuery, error) {
	in := savedQueryInput{Name: q.Name, Description: &q.Description, Query: q.Query, Tags: &q.Tags}
	if len(q.Variables) > 0 {
		in.Variables = &JSON{raw: q.Variables}
	}
	return prepareSavedQuery(schema, &in)
}

// runSaved runs the saved query q with vars, merged over its saved default variables,
// after checking them: every required parameter given, every value of its declared
// type, no unknown name. The run cannot itself run saved queries. The response's errors
// are left as graphql-go returned them.
// Errors (before anything runs): INVALID_INPUT naming the parameter (field) for a
// missing, ill-typed or unknown one.
func runSaved(ctx context.Context, schema *graphql.Schema, q *graph.SavedQuery, vars map[string]any) (*graphql.Response, error) {
	if schema == nil {
		return nil, errors.New("server: no schema in the context to run a saved query on")
	}
	merged, err := mergeVariables(schema, q, vars)
	if err != nil {
		return nil, err
	}
	ctx = context.WithValue(withSchema(ctx, schema), insideSavedKey{}, true)
	return schema.Exec(ctx, q.Query, "", merged), nil
}

// mergeVariables returns q's default variables overlaid with vars, checked against q's
// parameters. Errors: INVALID_INPUT whose Field is the parameter's name.
func mergeVariables(schema *graphql.Schema, q *graph.SavedQuery, vars map[string]any) (map[string]any, error) {
	merged := map[string]any{}
	if len(q.Variables) > 0 {
		if err := json.Unmarshal(q.Variables, &merged); err != nil {
			return nil, fmt.Errorf("server: saved query %q has malformed default variables: %w", q.Name, err)
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
		t, err := parseTypeRef(p.Type)
		if err != nil {
			return nil, fmt.Errorf("server: saved query %q: parameter %s has type %q: %w", q.Name, p.Name, p.Type, err)
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

// resultError turns the first error of a saved query's response into the error of the
// field that ran it: a resolver's own error as is, a request error (e.g. a variable
// graphql-go refused) as INVALID_INPUT.
func resultError(name string, qe *gqlerrors.QueryError) error {
	if qe.ResolverError != nil {
		return qe.ResolverError
	}
	code, _ := qe.Extensions["code"].(string)
	if code == "" {
		code = graph.EINVALID
	}
	return graph.Errorf(code, "saved query %q: %s", name, qe.Message)
}

// --- GraphQL resolvers -------------------------------------------------------------

// SavedQueries lists the latest version of every saved query, only those tagged tag
// when given, by name.
func (q *queryResolver) SavedQueries(ctx context.Context, args struct{ Tag *string }) ([]*savedQueryResolver, error) {
	qs, err := q.store.SavedQueries(ctx, deref(args.Tag))
	if err != nil {
		return nil, err
	}
	out := make([]*savedQueryResolver, len(qs))
	for i, sq := range qs {
		out[i] = &savedQueryResolver{q: sq, root: q.Resolver}
	}
	return out, nil
}

// SavedQuery returns the saved query name (latest version, with its history), null
// when there is none (or it is deleted, unless includeDeleted). INVALID_INPUT for a
// name that is not a slug.
func (q *queryResolver) SavedQuery(ctx context.Context, args struct {
	Name           string
	IncludeDeleted bool
}) (*savedQueryResolver, error) {
	h, err := q.store.SavedQueryHistory(ctx, args.Name, args.IncludeDeleted)
	if graph.ErrorCode(err) == graph.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &savedQueryResolver{q: h.Latest(), h: h, root: q.Resolver}, nil
}

// RunSavedQuery runs a saved query and returns its data. Errors: NOT_FOUND for an
// unknown name or version; INVALID_INPUT (field: the parameter) for missing, ill-typed
// or unknown variables, or when run from inside a saved query; otherwise the first error
// the saved document raised (its data is then dropped).
func (q *queryResolver) RunSavedQuery(ctx context.Context, args struct {
	Name      string
	Variables *JSON
	Version   *int32
}) (*JSON, error) {
	if v, _ := ctx.Value(insideSavedKey{}).(bool); v {
		return nil, graph.Invalid("name", "a saved query cannot run saved queries")
	}
	vars := map[string]any{}
	if args.Variables != nil && len(args.Variables.raw) > 0 && string(args.Variables.raw) != "null" {
		if err := json.Unmarshal(args.Variables.raw, &vars); err != nil || vars == nil {
			return nil, graph.Invalid("variables", "must be a JSON object of parameter values, e.g. {\"company\": \"mp-materials\"}")
		}
	}
	version := 0
	if args.Version != nil {
		if *args.Version < 1 {
			return nil, graph.Invalid("version", "must be 1 or more")
		}
		version = int(*args.Version)
	}
	sq, err := q.store.SavedQuery(ctx, args.Name, version)
	if err != nil {
		return nil, err
	}
	resp, err := runSaved(ctx, schemaFrom(ctx), sq, vars)
	if err != nil {
		var ge *graph.Error
		if errors.As(err, &ge) && ge.Field != "" { // a parameter: name it as the argument's part
			ge.Field = "variables." + ge.Field
		}
		return nil, err
	}
	if len(resp.Errors) > 0 {
		return nil, resultError(args.Name, resp.Errors[0])
	}
	return &JSON{raw: resp.Data}, nil
}

// PersistedQueries lists the documents approved for the allow-list, newest first.
func (q *queryResolver) PersistedQueries(ctx context.Context) ([]*persistedQueryResolver, error) {
	ps, err := q.store.PersistedQueries(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*persistedQueryResolver, len(ps))
	for i, p := range ps {
		out[i] = &persistedQueryResolver{p}
	}
	return out, nil
}

// SaveQuery validates and stores a new version of a saved query (prepareSavedQuery).
func (m *mutationResolver) SaveQuery(ctx context.Context, args struct{ Input savedQueryInput }) (*savedQueryResolver, error) {
	if err := mutationAllowed(ctx, "saveQuery", graph.RoleWriter); err != nil {
		return nil, err
	}
	schema := schemaFrom(ctx)
	if schema == nil {
		return nil, errors.New("server: saveQuery needs the schema in its context")
	}
	sq, err := prepareSavedQuery(schema, &args.Input)
	if err != nil {
		return nil, err
	}
	saved, err := m.store.SaveQuery(ctx, sq)
	if err != nil {
		return nil, err
	}
	return &savedQueryResolver{q: saved, root: m.Resolver}, nil
}

// DeleteSavedQuery deletes a saved query, keeping its history unless purge.
// NOT_FOUND when there is nothing to delete.
func (m *mutationResolver) DeleteSavedQuery(ctx context.Context, args struct {
	Name  string
	Purge bool
}) (bool, error) {
	if err := mutationAllowed(ctx, "deleteSavedQuery", graph.RoleWriter); err != nil {
		return false, err
	}
	if err := m.store.DeleteSavedQuery(ctx, args.Name, args.Purge); err != nil {
		return false, err
	}
	return true, nil
}

// ApprovePersistedQuery validates a document (any operation type) and puts it on the
// allow-list. INVALID_INPUT (field query) for a document that does not validate.
func (m *mutationResolver) ApprovePersistedQuery(ctx context.Context, args struct{ Query string }) (*persistedQueryResolver, error) {
	if err := mutationAllowed(ctx, "approvePersistedQuery", graph.RoleAdmin); err != nil {
		return nil, err
	}
	schema := schemaFrom(ctx)
	if schema == nil {
		return nil, errors.New("server: approvePersistedQuery needs the schema in its context")
	}
	if strings.TrimSpace(args.Query) == "" {
		return nil, graph.Invalid("query", "must not be empty")
	}
	if err := validateDocument(schema, "query", args.Query, nil); err != nil {
		return nil, err
	}
	p, err := m.store.ApprovePersistedQuery(ctx, args.Query)
	if err != nil {
		return nil, err
	}
	return &persistedQueryResolver{p}, nil
}

// RevokePersistedQuery takes a document off the allow-list. NOT_FOUND when it is not on it.
func (m *mutationResolver) RevokePersistedQuery(ctx context.Context, args struct{ Sha256Hash string }) (bool, error) {
	if err := mutationAllowed(ctx, "revokePersistedQuery", graph.RoleAdmin); err != nil {
		return false, err
	}
	if err := m.store.RevokePersistedQuery(ctx, args.Sha256Hash); err != nil {
		return false, err
	}
	return true, nil
}

// savedQueryResolver resolves SavedQuery (the latest version, with its history) and
// SavedQueryVersion (one version).
type savedQueryResolver struct {
	q    *graph.SavedQuery
	h    *graph.SavedQueryHistory // nil until versions asks for it
	root *Resolver
}

func (r *savedQueryResolver) Name() string         { return r.q.Name }
func (r *savedQueryResolver) Version() int32       { return int32(r.q.Version) }
func (r *savedQueryResolver) Description() *string { return strOrNil(r.q.Description) }
func (r *savedQueryResolver) Query() string        { return r.q.Query }
func (r *savedQueryResolver) Sha256Hash() string   { return r.q.Hash }
func (r *savedQueryResolver) SavedAt() graphql.Time {
	return graphql.Time{Time: r.q.SavedAt}
}
func (r *savedQueryResolver) Path() string     { return "/queries/" + r.q.Name }
func (r *savedQueryResolver) Variables() *JSON { return jsonOrNil(r.q.Variables) }
func (r *savedQueryResolver) Deleted() bool    { return r.h != nil && r.h.Deleted }
func (r *savedQueryResolver) Tags() []string   { return nonNil(r.q.Tags) }
func (r *savedQueryResolver) Parameters() []*queryParamResolver {
	out := make([]*queryParamResolver, len(r.q.Params))
	for i := range r.q.Params {
		out[i] = &queryParamResolver{r.q.Params[i]}
	}
	return out
}

// Versions lists every version, oldest first.
func (r *savedQueryResolver) Versions(ctx context.Context) ([]*savedQueryResolver, error) {
	if r.h == nil {
		h, err := r.root.store.SavedQueryHistory(ctx, r.q.Name, true)
		if err != nil {
			return nil, err
		}
		r.h = h
	}
	out := make([]*savedQueryResolver, len(r.h.Versions))
	for i, v := range r.h.Versions {
		out[i] = &savedQueryResolver{q: v, root: r.root}
	}
	return out, nil
}

type queryParamResolver struct{ p graph.QueryParam }

func (r *queryParamResolver) Name() string   { return r.p.Name }
func (r *queryParamResolver) Type() string   { return r.p.Type }
func (r *queryParamResolver) Required() bool { return r.p.Required }
func (r *queryParamResolver) Default() *JSON { return jsonOrNil(r.p.Default) }

type persistedQueryResolver struct{ p *graph.PersistedQuery }

func (r *persistedQueryResolver) Sha256Hash() string { return r.p.Hash }
func (r *persistedQueryResolver) Query() string      { return r.p.Query }
func (r *persistedQueryResolver) ApprovedAt() graphql.Time {
	return graphql.Time{Time: r.p.ApprovedAt}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
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
		return typeRef{}, fmt.Errorf("server: %q is not a GraphQL type", s)
	}
	t := doc.Operations[0].VariableDefinitions[0].Type
	if t.String() != strings.TrimSpace(s) {
		return typeRef{}, fmt.Errorf("server: %q is not a GraphQL type", s)
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

// topFields returns the names (not aliases) of op's top-level fields, and "" for each
// fragment spread or inline fragment there, whose fields it does not list.
func topFields(op *gqlast.OperationDefinition) []string {
	names := make([]string, len(op.SelectionSet))
	for i, sel := range op.SelectionSet {
		if f, ok := sel.(*gqlast.Field); ok {
			names[i] = f.Name
		}
	}
	return names
}
