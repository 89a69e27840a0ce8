package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// Tests of subgraphOf, shortestPathOf and pathsOf: hand-made cases, and comparisons with
// plain breadth-first search and brute-force path enumeration on seeded random graphs.

// travRel returns a relationship of type typ from `from` to `to` with the given id.
func travRel(id, typ, from, to string) *Relationship {
	return &Relationship{ID: id, Type: typ, From: from, To: to}
}

// travLine is a small graph: a -A-> b -A-> c -B-> d, e -A-> b, and f on its own.
func travLine(tb testing.TB, lim Limits) *memView {
	tb.Helper()
	ents := []*Entity{ent("a", "Company", "US"), ent("b", "Company", "US"), ent("c", "Company", "US"),
		ent("d", "Company", "US"), ent("e", "Company", "US"), ent("f", "Company", "US")}
	rels := []*Relationship{travRel("ab", "A", "a", "b"), travRel("bc", "A", "b", "c"),
		travRel("cd", "B", "c", "d"), travRel("eb", "A", "e", "b")}
	return newMemView(tb, Date{}, lim, ents, rels)
}

func travEntityIDs(es []*Entity) []string {
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = e.ID
	}
	return ids
}

func travRelIDs(rs []*Relationship) []string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	return ids
}

func travSorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// travCheckSubgraph checks the invariants of every subgraph: seeds present, entities and
// relationships each once, both ends of every relationship present.
func travCheckSubgraph(t *testing.T, what string, g *Subgraph, seeds []string) {
	t.Helper()
	has := map[string]bool{}
	for _, e := range g.Entities {
		if has[e.ID] {
			t.Errorf("%s: entity %s twice", what, e.ID)
		}
		has[e.ID] = true
	}
	for _, s := range seeds {
		if !has[s] {
			t.Errorf("%s: seed %s missing from %v", what, s, travEntityIDs(g.Entities))
		}
	}
	seen := map[string]bool{}
	for _, r := range g.Relationships {
		if seen[r.ID] {
			t.Errorf("%s: relationship %s twice", what, r.ID)
		}
		seen[r.ID] = true
		if !has[r.From] || !has[r.To] {
			t.Errorf("%s: relationship %s (%s→%s) has an end outside %v", what, r.ID, r.From, r.To, travEntityIDs(g.Entities))
		}
	}
}

func TestTraverseSubgraph(t *testing.T) {
	tests := []struct {
		name      string
		ids       []string
		depth     int
		types     []string
		dir       Direction
		limit     int
		entities  []string // in order
		rels      []string // sorted
		truncated bool
	}{
		{"depth 0", []string{"b"}, 0, nil, Both, 10, []string{"b"}, []string{}, false},
		{"depth 1 both", []string{"b"}, 1, nil, Both, 10, []string{"b", "c", "a", "e"}, []string{"ab", "bc", "eb"}, false},
		{"depth 1 out", []string{"b"}, 1, nil, Out, 10, []string{"b", "c"}, []string{"bc"}, false},
		{"depth 1 in", []string{"b"}, 1, nil, In, 10, []string{"b", "a", "e"}, []string{"ab", "eb"}, false},
		{"depth 2 out", []string{"a"}, 2, nil, Out, 10, []string{"a", "b", "c"}, []string{"ab", "bc"}, false},
		{"depth 3 out", []string{"a"}, 3, nil, Out, 10, []string{"a", "b", "c", "d"}, []string{"ab", "bc", "cd"}, false},
		{"types A only", []string{"a"}, 5, []string{"A"}, Out, 10, []string{"a", "b", "c"}, []string{"ab", "bc"}, false},
		{"types B only", []string{"c"}, 5, []string{"B"}, Both, 10, []string{"c", "d"}, []string{"cd"}, false},
		{"unknown type", []string{"c"}, 5, []string{"Z"}, Both, 10, []string{"c"}, []string{}, false},
		{"two seeds", []string{"a", "d"}, 1, nil, Both, 10, []string{"a", "d", "b", "c"}, []string{"ab", "cd"}, false},
		{"isolated seed", []string{"f"}, 3, nil, Both, 10, []string{"f"}, []string{}, false},
		{"duplicate seeds", []string{"a", "a"}, 1, nil, Out, 10, []string{"a", "b"}, []string{"ab"}, false},
		{"limit truncates", []string{"b"}, 2, nil, Both, 2, []string{"b", "c"}, []string{"bc"}, true},
		{"limit exact", []string{"b"}, 1, nil, Both, 4, []string{"b", "c", "a", "e"}, []string{"ab", "bc", "eb"}, false},
		{"seeds beyond limit", []string{"a", "b", "c"}, 1, nil, Out, 1, []string{"a", "b", "c"}, []string{"ab", "bc"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := travLine(t, Limits{})
			g, err := subgraphOf(v, tt.ids, tt.depth, tt.types, tt.dir, tt.limit, false)
			if err != nil {
				t.Fatalf("subgraphOf(%v, %d, %v, %v, %d) error %v", tt.ids, tt.depth, tt.types, tt.dir, tt.limit, err)
			}
			travCheckSubgraph(t, tt.name, g, tt.ids)
			if got, want := travEntityIDs(g.Entities), tt.entities; !slices.Equal(got, want) {
				t.Errorf("entities = %v, want %v", got, want)
			}
			if got, want := travSorted(travRelIDs(g.Relationships)), tt.rels; !slices.Equal(got, want) {
				t.Errorf("relationships = %v, want %v", got, want)
			}
			if g.Truncated != tt.truncated {
				t.Errorf("truncated = %v, want %v", g.Truncated, tt.truncated)
			}
		})
	}
}

