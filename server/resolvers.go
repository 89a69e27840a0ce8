package server

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/graph-gophers/graphql-go"
	"github.com/lodestone-kg/lodestone/graph"
	"github.com/lodestone-kg/lodestone/loaders"
)

// Resolver is the root resolver: Query() and Mutation() return the resolvers of the two
// operation types. It holds no per-request state; that lives in the context (loaders,
// request flags).
type Resolver struct {
	store *graph.Store
}

// NewResolver returns the root resolver over store.
func NewResolver(store *graph.Store) *Resolver { return &Resolver{store: store} }

// Query returns the resolver of the Query type.
func (r *Resolver) Query() *queryResolver { return &queryResolver{r} }

// Mutation returns the resolver of the Mutation type.
func (r *Resolver) Mutation() *mutationResolver { return &mutationResolver{r} }

type queryResolver struct{ *Resolver }

type mutationResolver struct{ *Resolver }

// loadersFor returns the request's loaders (a fresh set when the request has none, e.g.
// in a test that executes the schema directly).
func (r *Resolver) loadersFor(ctx context.Context) *loaders.Loaders {
	if l := loaders.FromContext(ctx); l != nil {
		return l
	}
	return loaders.New(r.store)
}

// Entity reads the entity directly: a root field has nothing to batch with, and the
// loader's batch window would only add latency. The result primes the request's cache.
func (q *queryResolver) Entity(ctx context.Context, args struct{ ID graphql.ID }) (*entityResolver, error) {
	e, err := q.store.Entity(ctx, string(args.ID))
	if graph.ErrorCode(err) == graph.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	q.loadersFor(ctx).Prime(ctx, e)
	return newEntityResolver(e, q.Resolver), nil
}

func (q *queryResolver) Entities(ctx context.Context, args struct {
	Kind    *string
	Country *string
	First   int32
	After   *string
}) (*entityConnection, error) {
	f := graph.EntityFilter{Kind: deref(args.Kind), Country: deref(args.Country)}
	page, err := q.store.ListEntities(ctx, f, int(args.First), deref(args.After))
	if err != nil {
		return nil, err
	}
	return &entityConnection{page: page, total: q.store.CountEntities(f), root: q.Resolver}, nil
}

func (q *queryResolver) Relationship(ctx context.Context, args struct{ ID graphql.ID }) (*relationshipResolver, error) {
	rel, err := q.store.Relationship(ctx, string(args.ID))
	if graph.ErrorCode(err) == graph.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return newRelationshipResolver(rel, q.Resolver, ctx, nil), nil
}

func (q *queryResolver) Search(ctx context.Context, args struct {
	Text  string
	Kind  *string
	First int32
}) ([]*searchHitResolver, error) {
	hits, err := q.store.Search(ctx, args.Text, deref(args.Kind), int(args.First))
	if err != nil {
		return nil, err
	}
	out := make([]*searchHitResolver, len(hits))
	for i, h := range hits {
		out[i] = &searchHitResolver{EntityField: newEntityResolver(h.Entity, q.Resolver), ScoreField: h.Score}
	}
	return out, nil
}

func (q *queryResolver) EntitiesByIdentifier(ctx context.Context, args struct{ Scheme, Value string }) ([]*entityResolver, error) {
	ents, err := q.store.EntitiesByIdentifier(ctx, args.Scheme, args.Value)
	if err != nil {
		return nil, err
	}
	return q.entityResolvers(ents), nil
}

func (r *Resolver) entityResolvers(ents []*graph.Entity) []*entityResolver {
	out := make([]*entityResolver, len(ents))
	for i, e := range ents {
		out[i] = newEntityResolver(e, r)
	}
	return out
}

func (q *queryResolver) Stats(ctx context.Context) (*statsResolver, error) {
	st, err := q.store.Stats(ctx)
	if err != nil {
		return nil, err
	}
	return &statsResolver{st: st, at: time.Now()}, nil
}

