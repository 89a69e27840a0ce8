package server

import (
	"context"
	"sync"

	"github.com/graph-gophers/graphql-go"
	"github.com/lodestone-kg/lodestone/graph"
	"github.com/lodestone-kg/lodestone/ingest"
)

// Resolvers of the traversal and analytics fields. They stay thin: graph/ runs each one
// in one read transaction and returns flat results; these wrap them and put the entities
// they already read into the request's loader cache, so that nested from/to selections
// cost nothing more.

func ids(in []graphql.ID) []string {
	out := make([]string, len(in))
	for i, id := range in {
		out[i] = string(id)
	}
	return out
}

func (q *queryResolver) Subgraph(ctx context.Context, args struct {
	IDs       []graphql.ID
	Depth     int32
	Types     *[]string
	Direction string
	Limit     int32
	AsOf      *Date
}) (*subgraphResolver, error) {
	sg, err := q.store.Subgraph(ctx, graph.SubgraphQuery{IDs: ids(args.IDs), Depth: int(args.Depth), Types: deref(args.Types),
		Direction: direction(args.Direction), Limit: int(args.Limit), AsOf: dateArg(args.AsOf), Thin: thinEnough(ctx)})
	if err != nil {
		return nil, err
	}
	return q.subgraph(ctx, sg), nil
}

func (q *queryResolver) ShortestPath(ctx context.Context, args struct {
	From, To  graphql.ID
	Types     *[]string
	Direction string
	MaxDepth  int32
	AsOf      *Date
}) (*pathResolver, error) {
	p, err := q.store.ShortestPath(ctx, graph.PathQuery{From: string(args.From), To: string(args.To), Types: deref(args.Types),
		Direction: direction(args.Direction), MaxDepth: int(args.MaxDepth), AsOf: dateArg(args.AsOf)})
	if err != nil || p == nil {
		return nil, err
	}
	return q.path(ctx, p), nil
}

func (q *queryResolver) Paths(ctx context.Context, args struct {
	From, To  graphql.ID
	Types     *[]string
	Direction string
	MaxDepth  int32
	First     int32
	AsOf      *Date
}) ([]*pathResolver, error) {
	ps, err := q.store.Paths(ctx, graph.PathQuery{From: string(args.From), To: string(args.To), Types: deref(args.Types),
		Direction: direction(args.Direction), MaxDepth: int(args.MaxDepth), First: int(args.First), AsOf: dateArg(args.AsOf)})
	if err != nil {
		return nil, err
	}
	return q.paths(ctx, ps), nil
}

func (q *queryResolver) Ownership(ctx context.Context, args struct {
	Owner, Target graphql.ID
	AsOf          *Date
}) (*ownershipResolver, error) {
	o, err := q.store.Ownership(ctx, string(args.Owner), string(args.Target), dateArg(args.AsOf))
	if err != nil {
		return nil, err
	}
	return &ownershipResolver{o: o, paths: q.paths(ctx, o.Paths)}, nil
}

type stakeArgs struct {
	Of        graphql.ID
	Threshold float64
	MaxDepth  int32
	AsOf      *Date
}

func (q *queryResolver) Owners(ctx context.Context, args stakeArgs) ([]*stakeResolver, error) {
	st, err := q.store.Owners(ctx, graph.StakeQuery{Of: string(args.Of), Threshold: args.Threshold, MaxDepth: int(args.MaxDepth), AsOf: dateArg(args.AsOf)})
	return q.stakes(ctx, st), err
}

func (q *queryResolver) Holdings(ctx context.Context, args stakeArgs) ([]*stakeResolver, error) {
	st, err := q.store.Holdings(ctx, graph.StakeQuery{Of: string(args.Of), Threshold: args.Threshold, MaxDepth: int(args.MaxDepth), AsOf: dateArg(args.AsOf)})
	return q.stakes(ctx, st), err
}

func (q *queryResolver) UltimateController(ctx context.Context, args struct {
	Of   graphql.ID
	AsOf *Date
}) (*controlResolver, error) {
	c, err := q.store.UltimateController(ctx, string(args.Of), dateArg(args.AsOf))
	if err != nil || c == nil {
		return nil, err
	}
	q.loadersFor(ctx).Prime(ctx, c.Controller)
	return &controlResolver{c: c, controller: newEntityResolver(c.Controller, q.Resolver), paths: q.paths(ctx, c.Paths)}, nil
}