func TestTraverseSubgraphSelfLoopAndParallel(t *testing.T) {
	ents := []*Entity{ent("a", "Company", "US"), ent("b", "Company", "US")}
	rels := []*Relationship{travRel("aa", "A", "a", "a"), travRel("ab1", "A", "a", "b"),
		travRel("ab2", "A", "a", "b"), travRel("ba", "A", "b", "a")}
	v := newMemView(t, Date{}, Limits{}, ents, rels)
	g, err := subgraphOf(v, []string{"a"}, 2, nil, Both, 10, false)
	if err != nil {
		t.Fatal(err)
	}
	travCheckSubgraph(t, "self loop", g, []string{"a"})
	if got, want := travSorted(travRelIDs(g.Relationships)), []string{"aa", "ab1", "ab2", "ba"}; !slices.Equal(got, want) {
		t.Errorf("relationships = %v, want %v", got, want)
	}
}

func TestTraverseArguments(t *testing.T) {
	v := travLine(t, Limits{MaxDepth: 5, MaxFirst: 20, MaxSubgraph: 30})
	tests := []struct {
		name  string
		call  func() error
		code  string
		field string
	}{
		{"subgraph no ids", func() error { _, err := subgraphOf(v, nil, 1, nil, Both, 10, false); return err }, EINVALID, "ids"},
		{"subgraph unknown id", func() error { _, err := subgraphOf(v, []string{"a", "zz"}, 1, nil, Both, 10, false); return err }, ENOTFOUND, ""},
		{"subgraph negative depth", func() error { _, err := subgraphOf(v, []string{"a"}, -1, nil, Both, 10, false); return err }, EINVALID, "depth"},
		{"subgraph depth over cap", func() error { _, err := subgraphOf(v, []string{"a"}, 6, nil, Both, 10, false); return err }, ELIMIT, "depth"},
		{"subgraph limit 0", func() error { _, err := subgraphOf(v, []string{"a"}, 1, nil, Both, 0, false); return err }, EINVALID, "limit"},
		{"subgraph limit over cap", func() error { _, err := subgraphOf(v, []string{"a"}, 1, nil, Both, 31, false); return err }, ELIMIT, "limit"},
		{"subgraph too many ids", func() error {
			_, err := subgraphOf(v, slices.Repeat([]string{"a"}, 31), 1, nil, Both, 10, false)
			return err
		}, ELIMIT, "ids"},
		{"shortestPath unknown from", func() error { _, err := shortestPathOf(v, "zz", "a", nil, Both, 3); return err }, ENOTFOUND, ""},
		{"shortestPath unknown to", func() error { _, err := shortestPathOf(v, "a", "zz", nil, Both, 3); return err }, ENOTFOUND, ""},
		{"shortestPath maxDepth over cap", func() error { _, err := shortestPathOf(v, "a", "b", nil, Both, 6); return err }, ELIMIT, "maxDepth"},
		{"shortestPath negative maxDepth", func() error { _, err := shortestPathOf(v, "a", "b", nil, Both, -1); return err }, EINVALID, "maxDepth"},
		{"paths first 0", func() error { _, err := pathsOf(v, "a", "b", nil, Out, 3, 0); return err }, EINVALID, "first"},
		{"paths first over cap", func() error { _, err := pathsOf(v, "a", "b", nil, Out, 3, 21); return err }, ELIMIT, "first"},
		{"paths maxDepth over cap", func() error { _, err := pathsOf(v, "a", "b", nil, Out, 6, 1); return err }, ELIMIT, "maxDepth"},
		{"paths unknown id", func() error { _, err := pathsOf(v, "a", "zz", nil, Out, 3, 1); return err }, ENOTFOUND, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if got := ErrorCode(err); got != tt.code {
				t.Fatalf("error %v: code %q, want %q", err, got, tt.code)
			}
			if e, ok := err.(*Error); ok && e.Field != tt.field {
				t.Errorf("error %v: field %q, want %q", err, e.Field, tt.field)
			}
		})
	}
}

