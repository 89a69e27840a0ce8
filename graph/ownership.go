package graph

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Ownership analytics (semantics.md, "Ownership"): owners, holdings, ownership,
// ultimateController and beneficialOwners.
//
// Every function here reads only through a view and works in three steps:
//
//  1. Collect, by breadth-first search over OWNS relationships, the whole upstream of an
//     entity (every entity with an ownership walk to it) or its whole downstream. The
//     look-through share counts every walk, however long, so the collection is never cut
//     at maxDepth; maxDepth only chooses which entities are reported. The collected
//     subgraph keeps every relationship between its entities, so what follows needs no
//     further reads.
//  2. Solve the look-through shares on that subgraph only: one column (owners) or one row
//     (holdings) of A(I − A)⁻¹, component by component of the strongly connected
//     components in dependency order, each cyclic component exactly, once with every share
//     at its minimum, once at its midpoint and once at its maximum.
//  3. Decide control on the lower bounds (an undisclosed share counts 0) as the least fixed
//     point of semantics.md, within the same subgraph.
//
// A view that runs out of its visit budget or deadline while collecting makes the
// function return ELIMIT: a partial upstream would give wrong shares.

// maxOwnershipPaths caps the paths that ownership and ultimateController return: the
// shortest ones, and among paths of the same length those with the largest share first.
const maxOwnershipPaths = 100

// stepsPerUnit is how many in-memory solver steps (an arc of a Gauss–Seidel sweep or of a
// control search, a multiply-add of the elimination) make one work unit: a step costs a
// few nanoseconds, a relationship read (the unit) a few hundred.
const stepsPerUnit = 64

// stepUnits returns the work units of n solver steps, at least 1.
func stepUnits(n int) int { return n/stepsPerUnit + 1 }

// ownDenseMax is the largest cyclic component (in entities) whose look-through shares are
// solved by dense elimination; larger ones are solved by Gauss–Seidel iteration.
const ownDenseMax = 300

// ownTolerance absorbs floating-point rounding where a share is compared with a bound:
// control needs a bloc share over 0.5 + ownTolerance, a threshold keeps a share at or
// above threshold − ownTolerance, and stakes whose integrated shares differ by less than
// about ownTolerance sort as equal.
const ownTolerance = 1e-12

// ownPivotMin is the smallest pivot that dense elimination of I − A accepts on a cyclic
// component. Elimination without pivoting meets only positive pivots exactly when the
// look-through series converges (I − A is then a nonsingular M-matrix); a pivot at or
// below ownPivotMin means the component holds 100 % or more of itself.
const ownPivotMin = 1e-10

// ownMaxSweeps caps the Gauss–Seidel sweeps on a large cyclic component; a component that
// has not converged by then is reported as divergent.
const ownMaxSweeps = 20000

// The three readings of share ranges. ownMid is the plain (reported) value.
const (
	ownLo = iota
	ownMid
	ownHi
	ownBounds
)

// ownsOnly is the type filter of every OWNS expansion.
var ownsOnly = []string{TypeOwns}

// ownArc is one OWNS relationship of a collected ownership subgraph, with its ends as
// indexes into ownGraph.nodes.
type ownArc struct {
	from, to int32 // owner and owned
	rel      RelID
	known    bool
	min, max float64
}

// share returns the arc's share at bound b (0 when undisclosed).
func (a *ownArc) share(b int) float64 {
	switch {
	case !a.known:
		return 0
	case b == ownLo:
		return a.min
	case b == ownHi:
		return a.max
	}
	return (a.min + a.max) / 2
}

// ownGraph is the upstream (down false) or downstream (down true) OWNS subgraph of its
// root, nodes[0].
type ownGraph struct {
	down  bool
	nodes []NodeID
	index map[NodeID]int32
	// depth is the length of the shortest OWNS walk between the root and each node.
	depth []int32
	arcs  []ownArc
	// outArcs[outStart[i]:outStart[i+1]] are the arcs whose owner is i; inArcs likewise
	// those whose owned entity is i.
	outStart, outArcs []int32
	inStart, inArcs   []int32
}

