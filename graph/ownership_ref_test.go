package graph

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// A brute-force reference for the ownership analytics, written straight from
// semantics.md over the whole graph: dense A at the three bounds, A(I − A)⁻¹ by gonum,
// walk lengths by breadth-first search from every entity, control by the naive fixed
// point over every entity, paths by exhaustive enumeration.

type ownRef struct {
	n     int
	ents  []*Entity
	index map[string]int
	rels  []*Relationship // valid on the date, in RelID order
	relNo []int           // RelID of rels[i]
	a     [ownBounds]*mat.Dense
	integ [ownBounds]*mat.Dense
	dist  [][]int // shortest OWNS walk, -1 when none
	ctrl  [][]bool
	bloc  [][]bool // bloc[x] = {x} ∪ what x controls
}

func newOwnRef(tb testing.TB, date Date, ents []*Entity, rels []*Relationship) *ownRef {
	tb.Helper()
	n := len(ents)
	r := &ownRef{n: n, ents: ents, index: map[string]int{}}
	for i, e := range ents {
		r.index[e.ID] = i
	}
	for b := range r.a {
		r.a[b] = mat.NewDense(n, n, nil)
	}
	for k, rel := range rels {
		if rel.Type != TypeOwns || !rel.ValidAt(date) {
			continue
		}
		r.rels = append(r.rels, rel)
		r.relNo = append(r.relNo, k+1)
		lo, hi, known := rel.ShareBounds()
		if !known {
			continue
		}
		f, t := r.index[rel.From], r.index[rel.To]
		for b, s := range []float64{lo, (lo + hi) / 2, hi} {
			r.a[b].Set(f, t, r.a[b].At(f, t)+s)
		}
	}
	for b := range r.a {
		m := mat.NewDense(n, n, nil)
		for i := range n {
			m.Set(i, i, 1)
		}
		m.Sub(m, r.a[b])
		var inv mat.Dense
		if err := inv.Inverse(m); err != nil {
			tb.Fatalf("reference: I − A is singular: %v", err)
		}
		r.integ[b] = mat.NewDense(n, n, nil)
		r.integ[b].Mul(r.a[b], &inv)
	}
	adj := make([][]int, n)
	for _, rel := range r.rels {
		f := r.index[rel.From]
		adj[f] = append(adj[f], r.index[rel.To])
	}
	r.dist = make([][]int, n)
	for x := range n {
		d := make([]int, n)
		for i := range d {
			d[i] = -1
		}
		queue, at := []int{x}, []int{0}
		for len(queue) > 0 {
			u, du := queue[0], at[0]
			queue, at = queue[1:], at[1:]
			for _, w := range adj[u] {
				if d[w] < 0 {
					d[w] = du + 1
					queue, at = append(queue, w), append(at, du+1)
				}
			}
		}
		r.dist[x] = d
	}
	r.ctrl = make([][]bool, n)
	r.bloc = make([][]bool, n)
	for x := range n {
		bloc := make([]bool, n)
		bloc[x] = true
		members := []int{x}
		for changed := true; changed; {
			changed = false
			for w := range n {
				if bloc[w] {
					continue
				}
				sum := 0.0
				for _, m := range members {
					sum += r.a[ownLo].At(m, w)
				}
				if sum > 0.5+ownTolerance {
					bloc[w], changed = true, true
					members = append(members, w)
				}
			}
		}
		ctrl := slices.Clone(bloc)
		ctrl[x] = false
		r.ctrl[x], r.bloc[x] = ctrl, bloc
	}
	return r
}

func (r *ownRef) stake(x, y, depth int, threshold float64) Stake {
	lo := r.integ[ownLo].At(x, y)
	return Stake{Entity: r.ents[x], Direct: r.a[ownMid].At(x, y), Integrated: r.integ[ownMid].At(x, y),
		IntegratedMin: lo, IntegratedMax: r.integ[ownHi].At(x, y),
		Certain: lo >= threshold-ownTolerance, Depth: depth, Controls: r.ctrl[x][y]}
}

