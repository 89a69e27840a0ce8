package graph

import (
	"cmp"
	"errors"
	"slices"
	"strings"
)

// Supply analytics (semantics.md, "Supply"): supplyChain, supplyPaths and exposure.
//
// SUPPLIES relationships point with the flow of material. Upstream means against the
// flow (suppliers, then their suppliers), downstream with it (customers). A company that
// OPERATES facilities stands, where it is the start (or an end) of a query, for itself
// together with those facilities; a company met further along is only itself.

var (
	supSupplies = []string{TypeSupplies}
	supOperates = []string{TypeOperates}
)

// supDirection returns the direction of the arcs that lead upstream or downstream.
func supDirection(upstream bool) Direction {
	if upstream {
		return In
	}
	return Out
}

// supFacilities returns the OPERATES arcs out of n (seen from n): one for each entity
// that n operates, other than n itself, in the view's order.
func supFacilities(v view, n NodeID) ([]arc, error) {
	var out []arc
	seen := map[NodeID]struct{}{n: {}}
	err := v.arcs(n, Out, supOperates, func(a arc) bool {
		if _, ok := seen[a.Other]; !ok {
			seen[a.Other] = struct{}{}
			out = append(out, a)
		}
		return true
	})
	return out, err
}

// supCheckCountry refuses a country that is not two upper-case ASCII letters.
func supCheckCountry(field, cc string) error {
	if len(cc) != 2 || cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z' {
		return Invalid(field, "must be an upper-case ISO 3166-1 alpha-2 country code such as \"CN\", got %q", cc)
	}
	return nil
}

// supMaterial returns the arc filter for a material argument: case-insensitive equality
// with properties.material, nil (everything) when material is empty.
func supMaterial(material string) func(arc) bool {
	if material == "" {
		return nil
	}
	return func(a arc) bool { return strings.EqualFold(a.Material, material) }
}

// supplyChainOf returns the supply chain of `of`: the entities reached from it over
// SUPPLIES relationships upstream (against the flow: its suppliers, their suppliers…) or
// downstream (with it), within maxDepth relationships, breadth first. When material is
// not empty only relationships whose properties.material equals it, ignoring case, are
// followed. When `of` OPERATES facilities the traversal starts from `of` and from each
// of them at depth 0, and the result holds them and those OPERATES relationships.
// Relationships are the OPERATES ones and every SUPPLIES followed whose two ends are in
// the result, each once; `of` comes first, then its facilities, then entities in the
// order they were reached.
//
// At most Limits.MaxSubgraph entities are returned (the start entities always are);
// Truncated is set, and the partial result returned without error, when that cap kept an
// entity out or when the view ran out of its visit budget or deadline.
//
// Errors: EINVALID for a negative maxDepth; ELIMIT for maxDepth above Limits.MaxDepth;
// ENOTFOUND for an unknown id.
func supplyChainOf(v view, of string, upstream bool, material string, maxDepth int, thin bool) (*Subgraph, error) {
	l := v.limits()
	if err := checkDepth(l, "maxDepth", maxDepth); err != nil {
		return nil, err
	}
	root, err := v.lookup(of)
	if err != nil {
		return nil, err
	}
	if thin {
		v.wantRelIDs()
	}
	c := newTravCollector()
	c.addNode(root)
	ops, err := supFacilities(v, root)
	switch {
	case errors.Is(err, errBudget):
		c.truncated = true
		return c.subgraph(v, thin)
	case err != nil:
		return nil, err
	}
	for _, a := range ops {
		c.addNode(a.Other)
		c.addRel(root, a)
	}
	dir, keep := supDirection(upstream), supMaterial(material)
	err = c.bfs(v, slices.Clone(c.nodes), maxDepth, l.MaxSubgraph, func(n NodeID, fn func(arc) bool) error {
		return v.arcs(n, dir, supSupplies, func(a arc) bool {
			if keep != nil && !keep(a) {
				return true
			}
			return fn(a)
		})
	})
	if err != nil {
		return nil, err
	}
	return c.subgraph(v, thin)
}