// collectOwnGraph collects the upstream (down false) or downstream (down true) of root
// by breadth-first search. Every collected node is expanded, so every OWNS relationship
// into (upstream) or out of (downstream) a collected node is kept. It returns errBudget
// when the view runs out of budget.
func collectOwnGraph(v view, root NodeID, down bool) (*ownGraph, error) {
	dir := In
	if down {
		dir = Out
	}
	g := &ownGraph{down: down, nodes: []NodeID{root}, index: map[NodeID]int32{root: 0}, depth: []int32{0}}
	for head := 0; head < len(g.nodes); head++ {
		cur, d := int32(head), g.depth[head]
		err := v.arcs(g.nodes[head], dir, ownsOnly, func(a arc) bool {
			j, ok := g.index[a.Other]
			if !ok {
				j = int32(len(g.nodes))
				g.index[a.Other] = j
				g.nodes = append(g.nodes, a.Other)
				g.depth = append(g.depth, d+1)
			}
			e := ownArc{from: j, to: cur, rel: a.Rel, known: a.Known, min: a.Min, max: a.Max}
			if down {
				e.from, e.to = cur, j
			}
			g.arcs = append(g.arcs, e)
			return true
		})
		if err != nil {
			return nil, err
		}
	}
	n := len(g.nodes)
	g.outStart, g.outArcs = ownCSR(n, g.arcs, func(a *ownArc) int32 { return a.from })
	g.inStart, g.inArcs = ownCSR(n, g.arcs, func(a *ownArc) int32 { return a.to })
	return g, nil
}

// ownCSR groups the indexes of arcs by key (a node index below n).
func ownCSR(n int, arcs []ownArc, key func(*ownArc) int32) (start, list []int32) {
	start = make([]int32, n+1)
	for i := range arcs {
		start[key(&arcs[i])+1]++
	}
	for i := 1; i <= n; i++ {
		start[i] += start[i-1]
	}
	list = make([]int32, len(arcs))
	fill := slices.Clone(start[:n])
	for i := range arcs {
		k := key(&arcs[i])
		list[fill[k]] = int32(i)
		fill[k]++
	}
	return start, list
}

func (g *ownGraph) out(i int32) []int32 { return g.outArcs[g.outStart[i]:g.outStart[i+1]] }
func (g *ownGraph) in(i int32) []int32  { return g.inArcs[g.inStart[i]:g.inStart[i+1]] }

// deps returns the arcs whose far end's look-through share node i's depends on: its
// holdings when looking upstream (i's share of the root runs through what it holds), its
// owners when looking downstream.
func (g *ownGraph) deps(i int32) []int32 {
	if g.down {
		return g.in(i)
	}
	return g.out(i)
}

// dep returns the node that arc a makes its dependent node depend on.
func (g *ownGraph) dep(a *ownArc) int32 {
	if g.down {
		return a.from
	}
	return a.to
}

// ownShares holds, for each bound, t[i] = [i is the root] + the look-through share
// between node i and the root: t = (I − A)⁻¹ e_root upstream, its transpose downstream.
type ownShares [ownBounds][]float64

// integrated returns the look-through share between node i and the root at bound b.
func (t *ownShares) integrated(b int, i int32) float64 {
	if i == 0 {
		return t[b][0] - 1
	}
	return t[b][i]
}

// solve computes the look-through shares of every node of g, or of the nodes marked in
// active when it is not nil (active must be closed under deps and hold the root). A
// cyclic component whose series diverges at some bound is an EINVALID *Error naming its
// entities. It returns errBudget when the view's work budget or deadline runs out: every
// step of the elimination and of the iteration is charged (view.charge), so that a large
// cyclic component cannot run past the request's budget.
func (g *ownGraph) solve(v view, active []bool) (*ownShares, error) {
	n := len(g.nodes)
	t := new(ownShares)
	for b := range t {
		t[b] = make([]float64, n)
	}
	order, start := g.components(active)
	var pos []int32 // position of a node in the cyclic component being solved, or -1
	for c := 0; c+1 < len(start); c++ {
		comp := order[start[c]:start[c+1]]
		if len(comp) == 1 && !g.selfDep(comp[0]) {
			i := comp[0]
			if err := v.charge(stepUnits(1 + len(g.deps(i)))); err != nil {
				return nil, err
			}
			for b := range t {
				x := 0.0
				if i == 0 {
					x = 1
				}
				for _, ai := range g.deps(i) {
					a := &g.arcs[ai]
					x += a.share(b) * t[b][g.dep(a)]
				}
				t[b][i] = x
			}
			continue
		}
		if pos == nil {
			pos = make([]int32, n)
			for i := range pos {
				pos[i] = -1
			}
		}
		for k, i := range comp {
			pos[i] = int32(k)
		}
		ok, err := g.solveCycle(v, comp, pos, t)
		for _, i := range comp {
			pos[i] = -1
		}
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, g.cycleError(v, comp)
		}
	}
	return t, nil
}

// selfDep reports whether node i depends on itself directly (an entity holding its own
// shares; the store refuses these, but a view may still hold one).
func (g *ownGraph) selfDep(i int32) bool {
	for _, ai := range g.deps(i) {
		if g.dep(&g.arcs[ai]) == i {
			return true
		}
	}
	return false
}

