package server

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/graph-gophers/graphql-go"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"
	"github.com/lodestone-kg/lodestone/graph"
	"github.com/lodestone-kg/lodestone/savedquery"
)

// Saved queries: named GraphQL documents with parameters and a version history, kept by
// the store (graph/savedquery.go), checked and run by package savedquery, and served by
// name over GraphQL (runSavedQuery), REST (savedqueries_rest.go) and the CLI. This file
// holds their GraphQL resolvers.

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

// prepareSavedQuery checks a saveQuery input before it is stored (savedquery.Prepare).
// Errors: INVALID_INPUT naming the input field.
func prepareSavedQuery(schema *graphql.Schema, in *savedQueryInput) (*graph.SavedQuery, error) {
	q := &graph.SavedQuery{Name: in.Name, Description: deref(in.Description), Query: in.Query}
	if in.Tags != nil {
		q.Tags = *in.Tags
	}
	if in.Variables != nil {
		q.Variables = in.Variables.raw
	}
	return savedquery.Prepare(schema, q)
}

// PrepareSavedQuery checks q as saveQuery does before storing it (name, tags, the
// document against schema, default variables) and returns a copy whose parameters are
// derived from the document's variable definitions, ready for graph.Store.SaveQuery.
// The seed loader uses it to validate the seeded queries against the live schema.
// Errors: INVALID_INPUT naming the field ("input.query", "input.variables.x"…).
func PrepareSavedQuery(schema *graphql.Schema, q *graph.SavedQuery) (*graph.SavedQuery, error) {
	return savedquery.Prepare(schema, q)
}

// runSaved runs the saved query q with vars, merged over its saved default variables
// and checked (savedquery.MergeVariables): every required parameter given, every value
// of its declared type, no unknown name. The run cannot itself run saved queries. The
// response's errors are left as graphql-go returned them.
// Errors (before anything runs): INVALID_INPUT naming the parameter (field) for a
// missing, ill-typed or unknown one.
func runSaved(ctx context.Context, schema *graphql.Schema, q *graph.SavedQuery, vars map[string]any) (*graphql.Response, error) {
	if schema == nil {
		return nil, errors.New("server: no schema in the context to run a saved query on")
	}
	merged, err := savedquery.MergeVariables(schema, q, vars)
	if err != nil {
		return nil, err
	}
	return runMerged(ctx, schema, q, merged)
}

// runMerged runs q with variables savedquery.MergeVariables already checked, marking
// the context so that the run cannot run saved queries.
func runMerged(ctx context.Context, schema *graphql.Schema, q *graph.SavedQuery, merged map[string]any) (*graphql.Response, error) {
	ctx = context.WithValue(withSchema(ctx, schema), insideSavedKey{}, true)
	return savedquery.Run(ctx, schema, q, merged)
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

// savedQueryArgs reads the arguments that name a saved query and its variables
// (runSavedQuery, savedQueryResult) and looks the query up. Errors: INVALID_INPUT on
// variables (not a JSON object) or version (below 1); NOT_FOUND for an unknown name or
// version.
func savedQueryArgs(ctx context.Context, store *graph.Store, name string, variables *JSON, version *int32) (*graph.SavedQuery, map[string]any, error) {
	vars := map[string]any{}
	if variables != nil && len(variables.raw) > 0 && string(variables.raw) != "null" {
		if err := json.Unmarshal(variables.raw, &vars); err != nil || vars == nil {
			return nil, nil, graph.Invalid("variables", "must be a JSON object of parameter values, e.g. {\"company\": \"mp-materials\"}")
		}
	}
	v := 0
	if version != nil {
		if *version < 1 {
			return nil, nil, graph.Invalid("version", "must be 1 or more")
		}
		v = int(*version)
	}
	sq, err := store.SavedQuery(ctx, name, v)
	if err != nil {
		return nil, nil, err
	}
	return sq, vars, nil
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
	sq, vars, err := savedQueryArgs(ctx, q.store, args.Name, args.Variables, args.Version)
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
	if err := savedquery.ValidateDocument(schema, "query", args.Query, nil); err != nil {
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