// entityResolver resolves an Entity. Its leaf getters take no context and return no
// error, so graphql-go runs them inline (engineering notes §1.2).
type entityResolver struct {
	// ID, Kind and Name are fields, not methods: graphql-go (UseFieldResolvers) reads a
	// field without the reflective call a method costs, and a subgraph renders hundreds.
	ID   outID
	Kind string
	Name string
	e    *graph.Entity
	root *Resolver
}

func newEntityResolver(e *graph.Entity, root *Resolver) *entityResolver {
	return &entityResolver{ID: outID(e.ID), Kind: e.Kind, Name: e.Name, e: e, root: root}
}
func (r *entityResolver) Aliases() []string {
	if r.e.Aliases == nil {
		return []string{}
	}
	return r.e.Aliases
}
func (r *entityResolver) Country() *string  { return strOrNil(r.e.Country) }
func (r *entityResolver) Properties() *JSON { return jsonOrNil(r.e.Properties) }
func (r *entityResolver) ValidFrom() *Date  { return dateOrNil(r.e.ValidFrom) }
func (r *entityResolver) ValidTo() *Date    { return dateOrNil(r.e.ValidTo) }
func (r *entityResolver) Identifiers() []*identifierResolver {
	out := make([]*identifierResolver, len(r.e.Identifiers))
	for i := range r.e.Identifiers {
		out[i] = &identifierResolver{r.e.Identifiers[i]}
	}
	return out
}

func (r *entityResolver) Sources(ctx context.Context) ([]*sourceResolver, error) {
	return r.root.sources(ctx, r.e.Sources)
}

func (r *Resolver) sources(ctx context.Context, ids []string) ([]*sourceResolver, error) {
	srcs, err := r.loadersFor(ctx).Sources(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]*sourceResolver, len(srcs))
	for i, s := range srcs {
		out[i] = &sourceResolver{s}
	}
	return out, nil
}

func (r *entityResolver) Relationships(ctx context.Context, args struct {
	Direction string
	Types     *[]string
	AsOf      *Date
	First     int32
	After     *string
}) (*relationshipConnection, error) {
	f := graph.RelationshipFilter{Direction: direction(args.Direction), AsOf: dateArg(args.AsOf)}
	if args.Types != nil {
		f.Types = *args.Types
	}
	count := graphql.HasSelectedField(ctx, "totalCount")
	page, total, err := r.root.store.EntityRelationships(ctx, r.e.ID, f, int(args.First), deref(args.After), count)
	if err != nil {
		return nil, err
	}
	if graphql.HasSelectedField(ctx, "edges") {
		if err := r.root.prefetchEnds(ctx, page.Items); err != nil {
			return nil, err
		}
	}
	return &relationshipConnection{page: page, total: total, root: r.root, ctx: ctx}, nil
}

// prefetchEnds reads the ends of rels in one transaction, so that nested from/to
// selections are served from the request's cache instead of one read each.
func (r *Resolver) prefetchEnds(ctx context.Context, rels []*graph.Relationship) error {
	ids := make([]string, 0, 2*len(rels))
	for _, rel := range rels {
		ids = append(ids, rel.From, rel.To)
	}
	return r.loadersFor(ctx).Prefetch(ctx, ids)
}

func direction(s string) graph.Direction {
	switch s {
	case "OUT":
		return graph.Out
	case "IN":
		return graph.In
	}
	return graph.Both
}

type identifierResolver struct{ id graph.Identifier }

func (r *identifierResolver) Scheme() string { return r.id.Scheme }
func (r *identifierResolver) Value() string  { return r.id.Value }

type sourceResolver struct{ s *graph.Source }

func (r *sourceResolver) ID() graphql.ID     { return graphql.ID(r.s.ID) }
func (r *sourceResolver) Title() string      { return r.s.Title }
func (r *sourceResolver) Publisher() *string { return strOrNil(r.s.Publisher) }
func (r *sourceResolver) URL() *string       { return strOrNil(r.s.URL) }
func (r *sourceResolver) Published() *Date   { return dateOrNil(r.s.Published) }