// components returns the strongly connected components of the dependency graph (over the
// active nodes, all when active is nil) as order[start[c]:start[c+1]], each component
// after every component it depends on (Tarjan's algorithm, without recursion).
func (g *ownGraph) components(active []bool) (order, start []int32) {
	n := len(g.nodes)
	num := make([]int32, n) // discovery number + 1; 0 = not yet discovered
	low := make([]int32, n)
	onStack := make([]bool, n)
	var stack []int32
	type frame struct{ v, k int32 }
	var frames []frame
	next := int32(0)
	start = append(make([]int32, 0, 8), 0)
	order = make([]int32, 0, n)
	discover := func(w int32) {
		next++
		num[w], low[w] = next, next
		stack = append(stack, w)
		onStack[w] = true
		frames = append(frames, frame{v: w})
	}
	for s := int32(0); s < int32(n); s++ {
		if num[s] != 0 || (active != nil && !active[s]) {
			continue
		}
		discover(s)
		for len(frames) > 0 {
			f := &frames[len(frames)-1]
			if deps := g.deps(f.v); int(f.k) < len(deps) {
				w := g.dep(&g.arcs[deps[f.k]])
				f.k++
				switch {
				case active != nil && !active[w]:
				case num[w] == 0:
					discover(w)
				case onStack[w] && num[w] < low[f.v]:
					low[f.v] = num[w]
				}
				continue
			}
			u := f.v
			frames = frames[:len(frames)-1]
			if len(frames) > 0 {
				if p := frames[len(frames)-1].v; low[u] < low[p] {
					low[p] = low[u]
				}
			}
			if low[u] == num[u] {
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					order = append(order, w)
					if w == u {
						break
					}
				}
				start = append(start, int32(len(order)))
			}
		}
	}
	return order, start
}

// solveCycle solves t on the cyclic component comp (pos maps its nodes to 0..len-1),
// every dependency outside comp being solved already. It returns false when the series
// diverges at some bound, and errBudget when v's budget runs out.
func (g *ownGraph) solveCycle(v view, comp, pos []int32, t *ownShares) (bool, error) {
	k := len(comp)
	rhs := make([]float64, k)
	var m []float64
	if k <= ownDenseMax {
		m = make([]float64, k*k)
	}
	for b := range t {
		zero := true
		for r, i := range comp {
			x := 0.0
			if i == 0 {
				x = 1
			}
			for _, ai := range g.deps(i) {
				a := &g.arcs[ai]
				if d := g.dep(a); pos[d] < 0 {
					x += a.share(b) * t[b][d]
				}
			}
			rhs[r] = x
			zero = zero && x == 0
		}
		if zero {
			// No share reaches the component: every walk through it carries 0, whatever
			// its spectral radius.
			for _, i := range comp {
				t[b][i] = 0
			}
			continue
		}
		var ok bool
		var err error
		if m != nil {
			ok, err = g.solveDense(v, comp, pos, b, m, rhs)
		} else {
			ok, err = g.solveIterative(v, comp, pos, b, rhs)
		}
		if err != nil || !ok {
			return false, err
		}
		for r, i := range comp {
			t[b][i] = rhs[r]
		}
	}
	return true, nil
}

// solveDense solves (I − A_comp) x = rhs in place in rhs by Gaussian elimination without
// pivoting, which is stable for this M-matrix and whose pivots are all positive exactly
// when the spectral radius of A_comp is below 1. It returns false otherwise, and
// errBudget when v's budget runs out (each pivot charges the (k−p)² updates it makes).
func (g *ownGraph) solveDense(v view, comp, pos []int32, b int, m, rhs []float64) (bool, error) {
	k := len(comp)
	clear(m)
	for r, i := range comp {
		m[r*k+r] += 1
		for _, ai := range g.deps(i) {
			a := &g.arcs[ai]
			if c := pos[g.dep(a)]; c >= 0 {
				m[r*k+int(c)] -= a.share(b)
			}
		}
	}
	for p := 0; p < k; p++ {
		if err := v.charge(stepUnits((k - p) * (k - p))); err != nil {
			return false, err
		}
		piv := m[p*k+p]
		if !(piv > ownPivotMin) {
			return false, nil
		}
		prow := m[p*k : p*k+k]
		for r := p + 1; r < k; r++ {
			row := m[r*k : r*k+k]
			f := row[p] / piv
			if f == 0 {
				continue
			}
			for c := p + 1; c < k; c++ {
				row[c] -= f * prow[c]
			}
			rhs[r] -= f * rhs[p]
		}
	}
	for p := k - 1; p >= 0; p-- {
		x := rhs[p]
		row := m[p*k : p*k+k]
		for c := p + 1; c < k; c++ {
			x -= row[c] * rhs[c]
		}
		rhs[p] = x / row[p]
	}
	return true, nil
}

