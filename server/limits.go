package server

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/graph-gophers/graphql-go"
	"github.com/lodestone-kg/lodestone/graph"
	"github.com/lodestone-kg/lodestone/savedquery"
	gqlast "github.com/vektah/gqlparser/v2/ast"
)

// RequestLimits caps what one GraphQL request may ask for, checked before any resolver
// runs (on top of graphql-go's own caps in ParseSchema: depth 15, 64 KiB of query text,
// 20,000 selections). The zero value takes the defaults.
type RequestLimits struct {
	// MaxAliases caps the aliased fields of a document, fragments expanded (default
	// 200): aliases are how one request asks for the same expensive field many times.
	MaxAliases int
	// MaxCost is the work budget of one request, in work units (cost.go, graph.Work):
	// a request whose estimate is above it is refused with LIMIT_EXCEEDED before it
	// runs, and a request that does more work than that, over all its fields and
	// aliases, is stopped with LIMIT_EXCEEDED (default 5,000,000, 25 traversals at the
	// default visit budget).
	MaxCost int
	// WorkTime is how long the store reads of one request may take in all (default
	// 500 ms, or the store's traversal timeout when that is shorter); a request's reads
	// run one at a time, so this also bounds the CPU time it spends in the store, which
	// stays under a second with the garbage collection it causes. A request past it
	// stops with LIMIT_EXCEEDED ("the request ran out of time").
	WorkTime time.Duration
	// ExpensiveCost is the estimate from which a request counts as expensive and needs
	// one of MaxExpensive slots (default 10,000).
	ExpensiveCost int
	// MaxExpensive caps the expensive requests (and exports) that run at once (default
	// one less than the number of CPUs, at least 1), so that cheap requests always have
	// a core: they are never held up by expensive ones.
	MaxExpensive int
	// BusyWait is how long an expensive request waits for a slot before it is refused
	// with 503, LIMIT_EXCEEDED and Retry-After (default 2 s).
	BusyWait time.Duration
	// NoIntrospection refuses __schema and __type (FORBIDDEN); __typename stays.
	NoIntrospection bool
}

// Defaults of RequestLimits.
const (
	DefaultMaxAliases    = 200
	DefaultMaxCost       = 5_000_000
	DefaultWorkTime      = 500 * time.Millisecond
	DefaultExpensiveCost = 10_000
	DefaultBusyWait      = 2 * time.Second
)

func (l RequestLimits) withDefaults() RequestLimits {
	if l.MaxAliases <= 0 {
		l.MaxAliases = DefaultMaxAliases
	}
	if l.MaxCost <= 0 {
		l.MaxCost = DefaultMaxCost
	}
	if l.ExpensiveCost <= 0 {
		l.ExpensiveCost = DefaultExpensiveCost
	}
	if l.MaxExpensive <= 0 {
		l.MaxExpensive = max(1, runtime.NumCPU()-1)
	}
	if l.BusyWait <= 0 {
		l.BusyWait = DefaultBusyWait
	}
	return l
}

// maxQueryLength is graphql-go's cap of the query text (ParseSchema); the guard checks it
// first so that a long text is LIMIT_EXCEEDED and is never parsed.
const maxQueryLength = 64 << 10

// guard applies RequestLimits to the GraphQL requests of one server.
type guard struct {
	limits    RequestLimits
	schema    *graphql.Schema
	store     *graph.Store
	expensive chan struct{} // one token per running expensive request
}

func newGuard(l RequestLimits, schema *graphql.Schema, store *graph.Store) *guard {
	l = l.withDefaults()
	if l.WorkTime <= 0 {
		l.WorkTime = min(DefaultWorkTime, store.Limits().Timeout)
	}
	return &guard{limits: l, schema: schema, store: store, expensive: make(chan struct{}, l.MaxExpensive)}
}

// work returns ctx carrying a new work budget for one request (graph.Work): MaxCost
// units and WorkTime for all its reads.
func (g *guard) work(ctx context.Context) context.Context {
	return graph.WithWork(ctx, graph.NewWork(int64(g.limits.MaxCost), g.limits.WorkTime))
}

// WorkHeader is the response header of /graphql and /queries/… that tells what a request
// was estimated to cost and what it did, in work units: "estimate=E; used=U; budget=B".
const WorkHeader = "Lodestone-Work"

// setWorkHeader sets WorkHeader on w from the estimate and the work ctx's budget did
// (none when the request was refused before it ran).
func (g *guard) setWorkHeader(w http.ResponseWriter, ctx context.Context, estimate float64) {
	if estimate <= 0 {
		return // the document was refused before it was estimated
	}
	used := graph.WorkFrom(ctx).Used() // 0 before the request ran
	w.Header().Set(WorkHeader, fmt.Sprintf("estimate=%s; used=%d; budget=%d", formatCost(estimate), used, g.limits.MaxCost))
}