// relationshipResolver resolves a Relationship; from and to go through the request's
// loaders, which list resolvers prefetch. It keeps the request's context so that from
// and to can be plain getters (no context argument, no error): graphql-go runs those
// inline instead of starting a goroutine for each, which matters for a subgraph of
// hundreds of relationships. An end that cannot be read (the store guarantees both ends
// exist) resolves to null, which GraphQL reports as an INTERNAL error.
type relationshipResolver struct {
	// ID and Type are fields for the reason entityResolver's are.
	ID   outID
	Type string
	rel  *graph.Relationship
	root *Resolver
	ctx  context.Context
	// ends, when set, holds entities already read with the relationship (a subgraph's
	// or a path's), so from and to need no loader call at all.
	ends map[string]*entityResolver
	// full and fullRel: record's read of a thin rel (Sources may run concurrently with
	// the plain getters).
	full    sync.Once
	fullRel *graph.Relationship
}

func newRelationshipResolver(rel *graph.Relationship, root *Resolver, ctx context.Context, ends map[string]*entityResolver) *relationshipResolver {
	return &relationshipResolver{ID: outID(rel.ID), Type: rel.Type, rel: rel, root: root, ctx: ctx, ends: ends}
}

func (r *relationshipResolver) Properties() *JSON    { return jsonOrNil(r.record().Properties) }
func (r *relationshipResolver) ValidFrom() *Date     { return dateOrNil(r.rel.ValidFrom) }
func (r *relationshipResolver) ValidTo() *Date       { return dateOrNil(r.rel.ValidTo) }
func (r *relationshipResolver) Confidence() *float64 { return r.record().Confidence }
func (r *relationshipResolver) ShareMin() *float64   { return r.rel.ShareMin }
func (r *relationshipResolver) ShareMax() *float64   { return r.rel.ShareMax }

// Share is the exact share, or the midpoint of a disclosed range.
func (r *relationshipResolver) Share() *float64 {
	lo, hi, ok := r.rel.ShareBounds()
	if !ok {
		return nil
	}
	mid := (lo + hi) / 2
	if r.rel.Share != nil {
		mid = *r.rel.Share
	}
	return &mid
}

func (r *relationshipResolver) From() *entityResolver { return r.end(r.rel.From) }

func (r *relationshipResolver) To() *entityResolver { return r.end(r.rel.To) }

func (r *relationshipResolver) end(id string) *entityResolver {
	if e, ok := r.ends[id]; ok {
		return e
	}
	e, err := r.root.entityByID(r.ctx, id)
	if err != nil {
		return nil
	}
	return e
}

func (r *relationshipResolver) Sources(ctx context.Context) ([]*sourceResolver, error) {
	return r.root.sources(ctx, r.record().Sources)
}

// record returns the relationship with every field. A thin one (graph.Relationship.Thin,
// built from an adjacency entry when the query selected none of properties, sources and
// confidence: thinEnough) is read by id the first time such a field is asked for anyway;
// should it have been deleted since, the thin fields stand and the others are empty.
func (r *relationshipResolver) record() *graph.Relationship {
	if !r.rel.Thin {
		return r.rel
	}
	r.full.Do(func() {
		r.fullRel = r.rel
		if full, err := r.root.store.Relationship(r.ctx, r.rel.ID); err == nil {
			r.fullRel = full
		}
	})
	return r.fullRel
}

func (r *Resolver) entityByID(ctx context.Context, id string) (*entityResolver, error) {
	e, err := r.loadersFor(ctx).Entity(ctx, id)
	if err != nil {
		return nil, err
	}
	return newEntityResolver(e, r), nil
}

type searchHitResolver struct {
	EntityField *entityResolver
	ScoreField  float64
}

func (r *searchHitResolver) Entity() *entityResolver { return r.EntityField }
func (r *searchHitResolver) Score() float64          { return r.ScoreField }