// solveIterative solves (I − A_comp) x = rhs in place in rhs by Gauss–Seidel iteration,
// which converges exactly when the spectral radius of A_comp is below 1 (then I − A_comp
// is an M-matrix). It returns false when the row or column sums prove the radius is 1 or
// more, when the iterates blow up, or when they have not settled after ownMaxSweeps;
// errBudget when v's budget runs out (each sweep charges the relationships it reads).
func (g *ownGraph) solveIterative(v view, comp, pos []int32, b int, rhs []float64) (bool, error) {
	k := len(comp)
	sweep := k
	rowSum := make([]float64, k)
	colSum := make([]float64, k)
	diag := make([]float64, k)
	for r, i := range comp {
		for _, ai := range g.deps(i) {
			a := &g.arcs[ai]
			if c := pos[g.dep(a)]; c >= 0 {
				s := a.share(b)
				rowSum[r] += s
				colSum[c] += s
				if int(c) == r {
					diag[r] += s
				}
			}
		}
		sweep += len(g.deps(i))
	}
	// The spectral radius lies between the smallest and the largest row (and column) sum.
	if slices.Min(rowSum) >= 1 || slices.Min(colSum) >= 1 {
		return false, nil
	}
	x := make([]float64, k)
	for range ownMaxSweeps {
		if err := v.charge(stepUnits(sweep)); err != nil {
			return false, err
		}
		change, size := 0.0, 1.0
		for r, i := range comp {
			if diag[r] >= 1 {
				return false, nil
			}
			s := rhs[r]
			for _, ai := range g.deps(i) {
				a := &g.arcs[ai]
				if c := pos[g.dep(a)]; c >= 0 && int(c) != r {
					s += a.share(b) * x[c]
				}
			}
			s /= 1 - diag[r]
			change = max(change, math.Abs(s-x[r]))
			size = max(size, s)
			x[r] = s
		}
		if size > 1e15 || math.IsNaN(size) {
			return false, nil
		}
		if change <= 1e-15*size {
			copy(rhs, x)
			return true, nil
		}
	}
	return false, nil
}

// cycleError is the EINVALID error for a divergent cyclic component.
func (g *ownGraph) cycleError(v view, comp []int32) error {
	ids := make([]string, 0, len(comp))
	for _, i := range comp {
		e, err := v.entity(g.nodes[i])
		if err != nil {
			return err
		}
		ids = append(ids, e.ID)
	}
	slices.Sort(ids)
	const shown = 20
	more := ""
	if len(ids) > shown {
		more = fmt.Sprintf(" and %d more", len(ids)-shown)
		ids = ids[:shown]
	}
	return Errorf(EINVALID, "the OWNS cycle through %s%s holds 100%% or more of itself, so look-through shares do not converge; correct the shares around that cycle",
		strings.Join(ids, ", "), more)
}

// ownScratch is reusable memory for control searches on one ownGraph.
type ownScratch struct {
	epoch   int32
	inBloc  []int32 // == epoch: in the bloc (the controller or an entity it controls)
	seen    []int32 // == epoch: acc is valid
	acc     []float64
	stack   []int32
	members []int32
	// steps counts the relationships the searches examined since charge last took them.
	steps int
}

// charge charges the steps of the searches made since the last call to v (view.charge).
func (s *ownScratch) charge(v view) error {
	n := s.steps
	s.steps = 0
	return v.charge(stepUnits(n))
}

func newOwnScratch(n int) *ownScratch {
	return &ownScratch{inBloc: make([]int32, n), seen: make([]int32, n), acc: make([]float64, n)}
}

// controlled returns the nodes of g that node x controls: the least fixed point of
// semantics.md on lower bounds (undisclosed shares count 0), in the order found. It ends
// early once stop (when ≥ 0) is found. The slice is reused by the next call; s.inBloc
// marks the bloc ({x} and the result) with s.epoch until then.
//
// Within an upstream subgraph the answer is exact for its nodes: whether w is controlled
// depends only on w's owners, which are all collected. Within a downstream subgraph of
// x it is exact too: everything x controls is downstream of x.
func (g *ownGraph) controlled(x int32, s *ownScratch, stop int32) []int32 {
	s.epoch++
	e := s.epoch
	s.members = s.members[:0]
	s.inBloc[x] = e
	s.stack = append(s.stack[:0], x)
	for len(s.stack) > 0 {
		m := s.stack[len(s.stack)-1]
		s.stack = s.stack[:len(s.stack)-1]
		s.steps += len(g.out(m))
		for _, ai := range g.out(m) {
			a := &g.arcs[ai]
			w := a.to
			// An entity's own shares never count towards its control.
			if w == m || s.inBloc[w] == e || !a.known {
				continue
			}
			if s.seen[w] != e {
				s.seen[w], s.acc[w] = e, 0
			}
			s.acc[w] += a.min
			if s.acc[w] > 0.5+ownTolerance {
				s.inBloc[w] = e
				s.members = append(s.members, w)
				if w == stop {
					return s.members
				}
				s.stack = append(s.stack, w)
			}
		}
	}
	return s.members
}

