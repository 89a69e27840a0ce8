package server

import (
	"context"

	"github.com/graph-gophers/graphql-go"
	"github.com/lodestone-kg/lodestone/graph"
)

// Subscription resolvers (schema.graphql's Subscription). Transports are in
// transport_sse.go and transport_ws.go.

// Subscription is the root of the subscription fields.
func (r *Resolver) Subscription() *subscriptionResolver { return &subscriptionResolver{r} }

type subscriptionResolver struct{ *Resolver }

// subscriptionPage is how many commits a subscription reads at a time while it catches up.
const subscriptionPage = 100

// Changes replays the commits after args.After (from the store's current sequence when
// absent), then follows the log live. Each read has a work budget of its own (the
// request's is for one answer, and a subscription lasts). The channel closes when ctx
// ends; an error while following (the log pruned past the subscriber, a store closed)
// ends the stream.
func (s *subscriptionResolver) Changes(ctx context.Context, args struct {
	After *string
	IDs   *[]graphql.ID
	Types *[]string
	Kinds *[]string
}) (<-chan *commitResolver, error) {
	q := graph.ChangesQuery{First: subscriptionPage, After: s.store.Seq()}
	if args.After != nil {
		after, err := parseSeq("after", *args.After)
		if err != nil {
			return nil, err
		}
		q.After = after
	}
	if args.IDs != nil {
		q.Filter.IDs = ids(*args.IDs)
	}
	if args.Types != nil {
		q.Filter.Types = *args.Types
	}
	if args.Kinds != nil {
		for _, k := range *args.Kinds {
			q.Filter.Kinds = append(q.Filter.Kinds, graph.ItemKind(k))
		}
	}
	// Refuse a pruned sequence now, as an error of the subscription, not of its stream.
	first, err := s.store.Changes(s.readContext(ctx), q)
	if err != nil {
		return nil, err
	}
	out := make(chan *commitResolver)
	go func() {
		defer close(out)
		page := first
		for {
			for i := range page.Commits {
				select {
				case out <- &commitResolver{c: &page.Commits[i], root: s.Resolver}:
				case <-ctx.Done():
					return
				}
			}
			q.After = page.Through
			if !page.HasNext {
				if _, err := s.store.WaitCommit(ctx, q.After); err != nil {
					return
				}
			}
			var err error
			if page, err = s.store.Changes(s.readContext(ctx), q); err != nil {
				return
			}
		}
	}()
	return out, nil
}

// readContext gives one read of a subscription its own work budget.
func (s *subscriptionResolver) readContext(ctx context.Context) context.Context {
	l := RequestLimits{}.withDefaults()
	return graph.WithWork(ctx, graph.NewWork(int64(l.MaxCost), DefaultWorkTime))
}
