package server

import (
	"context"
	"strconv"

	"github.com/graph-gophers/graphql-go"
	"github.com/lodestone-kg/lodestone/graph"
)

// Resolvers of the change log (graph/changes.go; api.md, "Changes and subscriptions").

// SeqHeader is the response header of /graphql that carries the sequence of the last
// commit the answer could see.
const SeqHeader = "Lodestone-Seq"

// parseSeq parses a sequence given as the argument field: a decimal unsigned 64-bit
// number.
func parseSeq(field, s string) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, graph.Invalid(field, "%q is not a sequence: give the decimal seq of a commit, e.g. \"42\"", s)
	}
	return n, nil
}

// Changes pages the change log (graph.Store.Changes).
func (q *queryResolver) Changes(ctx context.Context, args struct {
	After *string
	First int32
	IDs   *[]graphql.ID
	Types *[]string
	Kinds *[]string
}) (*commitConnection, error) {
	var cq graph.ChangesQuery
	cq.First = int(args.First)
	if args.After != nil {
		after, err := parseSeq("after", *args.After)
		if err != nil {
			return nil, err
		}
		cq.After = after
	}
	if args.IDs != nil {
		cq.Filter.IDs = ids(*args.IDs)
	}
	if args.Types != nil {
		cq.Filter.Types = *args.Types
	}
	if args.Kinds != nil {
		for _, k := range *args.Kinds {
			cq.Filter.Kinds = append(cq.Filter.Kinds, graph.ItemKind(k))
		}
	}
	page, err := q.store.Changes(ctx, cq)
	if err != nil {
		return nil, err
	}
	c := &commitConnection{page: page}
	for i := range page.Commits {
		c.edges = append(c.edges, &commitEdge{commit: &commitResolver{c: &page.Commits[i], root: q.Resolver}})
	}
	return c, nil
}

type commitConnection struct {
	page  *graph.ChangesPage
	edges []*commitEdge
}

func (c *commitConnection) Edges() []*commitEdge { return c.edges }

func (c *commitConnection) PageInfo() *pageInfo {
	cursors := make([]string, len(c.edges))
	for i, e := range c.edges {
		cursors[i] = e.Cursor()
	}
	return newPageInfo(cursors, c.page.HasNext, false)
}

type commitEdge struct{ commit *commitResolver }

func (e *commitEdge) Cursor() string        { return e.commit.Seq() }
func (e *commitEdge) Node() *commitResolver { return e.commit }

type commitResolver struct {
	c    *graph.Commit
	root *Resolver
}

func (r *commitResolver) Seq() string      { return strconv.FormatUint(r.c.Seq, 10) }
func (r *commitResolver) At() graphql.Time { return graphql.Time{Time: r.c.At} }
func (r *commitResolver) Actor() *string   { return strOrNil(r.c.Actor) }
func (r *commitResolver) Bulk() bool       { return r.c.Bulk }
func (r *commitResolver) Changes() []*changeResolver {
	out := make([]*changeResolver, len(r.c.Changes))
	for i := range r.c.Changes {
		out[i] = &changeResolver{ch: &r.c.Changes[i], root: r.root}
	}
	return out
}

type changeResolver struct {
	ch   *graph.Change
	root *Resolver
}

func (r *changeResolver) Op() string   { return string(r.ch.Op) }
func (r *changeResolver) Kind() string { return string(r.ch.Kind) }
func (r *changeResolver) ID() graphql.ID {
	return graphql.ID(r.ch.ID)
}
func (r *changeResolver) Entity() *entityResolver {
	if r.ch.Entity == nil {
		return nil
	}
	return newEntityResolver(r.ch.Entity, r.root)
}

// Relationship is the relationship's state as the commit wrote it; its from and to
// resolve to the entities as they are now (null when since deleted, which GraphQL reports).
func (r *changeResolver) Relationship(ctx context.Context) *relationshipResolver {
	if r.ch.Relationship == nil {
		return nil
	}
	return newRelationshipResolver(r.ch.Relationship, r.root, ctx, nil)
}

// Type, From and To identify a relationship change's relationship, upserted or deleted:
// read them rather than relationship.from and .to, which resolve to the entities as they
// are now (an end deleted since then is null).
func (r *changeResolver) Type() *string {
	if rel := r.ch.Relationship; rel != nil {
		return &rel.Type
	}
	return strOrNil(r.ch.Type)
}

func (r *changeResolver) From() *graphql.ID {
	if rel := r.ch.Relationship; rel != nil {
		return idOrNil(rel.From)
	}
	return idOrNil(r.ch.From)
}

func (r *changeResolver) To() *graphql.ID {
	if rel := r.ch.Relationship; rel != nil {
		return idOrNil(rel.To)
	}
	return idOrNil(r.ch.To)
}

func idOrNil(s string) *graphql.ID {
	if s == "" {
		return nil
	}
	id := graphql.ID(s)
	return &id
}