func TestTraverseShortestPath(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		types    []string
		dir      Direction
		maxDepth int
		want     []string // entity ids; nil: no path
	}{
		{"out", "a", "d", nil, Out, 5, []string{"a", "b", "c", "d"}},
		{"out wrong way", "d", "a", nil, Out, 5, nil},
		{"in", "d", "a", nil, In, 5, []string{"d", "c", "b", "a"}},
		{"both", "e", "a", nil, Both, 5, []string{"e", "b", "a"}},
		{"out e to a", "e", "a", nil, Out, 5, nil},
		{"maxDepth too small", "a", "d", nil, Out, 2, nil},
		{"maxDepth exact", "a", "d", nil, Out, 3, []string{"a", "b", "c", "d"}},
		{"types cut", "a", "d", []string{"A"}, Out, 5, nil},
		{"itself", "c", "c", nil, Both, 0, []string{"c"}},
		{"isolated", "a", "f", nil, Both, 5, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := travLine(t, Limits{})
			p, err := shortestPathOf(v, tt.from, tt.to, tt.types, tt.dir, tt.maxDepth)
			if err != nil {
				t.Fatalf("shortestPathOf(%s, %s, %v, %v, %d) error %v", tt.from, tt.to, tt.types, tt.dir, tt.maxDepth, err)
			}
			if tt.want == nil {
				if p != nil {
					t.Fatalf("shortestPathOf(%s, %s) = %v, want nil", tt.from, tt.to, travEntityIDs(p.Entities))
				}
				return
			}
			if p == nil {
				t.Fatalf("shortestPathOf(%s, %s) = nil, want %v", tt.from, tt.to, tt.want)
			}
			if got := travEntityIDs(p.Entities); !slices.Equal(got, tt.want) {
				t.Errorf("shortestPathOf(%s, %s) = %v, want %v", tt.from, tt.to, got, tt.want)
			}
			if err := travCheckWalk(*p, tt.dir, tt.types); err != nil {
				t.Error(err)
			}
		})
	}
}

// travCheckWalk checks that p is a walk in direction dir over relationships of types.
func travCheckWalk(p Path, dir Direction, types []string) error {
	if len(p.Entities) != len(p.Relationships)+1 {
		return fmt.Errorf("path %v: %d entities for %d relationships", travEntityIDs(p.Entities), len(p.Entities), len(p.Relationships))
	}
	for i, r := range p.Relationships {
		a, b := p.Entities[i].ID, p.Entities[i+1].ID
		if len(types) > 0 && !slices.Contains(types, r.Type) {
			return fmt.Errorf("path %v: relationship %s of type %s", travEntityIDs(p.Entities), r.ID, r.Type)
		}
		out := r.From == a && r.To == b
		in := r.To == a && r.From == b
		if dir == Out && !out || dir == In && !in || dir == Both && !out && !in {
			return fmt.Errorf("path %v: relationship %s (%s→%s) does not lead from %s to %s %v", travEntityIDs(p.Entities), r.ID, r.From, r.To, a, b, dir)
		}
	}
	return nil
}

