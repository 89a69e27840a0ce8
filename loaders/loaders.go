// Package loaders batches and de-duplicates the store reads of one GraphQL request.
//
// Resolvers of nested selections (the `from` and `to` of 200 relationships, their
// sources) ask for entities one at a time; a Loaders reads each distinct id once per
// request. Two ways in:
//
//   - Prefetch reads a known set of ids at once, in one store transaction, with no wait:
//     list resolvers call it for the ends of the relationships they return, so that the
//     nested `from`/`to` resolvers hit the cache.
//   - Entity and Sources read whatever is not cached, batching the loads that are
//     issued together, in one transaction per batch.
//
// The batch window matters: graph-gophers/dataloader waits 16 ms by default, which made
// a 3-hop query 90× slower on an embedded store (engineering notes §1.8). Lodestone does
// not wait at all (see Wait) and prefetches wherever the ids are known up front, so that
// a nested query never gets slower because of the loader.
package loaders

import (
	"context"
	"sync"
	"time"

	"github.com/graph-gophers/dataloader/v7"
	"github.com/lodestone-kg/lodestone/graph"
)

// Store is the part of graph.Store the loaders read.
type Store interface {
	// Entities returns out[i] = the entity ids[i], nil when it does not exist.
	Entities(ctx context.Context, ids []string) ([]*graph.Entity, error)
	// Sources returns the sources among ids that exist.
	Sources(ctx context.Context, ids []string) ([]*graph.Source, error)
}

// Wait is how long a loader collects keys before it reads them: no time at all. A batch
// then holds the loads issued before the loader's goroutine runs. Any window costs more
// than it saves here: an idle Go process wakes sub-millisecond timers only after about a
// millisecond, so a 250 µs window made a one-entity GraphQL request take 1.75 ms instead
// of 0.20 ms (BenchmarkHTTPEntityRead). Batching comes from Prefetch instead.
const Wait time.Duration = 0

// BatchCapacity is the most keys one batch reads.
const BatchCapacity = 256

// Loaders holds the per-request loaders. Create one per request: the cache never evicts.
type Loaders struct {
	store    Store
	entities *dataloader.Loader[string, *graph.Entity]
	sources  *dataloader.Loader[string, *graph.Source]

	mu    sync.Mutex
	known map[string]*graph.Entity // entities given by Prime or read by Prefetch
}

// New returns empty loaders reading from store.
func New(store Store) *Loaders {
	l := &Loaders{store: store}
	l.entities = dataloader.NewBatchedLoader(l.batchEntities,
		dataloader.WithWait[string, *graph.Entity](Wait),
		dataloader.WithBatchCapacity[string, *graph.Entity](BatchCapacity))
	l.sources = dataloader.NewBatchedLoader(l.batchSources,
		dataloader.WithWait[string, *graph.Source](Wait),
		dataloader.WithBatchCapacity[string, *graph.Source](BatchCapacity))
	return l
}

func (l *Loaders) batchEntities(ctx context.Context, ids []string) []*dataloader.Result[*graph.Entity] {
	ents, err := l.store.Entities(ctx, ids)
	out := make([]*dataloader.Result[*graph.Entity], len(ids))
	for i, id := range ids {
		switch {
		case err != nil:
			out[i] = &dataloader.Result[*graph.Entity]{Error: err}
		case ents[i] == nil:
			out[i] = &dataloader.Result[*graph.Entity]{Error: graph.Errorf(graph.ENOTFOUND, "no entity with id %q", id)}
		default:
			out[i] = &dataloader.Result[*graph.Entity]{Data: ents[i]}
		}
	}
	return out
}

func (l *Loaders) batchSources(ctx context.Context, ids []string) []*dataloader.Result[*graph.Source] {
	srcs, err := l.store.Sources(ctx, ids)
	byID := make(map[string]*graph.Source, len(srcs))
	for _, s := range srcs {
		byID[s.ID] = s
	}
	out := make([]*dataloader.Result[*graph.Source], len(ids))
	for i, id := range ids {
		switch {
		case err != nil:
			out[i] = &dataloader.Result[*graph.Source]{Error: err}
		case byID[id] == nil:
			out[i] = &dataloader.Result[*graph.Source]{Error: graph.Errorf(graph.ENOTFOUND, "no source with id %q", id)}
		default:
			out[i] = &dataloader.Result[*graph.Source]{Data: byID[id]}
		}
	}
	return out
}

// Entity returns the entity id (ENOTFOUND when it does not exist), reading it at most
// once per request.
func (l *Loaders) Entity(ctx context.Context, id string) (*graph.Entity, error) {
	l.mu.Lock()
	e, ok := l.known[id]
	l.mu.Unlock()
	if ok {
		return e, nil
	}
	return l.entities.Load(ctx, id)()
}

// Sources returns the sources with the given ids, skipping ids that do not exist.
func (l *Loaders) Sources(ctx context.Context, ids []string) ([]*graph.Source, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	srcs, errs := l.sources.LoadMany(ctx, ids)()
	out := make([]*graph.Source, 0, len(srcs))
	for i, s := range srcs {
		if errs != nil && errs[i] != nil {
			if graph.ErrorCode(errs[i]) == graph.ENOTFOUND {
				continue
			}
			return nil, errs[i]
		}
		out = append(out, s)
	}
	return out, nil
}

// Prime makes entities already read (e.g. by a traversal) the answer to later loads of
// their ids in this request. It is a map insert per entity: a subgraph primes hundreds.
func (l *Loaders) Prime(_ context.Context, ents ...*graph.Entity) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range ents {
		if e != nil {
			l.remember(e)
		}
	}
}

// Prefetch reads the ids that are not cached yet in one store transaction, without
// waiting, and caches them. Ids that do not exist are not cached: Entity reports ENOTFOUND.
func (l *Loaders) Prefetch(ctx context.Context, ids []string) error {
	seen := make(map[string]bool, len(ids))
	var missing []string
	for _, id := range ids {
		if !seen[id] && !l.cached(ctx, id) {
			missing = append(missing, id)
		}
		seen[id] = true
	}
	if len(missing) == 0 {
		return nil
	}
	ents, err := l.store.Entities(ctx, missing)
	if err != nil {
		return err
	}
	l.Prime(ctx, ents...)
	return nil
}

// cached reports whether id has been primed in this request.
func (l *Loaders) cached(_ context.Context, id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.known[id]
	return ok
}

// remember records e as known; l.mu is held.
func (l *Loaders) remember(e *graph.Entity) {
	if l.known == nil {
		l.known = map[string]*graph.Entity{}
	}
	l.known[e.ID] = e
}

type ctxKey struct{}

// NewContext returns ctx carrying l.
func NewContext(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// FromContext returns the loaders of ctx; nil when there are none.
func FromContext(ctx context.Context) *Loaders {
	l, _ := ctx.Value(ctxKey{}).(*Loaders)
	return l
}