// savedLookup finds the saved queries runSavedQuery runs, for the cost estimate.
func (g *guard) savedLookup(ctx context.Context) savedLookup {
	return func(name string, version int, vars map[string]any) (string, map[string]any, bool) {
		q, err := g.store.SavedQuery(ctx, name, version)
		if err != nil {
			return "", nil, false
		}
		merged, err := savedquery.MergeVariables(g.schema, q, vars)
		if err != nil {
			return "", nil, false // the run refuses the variables before any work
		}
		return q.Query, merged, true
	}
}

// admit checks a request before it runs: length, aliases, introspection, cost, then a
// slot when it is expensive. It returns the function that releases the slot (call it
// when the request is done), or the answer to send instead. A document that does not
// parse is let through when graphql-go refuses it too (it reports it, and nothing runs);
// otherwise it is INVALID_INPUT.
func (g *guard) admit(ctx context.Context, media, query, opName string, vars map[string]any) (cost float64, release func(), refused *refusal) {
	doc, err := parseRequest(query)
	return g.admitParsed(ctx, media, query, doc, err, opName, vars)
}

// admitParsed is admit on a document parsed once at the edge (parseRequest): doc and
// parseErr are what parseRequest returned for query.
func (g *guard) admitParsed(ctx context.Context, media, query string, doc *gqlast.QueryDocument, parseErr error, opName string, vars map[string]any) (cost float64, release func(), refused *refusal) {
	release = func() {}
	if len(query) > maxQueryLength {
		return 0, release, limitRefusal(media, fmt.Sprintf("the query is %d bytes long; this server accepts at most %d", len(query), maxQueryLength))
	}
	if parseErr != nil {
		if len(g.schema.Validate(query)) > 0 {
			return 0, release, nil // graphql-go refuses it too, with its own message
		}
		return 0, release, invalidRequest("the document does not parse: " + parseErr.Error())
	}
	est, ok := estimateCost(g.schema, doc, opName, vars, g.store.Limits(), g.savedLookup(ctx))
	if !ok {
		return 0, release, nil // no such operation: graphql-go says so
	}
	cost = est.cost
	switch {
	case est.aliases > float64(g.limits.MaxAliases):
		return 0, release, limitRefusal(media, fmt.Sprintf("the document has %.0f aliased fields (fragments expanded); this server accepts at most %d", est.aliases, g.limits.MaxAliases))
	case est.introspection && g.limits.NoIntrospection:
		return 0, release, &refusal{status: http.StatusForbidden, code: graph.EFORBIDDEN, message: "introspection (__schema, __type) is disabled on this server"}
	case est.cost > float64(g.limits.MaxCost):
		return cost, release, limitRefusal(media, fmt.Sprintf("the estimated cost of this request is %s work units, above this server's budget of %d; lower depth/maxDepth, first/limit, the number of start ids or of aliased traversals and analytics (cost = Σ fields, traversal = starts × min(8^depth, %d), owners/holdings/ownership analytics and totalCount of relationships = %d, × first/limit or the list's cap for what is nested under a list; see the README's cost model)",
			formatCost(est.cost), g.limits.MaxCost, g.store.Limits().MaxVisits, g.store.Limits().MaxVisits))
	case est.cost < float64(g.limits.ExpensiveCost):
		return cost, release, nil
	}
	release, refused = g.slot(ctx, "estimated cost "+formatCost(est.cost))
	return cost, release, refused
}

// slot takes one of the MaxExpensive slots for an expensive piece of work (what names
// it in the refusal), waiting up to BusyWait. It returns the function that gives the
// slot back, or a 503 LIMIT_EXCEEDED refusal with Retry-After when none came free.
func (g *guard) slot(ctx context.Context, what string) (release func(), refused *refusal) {
	release = func() {}
	timer := time.NewTimer(g.limits.BusyWait)
	defer timer.Stop()
	select {
	case g.expensive <- struct{}{}:
		return func() { <-g.expensive }, nil
	case <-timer.C:
		return release, &refusal{status: http.StatusServiceUnavailable, code: graph.ELIMIT, retryAfter: 1,
			message: fmt.Sprintf("the server is busy with %d expensive requests (%s); retry in a moment, or ask for less", g.limits.MaxExpensive, what)}
	case <-ctx.Done():
		return release, &refusal{status: http.StatusServiceUnavailable, code: graph.ELIMIT, message: "the request ended while waiting for the server"}
	}
}

// limitRefusal is a LIMIT_EXCEEDED answer to a request that did not run: 200 for
// application/json and 400 for application/graphql-response+json, like a validation
// error (GraphQL over HTTP).
func limitRefusal(media, msg string) *refusal {
	status := http.StatusOK
	if media == mediaGraphQLResponse {
		status = http.StatusBadRequest
	}
	return &refusal{status: status, code: graph.ELIMIT, message: msg}
}

func formatCost(c float64) string {
	if c > 1e15 {
		return strconv.FormatFloat(c, 'g', 3, 64)
	}
	return strconv.FormatFloat(c, 'f', 0, 64)
}

// introspectionAllowed is graphql-go's introspection filter (ParseSchema): false when
// the request's guard disabled introspection.
func introspectionAllowed(ctx context.Context) bool {
	off, _ := ctx.Value(noIntrospectionKey{}).(bool)
	return !off
}

type noIntrospectionKey struct{}