func (r *ownRef) sort(s []Stake) {
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

func (r *ownRef) owners(y int, threshold float64, maxDepth int, down bool) []Stake {
	out := []Stake{}
	for x := range r.n {
		owner, owned, d := x, y, r.dist[x][y]
		if down {
			owner, owned, d = y, x, r.dist[y][x]
		}
		if x == y || d < 0 || d > maxDepth || r.integ[ownHi].At(owner, owned) < threshold-ownTolerance {
			continue
		}
		st := r.stake(owner, owned, d, threshold)
		st.Entity = r.ents[x]
		out = append(out, st)
	}
	r.sort(out)
	return out
}

// paths enumerates every simple path from x to y whose intermediate entities satisfy
// allow, sorted and capped as ownershipOf documents.
func (r *ownRef) paths(x, y int, allow func(int) bool) [][]int {
	type cand struct {
		rels  []int // indexes into r.rels
		share float64
	}
	var all []cand
	on := make([]bool, r.n)
	var cur []int
	var dfs func(u int)
	dfs = func(u int) {
		if u == y {
			c := cand{rels: slices.Clone(cur), share: 1}
			for _, k := range cur {
				lo, hi, known := r.rels[k].ShareBounds()
				if !known {
					c.share = -1
					break
				}
				c.share *= (lo + hi) / 2
			}
			all = append(all, c)
			return
		}
		if u != x && !allow(u) {
			return
		}
		on[u] = true
		for k, rel := range r.rels {
			if r.index[rel.From] == u && !on[r.index[rel.To]] {
				cur = append(cur, k)
				dfs(r.index[rel.To])
				cur = cur[:len(cur)-1]
			}
		}
		on[u] = false
	}
	dfs(x)
	slices.SortFunc(all, func(p, q cand) int {
		if c := cmp.Compare(len(p.rels), len(q.rels)); c != 0 {
			return c
		}
		if c := cmp.Compare(q.share, p.share); c != 0 {
			return c
		}
		for k := range p.rels {
			if c := strings.Compare(r.rels[p.rels[k]].To, r.rels[q.rels[k]].To); c != 0 {
				return c
			}
		}
		for k := range p.rels {
			if c := cmp.Compare(r.relNo[p.rels[k]], r.relNo[q.rels[k]]); c != 0 {
				return c
			}
		}
		return 0
	})
	out := make([][]int, 0, min(len(all), maxOwnershipPaths))
	for _, c := range all[:min(len(all), maxOwnershipPaths)] {
		out = append(out, c.rels)
	}
	return out
}

// controller returns y's ultimate controller, its share and its bloc, or -1.
func (r *ownRef) controller(y int) (int, float64) {
	best, bestShare := -1, 0.0
	for x := range r.n {
		if x == y || !r.ctrl[x][y] {
			continue
		}
		ultimate := true
		for w := range r.n {
			if w != x && r.ctrl[w][x] && !r.ctrl[x][w] {
				ultimate = false
			}
		}
		if !ultimate {
			continue
		}
		share := 0.0
		for m := range r.n {
			if r.bloc[x][m] && m != y {
				share += r.a[ownMid].At(m, y)
			}
		}
		if best < 0 || share > bestShare+ownTolerance || (share >= bestShare-ownTolerance && r.ents[x].ID < r.ents[best].ID) {
			best, bestShare = x, share
		}
	}
	return best, bestShare
}

func (r *ownRef) beneficial(y int, threshold float64) []Stake {
	uc, _ := r.controller(y)
	out := []Stake{}
	for x := range r.n {
		if x == y || r.dist[x][y] < 0 {
			continue
		}
		top := r.ents[x].Kind == KindPerson
		if !top {
			top = true
			for _, rel := range r.rels {
				if rel.To == r.ents[x].ID && rel.From != rel.To {
					top = false
				}
			}
		}
		if x == uc || (top && r.integ[ownHi].At(x, y) >= threshold-ownTolerance) {
			out = append(out, r.stake(x, y, r.dist[x][y], threshold))
		}
	}
	r.sort(out)
	return out
}

// ownRandomGraph returns a random ownership graph of 3..12 entities: exact (on a 0.05 grid
// or any float), undisclosed and range shares, parallel relationships, relationships not
// valid on ownRefDate, acyclic or with cross-holdings. Every entity's valid shares sum
// to at most 1 (0.95 with cycles, so that the series converges).
func ownRandomGraph(rng *rand.Rand, cyclic bool) ([]*Entity, []*Relationship) {
	n := 3 + rng.IntN(10)
	ents := make([]*Entity, n)
	for i, k := range rng.Perm(n) {
		kind := "Company"
		if rng.IntN(6) == 0 {
			kind = KindPerson
		}
		ents[i] = ent(fmt.Sprintf("e%d", k), kind, "")
	}
	room := make([]float64, n)
	for i := range room {
		room[i] = 1
		if cyclic {
			room[i] = 0.95
		}
	}
	draw := func(hi float64) float64 {
		if rng.IntN(2) == 0 {
			return math.Floor(hi/0.05*rng.Float64()+1) * 0.05
		}
		return hi * rng.Float64()
	}
	var rels []*Relationship
	if cyclic && rng.IntN(3) == 0 {
		// Two entities holding control of each other.
		f, t := rng.IntN(n), rng.IntN(n)
		if f != t {
			s1, s2 := 0.55+0.05*float64(rng.IntN(8)), 0.55+0.05*float64(rng.IntN(8))
			rels = append(rels, owns(ents[f].ID, ents[t].ID, s1), owns(ents[t].ID, ents[f].ID, s2))
			room[t] -= s1
			room[f] -= s2
		}
	}
	m := rng.IntN(2*n + 2)
	for k := 0; k < m; k++ {
		f, t := rng.IntN(n), rng.IntN(n)
		if f == t || (!cyclic && f > t) {
			continue
		}
		r := &Relationship{ID: fmt.Sprintf("r%d", k), Type: TypeOwns, From: ents[f].ID, To: ents[t].ID}
		valid := true
		switch rng.IntN(10) {
		case 0:
			r.ValidTo, valid = MustParseDate("2024-01-01"), false
		case 1:
			r.ValidFrom, valid = MustParseDate("2025-01-01"), false
		case 2:
			r.ValidFrom = MustParseDate("2020-01-01")
		}
		switch p := rng.IntN(20); {
		case p < 3:
			// undisclosed
		case p < 8:
			if room[t] < 0.1 && valid {
				continue
			}
			lo := draw(room[t] / 2)
			hi := math.Min(lo+draw(room[t]/2), room[t])
			if lo > hi {
				lo = hi
			}
			r.ShareMin, r.ShareMax = &lo, &hi
			if valid {
				room[t] -= hi
			}
		default:
			if room[t] < 0.05 && valid {
				continue
			}
			s := math.Min(draw(room[t]), room[t])
			r.Share = &s
			if valid {
				room[t] -= s
			}
		}
		if rng.IntN(15) == 0 {
			r.Type = TypeSupplies // never counts
		}
		rels = append(rels, r)
	}
	return ents, rels
}

var ownRefDate = MustParseDate("2024-06-01")

func diffOwnStakes(got, want []Stake) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d stakes, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Entity.ID != w.Entity.ID || !ownNear(g.Direct, w.Direct) || !ownNear(g.Integrated, w.Integrated) ||
			!ownNear(g.IntegratedMin, w.IntegratedMin) || !ownNear(g.IntegratedMax, w.IntegratedMax) ||
			g.Certain != w.Certain || g.Depth != w.Depth || g.Controls != w.Controls {
			return fmt.Sprintf("stake %d differs", i)
		}
	}
	return ""
}