// controls reports whether x controls the root of g.
func (g *ownGraph) controls(x int32, s *ownScratch) bool {
	if x == 0 {
		return false
	}
	g.controlled(x, s, 0)
	return s.inBloc[0] == s.epoch
}

// directShares returns, for every node, its direct share (at midpoints) with the root:
// of the root (upstream) or held by the root (downstream).
func (g *ownGraph) directShares() map[int32]float64 {
	arcs, other := g.in(0), func(a *ownArc) int32 { return a.from }
	if g.down {
		arcs, other = g.out(0), func(a *ownArc) int32 { return a.to }
	}
	d := make(map[int32]float64, len(arcs))
	for _, ai := range arcs {
		a := &g.arcs[ai]
		if o := other(a); o != 0 {
			d[o] += a.share(ownMid)
		}
	}
	return d
}

// stake builds the Stake of node i.
func (g *ownGraph) stake(v view, i int32, t *ownShares, direct map[int32]float64, threshold float64, controls bool) (Stake, error) {
	e, err := v.entity(g.nodes[i])
	if err != nil {
		return Stake{}, err
	}
	lo := t.integrated(ownLo, i)
	return Stake{
		Entity:        e,
		Direct:        direct[i],
		Integrated:    t.integrated(ownMid, i),
		IntegratedMin: lo,
		IntegratedMax: t.integrated(ownHi, i),
		Certain:       lo >= threshold-ownTolerance,
		Depth:         int(g.depth[i]),
		Controls:      controls,
	}, nil
}

// keeps reports whether node i passes threshold: its integrated share may reach it.
func (t *ownShares) keeps(i int32, threshold float64) bool {
	return t.integrated(ownHi, i) >= threshold-ownTolerance
}

// sortOwnStakes orders stakes by integrated share (largest first; shares within rounding
// noise of each other count as equal), then depth, then entity id.
func sortOwnStakes(s []Stake) {
	key := func(x float64) float64 { return math.Round(x / ownTolerance) }
	slices.SortFunc(s, func(a, b Stake) int {
		if c := cmp.Compare(key(b.Integrated), key(a.Integrated)); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Depth, b.Depth); c != 0 {
			return c
		}
		return strings.Compare(a.Entity.ID, b.Entity.ID)
	})
}

// ownersOf returns the owners of the entity `of` (semantics.md owners(y)): every other
// entity with an OWNS walk to it whose shortest length is at most maxDepth, and whose
// integratedMax is at least threshold. Each Stake has the direct and look-through shares
// (the look-through share counts every walk, not only those within maxDepth), its bounds,
// Certain (integratedMin ≥ threshold), the shortest Depth and whether it controls `of`.
// Stakes come largest integrated share first, then by depth, then by id; the slice is
// empty, not nil, when there are none.
//
// Errors: ENOTFOUND for an unknown id; EINVALID for a threshold outside 0..1, a negative
// maxDepth, or ownership cycles upstream of `of` that hold 100 % or more of themselves;
// ELIMIT for a maxDepth above the cap or when the upstream of `of` does not fit in the
// visit budget or the deadline.
func ownersOf(v view, of string, threshold float64, maxDepth int) ([]Stake, error) {
	return ownStakesOf(v, of, threshold, maxDepth, false)
}

// holdingsOf returns what the entity `of` holds (semantics.md holdings(x)): ownersOf
// downstream. Each Stake is an entity that `of` has an OWNS walk to, Controls telling
// whether `of` controls it. Same order, errors and limits as ownersOf, with "downstream"
// for "upstream".
func holdingsOf(v view, of string, threshold float64, maxDepth int) ([]Stake, error) {
	return ownStakesOf(v, of, threshold, maxDepth, true)
}

func ownStakesOf(v view, of string, threshold float64, maxDepth int, down bool) ([]Stake, error) {
	what := "owners"
	if down {
		what = "holdings"
	}
	if err := checkFraction("threshold", threshold); err != nil {
		return nil, err
	}
	if err := checkDepth(v.limits(), "maxDepth", maxDepth); err != nil {
		return nil, err
	}
	root, err := v.lookup(of)
	if err != nil {
		return nil, err
	}
	g, err := collectOwnGraph(v, root, down)
	if err != nil {
		return nil, overBudget(err, what)
	}
	t, err := g.solve(v, nil)
	if err != nil {
		return nil, overBudget(err, what)
	}
	direct := g.directShares()
	s := newOwnScratch(len(g.nodes))
	if down {
		// One search answers Controls for every holding: it leaves what the root controls
		// marked in s.inBloc.
		g.controlled(0, s, -1)
	}
	var kept []int32
	var keptNodes []NodeID
	for i := int32(1); i < int32(len(g.nodes)); i++ {
		if int(g.depth[i]) <= maxDepth && t.keeps(i, threshold) {
			kept = append(kept, i)
			keptNodes = append(keptNodes, g.nodes[i])
		}
	}
	if err := checkResults(what, "raise threshold or lower maxDepth", len(kept), v.limits()); err != nil {
		return nil, err
	}
	v.prefetch(keptNodes)
	stakes := []Stake{}
	for _, i := range kept {
		var controls bool
		if down {
			controls = s.inBloc[i] == s.epoch
		} else {
			controls = g.controls(i, s)
		}
		if err := s.charge(v); err != nil {
			return nil, overBudget(err, what)
		}
		st, err := g.stake(v, i, t, direct, threshold, controls)
		if err != nil {
			return nil, err
		}
		stakes = append(stakes, st)
	}
	sortOwnStakes(stakes)
	return stakes, nil
}