// travRandomGraph returns n entities and m random relationships of types A and B among
// them (self-loops and parallel relationships included).
func travRandomGraph(rng *rand.Rand, n, m int) ([]*Entity, []*Relationship) {
	ents := make([]*Entity, n)
	for i := range ents {
		ents[i] = ent(fmt.Sprintf("n%d", i), "Company", "US")
	}
	rels := make([]*Relationship, m)
	for i := range rels {
		from, to := rng.IntN(n), rng.IntN(n)
		if from == to && rng.IntN(3) > 0 {
			to = (to + 1) % n
		}
		typ := "A"
		if rng.IntN(4) == 0 {
			typ = "B"
		}
		rels[i] = travRel(fmt.Sprintf("r%d", i), typ, ents[from].ID, ents[to].ID)
	}
	return ents, rels
}

// travRefStep is one step of the reference traversal: over rel to other.
type travRefStep struct{ rel, other string }

// travRefSteps lists the steps from u in dir over relationships of types, straight from
// the relationship list.
func travRefSteps(rels []*Relationship, u string, dir Direction, types []string) []travRefStep {
	var out []travRefStep
	for _, r := range rels {
		if len(types) > 0 && !slices.Contains(types, r.Type) {
			continue
		}
		if dir != In && r.From == u {
			out = append(out, travRefStep{r.ID, r.To})
		}
		if dir != Out && r.To == u && r.From != u {
			out = append(out, travRefStep{r.ID, r.From})
		}
	}
	return out
}

// travRefDist returns the breadth-first distances from the seeds.
func travRefDist(rels []*Relationship, seeds []string, dir Direction, types []string) map[string]int {
	dist := map[string]int{}
	var queue []string
	for _, s := range seeds {
		if _, ok := dist[s]; !ok {
			dist[s] = 0
			queue = append(queue, s)
		}
	}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		for _, st := range travRefSteps(rels, u, dir, types) {
			if _, ok := dist[st.other]; !ok {
				dist[st.other] = dist[u] + 1
				queue = append(queue, st.other)
			}
		}
	}
	return dist
}

// travRefPaths enumerates every simple path from `from` to `to` of at most maxDepth
// steps, as the ids of its relationships joined by commas.
func travRefPaths(rels []*Relationship, from, to string, dir Direction, types []string, maxDepth int) map[string]int {
	out := map[string]int{} // path → length
	if from == to {
		out[""] = 0
		return out
	}
	onPath := map[string]bool{from: true}
	var ids []string
	var dfs func(u string)
	dfs = func(u string) {
		if len(ids) == maxDepth {
			return
		}
		for _, st := range travRefSteps(rels, u, dir, types) {
			if onPath[st.other] {
				continue
			}
			ids = append(ids, st.rel)
			if st.other == to {
				out[strings.Join(ids, ",")] = len(ids)
			} else {
				onPath[st.other] = true
				dfs(st.other)
				onPath[st.other] = false
			}
			ids = ids[:len(ids)-1]
		}
	}
	dfs(from)
	return out
}

var travDirs = []Direction{Out, In, Both}

func TestTraverseSubgraphMatchesBFS(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		n := 2 + rng.IntN(12)
		ents, rels := travRandomGraph(rng, n, rng.IntN(3*n))
		v := newMemView(t, Date{}, Limits{}, ents, rels)
		seeds := []string{ents[rng.IntN(n)].ID}
		if rng.IntN(3) == 0 {
			seeds = append(seeds, ents[rng.IntN(n)].ID)
		}
		depth := rng.IntN(4)
		dir := travDirs[rng.IntN(3)]
		var types []string
		if rng.IntN(3) == 0 {
			types = []string{"A"}
		}
		limit := 1 + rng.IntN(n+2)
		what := fmt.Sprintf("round %d: subgraph(%v, depth %d, %v, %v, limit %d)", round, seeds, depth, types, dir, limit)
		g, err := subgraphOf(v, seeds, depth, types, dir, limit, false)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		travCheckSubgraph(t, what, g, seeds)
		dist := travRefDist(rels, seeds, dir, types)
		var want []string
		for id, d := range dist {
			if d <= depth {
				want = append(want, id)
			}
		}
		got := travEntityIDs(g.Entities)
		seedCount := len(travSorted(slices.Compact(travSorted(seeds))))
		if wantTrunc := len(want) > max(limit, seedCount); g.Truncated != wantTrunc {
			t.Fatalf("%s: truncated = %v with %d of %d entities, want %v", what, g.Truncated, len(got), len(want), wantTrunc)
		}
		if g.Truncated {
			if len(got) != max(limit, seedCount) {
				t.Errorf("%s: %d entities, want %d", what, len(got), max(limit, seedCount))
			}
			for _, id := range got {
				if d, ok := dist[id]; !ok || d > depth {
					t.Errorf("%s: entity %s is not within depth", what, id)
				}
			}
			continue
		}
		if !slices.Equal(travSorted(got), travSorted(want)) {
			t.Fatalf("%s: entities %v, want %v", what, travSorted(got), travSorted(want))
		}
		// Every relationship followed from an entity short of depth.
		var wantRels []string
		for _, r := range rels {
			if len(types) > 0 && !slices.Contains(types, r.Type) {
				continue
			}
			df, okf := dist[r.From]
			dt, okt := dist[r.To]
			if dir != In && okf && df < depth || dir != Out && okt && dt < depth {
				wantRels = append(wantRels, r.ID)
			}
		}
		if got, want := travSorted(travRelIDs(g.Relationships)), travSorted(wantRels); !slices.Equal(got, want) {
			t.Fatalf("%s: relationships %v, want %v", what, got, want)
		}
	}
}

