package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"

	"github.com/graph-gophers/graphql-go"
	"github.com/lodestone-kg/lodestone/graph"
	"github.com/lodestone-kg/lodestone/loaders"
	"go.uber.org/zap"
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
	first, err := s.store.Changes(subscriptionReadContext(ctx), q)
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
			if page, err = s.store.Changes(subscriptionReadContext(ctx), q); err != nil {
				return
			}
		}
	}()
	return out, nil
}

// subscriptionReadContext gives one read of a lasting stream (a subscription, a
// webhook) a work budget of its own: the server's (--max-cost, --work-time) when ctx
// carries its guard (withStreamGuard: the SSE and graphql-ws transports), the defaults
// otherwise (webhooks).
func subscriptionReadContext(ctx context.Context) context.Context {
	if g, ok := ctx.Value(streamGuardKey{}).(*guard); ok {
		return g.work(ctx)
	}
	l := RequestLimits{}.withDefaults()
	return graph.WithWork(ctx, graph.NewWork(int64(l.MaxCost), DefaultWorkTime))
}

type streamGuardKey struct{}

// withStreamGuard returns ctx carrying g, whose limits the reads of its streams use.
func withStreamGuard(ctx context.Context, g *guard) context.Context {
	return context.WithValue(ctx, streamGuardKey{}, g)
}

// SavedQueryResult watches a saved query: its result now, then its result again after
// the commits that change graph data — at most once per watch interval (Config.
// WatchInterval), the commits of one interval sharing a run — sent only when it differs
// from the last one sent.
func (s *subscriptionResolver) SavedQueryResult(ctx context.Context, args struct {
	Name      string
	Variables *JSON
	Version   *int32
}) (<-chan *savedQueryResultResolver, error) {
	sq, vars, err := savedQueryArgs(ctx, s.store, args.Name, args.Variables, args.Version)
	if err != nil {
		return nil, err
	}
	schema := schemaFrom(ctx)
	first, err := runSavedQueryResult(ctx, s.store, schema, sq, vars) // a variables error is the subscription's, before any event
	if err != nil {
		return nil, err
	}
	out := make(chan *savedQueryResultResolver)
	go func() {
		defer close(out)
		send := func(r *savedQueryResultResolver) error {
			select {
			case out <- r:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if send(first) != nil {
			return
		}
		watchSavedQuery(ctx, s.store, schema, sq, vars, first.seq, first.digest(), watchIntervalFrom(ctx), send)
	}()
	return out, nil
}

// runSavedQueryResult runs sq with vars on the store as it is now, as a result of
// savedQueryResult (changed false). Errors: those of runSaved (a variable missing or
// ill-typed), before anything runs.
func runSavedQueryResult(ctx context.Context, store *graph.Store, schema *graphql.Schema, sq *graph.SavedQuery, vars map[string]any) (*savedQueryResultResolver, error) {
	seq := store.Seq()
	rctx, cancel := context.WithTimeout(subscriptionReadContext(ctx), Config{}.withDefaults().RequestTimeout)
	defer cancel()
	resp, err := runSaved(loaders.NewContext(rctx, loaders.New(store)), schema, sq, vars)
	if err != nil {
		return nil, err
	}
	out := &savedQueryResultResolver{seq: seq}
	if len(resp.Data) > 0 && string(resp.Data) != "null" {
		out.data = &JSON{raw: resp.Data}
	}
	if len(resp.Errors) > 0 {
		publicErrors(ctx, zap.NewNop(), resp.Errors)
		raw, _ := json.Marshal(resp.Errors)
		out.errors = &JSON{raw: raw}
	}
	return out, nil
}

// watchSavedQuery follows the log after seen and runs sq again after the commits that
// change graph data — at most once per interval, the commits of one interval sharing a
// run — calling emit (with changed true) with each result whose digest differs from the
// last one's (digest, at first). It returns when ctx ends, when the store fails, or with
// emit's error; emit may block (a webhook retrying its delivery).
func watchSavedQuery(ctx context.Context, store *graph.Store, schema *graphql.Schema, sq *graph.SavedQuery, vars map[string]any,
	seen uint64, digest string, interval time.Duration, emit func(*savedQueryResultResolver) error) error {
	lastRun := time.Now()
	for {
		if _, err := store.WaitCommit(ctx, seen); err != nil {
			return err
		}
		// Only a commit that changed graph data (an entity, a relationship, a source)
		// can change a saved query's result; one that changed only saved queries, keys
		// or webhooks cannot.
		touched, err := store.Changes(subscriptionReadContext(ctx), graph.ChangesQuery{After: seen, First: 1,
			Filter: graph.ChangeFilter{Kinds: []graph.ItemKind{graph.KindEntityItem, graph.KindRelationshipItem, graph.KindSourceItem}}})
		if err != nil {
			return err
		}
		if len(touched.Commits) == 0 {
			seen = max(seen, touched.Through)
			continue
		}
		// At most one run per interval: the commits that come meanwhile share it.
		select {
		case <-time.After(time.Until(lastRun.Add(interval))):
		case <-ctx.Done():
			return ctx.Err()
		}
		lastRun = time.Now()
		r, err := runSavedQueryResult(ctx, store, schema, sq, vars)
		if err != nil {
			return err
		}
		seen = r.seq
		if d := r.digest(); d != digest {
			// r is sent and not modified after (graphql-go may still be reading it).
			r.changed, digest = true, d
			if err := emit(r); err != nil {
				return err
			}
		}
	}
}

// DefaultWatchInterval is how often, at most, a watched saved query is run again
// (Config.WatchInterval, --watch-interval).
const DefaultWatchInterval = time.Second

type watchIntervalKey struct{}

// withWatchInterval returns ctx carrying the interval of watched saved queries.
func withWatchInterval(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, watchIntervalKey{}, d)
}

func watchIntervalFrom(ctx context.Context) time.Duration {
	if d, ok := ctx.Value(watchIntervalKey{}).(time.Duration); ok && d > 0 {
		return d
	}
	return DefaultWatchInterval
}

type savedQueryResultResolver struct {
	seq          uint64
	data, errors *JSON
	changed      bool
}

func (r *savedQueryResultResolver) Seq() string   { return strconv.FormatUint(r.seq, 10) }
func (r *savedQueryResultResolver) Data() *JSON   { return r.data }
func (r *savedQueryResultResolver) Errors() *JSON { return r.errors }
func (r *savedQueryResultResolver) Changed() bool { return r.changed }

// digest is the SHA-256 (hex) of r's data and errors: equal for results that are the
// same byte for byte (the executor writes fields in the document's order, so equal
// results are equal bytes). A webhook keeps it, not the result, to compare new ones to.
func (r *savedQueryResultResolver) digest() string {
	h := sha256.New()
	for _, j := range []*JSON{r.data, r.errors} {
		if j != nil {
			h.Write(j.raw)
		}
		h.Write([]byte{0}) // data "x" and no errors differ from no data and errors "x"
	}
	return hex.EncodeToString(h.Sum(nil))
}