// ownershipOf returns how much of target owner holds (semantics.md ownership(x, y)):
// direct and look-through shares with their bounds, whether owner controls target, and
// the simple OWNS paths from owner to target, shortest first (among equal lengths the
// largest share first, paths with an undisclosed share last, then by the ids along
// them), at most maxOwnershipPaths of them. An owner with no OWNS walk to target gets
// zeros and no paths.
//
// Errors: ENOTFOUND for an unknown id; EINVALID when owner is target, or for an ownership
// cycle between them that holds 100 % or more of itself; ELIMIT when the upstream of
// target, or the search for paths, does not fit in the visit budget or the deadline.
func ownershipOf(v view, owner, target string) (*Ownership, error) {
	if owner == target {
		return nil, Invalid("target", "is the owner %q itself; ask for two different entities", owner)
	}
	o, err := v.lookup(owner)
	if err != nil {
		return nil, err
	}
	root, err := v.lookup(target)
	if err != nil {
		return nil, err
	}
	g, err := collectOwnGraph(v, root, false)
	if err != nil {
		return nil, overBudget(err, "ownership")
	}
	x, ok := g.index[o]
	if !ok {
		return &Ownership{Paths: []Path{}}, nil
	}
	// Only what lies downstream of the owner counts: solving there alone keeps a divergent
	// cycle elsewhere upstream of target from failing this answer.
	active := make([]bool, len(g.nodes))
	active[x] = true
	queue := []int32{x}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		for _, ai := range g.out(u) {
			if w := g.arcs[ai].to; !active[w] {
				active[w] = true
				queue = append(queue, w)
			}
		}
	}
	t, err := g.solve(v, active)
	if err != nil {
		return nil, overBudget(err, "ownership")
	}
	paths, err := g.paths(v, x, nil)
	if err != nil {
		return nil, overBudget(err, "ownership")
	}
	return &Ownership{
		Direct:        g.directShares()[x],
		Integrated:    t.integrated(ownMid, x),
		IntegratedMin: t.integrated(ownLo, x),
		IntegratedMax: t.integrated(ownHi, x),
		Controls:      g.controls(x, newOwnScratch(len(g.nodes))),
		Paths:         paths,
	}, nil
}

// ultimateControllerOf returns the ultimate controller of the entity `of` (semantics.md
// ultimateController(y)), or nil and no error when nobody controls it. The controller
// controls `of` and is controlled by nobody it does not control in turn (in a loop of
// entities that control one another, the one with the largest share of `of`, then the
// smallest id, is named). Share is the controller's direct share of `of` plus the direct
// shares of `of` held by the entities it controls, at midpoints; Paths are the OWNS paths
// from the controller to `of` that run only through entities it controls, ordered and
// capped as in ownershipOf.
//
// Errors: ENOTFOUND for an unknown id; ELIMIT when the upstream of `of`, or the search for
// paths, does not fit in the visit budget or the deadline.
func ultimateControllerOf(v view, of string) (*Control, error) {
	root, err := v.lookup(of)
	if err != nil {
		return nil, err
	}
	g, err := collectOwnGraph(v, root, false)
	if err != nil {
		return nil, overBudget(err, "ultimateController")
	}
	c, _, err := g.ultimateController(v, true)
	if err != nil {
		return nil, overBudget(err, "ultimateController")
	}
	return c, nil
}