func TestTraverseShortestPathMatchesBFS(t *testing.T) {
	for _, probe := range []int{minLevelProbe, 2, 1} {
		t.Run(fmt.Sprintf("probe %d", probe), func(t *testing.T) { testShortestPathMatchesBFS(t, probe) })
	}
}

// testShortestPathMatchesBFS compares shortestPathProbing with a breadth-first search
// on random graphs; with a small probe, levels of either side are undone and redone.
func testShortestPathMatchesBFS(t *testing.T, probe int) {
	rng := rand.New(rand.NewPCG(3, 4))
	found := 0
	for round := range 400 {
		n := 2 + rng.IntN(14)
		ents, rels := travRandomGraph(rng, n, rng.IntN(2*n+1))
		v := newMemView(t, Date{}, Limits{}, ents, rels)
		from, to := ents[rng.IntN(n)].ID, ents[rng.IntN(n)].ID
		dir := travDirs[rng.IntN(3)]
		var types []string
		if rng.IntN(3) == 0 {
			types = []string{"A"}
		}
		maxDepth := rng.IntN(8)
		what := fmt.Sprintf("round %d: shortestPath(%s, %s, %v, %v, %d)", round, from, to, types, dir, maxDepth)
		p, err := shortestPathProbing(v, from, to, types, dir, maxDepth, probe)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		d, ok := travRefDist(rels, []string{from}, dir, types)[to]
		if !ok || d > maxDepth {
			if p != nil {
				t.Fatalf("%s = %v, want nil", what, travEntityIDs(p.Entities))
			}
			continue
		}
		found++
		if p == nil {
			t.Fatalf("%s = nil, want a path of length %d", what, d)
		}
		if p.Length() != d {
			t.Fatalf("%s has length %d, want %d", what, p.Length(), d)
		}
		if p.Entities[0].ID != from || p.Entities[len(p.Entities)-1].ID != to {
			t.Fatalf("%s runs %v", what, travEntityIDs(p.Entities))
		}
		if err := travCheckWalk(*p, dir, types); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	if found < 100 {
		t.Errorf("only %d of 400 random cases had a path; the test is too weak", found)
	}
}

func TestTraversePaths(t *testing.T) {
	// Two routes a→d: a→b→d and a→c→d, a direct a→d, and a long one a→b→c→d.
	ents := []*Entity{ent("a", "Company", "US"), ent("b", "Company", "US"), ent("c", "Company", "US"), ent("d", "Company", "US")}
	rels := []*Relationship{travRel("ab", "A", "a", "b"), travRel("bd", "A", "b", "d"), travRel("ac", "A", "a", "c"),
		travRel("cd", "A", "c", "d"), travRel("ad", "B", "a", "d"), travRel("bc", "A", "b", "c"), travRel("ca", "A", "c", "a")}
	v := newMemView(t, Date{}, Limits{}, ents, rels)
	tests := []struct {
		name     string
		types    []string
		dir      Direction
		maxDepth int
		first    int
		want     []string // relationship ids of each path, in order
	}{
		{"all", nil, Out, 6, 10, []string{"ad", "ab,bd", "ac,cd", "ab,bc,cd"}},
		{"first 2", nil, Out, 6, 2, []string{"ad", "ab,bd"}},
		{"maxDepth 2", nil, Out, 2, 10, []string{"ad", "ab,bd", "ac,cd"}},
		{"types A", []string{"A"}, Out, 6, 10, []string{"ab,bd", "ac,cd", "ab,bc,cd"}},
		{"in", nil, In, 6, 10, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := pathsOf(v, "a", "d", tt.types, tt.dir, tt.maxDepth, tt.first)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range ps {
				got = append(got, strings.Join(travRelIDs(p.Relationships), ","))
				if err := travCheckWalk(p, tt.dir, tt.types); err != nil {
					t.Error(err)
				}
			}
			if ps == nil {
				t.Error("paths = nil, want an empty slice")
			}
			// Paths of one length may come in any order; compare length by length.
			key := func(s []string) []string {
				out := slices.Clone(s)
				slices.SortFunc(out, func(a, b string) int {
					if c := strings.Count(a, ",") - strings.Count(b, ","); c != 0 {
						return c
					}
					return strings.Compare(a, b)
				})
				return out
			}
			if !slices.Equal(key(got), key(tt.want)) || !slices.IsSortedFunc(got, func(a, b string) int {
				return strings.Count(a, ",") - strings.Count(b, ",")
			}) {
				t.Errorf("paths(a, d, %v, %v, %d, %d) = %v, want %v", tt.types, tt.dir, tt.maxDepth, tt.first, got, tt.want)
			}
		})
	}
	ps, err := pathsOf(v, "b", "b", nil, Both, 4, 5)
	if err != nil || len(ps) != 1 || ps[0].Length() != 0 || ps[0].Entities[0].ID != "b" {
		t.Errorf("paths(b, b) = %v, %v; want the one path of length 0", ps, err)
	}
}

func TestTraversePathsMatchBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	nonEmpty := 0
	for round := range 400 {
		n := 2 + rng.IntN(8)
		ents, rels := travRandomGraph(rng, n, rng.IntN(3*n+1))
		v := newMemView(t, Date{}, Limits{}, ents, rels)
		from, to := ents[rng.IntN(n)].ID, ents[rng.IntN(n)].ID
		dir := travDirs[rng.IntN(3)]
		var types []string
		if rng.IntN(4) == 0 {
			types = []string{"A"}
		}
		maxDepth := rng.IntN(7)
		first := 1 + rng.IntN(12)
		what := fmt.Sprintf("round %d: paths(%s, %s, %v, %v, maxDepth %d, first %d)", round, from, to, types, dir, maxDepth, first)
		ps, err := pathsOf(v, from, to, types, dir, maxDepth, first)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		want := travRefPaths(rels, from, to, dir, types, maxDepth)
		if len(want) > 0 {
			nonEmpty++
		}
		if got, wantN := len(ps), min(first, len(want)); got != wantN {
			t.Fatalf("%s: %d paths, want %d of %v", what, got, wantN, want)
		}
		seen := map[string]bool{}
		longest := 0
		for i, p := range ps {
			k := strings.Join(travRelIDs(p.Relationships), ",")
			if _, ok := want[k]; !ok {
				t.Fatalf("%s: path %d %q (%v) is not a simple path of the reference", what, i, k, travEntityIDs(p.Entities))
			}
			if seen[k] {
				t.Fatalf("%s: path %q twice", what, k)
			}
			seen[k] = true
			if p.Length() < longest {
				t.Fatalf("%s: path %d has length %d after one of %d", what, i, p.Length(), longest)
			}
			longest = p.Length()
			if p.Entities[0].ID != from || p.Entities[len(p.Entities)-1].ID != to {
				t.Fatalf("%s: path %d runs %v", what, i, travEntityIDs(p.Entities))
			}
			if err := travCheckWalk(p, dir, types); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}
		// Shortest first: every reference path shorter than the longest returned is in.
		for k, l := range want {
			if l < longest && !seen[k] {
				t.Fatalf("%s: path %q of length %d missing while one of length %d was returned", what, k, l, longest)
			}
		}
	}
	if nonEmpty < 150 {
		t.Errorf("only %d of 400 random cases had paths; the test is too weak", nonEmpty)
	}
}

