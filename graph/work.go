package graph

import (
	"context"
	"sync/atomic"
	"time"
)

// Work is the work budget of one request, shared by every read the request makes: all
// its fields and aliases draw on it. It counts work units — relationships read (each
// adjacency entry a scan or traversal examines), entity records decoded, steps of the
// in-memory solvers (ownership and supply systems, control searches, path
// enumerations) and search candidates scored — and it has one deadline for all of them.
// A read that finds the budget spent or the deadline passed stops with errBudget, which
// traversals turn into Truncated results or an ELIMIT error, as they do for their own
// visit budget.
//
// A request's reads run one at a time: graphql-go resolves sibling fields on several
// goroutines, and without this a request of twenty aliased traversals would keep every
// core busy until its deadline. With it, one request's store work uses at most one core,
// so its CPU time is bounded by its deadline.
//
// A nil *Work is a budget without limits (one-shot commands, tests).
type Work struct {
	limit    int64
	time     time.Duration
	deadline time.Time
	used     atomic.Int64
	turn     chan struct{} // holds a token while one of the request's reads runs
}

// NewWork returns a budget of units work units (at least 1) whose reads may take d in
// all, counted from now (no time limit when d is zero).
func NewWork(units int64, d time.Duration) *Work {
	w := &Work{limit: max(units, 1), time: d, turn: make(chan struct{}, 1)}
	if d > 0 {
		w.deadline = time.Now().Add(d)
	}
	return w
}

// Used returns the work units spent so far (it may exceed the limit by the last batch
// of units a read counted).
func (w *Work) Used() int64 {
	if w == nil {
		return 0
	}
	return w.used.Load()
}

// Limit returns the budget's size in work units.
func (w *Work) Limit() int64 {
	if w == nil {
		return 0
	}
	return w.limit
}

// Spent reports whether the budget is used up or its deadline has passed.
func (w *Work) Spent() bool {
	return w != nil && (w.used.Load() > w.limit || !w.deadline.IsZero() && time.Now().After(w.deadline))
}

// add counts n units and reports whether the budget still holds.
func (w *Work) add(n int) bool { return w.used.Add(int64(n)) <= w.limit }

// begin waits for the request's turn to read (see Work) and returns the function that
// ends it. It fails with the ELIMIT error of Exhausted when the budget is spent, the
// deadline passes or ctx ends first.
func (w *Work) begin(ctx context.Context) (end func(), err error) {
	if w.Spent() {
		return nil, w.Exhausted()
	}
	select { // the usual case: no other read of the request is running
	case w.turn <- struct{}{}:
		return w.end, nil
	default:
	}
	var timeout <-chan time.Time
	if !w.deadline.IsZero() {
		t := time.NewTimer(time.Until(w.deadline))
		defer t.Stop()
		timeout = t.C
	}
	select {
	case w.turn <- struct{}{}:
		return w.end, nil
	case <-timeout:
		return nil, w.Exhausted()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (w *Work) end() { <-w.turn }

// Exhausted is the ELIMIT error of a request that spent its budget or ran out of time.
func (w *Work) Exhausted() *Error {
	if w.used.Load() > w.limit {
		e := Errorf(ELIMIT, "this request used its whole work budget of %d units (relationships read, entities decoded, solver steps and search candidates, over all its fields); ask for less: fewer aliases, smaller first, limit or depth, or a narrower types or asOf", w.limit)
		e.budget = true
		return e
	}
	e := Errorf(ELIMIT, "the request ran out of time (its reads may take %s in all); ask for less", w.time)
	e.budget = true
	return e
}

type workKey struct{}

// WithWork returns ctx carrying w: every store read made with the returned context (or
// one derived from it) draws on w.
func WithWork(ctx context.Context, w *Work) context.Context {
	return context.WithValue(ctx, workKey{}, w)
}

// WorkFrom returns the budget ctx carries, or nil.
func WorkFrom(ctx context.Context) *Work {
	w, _ := ctx.Value(workKey{}).(*Work)
	return w
}

// workCheckEvery is how many work units a view counts between two looks at the clock,
// the context and the request's budget: often enough to stop within a millisecond or so,
// rarely enough that looking costs nothing measurable.
const workCheckEvery = 256