// ultimateController finds the ultimate controller of the root of the upstream graph g and
// its node, or nil and -1; Paths are searched only when withPaths is true. It returns
// errBudget when the search for paths runs out of budget.
func (g *ownGraph) ultimateController(v view, withPaths bool) (*Control, int32, error) {
	n := int32(len(g.nodes))
	s := newOwnScratch(int(n))
	// sets[w] lists what w controls; only the upstream of the root matters, and that is
	// all of g.
	sets := make([][]int32, n)
	isCtrl := make([]bool, n)
	someone := false
	for w := int32(0); w < n; w++ {
		m := g.controlled(w, s, -1)
		if err := s.charge(v); err != nil {
			return nil, -1, err
		}
		if len(m) > 0 {
			sets[w] = slices.Clone(m)
			slices.Sort(sets[w])
			if w != 0 {
				_, isCtrl[w] = slices.BinarySearch(sets[w], 0)
				someone = someone || isCtrl[w]
			}
		}
	}
	if !someone {
		return nil, -1, nil
	}
	// A controller is ultimate unless some entity controls it without being controlled by
	// it in turn.
	candidate := slices.Clone(isCtrl)
	for w := int32(0); w < n; w++ {
		for _, x := range sets[w] {
			if x == w || !candidate[x] {
				continue
			}
			if _, back := slices.BinarySearch(sets[x], w); !back {
				candidate[x] = false
			}
		}
	}
	best, bestShare := int32(-1), 0.0
	var bestID string
	for x := int32(1); x < n; x++ {
		if !candidate[x] {
			continue
		}
		share := g.blocShare(x, sets[x])
		e, err := v.entity(g.nodes[x])
		if err != nil {
			return nil, -1, err
		}
		if best < 0 || share > bestShare+ownTolerance || (share >= bestShare-ownTolerance && e.ID < bestID) {
			best, bestShare, bestID = x, share, e.ID
		}
	}
	var paths []Path
	if withPaths {
		inBloc := make([]bool, n)
		for _, m := range sets[best] {
			inBloc[m] = true
		}
		var err error
		if paths, err = g.paths(v, best, inBloc); err != nil {
			return nil, -1, err
		}
	}
	e, err := v.entity(g.nodes[best])
	if err != nil {
		return nil, -1, err
	}
	return &Control{Controller: e, Share: bestShare, Paths: paths}, best, nil
}

// blocShare returns x's direct share of the root plus the direct shares of the root held
// by the entities of ctrl (sorted; what x controls), at midpoints. The root's own shares
// do not count.
func (g *ownGraph) blocShare(x int32, ctrl []int32) float64 {
	share := 0.0
	for _, ai := range g.in(0) {
		a := &g.arcs[ai]
		if a.from == 0 {
			continue
		}
		if _, in := slices.BinarySearch(ctrl, a.from); in || a.from == x {
			share += a.share(ownMid)
		}
	}
	return share
}

// beneficialOwnersOf returns the beneficial owners of the entity `of` (semantics.md
// beneficialOwners(y, t)): its owners that have no owners of their own (on the view's
// date) or are of kind Person, whose integratedMax is at least threshold, together with
// its ultimate controller, if any, whatever its share (once). Stakes are as in ownersOf
// (Depth is not capped) and sorted the same way.
//
// Errors: ENOTFOUND for an unknown id; EINVALID for a threshold outside 0..1 or ownership
// cycles upstream of `of` that hold 100 % or more of themselves; ELIMIT when the upstream
// of `of` does not fit in the visit budget or the deadline.
func beneficialOwnersOf(v view, of string, threshold float64) ([]Stake, error) {
	if err := checkFraction("threshold", threshold); err != nil {
		return nil, err
	}
	root, err := v.lookup(of)
	if err != nil {
		return nil, err
	}
	g, err := collectOwnGraph(v, root, false)
	if err != nil {
		return nil, overBudget(err, "beneficialOwners")
	}
	t, err := g.solve(v, nil)
	if err != nil {
		return nil, overBudget(err, "beneficialOwners")
	}
	_, uc, err := g.ultimateController(v, false)
	if err != nil {
		return nil, overBudget(err, "beneficialOwners")
	}
	direct := g.directShares()
	s := newOwnScratch(len(g.nodes))
	stakes := []Stake{}
	for i := int32(1); i < int32(len(g.nodes)); i++ {
		keep := i == uc
		if !keep && t.keeps(i, threshold) {
			keep = !g.hasOwners(i)
			if !keep {
				e, err := v.entity(g.nodes[i])
				if err != nil {
					return nil, err
				}
				keep = e.Kind == KindPerson
			}
		}
		if !keep {
			continue
		}
		controls := g.controls(i, s)
		if err := s.charge(v); err != nil {
			return nil, overBudget(err, "beneficialOwners")
		}
		st, err := g.stake(v, i, t, direct, threshold, controls)
		if err != nil {
			return nil, err
		}
		stakes = append(stakes, st)
		if err := checkResults("beneficialOwners", "raise threshold", len(stakes), v.limits()); err != nil {
			return nil, err
		}
	}
	sortOwnStakes(stakes)
	return stakes, nil
}

// hasOwners reports whether node i of an upstream graph has an owner other than itself.
func (g *ownGraph) hasOwners(i int32) bool {
	for _, ai := range g.in(i) {
		if g.arcs[ai].from != i {
			return true
		}
	}
	return false
}

// ownPath is a candidate path: arc indexes of g from the source to the root.
type ownPath struct {
	arcs  []int32
	share float64 // product of midpoint shares; -1 when one is undisclosed
}