// travFan is a graph where `from` fans out to width dead ends and one short route leads
// to `to`: hub -A-> x1…xwidth (dead ends), hub -A-> m -A-> to.
func travFan(tb testing.TB, width int, lim Limits) *memView {
	ents := []*Entity{ent("hub", "Company", "US"), ent("m", "Company", "US"), ent("to", "Company", "US")}
	rels := []*Relationship{}
	for i := range width {
		id := fmt.Sprintf("x%d", i)
		ents = append(ents, ent(id, "Company", "US"))
		rels = append(rels, travRel("hub>"+id, "A", "hub", id))
		for j := range 3 {
			leaf := fmt.Sprintf("%s-%d", id, j)
			ents = append(ents, ent(leaf, "Company", "US"))
			rels = append(rels, travRel(id+">"+leaf, "A", id, leaf))
		}
	}
	rels = append(rels, travRel("hub>m", "A", "hub", "m"), travRel("m>to", "A", "m", "to"))
	return newMemView(tb, Date{}, lim, ents, rels)
}

func TestTraversePathsWorkStaysSmall(t *testing.T) {
	// From the hub, a forward search would read all 4,000 dead ends; growing the smaller
	// side first reads only around `to`.
	v := travFan(t, 1000, Limits{})
	ps, err := pathsOf(v, "hub", "to", nil, Out, 6, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].Length() != 2 {
		t.Fatalf("paths(hub, to) = %d paths, want the one of length 2", len(ps))
	}
	if v.visits > 50 {
		t.Errorf("paths(hub, to) read %d relationships, want at most 50", v.visits)
	}
	v = travFan(t, 1000, Limits{})
	p, err := shortestPathOf(v, "hub", "to", nil, Out, 6)
	if err != nil || p == nil || p.Length() != 2 {
		t.Fatalf("shortestPath(hub, to) = %v, %v; want a path of length 2", p, err)
	}
	if v.visits > 50 {
		t.Errorf("shortestPath(hub, to) read %d relationships, want at most 50", v.visits)
	}
}

func TestShortestPathGoesAroundAHub(t *testing.T) {
	// s -> hub -> m -> to, where the hub also leads to 20,000 dead ends and two more
	// entities lead to `to`. Comparing frontiers by their entities, the search would grow
	// {hub} (one entity) rather than {m, d1, d2} and read all 20,001 relationships of the
	// hub; comparing what their levels read, it gives the hub up after minLevelProbe and
	// meets it from m.
	ents := []*Entity{ent("s", "Company", "US"), ent("hub", "Company", "US")}
	rels := []*Relationship{travRel("s>hub", "A", "s", "hub")}
	for i := range 20_000 {
		id := fmt.Sprintf("x%d", i)
		ents = append(ents, ent(id, "Company", "US"))
		rels = append(rels, travRel("hub>"+id, "A", "hub", id))
	}
	// Added last, m is read last of the hub's relationships.
	ents = append(ents, ent("m", "Company", "US"), ent("d1", "Company", "US"), ent("d2", "Company", "US"), ent("to", "Company", "US"))
	rels = append(rels, travRel("hub>m", "A", "hub", "m"), travRel("m>to", "A", "m", "to"),
		travRel("d1>to", "A", "d1", "to"), travRel("d2>to", "A", "d2", "to"))
	v := newMemView(t, Date{}, Limits{}, ents, rels)
	p, err := shortestPathOf(v, "s", "to", nil, Out, 6)
	if err != nil || p == nil {
		t.Fatalf("shortestPath(s, to) = %v, %v; want a path", p, err)
	}
	if got := strings.Join(travEntityIDs(p.Entities), " "); got != "s hub m to" {
		t.Errorf("shortestPath(s, to) runs %s, want s hub m to", got)
	}
	if v.visits > 5000 { // 6 around s and to, 4,097 of the hub's undone
		t.Errorf("shortestPath(s, to) read %d relationships, want at most 5,000", v.visits)
	}
}