type pageInfo struct {
	next, prev bool
	start, end *string
}

func (p *pageInfo) HasNextPage() bool     { return p.next }
func (p *pageInfo) HasPreviousPage() bool { return p.prev }
func (p *pageInfo) StartCursor() *string  { return p.start }
func (p *pageInfo) EndCursor() *string    { return p.end }

func newPageInfo(cursors []string, next, prev bool) *pageInfo {
	p := &pageInfo{next: next, prev: prev}
	if len(cursors) > 0 {
		p.start, p.end = &cursors[0], &cursors[len(cursors)-1]
	}
	return p
}

type entityConnection struct {
	page  *graph.Page[*graph.Entity]
	total int
	root  *Resolver
}

func (c *entityConnection) TotalCount() int32 { return int32(c.total) }
func (c *entityConnection) PageInfo() *pageInfo {
	return newPageInfo(c.page.Cursors, c.page.HasNext, c.page.HasPrevious)
}
func (c *entityConnection) Edges() []*entityEdge {
	out := make([]*entityEdge, len(c.page.Items))
	for i, e := range c.page.Items {
		out[i] = &entityEdge{cursor: c.page.Cursors[i], node: newEntityResolver(e, c.root)}
	}
	return out
}

type entityEdge struct {
	cursor string
	node   *entityResolver
}

func (e *entityEdge) Cursor() string        { return e.cursor }
func (e *entityEdge) Node() *entityResolver { return e.node }

type relationshipConnection struct {
	page  *graph.Page[*graph.Relationship]
	total int
	root  *Resolver
	ctx   context.Context
}

func (c *relationshipConnection) TotalCount() int32 { return int32(c.total) }
func (c *relationshipConnection) PageInfo() *pageInfo {
	return newPageInfo(c.page.Cursors, c.page.HasNext, c.page.HasPrevious)
}
func (c *relationshipConnection) Edges() []*relationshipEdge {
	out := make([]*relationshipEdge, len(c.page.Items))
	for i, r := range c.page.Items {
		out[i] = &relationshipEdge{cursor: c.page.Cursors[i], node: newRelationshipResolver(r, c.root, c.ctx, nil)}
	}
	return out
}

type relationshipEdge struct {
	cursor string
	node   *relationshipResolver
}

func (e *relationshipEdge) Cursor() string              { return e.cursor }
func (e *relationshipEdge) Node() *relationshipResolver { return e.node }

type statsResolver struct {
	st *graph.Stats
	at time.Time
}

func (s *statsResolver) Entities() int32           { return int32(s.st.Entities) }
func (s *statsResolver) Relationships() int32      { return int32(s.st.Relationships) }
func (s *statsResolver) StoreBytes() float64       { return float64(s.st.StoreBytes) }
func (s *statsResolver) Version() float64          { return float64(s.st.Version) }
func (s *statsResolver) GeneratedAt() graphql.Time { return graphql.Time{Time: s.at} }
func (s *statsResolver) ByKind() []*kindCount {
	out := make([]*kindCount, 0, len(s.st.ByKind))
	for k, n := range s.st.ByKind {
		out = append(out, &kindCount{k, int32(n)})
	}
	slices.SortFunc(out, func(a, b *kindCount) int { return strings.Compare(a.kind, b.kind) })
	return out
}
func (s *statsResolver) ByType() []*typeCount {
	out := make([]*typeCount, 0, len(s.st.ByType))
	for t, n := range s.st.ByType {
		out = append(out, &typeCount{t, int32(n)})
	}
	slices.SortFunc(out, func(a, b *typeCount) int { return strings.Compare(a.typ, b.typ) })
	return out
}

type kindCount struct {
	kind  string
	count int32
}

func (k *kindCount) Kind() string { return k.kind }
func (k *kindCount) Count() int32 { return k.count }

type typeCount struct {
	typ   string
	count int32
}

func (t *typeCount) Type() string { return t.typ }
func (t *typeCount) Count() int32 { return t.count }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func strOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