// paths returns the simple OWNS paths of the upstream graph g from src to the root whose
// intermediate entities are all marked in allow (any when allow is nil): the shortest
// maxOwnershipPaths of them, then among equal lengths the largest share first (undisclosed
// last), then by the entity ids along them, then by relationship.
//
// The search is depth-first under a length bound, raised (by 1, 2, 4, … over the
// shortest possible length) until it finds enough paths or cuts nothing; within a round,
// the bound drops to the length of the longest path still among the shortest
// maxOwnershipPaths found. Every relationship tried is one step; the search returns
// errBudget after the view's MaxVisits steps.
func (g *ownGraph) paths(v view, src int32, allow []bool) ([]Path, error) {
	n := len(g.nodes)
	limit := v.limits().MaxVisits
	steps := 0
	onPath := make([]bool, n)
	count := make([]int, n+1) // paths found by length
	var found []ownPath
	var bound int // keep paths no longer than this
	cut := false  // whether the bound cut a branch
	cur := make([]int32, 0, 8)
	var dfs func(u int32) error
	dfs = func(u int32) error {
		onPath[u] = true
		for _, ai := range g.out(u) {
			if steps++; steps > limit {
				return errBudget
			}
			if err := v.charge(1); err != nil {
				return err
			}
			a := &g.arcs[ai]
			w := a.to
			if onPath[w] {
				continue
			}
			if len(cur)+1+int(g.depth[w]) > bound {
				cut = true
				continue
			}
			cur = append(cur, ai)
			if w == 0 {
				found = append(found, g.newOwnPath(cur))
				count[len(cur)]++
				bound = min(bound, ownPathBound(count))
			} else if allow == nil || allow[w] {
				if err := dfs(w); err != nil {
					return err
				}
			}
			cur = cur[:len(cur)-1]
		}
		onPath[u] = false
		return nil
	}
	for slack := 0; ; slack = 2*slack + 1 {
		found, cut, bound = found[:0], false, int(g.depth[src])+slack
		clear(count)
		if err := dfs(src); err != nil {
			return nil, err
		}
		if len(found) >= maxOwnershipPaths || !cut {
			break
		}
	}
	found = slices.DeleteFunc(found, func(p ownPath) bool { return len(p.arcs) > bound })
	ids := map[int32]string{}
	for _, p := range found {
		for _, ai := range p.arcs {
			w := g.arcs[ai].to
			if _, ok := ids[w]; !ok {
				e, err := v.entity(g.nodes[w])
				if err != nil {
					return nil, err
				}
				ids[w] = e.ID
			}
		}
	}
	slices.SortFunc(found, func(p, q ownPath) int {
		if c := cmp.Compare(len(p.arcs), len(q.arcs)); c != 0 {
			return c
		}
		if c := cmp.Compare(q.share, p.share); c != 0 {
			return c
		}
		for k := range p.arcs {
			if c := strings.Compare(ids[g.arcs[p.arcs[k]].to], ids[g.arcs[q.arcs[k]].to]); c != 0 {
				return c
			}
		}
		for k := range p.arcs {
			if c := cmp.Compare(g.arcs[p.arcs[k]].rel, g.arcs[q.arcs[k]].rel); c != 0 {
				return c
			}
		}
		return 0
	})
	if len(found) > maxOwnershipPaths {
		found = found[:maxOwnershipPaths]
	}
	out := make([]Path, 0, len(found))
	walk := make([]arc, 0, 8)
	for _, p := range found {
		walk = walk[:0]
		for _, ai := range p.arcs {
			a := &g.arcs[ai]
			walk = append(walk, arc{Rel: a.rel, Type: TypeOwns, Other: g.nodes[a.to], Out: true,
				Known: a.known, Min: a.min, Max: a.max})
		}
		path, err := buildPath(v, g.nodes[src], walk)
		if err != nil {
			return nil, err
		}
		out = append(out, path)
	}
	return out, nil
}

// newOwnPath copies the arc sequence of a found path with its share, computed as
// buildPath computes Path.Share so that equal shares compare equal.
func (g *ownGraph) newOwnPath(arcs []int32) ownPath {
	p := ownPath{arcs: slices.Clone(arcs), share: 1}
	for _, ai := range arcs {
		a := &g.arcs[ai]
		if !a.known {
			p.share = -1
			break
		}
		p.share *= (a.min + a.max) / 2
	}
	return p
}

// ownPathBound returns the smallest length L such that at least maxOwnershipPaths paths
// of length ≤ L were found (count[l] paths of length l), or math.MaxInt.
func ownPathBound(count []int) int {
	total := 0
	for l, c := range count {
		if total += c; total >= maxOwnershipPaths {
			return l
		}
	}
	return math.MaxInt
}
