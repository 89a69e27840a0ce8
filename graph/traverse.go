package graph

import (
	"errors"
	"math"
	"slices"
)

// Generic traversals of api.md: subgraph, shortestPath and paths.
//
// Each reads only through a view, so that the caller runs it on one consistent snapshot
// with one visit budget and deadline. Relationships read are counted by the view; work
// done in memory on what was already read (enumerating paths) is counted by a travBudget,
// which allows as many steps again as Limits.MaxVisits and charges each to the view.

// travBudget counts the in-memory steps of one traversal against Limits.MaxVisits, and
// charges each to the view (view.charge: the request's work budget and the deadline); the
// view counts relationship reads on its own.
type travBudget struct {
	left int
	v    view
}

func newTravBudget(v view) *travBudget {
	return &travBudget{left: v.limits().MaxVisits, v: v}
}

// spend counts one step against the traversal's own cap and the view's work budget
// (view.charge), which also watches the deadline and the request's context. It returns
// errBudget once either is used up.
func (b *travBudget) spend() error {
	b.left--
	if b.left < 0 {
		return errBudget
	}
	return b.v.charge(1)
}

// travFlip returns a, which was seen from one end of its relationship with other at the
// far end, as seen from that far end: its Other becomes other and Out flips.
func travFlip(a arc, other NodeID) arc {
	a.Other = other
	a.Out = !a.Out
	return a
}

// subgraphOf returns the neighbourhood of the entities ids: every entity within depth
// relationships of one of them, following relationships of the given types (any type
// when types is empty) in direction dir, breadth first, at most limit entities. The ids
// themselves always come first and always belong to the result, even beyond limit.
// Relationships are those the traversal followed whose two ends are both in the result,
// each once; a relationship between two entities at exactly depth is not followed.
// Entities come in the order they were reached.
//
// Truncated is set, and the partial result returned without error, when limit kept an
// entity out or when the view ran out of its visit budget or deadline.
//
// Errors: EINVALID for no ids, a negative depth or a limit below 1; ELIMIT for more ids
// than Limits.MaxSubgraph, depth above Limits.MaxDepth or limit above Limits.MaxSubgraph;
// ENOTFOUND for an unknown id.
func subgraphOf(v view, ids []string, depth int, types []string, dir Direction, limit int, thin bool) (*Subgraph, error) {
	l := v.limits()
	if len(ids) == 0 {
		return nil, Invalid("ids", "must name at least one entity")
	}
	if len(ids) > l.MaxSubgraph {
		return nil, &Error{Code: ELIMIT, Field: "ids", Message: errorf("%d ids is above this server's cap of %d", len(ids), l.MaxSubgraph)}
	}
	if err := checkDepth(l, "depth", depth); err != nil {
		return nil, err
	}
	if err := checkCount("limit", limit, l.MaxSubgraph); err != nil {
		return nil, err
	}
	if thin {
		v.wantRelIDs()
	}
	c := newTravCollector()
	for _, id := range ids {
		n, err := v.lookup(id)
		if err != nil {
			return nil, err
		}
		c.addNode(n)
	}
	frontier := slices.Clone(c.nodes)
	err := c.bfs(v, frontier, depth, limit, func(n NodeID, fn func(arc) bool) error {
		return v.arcs(n, dir, types, fn)
	})
	if err != nil {
		return nil, err
	}
	return c.subgraph(v, thin)
}

// travCollector gathers the entities and relationships of a Subgraph, each once, in the
// order they are added.
type travCollector struct {
	nodes     []NodeID
	has       map[NodeID]struct{}
	rels      []collectedRel
	hasRel    map[RelID]struct{}
	truncated bool
}

func newTravCollector() *travCollector {
	return &travCollector{has: map[NodeID]struct{}{}, hasRel: map[RelID]struct{}{}}
}

// addNode adds n and reports whether it was new.
func (c *travCollector) addNode(n NodeID) bool {
	if _, ok := c.has[n]; ok {
		return false
	}
	c.has[n] = struct{}{}
	c.nodes = append(c.nodes, n)
	return true
}

// collectedRel is a collected relationship: the arc that reached it from entity at.
type collectedRel struct {
	a  arc
	at NodeID
}

// addRel adds the relationship of a, reached from entity at, unless it is collected.
func (c *travCollector) addRel(at NodeID, a arc) {
	if _, ok := c.hasRel[a.Rel]; !ok {
		c.hasRel[a.Rel] = struct{}{}
		c.rels = append(c.rels, collectedRel{a: a, at: at})
	}
}