func (q *queryResolver) BeneficialOwners(ctx context.Context, args struct {
	Of        graphql.ID
	Threshold float64
	AsOf      *Date
}) ([]*stakeResolver, error) {
	st, err := q.store.BeneficialOwners(ctx, string(args.Of), args.Threshold, dateArg(args.AsOf))
	return q.stakes(ctx, st), err
}

func (q *queryResolver) SupplyChain(ctx context.Context, args struct {
	Of        graphql.ID
	Direction string
	Material  *string
	MaxDepth  int32
	AsOf      *Date
}) (*subgraphResolver, error) {
	sg, err := q.store.SupplyChain(ctx, graph.SupplyQuery{Of: string(args.Of), Upstream: args.Direction != "DOWNSTREAM",
		Material: deref(args.Material), MaxDepth: int(args.MaxDepth), AsOf: dateArg(args.AsOf), Thin: thinEnough(ctx)})
	if err != nil {
		return nil, err
	}
	return q.subgraph(ctx, sg), nil
}

func (q *queryResolver) SupplyPaths(ctx context.Context, args struct {
	From, To       graphql.ID
	Material       *string
	AvoidCountries *[]string
	MaxDepth       int32
	First          int32
	AsOf           *Date
}) ([]*pathResolver, error) {
	ps, err := q.store.SupplyPaths(ctx, graph.SupplyPathQuery{From: string(args.From), To: string(args.To), Material: deref(args.Material),
		AvoidCountries: deref(args.AvoidCountries), MaxDepth: int(args.MaxDepth), First: int(args.First), AsOf: dateArg(args.AsOf)})
	if err != nil {
		return nil, err
	}
	return q.paths(ctx, ps), nil
}

func (q *queryResolver) Exposure(ctx context.Context, args struct {
	Of        graphql.ID
	Country   string
	Direction string
	AsOf      *Date
}) (*exposureResolver, error) {
	x, err := q.store.Exposure(ctx, string(args.Of), args.Country, args.Direction != "DOWNSTREAM", dateArg(args.AsOf))
	if err != nil {
		return nil, err
	}
	q.loadersFor(ctx).Prime(ctx, x.Entities...)
	return &exposureResolver{x: x, entities: q.entityResolvers(x.Entities), paths: q.paths(ctx, x.Paths)}, nil
}

// subgraph wraps sg, priming the loader with its entities.
// thinEnough reports whether the Subgraph being resolved in ctx selects none of the
// relationship fields that only a relationship's record holds (properties, sources,
// confidence), so that the store may build its relationships from adjacency entries
// (graph.SubgraphQuery.Thin). A visualizer's subgraph of ids, types, ends and shares
// then reads no relationship record at all.
func thinEnough(ctx context.Context) bool {
	for _, f := range []string{"relationships.properties", "relationships.sources", "relationships.confidence"} {
		if graphql.HasSelectedField(ctx, f) {
			return false
		}
	}
	return true
}

func (r *Resolver) subgraph(ctx context.Context, sg *graph.Subgraph) *subgraphResolver {
	return &subgraphResolver{truncated: sg.Truncated, typedGraph: typedGraph{root: r, ctx: ctx, ents: sg.Entities, rels: sg.Relationships}}
}

// relationshipResolvers wraps rels whose ends are among ents; from and to resolve to
// those very resolvers.
func (r *Resolver) relationshipResolvers(ctx context.Context, rels []*graph.Relationship, ents []*entityResolver) []*relationshipResolver {
	ends := make(map[string]*entityResolver, len(ents))
	for _, e := range ents {
		ends[e.e.ID] = e
	}
	out := make([]*relationshipResolver, len(rels))
	for i, rel := range rels {
		out[i] = newRelationshipResolver(rel, r, ctx, ends)
	}
	return out
}

func (r *Resolver) path(ctx context.Context, p *graph.Path) *pathResolver {
	return &pathResolver{p: p, typedGraph: typedGraph{root: r, ctx: ctx, ents: p.Entities, rels: p.Relationships}}
}

func (r *Resolver) paths(ctx context.Context, ps []graph.Path) []*pathResolver {
	out := make([]*pathResolver, len(ps))
	for i := range ps {
		out[i] = r.path(ctx, &ps[i])
	}
	return out
}

func (r *Resolver) stakes(ctx context.Context, st []graph.Stake) []*stakeResolver {
	out := make([]*stakeResolver, len(st))
	for i := range st {
		r.loadersFor(ctx).Prime(ctx, st[i].Entity)
		s := &st[i]
		out[i] = &stakeResolver{Entity: newEntityResolver(s.Entity, r), Direct: s.Direct, Integrated: s.Integrated,
			IntegratedMin: s.IntegratedMin, IntegratedMax: s.IntegratedMax, Certain: s.Certain, Depth: int32(s.Depth), Controls: s.Controls}
	}
	return out
}