// diffPaths compares paths with the reference's (indexes into r.rels).
func (r *ownRef) diffPaths(got []Path, want [][]int) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d paths, want %d", len(got), len(want))
	}
	for i, p := range got {
		w := want[i]
		if len(p.Relationships) != len(w) || len(p.Entities) != len(w)+1 {
			return fmt.Sprintf("path %d (%s) has length %d, want %d", i, ownPathString(p), p.Length(), len(w))
		}
		share, known := 1.0, true
		for k, rel := range p.Relationships {
			if rel != r.rels[w[k]] || p.Entities[k+1].ID != rel.To || p.Entities[k].ID != rel.From {
				return fmt.Sprintf("path %d (%s) differs at step %d: %s, want %s", i, ownPathString(p), k, rel.ID, r.rels[w[k]].ID)
			}
			lo, hi, ok := rel.ShareBounds()
			known = known && ok
			share *= (lo + hi) / 2
		}
		if (p.Share != nil) != known || (known && !ownNear(*p.Share, share)) {
			return fmt.Sprintf("path %d (%s) has share %v, want %v (known %v)", i, ownPathString(p), p.Share, share, known)
		}
	}
	return ""
}

func ownGraphString(rels []*Relationship) string {
	var b strings.Builder
	for _, r := range rels {
		fmt.Fprintf(&b, "%s %s %s>%s", r.ID, r.Type, r.From, r.To)
		switch {
		case r.Share != nil:
			fmt.Fprintf(&b, " %v", *r.Share)
		case r.ShareMin != nil:
			fmt.Fprintf(&b, " %v..%v", *r.ShareMin, *r.ShareMax)
		default:
			b.WriteString(" ?")
		}
		if !r.ValidAt(ownRefDate) {
			b.WriteString(" (not valid)")
		}
		b.WriteString("; ")
	}
	return b.String()
}