// bfs expands frontier breadth first for depth levels with expand, which calls its
// function for each arc to follow from a node. An arc to an entity not yet collected adds
// it unless limit entities are already collected, which truncates the result and ends
// the search there (so that a hub with many relationships is not read to its end); an
// arc whose far end is collected adds its relationship. errBudget from expand also
// truncates the result; other errors are returned.
func (c *travCollector) bfs(v view, frontier []NodeID, depth, limit int, expand func(NodeID, func(arc) bool) error) error {
	for d := 0; d < depth && len(frontier) > 0; d++ {
		var next []NodeID
		for _, n := range frontier {
			err := expand(n, func(a arc) bool {
				if _, ok := c.has[a.Other]; !ok {
					if len(c.nodes) >= limit {
						c.truncated = true
						return false
					}
					c.addNode(a.Other)
					next = append(next, a.Other)
				}
				c.addRel(n, a)
				return true
			})
			if errors.Is(err, errBudget) {
				c.truncated = true
				return nil
			}
			if err != nil {
				return err
			}
			if c.truncated {
				return nil
			}
		}
		frontier = next
	}
	return nil
}

// subgraph materializes what c collected. With thin, a relationship whose adjacency
// payload names it is built from that payload (thinRelationship) instead of its record.
func (c *travCollector) subgraph(v view, thin bool) (*Subgraph, error) {
	g := &Subgraph{
		Entities:      make([]*Entity, 0, len(c.nodes)),
		Relationships: make([]*Relationship, 0, len(c.rels)),
		Truncated:     c.truncated,
	}
	var byNode map[NodeID]*Entity
	if thin {
		byNode = make(map[NodeID]*Entity, len(c.nodes))
	}
	v.prefetch(c.nodes)
	for _, n := range c.nodes {
		e, err := v.entity(n)
		if err != nil {
			return nil, err
		}
		g.Entities = append(g.Entities, e)
		if thin {
			byNode[n] = e
		}
	}
	for _, r := range c.rels {
		var rel *Relationship
		if thin {
			from, to := r.at, r.a.Other
			if !r.a.Out {
				from, to = to, from
			}
			if f, t := byNode[from], byNode[to]; f != nil && t != nil {
				rel = thinRelationship(r.a, f.ID, t.ID)
			}
		}
		if rel == nil {
			var err error
			if rel, err = v.relationship(r.a.Rel); err != nil {
				return nil, err
			}
		}
		g.Relationships = append(g.Relationships, rel)
	}
	return g, nil
}

// shortestPathOf returns a shortest path from `from` to `to` of at most maxDepth
// relationships of the given types (any type when types is empty), or nil when there is
// none. With dir Out the path follows relationships from their From to their To starting
// at `from`; with In against them; with Both either way. A path from an entity to itself
// has length 0.
//
// The search is a bidirectional breadth-first search that expands, a level at a time,
// the side whose next level should read fewer relationships (the one around `to` on a
// tie); the first entity reached from both sides lies on a shortest path. What a level
// will cost is estimated from the side's frontier and the relationships per entity of its
// previous level; a level that turns out to need more than twice the other side's
// estimate and more than minLevelProbe relationships is undone and the other side goes
// on instead, so that an entity with 100,000 relationships is only expanded when the
// search cannot get around it. The work undone is bounded by the work kept, as each undone
// attempt at least doubles what the side is known to cost.
//
// Errors: EINVALID for a negative maxDepth; ELIMIT for maxDepth above Limits.MaxDepth or
// when the search runs out of the visit budget or the deadline; ENOTFOUND for an unknown
// id.
func shortestPathOf(v view, from, to string, types []string, dir Direction, maxDepth int) (*Path, error) {
	return shortestPathProbing(v, from, to, types, dir, maxDepth, minLevelProbe)
}