// supplyPathsOf returns the simple supply paths with the flow from `from` to `to`:
// chains of SUPPLIES relationships, each carrying material when it is not empty
// (case-insensitive), of at most maxDepth SUPPLIES relationships, fewest first, at most
// first of them; paths of one length come in an order fixed by the snapshot.
// An end that OPERATES facilities stands for itself and them: a path may leave from any
// facility of `from` and arrive at any facility of `to`, and then starts with the
// OPERATES relationship from `from` (and ends with the one from `to`, followed against
// its direction), which maxDepth does not count. A path never passes through `from`,
// `to` or one of their facilities on the way; no entity on it other than `from` and `to`
// themselves (their facilities included) lies in one of avoidCountries. The slice is
// empty, not nil, when there is none.
//
// Errors: EINVALID for a negative maxDepth, first below 1 or an avoidCountries entry that
// is not an upper-case ISO 3166-1 alpha-2 code; ELIMIT for maxDepth above
// Limits.MaxDepth, first above Limits.MaxFirst, or when the search runs out of the visit
// budget or the deadline; ENOTFOUND for an unknown id.
func supplyPathsOf(v view, from, to, material string, avoidCountries []string, maxDepth, first int) ([]Path, error) {
	l := v.limits()
	if err := checkDepth(l, "maxDepth", maxDepth); err != nil {
		return nil, err
	}
	if err := checkCount("first", first, l.MaxFirst); err != nil {
		return nil, err
	}
	for _, cc := range avoidCountries {
		if err := supCheckCountry("avoidCountries", cc); err != nil {
			return nil, err
		}
	}
	s, err := v.lookup(from)
	if err != nil {
		return nil, err
	}
	t, err := v.lookup(to)
	if err != nil {
		return nil, err
	}
	fromOps, err := supFacilities(v, s)
	if err != nil {
		return nil, overBudget(err, "supplyPaths")
	}
	toOps, err := supFacilities(v, t)
	if err != nil {
		return nil, overBudget(err, "supplyPaths")
	}
	avoided := func(n NodeID) (bool, error) {
		if len(avoidCountries) == 0 {
			return false, nil
		}
		e, err := v.entity(n)
		if err != nil {
			return false, err
		}
		return slices.Contains(avoidCountries, e.Country), nil
	}
	ends := func(n NodeID, ops []arc) ([]NodeID, map[NodeID]arc, error) {
		list, op := []NodeID{n}, map[NodeID]arc{}
		for _, a := range ops {
			bad, err := avoided(a.Other)
			if err != nil {
				return nil, nil, err
			}
			if !bad {
				list = append(list, a.Other)
				op[a.Other] = a
			}
		}
		return list, op, nil
	}
	srcs, fromOp, err := ends(s, fromOps)
	if err != nil {
		return nil, err
	}
	dsts, toOp, err := ends(t, toOps)
	if err != nil {
		return nil, err
	}
	if slices.Contains(dsts, s) {
		// `from` is `to` or one of its facilities: any longer path would pass through
		// `from` again.
		srcs = srcs[:1]
	}
	ps := newTravPathSearch(v, supSupplies, Out, srcs, dsts)
	ps.keep = supMaterial(material)
	if len(avoidCountries) > 0 {
		ps.pass = func(n NodeID) (bool, error) {
			bad, err := avoided(n)
			return !bad, err
		}
	}
	found, err := ps.run(maxDepth, first)
	if err != nil {
		return nil, overBudget(err, "supplyPaths")
	}
	out := make([]Path, 0, len(found))
	var walk []arc
	for _, f := range found {
		walk = walk[:0]
		if f.start != s {
			walk = append(walk, fromOp[f.start])
		}
		walk = append(walk, f.arcs...)
		end := f.start
		if len(f.arcs) > 0 {
			end = f.arcs[len(f.arcs)-1].Other
		}
		if end != t {
			walk = append(walk, travFlip(toOp[end], t))
		}
		p, err := buildPath(v, s, walk)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// exposureOf returns exposure(of, country, UPSTREAM) of semantics.md when upstream is
// true, exposure(of, country, DOWNSTREAM) otherwise: Share is dep(of), the
// volume-weighted fraction of the supply of `of` (or of its output) that flows through
// country. `of` stands for itself and the facilities it OPERATES, weighed together as one
// node whose partners are those of all of them; none of them counts as being in country.
// A supply cycle is cut where it comes back to an entity already on the current path.
// Entities are the entities in country that carry a positive part of Share, the largest
// part first (then by id); Paths[i] is a path with the fewest SUPPLIES relationships from
// `of` to Entities[i] (upstream against the flow, downstream with it), starting with the
// OPERATES relationship to a facility when it leaves from one. Both slices are empty, not
// nil, when Share is 0.
//
// The computation pushes the unit of supply of `of` to its partners in proportion to
// their weights, strongly connected component by component in topological order, and
// absorbs it at entities in country. Outside supply cycles what reaches an entity does
// not depend on the path it came by, so each acyclic entity is pushed once; inside a
// cyclic component the push runs over (entity, entities of the component on the path)
// states, which merges paths that differ only in the order of the same entities.
//
// Errors: EINVALID for a country that is not an upper-case ISO 3166-1 alpha-2 code;
// ENOTFOUND for an unknown id; ELIMIT when the supply network or the paths through its
// cycles do not fit in the visit budget or the deadline.
func exposureOf(v view, of, country string, upstream bool) (*Exposure, error) {
	if err := supCheckCountry("country", country); err != nil {
		return nil, err
	}
	root, err := v.lookup(of)
	if err != nil {
		return nil, err
	}
	ops, err := supFacilities(v, root)
	if err != nil {
		return nil, overBudget(err, "exposure")
	}
	g, err := collectSupNet(v, root, ops, supDirection(upstream), country)
	if err != nil {
		return nil, overBudget(err, "exposure")
	}
	mass, err := g.push(newTravBudget(v))
	if err != nil {
		return nil, overBudget(err, "exposure")
	}
	x := &Exposure{Entities: []*Entity{}, Paths: []Path{}}
	var hit []int32
	for i, ok := range g.absorb {
		if ok && mass[i] > 0 {
			x.Share += mass[i]
			hit = append(hit, int32(i))
		}
	}
	x.Share = min(x.Share, 1) // rounding may add up to a hair over 1
	if err := checkResults("exposure", "name a material or an asOf date", len(hit), v.limits()); err != nil {
		return nil, err
	}
	slices.SortFunc(hit, func(i, j int32) int {
		if c := cmp.Compare(mass[j], mass[i]); c != 0 {
			return c
		}
		return strings.Compare(g.ents[i].ID, g.ents[j].ID)
	})
	parent := g.shortest()
	var walk []arc
	for _, i := range hit {
		walk = walk[:0]
		for j := i; j != 0; {
			e := &g.edges[parent[j]]
			walk = append(walk, e.a)
			j = e.from
			if j == 0 && e.via > 0 {
				walk = append(walk, ops[e.via-1])
			}
		}
		slices.Reverse(walk)
		p, err := buildPath(v, root, walk)
		if err != nil {
			return nil, err
		}
		x.Entities = append(x.Entities, g.ents[i])
		x.Paths = append(x.Paths, p)
	}
	return x, nil
}

// supNet is the supply network of one exposure: node 0 is the root (`of` with the
// facilities it operates); every other node is an entity reached from it upstream or
// downstream without passing through an entity in the exposure's country. The edges of
// node i, edges[start[i]:start[i+1]], lead to its partners (suppliers upstream,
// customers downstream), one per partner, with the partner's share of i's weight.
type supNet struct {
	nodes  []NodeID
	index  map[NodeID]int32
	ents   []*Entity // nil for the root
	absorb []bool    // in the country, other than the root: reached, not expanded
	start  []int32
	edges  []supEdge
}

// supEdge leads from node `from` to its partner `to`, which weighs p of from's weight. a
// is one relationship between the two, seen from the entity expanded: `of` or, when via
// is k > 0, the k-th facility of the root, for the root's edges.
type supEdge struct {
	from, to int32
	via      int32
	p        float64
	a        arc
}

// collectSupNet reads the supply network of root (with its facilities ops) in direction
// dir, breadth first, reading every entity reached to tell whether it lies in country.
// It returns errBudget when the view runs out of budget.
func collectSupNet(v view, root NodeID, ops []arc, dir Direction, country string) (*supNet, error) {
	g := &supNet{nodes: []NodeID{root}, index: map[NodeID]int32{root: 0}, ents: []*Entity{nil}, absorb: []bool{false}}
	members := []NodeID{root}
	for _, a := range ops {
		g.index[a.Other] = 0
		members = append(members, a.Other)
	}
	type partner struct {
		to  int32
		via int32
		w   float64
		a   arc
	}
	var buf []partner
	at := map[int32]int{} // partner node → position in buf
	for i := int32(0); int(i) < len(g.nodes); i++ {
		g.start = append(g.start, int32(len(g.edges)))
		ms := members
		if i > 0 {
			e, err := v.entity(g.nodes[i])
			if err != nil {
				return nil, err
			}
			g.ents[i] = e
			if e.Country == country {
				g.absorb[i] = true
				continue
			}
			ms = g.nodes[i : i+1]
		}
		buf = buf[:0]
		clear(at)
		missing := false
		for k, m := range ms {
			err := v.arcs(m, dir, supSupplies, func(a arc) bool {
				j, ok := g.index[a.Other]
				if !ok {
					j = int32(len(g.nodes))
					g.index[a.Other] = j
					g.nodes = append(g.nodes, a.Other)
					g.ents = append(g.ents, nil)
					g.absorb = append(g.absorb, false)
				}
				if !a.HasVolume {
					missing = true
				}
				if p, ok := at[j]; ok {
					buf[p].w += a.Volume
				} else {
					at[j] = len(buf)
					buf = append(buf, partner{to: j, via: int32(k), w: a.Volume, a: a})
				}
				return true
			})
			if err != nil {
				return nil, err
			}
		}
		var total float64
		for _, p := range buf {
			total += p.w
		}
		// Without a volume on every relationship, or with all volumes 0, each partner
		// weighs 1.
		uniform := missing || total <= 0
		for _, p := range buf {
			share := p.w / total
			if uniform {
				share = 1 / float64(len(buf))
			}
			g.edges = append(g.edges, supEdge{from: i, to: p.to, via: p.via, p: share, a: p.a})
		}
	}
	g.start = append(g.start, int32(len(g.edges)))
	return g, nil
}

func (g *supNet) out(i int32) []supEdge { return g.edges[g.start[i]:g.start[i+1]] }

// components numbers the strongly connected components of g (Tarjan's algorithm,
// iterative) in the order they complete: every edge leads to a component numbered no
// higher than its own, so decreasing numbers are a topological order from the root.
func (g *supNet) components() (comp []int32, count int32) {
	n := len(g.nodes)
	order := make([]int32, n) // 0: not visited yet; else visit number
	low := make([]int32, n)
	onStack := make([]bool, n)
	comp = make([]int32, n)
	var stack []int32
	type frame struct{ u, e int32 }
	var calls []frame
	visit := int32(0)
	enter := func(u int32) {
		visit++
		order[u], low[u] = visit, visit
		stack = append(stack, u)
		onStack[u] = true
		calls = append(calls, frame{u, g.start[u]})
	}
	for r := range int32(n) {
		if order[r] != 0 {
			continue
		}
		enter(r)
		for len(calls) > 0 {
			f := &calls[len(calls)-1]
			u := f.u
			if f.e < g.start[u+1] {
				w := g.edges[f.e].to
				f.e++
				if order[w] == 0 {
					enter(w)
				} else if onStack[w] {
					low[u] = min(low[u], order[w])
				}
				continue
			}
			calls = calls[:len(calls)-1]
			if len(calls) > 0 {
				p := calls[len(calls)-1].u
				low[p] = min(low[p], low[u])
			}
			if low[u] == order[u] {
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp[w] = count
					if w == u {
						break
					}
				}
				count++
			}
		}
	}
	return comp, count
}

// push spreads a unit of mass from the root over g and returns what reached each node:
// for a node in the country, the part of dep(root) that it carries. Each edge carried
// counts one step of b; it returns errBudget when b runs out.
func (g *supNet) push(b *travBudget) ([]float64, error) {
	n := int32(len(g.nodes))
	comp, count := g.components()
	// members[first[c]:first[c+1]] are the nodes of component c.
	first := make([]int32, count+1)
	for _, c := range comp {
		first[c+1]++
	}
	for c := range count {
		first[c+1] += first[c]
	}
	members := make([]int32, n)
	fill := slices.Clone(first[:count])
	for u, c := range comp {
		members[fill[c]] = int32(u)
		fill[c]++
	}
	mass := make([]float64, n)
	mass[0] = 1
	for c := count - 1; c >= 0; c-- {
		ms := members[first[c]:first[c+1]]
		if len(ms) > 1 {
			if err := g.pushCycle(ms, comp, mass, b); err != nil {
				return nil, err
			}
			continue
		}
		u := ms[0]
		if mass[u] == 0 {
			continue
		}
		for _, e := range g.out(u) {
			if err := b.spend(); err != nil {
				return nil, err
			}
			if e.to != u { // a self-supply returns to the path: cut
				mass[e.to] += mass[u] * e.p
			}
		}
	}
	return mass, nil
}

// pushCycle carries the mass that reached the nodes ms of one cyclic component on to the
// nodes outside it. Within the component the mass moves as states (node, set of the
// component's nodes on the path); an edge back into the set is cut.
func (g *supNet) pushCycle(ms []int32, comp []int32, mass []float64, b *travBudget) error {
	c := comp[ms[0]]
	local := make(map[int32]int, len(ms))
	for k, u := range ms {
		local[u] = k
	}
	setLen := (len(ms) + 7) / 8
	// A state's key is its set (setLen bytes) followed by its node (4 bytes).
	type state struct {
		u   int32
		key string
		m   float64
	}
	var cur, next []state
	index := map[string]int{}
	key := make([]byte, setLen+4)
	encode := func(set string, k int, u int32) {
		copy(key, set)
		key[k/8] |= 1 << (k % 8)
		key[setLen], key[setLen+1], key[setLen+2], key[setLen+3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
	}
	empty := string(make([]byte, setLen))
	for k, u := range ms {
		if mass[u] > 0 {
			encode(empty, k, u)
			cur = append(cur, state{u: u, key: string(key), m: mass[u]})
		}
	}
	for len(cur) > 0 {
		next = next[:0]
		clear(index)
		for _, st := range cur {
			for _, e := range g.out(st.u) {
				if err := b.spend(); err != nil {
					return err
				}
				m := st.m * e.p
				if m == 0 {
					continue
				}
				if comp[e.to] != c {
					mass[e.to] += m
					continue
				}
				k := local[e.to]
				if st.key[k/8]&(1<<(k%8)) != 0 {
					continue // back to a node on the path: cut
				}
				encode(st.key[:setLen], k, e.to)
				if at, ok := index[string(key)]; ok {
					next[at].m += m
				} else {
					index[string(key)] = len(next)
					next = append(next, state{u: e.to, key: string(key), m: m})
				}
			}
		}
		cur, next = next, cur
	}
	return nil
}

// shortest returns, for every node reached from the root over edges of positive weight
// by a breadth-first search, the index in g.edges of the edge it was first reached by.
func (g *supNet) shortest() []int32 {
	parent := make([]int32, len(g.nodes))
	for i := range parent {
		parent[i] = -1
	}
	queue := []int32{0}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		for k, e := range g.out(u) {
			if e.p > 0 && e.to != 0 && parent[e.to] < 0 {
				parent[e.to] = g.start[u] + int32(k)
				queue = append(queue, e.to)
			}
		}
	}
	return parent
}
