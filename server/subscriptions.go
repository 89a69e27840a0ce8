package server

import (
	"context"
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

// SavedQueryResult watches a saved query: its result now, then its result again after
// the commits that change graph data — at most once per watch interval (Config.
// WatchInterval), the commits of one interval sharing a run — sent only when it differs
// from the last one sent.
func (s *subscriptionResolver) SavedQueryResult(ctx context.Context, args struct {
	Name      string
	Variables *JSON
	Version   *int32
}) (<-chan *savedQueryResultResolver, error) {
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
	sq, err := s.store.SavedQuery(ctx, args.Name, version)
	if err != nil {
		return nil, err
	}
	schema := schemaFrom(ctx)
	run := func() (*savedQueryResultResolver, error) {
		seq := s.store.Seq()
		rctx, cancel := context.WithTimeout(s.readContext(ctx), Config{}.withDefaults().RequestTimeout)
		defer cancel()
		resp, err := runSaved(loaders.NewContext(rctx, loaders.New(s.store)), schema, sq, vars)
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
	first, err := run() // a variables error is the subscription's, before any event
	if err != nil {
		return nil, err
	}
	out := make(chan *savedQueryResultResolver)
	go func() {
		defer close(out)
		// last is the result sent last (graphql-go may still be reading it: never
		// modified); seen is the sequence the results are known through.
		last, next, seen := first, first, first.seq
		interval := watchIntervalFrom(ctx)
		lastRun := time.Now()
		for {
			if next != nil {
				select {
				case out <- next:
				case <-ctx.Done():
					return
				}
			}
			if _, err := s.store.WaitCommit(ctx, seen); err != nil {
				return
			}
			// Only a commit that changed graph data (an entity, a relationship, a source)
			// can change a saved query's result; one that changed only saved queries or
			// keys cannot.
			touched, err := s.store.Changes(s.readContext(ctx), graph.ChangesQuery{After: seen, First: 1,
				Filter: graph.ChangeFilter{Kinds: []graph.ItemKind{graph.KindEntityItem, graph.KindRelationshipItem, graph.KindSourceItem}}})
			if err != nil {
				return
			}
			if len(touched.Commits) == 0 {
				seen = max(seen, touched.Through)
				next = nil
				continue
			}
			// At most one run per interval: the commits that come meanwhile share it.
			select {
			case <-time.After(time.Until(lastRun.Add(interval))):
			case <-ctx.Done():
				return
			}
			lastRun = time.Now()
			r, err := run()
			if err != nil {
				return
			}
			seen, next = r.seq, nil
			if !r.sameAs(last) {
				r.changed = true
				last, next = r, r
			}
		}
	}()
	return out, nil
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

// sameAs reports whether r and o hold the same data and errors, byte for byte (the
// executor writes fields in the document's order, so equal results are equal bytes).
func (r *savedQueryResultResolver) sameAs(o *savedQueryResultResolver) bool {
	raw := func(j *JSON) string {
		if j == nil {
			return ""
		}
		return string(j.raw)
	}
	return raw(r.data) == raw(o.data) && raw(r.errors) == raw(o.errors)
}