// shortestPathProbing is shortestPathOf with probe in place of minLevelProbe (tests make
// levels be undone more often than real graphs do).
func shortestPathProbing(v view, from, to string, types []string, dir Direction, maxDepth, probe int) (*Path, error) {
	if err := checkDepth(v.limits(), "maxDepth", maxDepth); err != nil {
		return nil, err
	}
	s, err := v.lookup(from)
	if err != nil {
		return nil, err
	}
	t, err := v.lookup(to)
	if err != nil {
		return nil, err
	}
	if s == t {
		p, err := buildPath(v, s, nil)
		return &p, err
	}
	fwd := newTravSide(s, dir)
	bwd := newTravSide(t, dir.Reverse())
	for fwd.radius+bwd.radius < maxDepth && len(fwd.frontier) > 0 && len(bwd.frontier) > 0 {
		side, other := fwd, bwd
		if bwd.cost() <= fwd.cost() {
			side, other = bwd, fwd
		}
		meet, ok, err := side.expand(v, types, other, max(2*other.cost(), probe))
		if err != nil {
			return nil, overBudget(err, "shortestPath")
		}
		if !ok {
			continue
		}
		// fwd's steps lead from meet back to s; bwd's from meet on to t.
		var walk []arc
		for n := meet; n != s; {
			st := fwd.step(n)
			walk = append(walk, arc{Rel: st.rel, Other: n, Out: st.out})
			n = st.from
		}
		slices.Reverse(walk)
		for n := meet; n != t; {
			st := bwd.step(n)
			walk = append(walk, arc{Rel: st.rel, Other: st.from, Out: !st.out})
			n = st.from
		}
		if err := fillArcs(v, walk); err != nil {
			return nil, err
		}
		p, err := buildPath(v, s, walk)
		if err != nil {
			return nil, err
		}
		return &p, nil
	}
	return nil, nil
}

// travStep records how a breadth-first search reached an entity: from `from` over
// relationship rel, whose From `from` is when out. A search keeps one per entity reached,
// so it keeps no more (fillArcs completes the few on the path found).
type travStep struct {
	from NodeID
	rel  RelID
	out  bool
}

// fillArcs completes arcs that hold only Rel, Other and Out with the type and share of
// their relationships' records.
func fillArcs(v view, arcs []arc) error {
	for i := range arcs {
		r, err := v.relationship(arcs[i].Rel)
		if err != nil {
			return err
		}
		arcs[i].Type = r.Type
		arcs[i].Min, arcs[i].Max, arcs[i].Known = r.ShareBounds()
	}
	return nil
}

// travSide is one side of a bidirectional breadth-first search.
type travSide struct {
	dir Direction
	// reached maps every entity reached, its start included, to the index of its step in
	// steps (-1 for the start). It holds 4-byte values, not steps, because a search that
	// fans out reaches hundreds of thousands of entities.
	reached  nodeIndex
	steps    []travStep
	frontier []NodeID // the entities at distance radius
	radius   int
	// perEntity is the relationships read per entity expanded in the last level of more
	// than one entity, leaving out its entity with the most (so that one hub does not
	// make every entity it reached look like a hub); 1 before such a level. atLeast,
	// when not 0, is what expanding the frontier is known to need more than (an attempt
	// was undone at that many).
	perEntity float64
	atLeast   int
}

// minLevelProbe is the fewest relationships a level may read before it is undone for
// costing more than the other side's (shortestPathOf): below it, undoing saves little,
// and levels of a few thousand relationships are common and often estimated at half
// what they read. On 1,000 random pairs of the 1 M-company graph without a hub, 4,096
// undid 8 levels and read 1 % more relationships than never undoing; 1,024 undid 506
// and read 27 % more. With the hub of 100,000, 4,096 read 1,967 relationships per pair
// and 1,024 1,338, where never undoing read 19,054.
const minLevelProbe = 4096

func newTravSide(start NodeID, dir Direction) *travSide {
	s := &travSide{dir: dir, frontier: []NodeID{start}, perEntity: 1}
	s.reached.put(start, -1)
	return s
}

// cost estimates the relationships that expanding the frontier will read.
func (s *travSide) cost() int {
	return max(int(float64(len(s.frontier))*s.perEntity), s.atLeast, len(s.frontier))
}

// step returns how s reached n, which it has reached and is not its start.
func (s *travSide) step(n NodeID) travStep {
	i, _ := s.reached.get(n)
	return s.steps[i]
}

// expand advances s by one level. It stops at, and returns, the first entity that other
// has reached too. When the level would read more than limit relationships without
// meeting other, it undoes what it did (s is as before, but for atLeast) and returns no
// entity.
func (s *travSide) expand(v view, types []string, other *travSide, limit int) (meet NodeID, ok bool, err error) {
	var next []NodeID
	read, most, over := 0, 0, false
	for _, n := range s.frontier {
		before := read
		err := v.arcs(n, s.dir, types, func(a arc) bool {
			if read++; read > limit {
				over = true
				return false
			}
			if _, seen := s.reached.get(a.Other); seen {
				return true
			}
			s.reached.put(a.Other, int32(len(s.steps)))
			s.steps = append(s.steps, travStep{from: n, rel: a.Rel, out: a.Out})
			next = append(next, a.Other)
			if _, met := other.reached.get(a.Other); met {
				meet, ok = a.Other, true
				return false
			}
			return true
		})
		if err != nil || ok {
			return meet, ok, err
		}
		if over {
			for _, m := range next {
				s.reached.remove(m)
			}
			s.steps = s.steps[:len(s.steps)-len(next)]
			s.atLeast = limit
			return 0, false, nil
		}
		most = max(most, read-before)
	}
	if len(s.frontier) > 1 {
		s.perEntity = float64(read-most) / float64(len(s.frontier)-1)
	}
	s.atLeast = 0
	s.frontier = next
	s.radius++
	return 0, false, nil
}