// checkOwnAgainstRef compares every analytic on every entity (and every pair for ownership)
// with the reference.
func checkOwnAgainstRef(t *testing.T, rng *rand.Rand, ents []*Entity, rels []*Relationship) {
	t.Helper()
	v := newMemView(t, ownRefDate, Limits{}, ents, rels)
	ref := newOwnRef(t, ownRefDate, ents, rels)
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("graph %s\n%s", ownGraphString(rels), fmt.Sprintf(format, args...))
	}
	thresholds := []float64{0, 0.05, 0.25, 0.5, rng.Float64()}
	for y, e := range ents {
		v.visits = 0
		th := thresholds[rng.IntN(len(thresholds))]
		depth := rng.IntN(len(ents) + 1)
		for _, down := range []bool{false, true} {
			what, f := "owners", ownersOf
			if down {
				what, f = "holdings", holdingsOf
			}
			got, err := f(v, e.ID, th, depth)
			if err != nil {
				fail("%s(%s, %v, %d): %v", what, e.ID, th, depth, err)
			}
			want := ref.owners(y, th, depth, down)
			if d := diffOwnStakes(got, want); d != "" {
				fail("%s(%s, %v, %d): %s\ngot  %s\nwant %s", what, e.ID, th, depth, d, ownStakeString(got), ownStakeString(want))
			}
		}
		got, err := beneficialOwnersOf(v, e.ID, th)
		if err != nil {
			fail("beneficialOwners(%s, %v): %v", e.ID, th, err)
		}
		if want := ref.beneficial(y, th); diffOwnStakes(got, want) != "" {
			fail("beneficialOwners(%s, %v): %s\ngot  %s\nwant %s", e.ID, th, diffOwnStakes(got, want), ownStakeString(got), ownStakeString(want))
		}
		c, err := ultimateControllerOf(v, e.ID)
		if err != nil {
			fail("ultimateController(%s): %v", e.ID, err)
		}
		uc, share := ref.controller(y)
		switch {
		case uc < 0 && c != nil:
			fail("ultimateController(%s) = %s, want nil", e.ID, c.Controller.ID)
		case uc >= 0 && c == nil:
			fail("ultimateController(%s) = nil, want %s", e.ID, ents[uc].ID)
		case uc >= 0:
			if c.Controller.ID != ents[uc].ID || !ownNear(c.Share, share) {
				fail("ultimateController(%s) = %s %v, want %s %v", e.ID, c.Controller.ID, c.Share, ents[uc].ID, share)
			}
			want := ref.paths(uc, y, func(m int) bool { return ref.ctrl[uc][m] })
			if d := ref.diffPaths(c.Paths, want); d != "" {
				fail("ultimateController(%s).paths: %s", e.ID, d)
			}
		}
		for x, o := range ents {
			if x == y {
				continue
			}
			got, err := ownershipOf(v, o.ID, e.ID)
			if err != nil {
				fail("ownership(%s, %s): %v", o.ID, e.ID, err)
			}
			want := Ownership{Direct: ref.a[ownMid].At(x, y), Integrated: ref.integ[ownMid].At(x, y),
				IntegratedMin: ref.integ[ownLo].At(x, y), IntegratedMax: ref.integ[ownHi].At(x, y), Controls: ref.ctrl[x][y]}
			if !ownNear(got.Direct, want.Direct) || !ownNear(got.Integrated, want.Integrated) || !ownNear(got.IntegratedMin, want.IntegratedMin) ||
				!ownNear(got.IntegratedMax, want.IntegratedMax) || got.Controls != want.Controls || got.Paths == nil {
				fail("ownership(%s, %s) = %+v, want %+v", o.ID, e.ID, *got, want)
			}
			if d := ref.diffPaths(got.Paths, ref.paths(x, y, func(int) bool { return true })); d != "" {
				fail("ownership(%s, %s).paths: %s", o.ID, e.ID, d)
			}
		}
	}
}