func TestTraverseBudget(t *testing.T) {
	// A complete directed graph on 12 entities: 132 relationships, and far more paths.
	var ents []*Entity
	var rels []*Relationship
	for i := range 12 {
		ents = append(ents, ent(fmt.Sprintf("k%d", i), "Company", "US"))
	}
	for i := range 12 {
		for j := range 12 {
			if i != j {
				rels = append(rels, travRel(fmt.Sprintf("k%d>k%d", i, j), "A", ents[i].ID, ents[j].ID))
			}
		}
	}
	lim := Limits{MaxVisits: 40}
	t.Run("paths", func(t *testing.T) {
		v := newMemView(t, Date{}, lim, ents, rels)
		_, err := pathsOf(v, "k0", "k1", nil, Out, 8, 1000)
		if got := ErrorCode(err); got != ELIMIT {
			t.Errorf("paths error %v, code %q, want %q", err, got, ELIMIT)
		}
	})
	t.Run("paths enumeration", func(t *testing.T) {
		// Reading takes 132 visits; enumerating 1,000 paths takes more than 400 steps.
		v := newMemView(t, Date{}, Limits{MaxVisits: 400}, ents, rels)
		_, err := pathsOf(v, "k0", "k1", nil, Out, 8, 1000)
		if got := ErrorCode(err); got != ELIMIT {
			t.Errorf("paths error %v, code %q, want %q", err, got, ELIMIT)
		}
	})
	t.Run("shortestPath", func(t *testing.T) {
		// k0 → … → k11 only through a long chain once the complete graph is cut off.
		var chain []*Relationship
		var cents []*Entity
		for i := range 60 {
			cents = append(cents, ent(fmt.Sprintf("c%d", i), "Company", "US"))
			if i > 0 {
				chain = append(chain, travRel(fmt.Sprintf("c%d", i), "A", cents[i-1].ID, cents[i].ID))
			}
		}
		v := newMemView(t, Date{}, Limits{MaxVisits: 20, MaxDepth: 100}, cents, chain)
		_, err := shortestPathOf(v, "c0", "c59", nil, Out, 100)
		if got := ErrorCode(err); got != ELIMIT {
			t.Errorf("shortestPath error %v, code %q, want %q", err, got, ELIMIT)
		}
	})
	t.Run("subgraph", func(t *testing.T) {
		v := newMemView(t, Date{}, lim, ents, rels)
		g, err := subgraphOf(v, []string{"k0"}, 3, nil, Both, 1000, false)
		if err != nil {
			t.Fatalf("subgraph error %v, want a truncated result", err)
		}
		if !g.Truncated {
			t.Errorf("subgraph truncated = false, want true")
		}
		travCheckSubgraph(t, "budget", g, []string{"k0"})
	})
}

// TestShortestPathShareAndRelationships: the path found carries its relationships in walk
// order, and the product of its shares when every step is an OWNS with a known share.
func TestShortestPathShareAndRelationships(t *testing.T) {
	ents := []*Entity{ent("a", "Company", "US"), ent("b", "Company", "US"), ent("c", "Company", "US"), ent("f", "Facility", "US")}
	rels := []*Relationship{owns("a", "b", 0.5), owns("b", "c", 0.4), travRel("op", "OPERATES", "c", "f")}
	rels[1].Share, rels[1].ShareMin, rels[1].ShareMax = nil, fptr(0.3), fptr(0.5) // a range: its midpoint, 0.4
	v := newMemView(t, Date{}, Limits{}, ents, rels)
	for _, tt := range []struct {
		from, to string
		dir      Direction
		rels     []string
		share    float64 // 0: none
	}{
		{"a", "c", Out, []string{"a>b", "b>c"}, 0.2},
		{"c", "a", In, []string{"b>c", "a>b"}, 0.2},
		{"c", "a", Both, []string{"b>c", "a>b"}, 0.2},
		{"a", "f", Both, []string{"a>b", "b>c", "op"}, 0},
	} {
		p, err := shortestPathOf(v, tt.from, tt.to, nil, tt.dir, 5)
		if err != nil || p == nil {
			t.Fatalf("%s→%s: %v, %v", tt.from, tt.to, p, err)
		}
		if got := travRelIDs(p.Relationships); !slices.Equal(got, tt.rels) {
			t.Errorf("%s→%s: relationships %v, want %v", tt.from, tt.to, got, tt.rels)
		}
		switch {
		case tt.share == 0 && p.Share != nil:
			t.Errorf("%s→%s: share %v, want none", tt.from, tt.to, *p.Share)
		case tt.share != 0 && (p.Share == nil || math.Abs(*p.Share-tt.share) > 1e-12):
			t.Errorf("%s→%s: share %v, want %v", tt.from, tt.to, p.Share, tt.share)
		}
	}
}