// pathsOf returns the simple paths (no entity twice) from `from` to `to` of at most
// maxDepth relationships of the given types (any type when types is empty) in direction
// dir, shortest first, at most first of them; paths of one length come in an order fixed
// by the snapshot (that of the search). Parallel relationships make distinct paths. A path from an
// entity to itself is the single path of length 0. The slice is empty, not nil, when
// there is none.
//
// Errors: EINVALID for a negative maxDepth or first below 1; ELIMIT for maxDepth above
// Limits.MaxDepth, first above Limits.MaxFirst, or when the search runs out of the visit
// budget or the deadline; ENOTFOUND for an unknown id.
func pathsOf(v view, from, to string, types []string, dir Direction, maxDepth, first int) ([]Path, error) {
	l := v.limits()
	if err := checkDepth(l, "maxDepth", maxDepth); err != nil {
		return nil, err
	}
	if err := checkCount("first", first, l.MaxFirst); err != nil {
		return nil, err
	}
	s, err := v.lookup(from)
	if err != nil {
		return nil, err
	}
	t, err := v.lookup(to)
	if err != nil {
		return nil, err
	}
	ps := newTravPathSearch(v, types, dir, []NodeID{s}, []NodeID{t})
	found, err := ps.run(maxDepth, first)
	if err != nil {
		return nil, overBudget(err, "paths")
	}
	out := make([]Path, 0, len(found))
	for _, f := range found {
		p, err := buildPath(v, f.start, f.arcs)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// travPathSearch enumerates simple paths from any of srcs to any of dsts, shortest
// first. A path starts at a source, ends at the first destination it reaches and passes
// only through intermediate entities: neither sources nor destinations, and accepted by
// pass when it is set. It follows the arcs of types in dir that keep accepts (all when
// keep is nil).
//
// The search first grows a breadth-first ball around the sources (forward) and one
// around the destinations (backward), always the one with the smaller frontier (the
// backward one on a tie) by a level, until their
// radii add up to the path length wanted or one is exhausted. Everything a path of that
// length can use has then been read: an entity at position k of such a path that the
// forward ball did not expand lies at least forward-radius away from the sources, so its
// next entity lies within backward-radius − 1 of the destinations, and that entity was
// expanded backward, which recorded the arc. Backward distances bound a depth-first
// enumeration of the paths of each length in turn, so that it only walks entities that
// can still reach a destination in time.
type travPathSearch struct {
	v      view
	types  []string
	dir    Direction
	keep   func(arc) bool
	pass   func(NodeID) (bool, error)
	srcs   []NodeID
	isSrc  map[NodeID]bool
	isDst  map[NodeID]bool
	passed map[NodeID]bool // pass, memoised
	fwd    travBall
	bwd    travBall
	budget *travBudget
}

// travBall is one side of a travPathSearch. adj holds, for the forward ball, the arcs out
// of every entity it expanded; for the backward ball, the arcs (seen from their tail)
// into every entity it expanded, by tail.
type travBall struct {
	dist     map[NodeID]int
	adj      map[NodeID][]arc
	frontier []NodeID // entities at distance radius that may be expanded
	radius   int
}

// travFound is a path found by a travPathSearch: the arcs followed from start.
type travFound struct {
	start NodeID
	arcs  []arc
}

func newTravPathSearch(v view, types []string, dir Direction, srcs, dsts []NodeID) *travPathSearch {
	s := &travPathSearch{v: v, types: types, dir: dir, srcs: srcs,
		isSrc: map[NodeID]bool{}, isDst: map[NodeID]bool{}, passed: map[NodeID]bool{},
		fwd:    travBall{dist: map[NodeID]int{}, adj: map[NodeID][]arc{}},
		bwd:    travBall{dist: map[NodeID]int{}, adj: map[NodeID][]arc{}},
		budget: newTravBudget(v)}
	for _, n := range srcs {
		s.isSrc[n] = true
		s.fwd.dist[n] = 0
	}
	for _, n := range dsts {
		s.isDst[n] = true
		s.bwd.dist[n] = 0
		s.bwd.frontier = append(s.bwd.frontier, n)
	}
	for _, n := range srcs {
		// A path from a source that is also a destination ends where it starts.
		if !s.isDst[n] {
			s.fwd.frontier = append(s.fwd.frontier, n)
		}
	}
	return s
}

// intermediate reports whether a path may pass through n.
func (s *travPathSearch) intermediate(n NodeID) (bool, error) {
	if s.isSrc[n] || s.isDst[n] {
		return false, nil
	}
	if s.pass == nil {
		return true, nil
	}
	ok, seen := s.passed[n]
	if !seen {
		var err error
		if ok, err = s.pass(n); err != nil {
			return false, err
		}
		s.passed[n] = ok
	}
	return ok, nil
}

// grow expands the forward ball (fwd true) or the backward ball by one level.
func (s *travPathSearch) grow(fwd bool) error {
	b, dir := &s.bwd, s.dir.Reverse()
	if fwd {
		b, dir = &s.fwd, s.dir
	}
	var next []NodeID
	var failed error
	for _, n := range b.frontier {
		if fwd {
			b.adj[n] = b.adj[n][:0:0] // expanded, even with no arcs
		}
		err := s.v.arcs(n, dir, s.types, func(a arc) bool {
			if s.keep != nil && !s.keep(a) {
				return true
			}
			m := a.Other
			// A path leaves only sources and intermediates, and enters only
			// intermediates and destinations.
			end := s.isDst[m]
			if !fwd {
				end = s.isSrc[m]
			}
			mid, err := s.intermediate(m)
			if err != nil {
				failed = err
				return false
			}
			if !end && !mid {
				return true
			}
			if fwd {
				b.adj[n] = append(b.adj[n], a)
			} else {
				b.adj[m] = append(b.adj[m], travFlip(a, n))
			}
			if _, ok := b.dist[m]; !ok {
				b.dist[m] = b.radius + 1
				if mid {
					next = append(next, m)
				}
			}
			return true
		})
		if failed != nil {
			return failed
		}
		if err != nil {
			return err
		}
	}
	b.frontier = next
	b.radius++
	return nil
}

// lowerBound returns a lower bound on the length of a path from n to a destination.
func (s *travPathSearch) lowerBound(n NodeID) int {
	if d, ok := s.bwd.dist[n]; ok {
		return d
	}
	if len(s.bwd.frontier) == 0 {
		return math.MaxInt / 2
	}
	return s.bwd.radius + 1
}

// arcsFrom returns the arcs a path may follow out of n (see travPathSearch).
func (s *travPathSearch) arcsFrom(n NodeID) []arc {
	if a, ok := s.fwd.adj[n]; ok {
		return a
	}
	return s.bwd.adj[n]
}

// run returns the paths of at most maxDepth arcs, shortest first, at most first of them.
// It returns errBudget when the view or the enumeration runs out of budget.
func (s *travPathSearch) run(maxDepth, first int) ([]travFound, error) {
	var found []travFound
	walk := make([]arc, 0, maxDepth)
	onPath := make([]NodeID, 0, maxDepth+1)
	var length int
	var dfs func(n NodeID) error
	dfs = func(n NodeID) error {
		if s.isDst[n] {
			if len(walk) == length {
				found = append(found, travFound{start: onPath[0], arcs: slices.Clone(walk)})
			}
			return nil
		}
		for _, a := range s.arcsFrom(n) {
			if err := s.budget.spend(); err != nil {
				return err
			}
			m := a.Other
			if slices.Contains(onPath, m) || len(walk)+1+s.lowerBound(m) > length {
				continue
			}
			walk = append(walk, a)
			onPath = append(onPath, m)
			err := dfs(m)
			walk, onPath = walk[:len(walk)-1], onPath[:len(onPath)-1]
			if err != nil {
				return err
			}
			if len(found) >= first {
				return nil
			}
		}
		return nil
	}
	for length = 0; length <= maxDepth && len(found) < first; length++ {
		for s.fwd.radius+s.bwd.radius < length && len(s.fwd.frontier) > 0 && len(s.bwd.frontier) > 0 {
			if err := s.grow(len(s.fwd.frontier) < len(s.bwd.frontier)); err != nil {
				return nil, err
			}
		}
		best := math.MaxInt / 2
		for _, src := range s.srcs {
			best = min(best, s.lowerBound(src))
		}
		if best >= math.MaxInt/2 {
			break // no source can reach a destination
		}
		for _, src := range s.srcs {
			if len(found) >= first {
				break
			}
			if s.lowerBound(src) > length {
				continue
			}
			onPath = append(onPath[:0], src)
			if err := dfs(src); err != nil {
				return nil, err
			}
		}
	}
	return found, nil
}