// ownRefGraphs is the number of random graphs of each kind (acyclic, cross-held) that
// TestOwnershipMatchesReference checks.
const ownRefGraphs = 400

// TestOwnershipMatchesReference compares every field of owners, holdings, ownership
// (paths included), ultimateController and beneficialOwners with the brute-force
// reference on random graphs, for every entity and every pair of entities.
func TestOwnershipMatchesReference(t *testing.T) {
	for _, c := range []struct {
		name   string
		cyclic bool
		seed   uint64
	}{{"acyclic", false, 1}, {"cross-holdings", true, 2}} {
		t.Run(c.name, func(t *testing.T) {
			graphs := rand.New(rand.NewPCG(c.seed, 0x10de))
			queries := rand.New(rand.NewPCG(c.seed, 0xa5))
			for range ownRefGraphs {
				ents, rels := ownRandomGraph(graphs, c.cyclic)
				checkOwnAgainstRef(t, queries, ents, rels)
			}
		})
	}
}

// TestOwnershipReferenceSeesControlLoops makes sure the cross-held random graphs of
// TestOwnershipMatchesReference reach the cases that matter: control through controlled
// entities, loops of entities controlling one another, cross-held pairs and ranges.
func TestOwnershipReferenceSeesControlLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 0x10de))
	var indirect, loops, cycles, ranges int
	for range ownRefGraphs {
		ents, rels := ownRandomGraph(rng, true)
		ref := newOwnRef(t, ownRefDate, ents, rels)
		for x := range ref.n {
			for y := range ref.n {
				if x != y && ref.ctrl[x][y] && ref.a[ownLo].At(x, y) <= 0.5 {
					indirect++
				}
				if x < y && ref.ctrl[x][y] && ref.ctrl[y][x] {
					loops++
				}
				if x != y && ref.dist[x][y] > 0 && ref.dist[y][x] > 0 {
					cycles++
				}
				if ref.a[ownLo].At(x, y) != ref.a[ownHi].At(x, y) {
					ranges++
				}
			}
		}
	}
	t.Logf("random graphs: %d indirect controls, %d control loops, %d cross-held pairs, %d ranges", indirect, loops, cycles, ranges)
	if indirect == 0 || loops == 0 || cycles == 0 || ranges == 0 {
		t.Errorf("random graphs: %d indirect controls, %d control loops, %d cross-held pairs, %d ranges; want some of each", indirect, loops, cycles, ranges)
	}
}