// typedGraph holds the entities and relationships of a Subgraph or Path and builds their
// typed resolvers the first time entities or relationships is asked for: a visualizer
// that asks only for elements pays for no resolver and no loader priming.
type typedGraph struct {
	root          *Resolver
	ctx           context.Context
	ents          []*graph.Entity
	rels          []*graph.Relationship
	once          sync.Once
	entities      []*entityResolver
	relationships []*relationshipResolver
}

func (g *typedGraph) build() {
	g.once.Do(func() {
		g.root.loadersFor(g.ctx).Prime(g.ctx, g.ents...)
		g.entities = g.root.entityResolvers(g.ents)
		g.relationships = g.root.relationshipResolvers(g.ctx, g.rels, g.entities)
	})
}

func (g *typedGraph) Entities() []*entityResolver { g.build(); return g.entities }

func (g *typedGraph) Relationships() []*relationshipResolver { g.build(); return g.relationships }

// Elements is the Cytoscape.js elements array of the entities and relationships, each
// once (ingest.AppendCytoscapeElements), encoded straight from the traversal's result.
func (g *typedGraph) Elements() JSON {
	ents, rels := g.ents, g.rels
	if !distinctIDs(ents, func(e *graph.Entity) string { return e.ID }) || !distinctIDs(rels, func(r *graph.Relationship) string { return r.ID }) {
		ents, rels = uniqueByID(ents, func(e *graph.Entity) string { return e.ID }), uniqueByID(rels, func(r *graph.Relationship) string { return r.ID })
	}
	return JSON{raw: ingest.AppendCytoscapeElements(make([]byte, 0, 160*len(ents)+128*len(rels)), ents, rels)}
}

// distinctIDs reports whether no two of list share an id; lists of up to a few dozen
// (paths) are checked pairwise, without a map.
func distinctIDs[T any](list []T, id func(T) string) bool {
	if len(list) > 32 {
		return false // let uniqueByID look, with a map
	}
	for i := range list {
		for j := i + 1; j < len(list); j++ {
			if id(list[i]) == id(list[j]) {
				return false
			}
		}
	}
	return true
}

// uniqueByID returns list without the repeats of an id, in first-seen order.
func uniqueByID[T any](list []T, id func(T) string) []T {
	seen := make(map[string]bool, len(list))
	out := make([]T, 0, len(list))
	for _, x := range list {
		if k := id(x); !seen[k] {
			seen[k] = true
			out = append(out, x)
		}
	}
	return out
}

type subgraphResolver struct {
	typedGraph
	truncated bool
}

func (r *subgraphResolver) Truncated() bool { return r.truncated }

type pathResolver struct {
	typedGraph
	p *graph.Path
}

func (r *pathResolver) Length() int32   { return int32(r.p.Length()) }
func (r *pathResolver) Share() *float64 { return r.p.Share }

type ownershipResolver struct {
	o     *graph.Ownership
	paths []*pathResolver
}

func (r *ownershipResolver) Direct() float64        { return r.o.Direct }
func (r *ownershipResolver) Integrated() float64    { return r.o.Integrated }
func (r *ownershipResolver) IntegratedMin() float64 { return r.o.IntegratedMin }
func (r *ownershipResolver) IntegratedMax() float64 { return r.o.IntegratedMax }
func (r *ownershipResolver) Controls() bool         { return r.o.Controls }
func (r *ownershipResolver) Paths() []*pathResolver { return r.paths }

// stakeResolver is a Stake as plain fields (UseFieldResolvers): owners and holdings
// lists render without a reflective call per field.
type stakeResolver struct {
	Entity             *entityResolver
	Direct, Integrated float64
	IntegratedMin      float64
	IntegratedMax      float64
	Certain            bool
	Depth              int32
	Controls           bool
}

type controlResolver struct {
	c          *graph.Control
	controller *entityResolver
	paths      []*pathResolver
}

func (r *controlResolver) Controller() *entityResolver { return r.controller }
func (r *controlResolver) Share() float64              { return r.c.Share }
func (r *controlResolver) Paths() []*pathResolver      { return r.paths }

type exposureResolver struct {
	x        *graph.Exposure
	entities []*entityResolver
	paths    []*pathResolver
}

func (r *exposureResolver) Share() float64              { return r.x.Share }
func (r *exposureResolver) Entities() []*entityResolver { return r.entities }
func (r *exposureResolver) Paths() []*pathResolver      { return r.paths }