// TestOwnershipLargeCycle solves a 400-entity strongly connected component, above
// ownDenseMax, by iteration, and checks it against the reference; a 100 % ring of the
// same size and a ring whose shares multiply to more than 1 around it are EINVALID.
func TestOwnershipLargeCycle(t *testing.T) {
	const n = 400
	name := func(i int) string { return fmt.Sprintf("n%03d", i%n) }
	ring := func(share func(i int) float64, chords bool) ([]*Entity, []*Relationship) {
		ents := []*Entity{ent("top", "Company", "")}
		var rels []*Relationship
		for i := range n {
			ents = append(ents, ent(name(i), "Company", ""))
			rels = append(rels, owns(name(i), name(i+1), share(i)))
			if chords {
				r := owns(name(i), name(i+7), 0.3)
				r.ID += " chord"
				rels = append(rels, r)
			}
		}
		return ents, append(rels, owns("top", name(0), 0.2))
	}
	ents, rels := ring(func(int) float64 { return 0.5 }, true)
	v := newMemView(t, ownRefDate, Limits{}, ents, rels)
	ref := newOwnRef(t, ownRefDate, ents, rels)
	for _, y := range []int{1, 201} {
		got, err := ownersOf(v, ents[y].ID, 0, DefaultMaxDepth)
		if err != nil {
			t.Fatalf("owners(%s): %v", ents[y].ID, err)
		}
		want := ref.owners(y, 0, DefaultMaxDepth, false)
		if d := diffOwnStakes(got, want); d != "" {
			t.Fatalf("owners(%s): %s\ngot  %s\nwant %s", ents[y].ID, d, ownStakeString(got), ownStakeString(want))
		}
	}
	got, err := holdingsOf(v, "top", 0.01, DefaultMaxDepth)
	if err != nil {
		t.Fatalf("holdings(top): %v", err)
	}
	if want := ref.owners(0, 0.01, DefaultMaxDepth, true); diffOwnStakes(got, want) != "" {
		t.Fatalf("holdings(top): %s\ngot  %s\nwant %s", diffOwnStakes(got, want), ownStakeString(got), ownStakeString(want))
	}

	for _, c := range []struct {
		name  string
		share func(i int) float64
	}{
		{"100% ring", func(int) float64 { return 1 }},
		{"ring multiplying to more than 1", func(i int) float64 { return []float64{0.9, 1.2}[i%2] }},
	} {
		ents, rels := ring(c.share, false)
		v := newMemView(t, ownRefDate, Limits{}, ents, rels)
		_, err := ownersOf(v, name(5), 0, 3)
		if ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), "n000") || !strings.Contains(err.Error(), "more") {
			t.Errorf("%s: owners(%s): error %v, want %s naming the cycle", c.name, name(5), err, EINVALID)
		}
	}
}

// TestOwnershipPathCapMatchesReference checks the capped, ordered paths of a graph with
// thousands of them.
func TestOwnershipPathCapMatchesReference(t *testing.T) {
	rels := ownCompleteDAG(14)
	v := ownView(t, ownRefDate, Limits{}, nil, rels...)
	ents := v.ents
	ref := newOwnRef(t, ownRefDate, ents, rels)
	o, err := ownershipOf(v, "n00", "n13")
	if err != nil {
		t.Fatal(err)
	}
	if d := ref.diffPaths(o.Paths, ref.paths(0, ref.index["n13"], func(int) bool { return true })); d != "" {
		t.Fatalf("ownership(n00, n13).paths: %s", d)
	}
}
