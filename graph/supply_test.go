package graph

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// Tests of supplyChainOf, supplyPathsOf and exposureOf: semantics.md's worked example and
// hand-computed cases, and comparisons with brute-force references written straight from
// the definitions on seeded random supply graphs.

const supEps = 1e-9

func supNear(got, want float64) bool { return math.Abs(got-want) <= supEps }

// supOperatesRel returns "from OPERATES to".
func supOperatesRel(from, to string) *Relationship {
	return &Relationship{ID: "op:" + from + ">" + to, Type: TypeOperates, From: from, To: to}
}

// supSuppliesID is supplies with an explicit id, for parallel relationships.
func supSuppliesID(id, from, to string, volume float64, material string) *Relationship {
	r := supplies(from, to, volume, material)
	r.ID = id
	return r
}

func supMustExposure(t *testing.T, v view, of, country string, upstream bool) *Exposure {
	t.Helper()
	x, err := exposureOf(v, of, country, upstream)
	if err != nil {
		t.Fatalf("exposure(%s, %s, upstream %v) error %v", of, country, upstream, err)
	}
	return x
}

// supWorkedExample is semantics.md's supply example.
func supWorkedExample(tb testing.TB, lim Limits) *memView {
	tb.Helper()
	ents := []*Entity{ent("M1", "Facility", "AU"), ent("M2", "Facility", "CN"), ent("S", "Facility", "MY"),
		ent("P", "Facility", "US"), ent("M3", "Facility", "US")}
	rels := []*Relationship{supplies("M1", "S", 100, ""), supplies("M2", "S", 300, ""),
		supplies("S", "P", 400, ""), supplies("M3", "P", 100, "")}
	return newMemView(tb, Date{}, lim, ents, rels)
}

// supPathIDs returns the entity ids of each path, joined by spaces.
func supPathIDs(ps []Path) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = strings.Join(travEntityIDs(p.Entities), " ")
	}
	return out
}

func TestSupplyExposureWorkedExample(t *testing.T) {
	v := supWorkedExample(t, Limits{})
	tests := []struct {
		country  string
		share    float64
		entities []string
		paths    []string
	}{
		// 400/500 · (300/400 · 1 + 100/400 · 0) + 100/500 · 0
		{"CN", 0.6, []string{"M2"}, []string{"P S M2"}},
		{"MY", 0.8, []string{"S"}, []string{"P S"}},
		{"AU", 0.2, []string{"M1"}, []string{"P S M1"}},
		{"US", 0.2, []string{"M3"}, []string{"P M3"}}, // P itself is in US but does not count
		{"JP", 0, []string{}, []string{}},
	}
	for _, tt := range tests {
		x := supMustExposure(t, v, "P", tt.country, true)
		if !supNear(x.Share, tt.share) {
			t.Errorf("exposure(P, %s).share = %.12f, want %v", tt.country, x.Share, tt.share)
		}
		if got := travEntityIDs(x.Entities); !slices.Equal(got, tt.entities) {
			t.Errorf("exposure(P, %s).entities = %v, want %v", tt.country, got, tt.entities)
		}
		if got := supPathIDs(x.Paths); !slices.Equal(got, tt.paths) {
			t.Errorf("exposure(P, %s).paths = %v, want %v", tt.country, got, tt.paths)
		}
	}
}

func TestSupplyExposureCases(t *testing.T) {
	tests := []struct {
		name     string
		ents     []*Entity
		rels     []*Relationship
		of       string
		country  string
		upstream bool
		share    float64
		entities []string // largest part first
		paths    []string
	}{
		{
			// K runs F1 and F2; their inputs weigh together: M1 100, M2 300 and F2's own
			// 50 into F1, which returns to K and contributes 0 but keeps its weight.
			name: "company with facilities",
			ents: []*Entity{ent("K", "Company", "US"), ent("F1", "Facility", "US"), ent("F2", "Facility", "AU"),
				ent("M1", "Facility", "CN"), ent("M2", "Facility", "AU")},
			rels: []*Relationship{supOperatesRel("K", "F1"), supOperatesRel("K", "F2"), supplies("M1", "F1", 100, ""),
				supplies("M2", "F2", 300, ""), supplies("F2", "F1", 50, "")},
			of: "K", country: "CN", upstream: true, share: 100.0 / 450,
			entities: []string{"M1"}, paths: []string{"K F1 M1"},
		},
		{
			name: "company with facilities, facility country not counted",
			ents: []*Entity{ent("K", "Company", "US"), ent("F1", "Facility", "US"), ent("F2", "Facility", "AU"),
				ent("M1", "Facility", "CN"), ent("M2", "Facility", "AU")},
			rels: []*Relationship{supOperatesRel("K", "F1"), supOperatesRel("K", "F2"), supplies("M1", "F1", 100, ""),
				supplies("M2", "F2", 300, ""), supplies("F2", "F1", 50, "")},
			of: "K", country: "AU", upstream: true, share: 300.0 / 450,
			entities: []string{"M2"}, paths: []string{"K F2 M2"},
		},
		{
			name: "company supplied directly and through a facility",
			ents: []*Entity{ent("K", "Company", "US"), ent("F", "Facility", "US"), ent("A", "Company", "CN"),
				ent("B", "Facility", "CN")},
			rels: []*Relationship{supOperatesRel("K", "F"), supplies("A", "K", 100, ""), supplies("A", "F", 100, ""),
				supplies("B", "F", 200, "")},
			of: "K", country: "CN", upstream: true, share: 1,
			entities: []string{"A", "B"}, paths: []string{"K A", "K F B"},
		},
		{
			// dep(A|P,A) = ½·dep(B|P,A,B) + ½ = ½·(¼·0 + ¾) + ½ = 0.875; dep(B|P,B) =
			// ¼·dep(A|P,B,A) + ¾ = ¼·½ + ¾ = 0.875. C carries ½·½ + ½·¼·½ = 0.3125,
			// D ½·¾ + ½·½·¾ = 0.5625.
			name: "cycle",
			ents: []*Entity{ent("P", "Facility", "US"), ent("A", "Facility", "MY"), ent("B", "Facility", "US"),
				ent("C", "Facility", "CN"), ent("D", "Facility", "CN")},
			rels: []*Relationship{supplies("A", "P", 100, ""), supplies("B", "P", 100, ""), supplies("B", "A", 50, ""),
				supplies("C", "A", 50, ""), supplies("A", "B", 100, ""), supplies("D", "B", 300, "")},
			of: "P", country: "CN", upstream: true, share: 0.875,
			entities: []string{"D", "C"}, paths: []string{"P B D", "P A C"},
		},
		{
			name: "cycle, country inside it",
			ents: []*Entity{ent("P", "Facility", "US"), ent("A", "Facility", "MY"), ent("B", "Facility", "US"),
				ent("C", "Facility", "CN"), ent("D", "Facility", "CN")},
			rels: []*Relationship{supplies("A", "P", 100, ""), supplies("B", "P", 100, ""), supplies("B", "A", 50, ""),
				supplies("C", "A", 50, ""), supplies("A", "B", 100, ""), supplies("D", "B", 300, "")},
			of: "P", country: "MY", upstream: true, share: 0.5 + 0.5*0.25,
			entities: []string{"A"}, paths: []string{"P A"},
		},
		{
			// P is its own supplier's customer: the way back into P contributes 0 and
			// keeps its weight.
			name: "cycle through the root",
			ents: []*Entity{ent("P", "Facility", "US"), ent("A", "Facility", "US"), ent("C", "Facility", "CN")},
			rels: []*Relationship{supplies("A", "P", 100, ""), supplies("P", "A", 100, ""), supplies("C", "A", 300, "")},
			of:   "P", country: "CN", upstream: true, share: 0.75,
			entities: []string{"C"}, paths: []string{"P A C"},
		},
		{
			name: "self supply",
			ents: []*Entity{ent("P", "Facility", "US"), ent("A", "Facility", "US"), ent("C", "Facility", "CN")},
			rels: []*Relationship{supplies("A", "P", 100, ""), supplies("A", "A", 100, ""), supplies("C", "A", 100, "")},
			of:   "P", country: "CN", upstream: true, share: 0.5,
			entities: []string{"C"}, paths: []string{"P A C"},
		},
		{
			name: "missing volume: each supplier weighs 1",
			ents: []*Entity{ent("P", "Facility", "US"), ent("A", "Facility", "CN"), ent("B", "Facility", "US"),
				ent("C", "Facility", "CN")},
			rels: []*Relationship{supplies("A", "P", 100, ""), supplies("B", "P", -1, ""), supplies("C", "P", 300, "")},
			of:   "P", country: "CN", upstream: true, share: 2.0 / 3,
			entities: []string{"A", "C"}, paths: []string{"P A", "P C"},
		},
		{
			name: "all volumes 0: each supplier weighs 1",
			ents: []*Entity{ent("P", "Facility", "US"), ent("A", "Facility", "CN"), ent("B", "Facility", "US")},
			rels: []*Relationship{supplies("A", "P", 0, ""), supplies("B", "P", 0, "")},
			of:   "P", country: "CN", upstream: true, share: 0.5,
			entities: []string{"A"}, paths: []string{"P A"},
		},
		{
			name: "a volume of 0 carries nothing",
			ents: []*Entity{ent("P", "Facility", "US"), ent("A", "Facility", "CN"), ent("B", "Facility", "US")},
			rels: []*Relationship{supplies("A", "P", 0, ""), supplies("B", "P", 100, "")},
			of:   "P", country: "CN", upstream: true, share: 0,
			entities: []string{}, paths: []string{},
		},
		{
			name: "parallel relationships add up",
			ents: []*Entity{ent("P", "Facility", "US"), ent("A", "Facility", "CN"), ent("B", "Facility", "US")},
			rels: []*Relationship{supSuppliesID("a1", "A", "P", 100, "oxide"), supSuppliesID("a2", "A", "P", 100, "metal"),
				supplies("B", "P", 200, "")},
			of: "P", country: "CN", upstream: true, share: 0.5,
			entities: []string{"A"}, paths: []string{"P A"},
		},
		{
			name: "parallel relationships, one without volume",
			ents: []*Entity{ent("P", "Facility", "US"), ent("A", "Facility", "CN"), ent("B", "Facility", "US")},
			rels: []*Relationship{supSuppliesID("a1", "A", "P", 100, ""), supSuppliesID("a2", "A", "P", -1, ""),
				supplies("B", "P", 900, "")},
			of: "P", country: "CN", upstream: true, share: 0.5,
			entities: []string{"A"}, paths: []string{"P A"},
		},
		{
			name: "no suppliers",
			ents: []*Entity{ent("P", "Facility", "CN")},
			of:   "P", country: "CN", upstream: true, share: 0,
			entities: []string{}, paths: []string{},
		},
		{
			// M ships ¼ to S1 (CN) and ¾ to S2, which ships half of it to P1 (CN).
			name: "downstream",
			ents: []*Entity{ent("M", "Facility", "AU"), ent("S1", "Facility", "CN"), ent("S2", "Facility", "MY"),
				ent("P1", "Facility", "CN"), ent("P2", "Facility", "US")},
			rels: []*Relationship{supplies("M", "S1", 100, ""), supplies("M", "S2", 300, ""),
				supplies("S2", "P1", 50, ""), supplies("S2", "P2", 50, "")},
			of: "M", country: "CN", upstream: false, share: 0.625,
			entities: []string{"P1", "S1"}, paths: []string{"M S2 P1", "M S1"},
		},
		{
			name: "downstream of the worked example's mine",
			ents: []*Entity{ent("M1", "Facility", "AU"), ent("M2", "Facility", "CN"), ent("S", "Facility", "MY"),
				ent("P", "Facility", "US"), ent("M3", "Facility", "US")},
			rels: []*Relationship{supplies("M1", "S", 100, ""), supplies("M2", "S", 300, ""),
				supplies("S", "P", 400, ""), supplies("M3", "P", 100, "")},
			of: "M2", country: "US", upstream: false, share: 1,
			entities: []string{"P"}, paths: []string{"M2 S P"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newMemView(t, Date{}, Limits{}, tt.ents, tt.rels)
			x := supMustExposure(t, v, tt.of, tt.country, tt.upstream)
			if !supNear(x.Share, tt.share) {
				t.Errorf("exposure(%s, %s, upstream %v).share = %.12f, want %.12f", tt.of, tt.country, tt.upstream, x.Share, tt.share)
			}
			if got := travEntityIDs(x.Entities); !slices.Equal(got, tt.entities) {
				t.Errorf("exposure(%s, %s).entities = %v, want %v", tt.of, tt.country, got, tt.entities)
			}
			if got := supPathIDs(x.Paths); !slices.Equal(got, tt.paths) {
				t.Errorf("exposure(%s, %s).paths = %v, want %v", tt.of, tt.country, got, tt.paths)
			}
			if x.Entities == nil || x.Paths == nil {
				t.Errorf("exposure(%s, %s): nil slices, want empty ones", tt.of, tt.country)
			}
		})
	}
}

func TestSupplyExposureAsOf(t *testing.T) {
	ended := supplies("A", "P", 100, "")
	ended.ValidTo = MustParseDate("2020-01-01")
	ents := []*Entity{ent("P", "Facility", "US"), ent("A", "Facility", "CN"), ent("B", "Facility", "US")}
	rels := []*Relationship{ended, supplies("B", "P", 100, "")}
	for _, tt := range []struct {
		date  string
		share float64
	}{{"2019-06-01", 0.5}, {"2024-06-01", 0}} {
		v := newMemView(t, MustParseDate(tt.date), Limits{}, ents, rels)
		if x := supMustExposure(t, v, "P", "CN", true); !supNear(x.Share, tt.share) {
			t.Errorf("exposure(P, CN) on %s = %v, want %v", tt.date, x.Share, tt.share)
		}
	}
}

func TestSupplyExposureArguments(t *testing.T) {
	v := supWorkedExample(t, Limits{})
	for _, cc := range []string{"", "cn", "Cn", "CHN", "C1", "É"} {
		_, err := exposureOf(v, "P", cc, true)
		if e, ok := err.(*Error); !ok || e.Code != EINVALID || e.Field != "country" {
			t.Errorf("exposure(P, %q) error %v, want %s on country", cc, err, EINVALID)
		}
	}
	if _, err := exposureOf(v, "nobody", "CN", true); ErrorCode(err) != ENOTFOUND {
		t.Errorf("exposure(nobody) error %v, want %s", err, ENOTFOUND)
	}
}

// supLayers returns a layered supply graph of depth layers of two facilities each, every
// facility supplying both of the next layer: 2^depth supply paths from the top to the
// bottom. The bottom layer lies in CN, everything else in US.
func supLayers(depth int) ([]*Entity, []*Relationship) {
	id := func(l, k int) string { return fmt.Sprintf("L%d-%d", l, k) }
	var ents []*Entity
	var rels []*Relationship
	for l := 0; l <= depth; l++ {
		cc := "US"
		if l == depth {
			cc = "CN"
		}
		for k := range 2 {
			ents = append(ents, ent(id(l, k), "Facility", cc))
			if l > 0 {
				for j := range 2 {
					rels = append(rels, supplies(id(l, k), id(l-1, j), float64(100+37*k+11*j+l), ""))
				}
			}
		}
	}
	return ents, rels
}

func TestSupplyExposureAcyclicIsLinear(t *testing.T) {
	// 2^40 paths: enumerating them would run out of the budget; pushing mass does not.
	ents, rels := supLayers(40)
	v := newMemView(t, Date{}, Limits{MaxVisits: 1000}, ents, rels)
	x := supMustExposure(t, v, "L0-0", "CN", true)
	if !supNear(x.Share, 1) {
		t.Errorf("share = %v, want 1", x.Share)
	}
	if got := travEntityIDs(x.Entities); len(got) != 2 {
		t.Errorf("entities = %v, want L40-0 and L40-1", got)
	}
	for _, p := range x.Paths {
		if p.Length() != 40 {
			t.Errorf("path of length %d, want 40", p.Length())
		}
	}
}

func TestSupplyExposureCycleBudget(t *testing.T) {
	// A complete supply digraph on 14 facilities has more simple paths than 5,000 steps.
	var ents []*Entity
	var rels []*Relationship
	for i := range 14 {
		ents = append(ents, ent(fmt.Sprintf("k%d", i), "Facility", "US"))
	}
	ents = append(ents, ent("cn", "Facility", "CN"))
	for i := range 14 {
		for j := range 14 {
			if i != j {
				rels = append(rels, supplies(ents[i].ID, ents[j].ID, float64(1+i+j), ""))
			}
		}
		rels = append(rels, supplies("cn", ents[i].ID, 5, ""))
	}
	v := newMemView(t, Date{}, Limits{MaxVisits: 5000}, ents, rels)
	_, err := exposureOf(v, "k0", "CN", true)
	if got := ErrorCode(err); got != ELIMIT {
		t.Errorf("exposure error %v, code %q, want %q", err, got, ELIMIT)
	}
	v = newMemView(t, Date{}, Limits{MaxVisits: 10}, ents, rels)
	_, err = exposureOf(v, "k0", "CN", true)
	if got := ErrorCode(err); got != ELIMIT {
		t.Errorf("exposure with 10 visits: error %v, code %q, want %q", err, got, ELIMIT)
	}
}

// supRef is the brute-force reference for exposure: semantics.md's recursive dep()
// evaluated by enumerating every path, straight from the relationship list.
type supRef struct {
	country map[string]string
	rels    []*Relationship
}

// exposure returns dep(of), the part of it that each entity in country carries, and the
// fewest SUPPLIES relationships from `of` to each entity that carries a part.
func (r *supRef) exposure(of, country string, upstream bool) (float64, map[string]float64, map[string]int) {
	group := map[string]string{of: of}
	for _, rel := range r.rels {
		if rel.Type == TypeOperates && rel.From == of {
			group[rel.To] = of
		}
	}
	g := func(id string) string {
		if x, ok := group[id]; ok {
			return x
		}
		return id
	}
	type weight struct {
		partner string
		w       float64
	}
	partners := func(n string) []weight {
		var ws []weight
		missing := false
		for _, rel := range r.rels {
			if rel.Type != TypeSupplies {
				continue
			}
			self, other := rel.To, rel.From
			if !upstream {
				self, other = rel.From, rel.To
			}
			if g(self) != n {
				continue
			}
			var props struct{ VolumeTpa *float64 }
			_ = json.Unmarshal(rel.Properties, &props)
			vol := 0.0
			if props.VolumeTpa == nil {
				missing = true
			} else {
				vol = *props.VolumeTpa
			}
			k := slices.IndexFunc(ws, func(w weight) bool { return w.partner == g(other) })
			if k < 0 {
				ws = append(ws, weight{g(other), vol})
			} else {
				ws[k].w += vol
			}
		}
		total := 0.0
		for _, w := range ws {
			total += w.w
		}
		for k := range ws {
			if missing || total == 0 {
				ws[k].w = 1 / float64(len(ws))
			} else {
				ws[k].w /= total
			}
		}
		return ws
	}
	part := map[string]float64{}
	onPath := map[string]bool{of: true}
	var dep func(n string, carried float64) float64
	dep = func(n string, carried float64) float64 {
		if n != of && r.country[n] == country {
			part[n] += carried
			return 1
		}
		sum := 0.0
		for _, w := range partners(n) {
			if onPath[w.partner] {
				continue // back to the path: contributes 0
			}
			onPath[w.partner] = true
			sum += w.w * dep(w.partner, carried*w.w)
			onPath[w.partner] = false
		}
		return sum
	}
	share := dep(of, 1)
	dist := map[string]int{of: 0}
	queue := []string{of}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if n != of && r.country[n] == country {
			continue
		}
		for _, w := range partners(n) {
			if _, ok := dist[w.partner]; !ok && w.w > 0 {
				dist[w.partner] = dist[n] + 1
				queue = append(queue, w.partner)
			}
		}
	}
	for id, p := range part {
		if p == 0 {
			delete(part, id)
		}
	}
	return share, part, dist
}

var supCountries = []string{"CN", "AU", "US", "MY"}

// supRandomGraph returns a random supply graph: n facilities, companies co0 and co1 that
// operate some of them, and SUPPLIES with volumes that are sometimes 0, sometimes
// missing, sometimes parallel. Acyclic graphs only supply from higher to lower index.
func supRandomGraph(rng *rand.Rand, n int, cyclic bool) ([]*Entity, []*Relationship) {
	var ents []*Entity
	for i := range n {
		// Half in US, so that paths run through several entities outside the country
		// asked about.
		cc := "US"
		if rng.IntN(2) == 0 {
			cc = supCountries[rng.IntN(len(supCountries))]
		}
		ents = append(ents, ent(fmt.Sprintf("f%d", i), "Facility", cc))
	}
	ents = append(ents, ent("co0", "Company", supCountries[rng.IntN(len(supCountries))]),
		ent("co1", "Company", supCountries[rng.IntN(len(supCountries))]))
	var rels []*Relationship
	for c := range 2 {
		for range rng.IntN(3) {
			rels = append(rels, supOperatesRel(fmt.Sprintf("co%d", c), fmt.Sprintf("f%d", rng.IntN(n))))
		}
	}
	m := rng.IntN(2*n + 2)
	if cyclic {
		m = n + 2 + rng.IntN(2*n)
	}
	materials := []string{"oxide", "metal", ""}
	for i := range m {
		a, b := rng.IntN(n+2), rng.IntN(n+2)
		if !cyclic {
			if a == b {
				continue
			}
			if a < b {
				a, b = b, a
			}
		}
		vol := float64(rng.IntN(500))
		switch x := rng.IntN(10); {
		case x == 0:
			vol = 0
		case x == 1:
			vol = -1 // missing
		}
		rels = append(rels, supSuppliesID(fmt.Sprintf("s%d", i), ents[a].ID, ents[b].ID, vol, materials[rng.IntN(3)]))
	}
	return ents, rels
}

// supCheckSupplyWalk checks that p runs from its first entity over at most an OPERATES
// relationship from it, then SUPPLIES against the flow (upstream) or with it, and
// returns the number of SUPPLIES relationships.
func supCheckSupplyWalk(p Path, upstream bool) (int, error) {
	n := 0
	for i, r := range p.Relationships {
		a, b := p.Entities[i].ID, p.Entities[i+1].ID
		switch {
		case r.Type == TypeOperates && i == 0 && r.From == a && r.To == b:
		case r.Type == TypeSupplies && upstream && r.From == b && r.To == a,
			r.Type == TypeSupplies && !upstream && r.From == a && r.To == b:
			n++
		default:
			return 0, fmt.Errorf("path %v: relationship %s %s→%s does not lead from %s to %s", travEntityIDs(p.Entities), r.Type, r.From, r.To, a, b)
		}
	}
	return n, nil
}

func TestSupplyExposureMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	positive, throughCycles := 0, 0
	defer func() { t.Logf("%d cases with a positive share, %d through a cycle", positive, throughCycles) }()
	for round := range 1000 {
		cyclic := round%3 > 0
		n := 2 + rng.IntN(8)
		ents, rels := supRandomGraph(rng, n, cyclic)
		v := newMemView(t, Date{}, Limits{}, ents, rels)
		ref := &supRef{country: map[string]string{}, rels: rels}
		for _, e := range ents {
			ref.country[e.ID] = e.Country
		}
		for range 3 {
			of := ents[rng.IntN(len(ents))].ID
			country := supCountries[rng.IntN(len(supCountries))]
			upstream := rng.IntN(3) > 0
			what := fmt.Sprintf("round %d (cyclic %v): exposure(%s, %s, upstream %v) of %s", round, cyclic, of, country, upstream, supGraphString(rels))
			x, err := exposureOf(v, of, country, upstream)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			share, part, dist := ref.exposure(of, country, upstream)
			if !supNear(x.Share, share) {
				t.Fatalf("%s: share = %.15f, want %.15f", what, x.Share, share)
			}
			if share > 0 {
				positive++
				if supThroughCycle(t, v, of, country, upstream) {
					throughCycles++
				}
			}
			got := travEntityIDs(x.Entities)
			want := make([]string, 0, len(part))
			for id := range part {
				want = append(want, id)
			}
			if !slices.Equal(travSorted(got), travSorted(want)) {
				t.Fatalf("%s: entities %v, want %v (parts %v)", what, got, want, part)
			}
			if !slices.IsSortedFunc(got, func(a, b string) int {
				if math.Abs(part[a]-part[b]) <= 1e-12 {
					return 0
				}
				return cmp.Compare(part[b], part[a])
			}) {
				t.Fatalf("%s: entities %v not largest part first (parts %v)", what, got, part)
			}
			if len(x.Paths) != len(x.Entities) {
				t.Fatalf("%s: %d paths for %d entities", what, len(x.Paths), len(x.Entities))
			}
			for i, p := range x.Paths {
				if p.Entities[0].ID != of || p.Entities[len(p.Entities)-1].ID != got[i] {
					t.Fatalf("%s: path %d runs %v, want %s to %s", what, i, travEntityIDs(p.Entities), of, got[i])
				}
				hops, err := supCheckSupplyWalk(p, upstream)
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				if hops != dist[got[i]] {
					t.Fatalf("%s: path %v has %d SUPPLIES, want %d", what, travEntityIDs(p.Entities), hops, dist[got[i]])
				}
			}
		}
	}
	if positive < 500 || throughCycles < 200 {
		t.Errorf("%d cases with a positive share, %d of them through a supply cycle; the test is too weak", positive, throughCycles)
	}
}

// supThroughCycle reports whether mass reaches a cyclic component of the supply network
// of exposure(of, country, upstream).
func supThroughCycle(t *testing.T, v view, of, country string, upstream bool) bool {
	t.Helper()
	root, err := v.lookup(of)
	if err != nil {
		t.Fatal(err)
	}
	ops, err := supFacilities(v, root)
	if err != nil {
		t.Fatal(err)
	}
	g, err := collectSupNet(v, root, ops, supDirection(upstream), country)
	if err != nil {
		t.Fatal(err)
	}
	comp, count := g.components()
	size := make([]int, count)
	for _, c := range comp {
		size[c]++
	}
	parent := g.shortest()
	for i, c := range comp {
		if size[c] > 1 && (i == 0 || parent[i] >= 0) {
			return true
		}
	}
	return false
}

func supGraphString(rels []*Relationship) string {
	var b strings.Builder
	for _, r := range rels {
		fmt.Fprintf(&b, " %s:%s>%s%s", r.Type[:3], r.From, r.To, r.Properties)
	}
	return b.String()
}

// supChainGraph: K (US) operates F (MY); S (CN) → F oxide, T (AU) → F Oxide, M (CN) → S
// concentrate; F → C (US) metal, C → E (US) metal; X unrelated.
func supChainGraph(tb testing.TB, lim Limits) *memView {
	tb.Helper()
	ents := []*Entity{ent("K", "Company", "US"), ent("F", "Facility", "MY"), ent("S", "Facility", "CN"),
		ent("T", "Facility", "AU"), ent("M", "Facility", "CN"), ent("C", "Facility", "US"), ent("E", "Facility", "US"),
		ent("X", "Facility", "US")}
	rels := []*Relationship{supOperatesRel("K", "F"), supplies("S", "F", 100, "oxide"), supplies("T", "F", 50, "Oxide"),
		supplies("M", "S", 100, "concentrate"), supplies("F", "C", 80, "metal"), supplies("C", "E", 80, "metal"),
		supplies("X", "E", 10, "metal")}
	return newMemView(tb, Date{}, lim, ents, rels)
}

func TestSupplyChain(t *testing.T) {
	tests := []struct {
		name      string
		of        string
		upstream  bool
		material  string
		maxDepth  int
		lim       Limits
		entities  []string // sorted
		rels      []string // sorted
		truncated bool
	}{
		{"upstream of a company", "K", true, "", 8, Limits{}, []string{"F", "K", "M", "S", "T"},
			[]string{"M>S", "S>F", "T>F", "op:K>F"}, false},
		{"upstream, material ignores case", "K", true, "OXIDE", 8, Limits{}, []string{"F", "K", "S", "T"},
			[]string{"S>F", "T>F", "op:K>F"}, false},
		{"upstream, depth 1", "K", true, "", 1, Limits{}, []string{"F", "K", "S", "T"},
			[]string{"S>F", "T>F", "op:K>F"}, false},
		{"depth 0", "K", true, "", 0, Limits{}, []string{"F", "K"}, []string{"op:K>F"}, false},
		{"downstream of a company", "K", false, "", 8, Limits{}, []string{"C", "E", "F", "K"},
			[]string{"C>E", "F>C", "op:K>F"}, false},
		{"downstream of a facility", "F", false, "", 8, Limits{}, []string{"C", "E", "F"},
			[]string{"C>E", "F>C"}, false},
		{"upstream of an end", "E", true, "metal", 8, Limits{}, []string{"C", "E", "F", "X"},
			[]string{"C>E", "F>C", "X>E"}, false},
		{"material matches nothing", "E", true, "oxide", 8, Limits{}, []string{"E"}, []string{}, false},
		{"cap", "K", true, "", 8, Limits{MaxSubgraph: 3}, []string{"F", "K", "S"},
			[]string{"S>F", "op:K>F"}, true},
		{"budget", "K", true, "", 8, Limits{MaxVisits: 2}, []string{"F", "K", "S"},
			[]string{"S>F", "op:K>F"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := supChainGraph(t, tt.lim)
			g, err := supplyChainOf(v, tt.of, tt.upstream, tt.material, tt.maxDepth, false)
			if err != nil {
				t.Fatalf("supplyChain(%s, upstream %v, %q, %d) error %v", tt.of, tt.upstream, tt.material, tt.maxDepth, err)
			}
			travCheckSubgraph(t, tt.name, g, []string{tt.of})
			if g.Entities[0].ID != tt.of {
				t.Errorf("first entity %s, want %s", g.Entities[0].ID, tt.of)
			}
			if got := travSorted(travEntityIDs(g.Entities)); !slices.Equal(got, tt.entities) {
				t.Errorf("entities = %v, want %v", got, tt.entities)
			}
			if got := travSorted(travRelIDs(g.Relationships)); !slices.Equal(got, tt.rels) {
				t.Errorf("relationships = %v, want %v", got, tt.rels)
			}
			if g.Truncated != tt.truncated {
				t.Errorf("truncated = %v, want %v", g.Truncated, tt.truncated)
			}
		})
	}
	v := supChainGraph(t, Limits{MaxDepth: 4})
	if _, err := supplyChainOf(v, "K", true, "", 5, false); ErrorCode(err) != ELIMIT {
		t.Errorf("supplyChain maxDepth 5 over a cap of 4: error %v, want %s", err, ELIMIT)
	}
	if _, err := supplyChainOf(v, "K", true, "", -1, false); ErrorCode(err) != EINVALID {
		t.Errorf("supplyChain maxDepth -1: error %v, want %s", err, EINVALID)
	}
	if _, err := supplyChainOf(v, "nobody", true, "", 1, false); ErrorCode(err) != ENOTFOUND {
		t.Errorf("supplyChain(nobody): error %v, want %s", err, ENOTFOUND)
	}
}

// supPathsGraph: K (US) operates F1 (AU) and F2 (CN); L (JP) operates G1 (JP) and G2
// (US). F2 → G1 oxide; F1 → X (MY) → G1 oxide; F1 → Y (CN) → G1 oxide; F1 → Z (US) →
// G2 metal.
func supPathsGraph(tb testing.TB, lim Limits) *memView {
	tb.Helper()
	ents := []*Entity{ent("K", "Company", "US"), ent("F1", "Facility", "AU"), ent("F2", "Facility", "CN"),
		ent("L", "Company", "JP"), ent("G1", "Facility", "JP"), ent("G2", "Facility", "US"),
		ent("X", "Facility", "MY"), ent("Y", "Facility", "CN"), ent("Z", "Facility", "US")}
	rels := []*Relationship{supOperatesRel("K", "F1"), supOperatesRel("K", "F2"), supOperatesRel("L", "G1"), supOperatesRel("L", "G2"),
		supplies("F2", "G1", 10, "oxide"), supplies("F1", "X", 10, "oxide"), supplies("X", "G1", 10, "oxide"),
		supplies("F1", "Y", 10, "oxide"), supplies("Y", "G1", 10, "oxide"), supplies("F1", "Z", 10, "metal"),
		supplies("Z", "G2", 10, "metal")}
	return newMemView(tb, Date{}, lim, ents, rels)
}

// supSupplyHops counts the SUPPLIES relationships of p.
func supSupplyHops(p Path) int {
	n := 0
	for _, r := range p.Relationships {
		if r.Type == TypeSupplies {
			n++
		}
	}
	return n
}

// supCheckSupplyPath checks that p runs from `from` to `to`: an optional OPERATES from
// `from`, SUPPLIES with the flow, an optional OPERATES from `to` followed backwards, and
// no entity twice.
func supCheckSupplyPath(p Path, from, to string) error {
	ids := travEntityIDs(p.Entities)
	if ids[0] != from || ids[len(ids)-1] != to {
		return fmt.Errorf("path %v does not run from %s to %s", ids, from, to)
	}
	if len(slices.Compact(travSorted(ids))) != len(ids) {
		return fmt.Errorf("path %v is not simple", ids)
	}
	last := len(p.Relationships) - 1
	for i, r := range p.Relationships {
		a, b := ids[i], ids[i+1]
		switch {
		case r.Type == TypeSupplies && r.From == a && r.To == b:
		case r.Type == TypeOperates && i == 0 && r.From == from && r.To == b:
		case r.Type == TypeOperates && i == last && r.From == to && r.To == a:
		default:
			return fmt.Errorf("path %v: relationship %s %s→%s does not lead from %s to %s", ids, r.Type, r.From, r.To, a, b)
		}
	}
	return nil
}

func TestSupplyPaths(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		material string
		avoid    []string
		maxDepth int
		first    int
		want     []string // entity ids of each path; within one length in any order
	}{
		{"companies", "K", "L", "", nil, 8, 10,
			[]string{"K F2 G1 L", "K F1 X G1 L", "K F1 Y G1 L", "K F1 Z G2 L"}},
		{"material", "K", "L", "OXIDE", nil, 8, 10, []string{"K F2 G1 L", "K F1 X G1 L", "K F1 Y G1 L"}},
		{"avoid CN", "K", "L", "", []string{"CN"}, 8, 10, []string{"K F1 X G1 L", "K F1 Z G2 L"}},
		{"avoid CN and JP", "K", "L", "", []string{"CN", "JP"}, 8, 10, []string{"K F1 Z G2 L"}},
		{"avoid CN, material oxide", "K", "L", "oxide", []string{"CN"}, 8, 10, []string{"K F1 X G1 L"}},
		{"maxDepth 1", "K", "L", "", nil, 1, 10, []string{"K F2 G1 L"}},
		{"first 1", "K", "L", "", nil, 8, 1, []string{"K F2 G1 L"}},
		{"facilities", "F1", "G1", "", nil, 8, 10, []string{"F1 X G1", "F1 Y G1"}},
		{"ends are exempt", "F2", "L", "", []string{"CN"}, 8, 10, []string{"F2 G1 L"}},
		{"facilities of the ends are not", "K", "L", "", []string{"JP"}, 8, 10, []string{"K F1 Z G2 L"}},
		{"to a facility of from", "K", "F1", "", nil, 8, 10, []string{"K F1"}},
		{"against the flow", "L", "K", "", nil, 8, 10, []string{}},
		{"itself", "X", "X", "", nil, 8, 10, []string{"X"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := supPathsGraph(t, Limits{})
			ps, err := supplyPathsOf(v, tt.from, tt.to, tt.material, tt.avoid, tt.maxDepth, tt.first)
			if err != nil {
				t.Fatalf("supplyPaths(%s, %s, %q, %v, %d, %d) error %v", tt.from, tt.to, tt.material, tt.avoid, tt.maxDepth, tt.first, err)
			}
			if ps == nil {
				t.Fatalf("supplyPaths = nil, want an empty slice")
			}
			got := supPathIDs(ps)
			for _, p := range ps {
				if err := supCheckSupplyPath(p, tt.from, tt.to); err != nil {
					t.Error(err)
				}
			}
			if !slices.IsSortedFunc(ps, func(a, b Path) int { return supSupplyHops(a) - supSupplyHops(b) }) {
				t.Errorf("supplyPaths = %v, not fewest SUPPLIES first", got)
			}
			if !slices.Equal(travSorted(got), travSorted(tt.want)) {
				t.Errorf("supplyPaths(%s, %s, %q, %v, %d, %d) = %v, want %v", tt.from, tt.to, tt.material, tt.avoid, tt.maxDepth, tt.first, got, tt.want)
			}
		})
	}
}

func TestSupplyPathsArguments(t *testing.T) {
	v := supPathsGraph(t, Limits{MaxDepth: 5, MaxFirst: 20})
	tests := []struct {
		name  string
		call  func() error
		code  string
		field string
	}{
		{"lower-case country", func() error { _, err := supplyPathsOf(v, "K", "L", "", []string{"cn"}, 3, 1); return err }, EINVALID, "avoidCountries"},
		{"three letters", func() error { _, err := supplyPathsOf(v, "K", "L", "", []string{"US", "CHN"}, 3, 1); return err }, EINVALID, "avoidCountries"},
		{"maxDepth over cap", func() error { _, err := supplyPathsOf(v, "K", "L", "", nil, 6, 1); return err }, ELIMIT, "maxDepth"},
		{"first 0", func() error { _, err := supplyPathsOf(v, "K", "L", "", nil, 3, 0); return err }, EINVALID, "first"},
		{"first over cap", func() error { _, err := supplyPathsOf(v, "K", "L", "", nil, 3, 21); return err }, ELIMIT, "first"},
		{"unknown from", func() error { _, err := supplyPathsOf(v, "nobody", "L", "", nil, 3, 1); return err }, ENOTFOUND, ""},
		{"unknown to", func() error { _, err := supplyPathsOf(v, "K", "nobody", "", nil, 3, 1); return err }, ENOTFOUND, ""},
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

// supRefPaths enumerates the supply paths of supplyPathsOf by brute force: from `from`
// or a facility it operates, SUPPLIES with the flow carrying material, through entities
// that are neither ends nor their facilities nor in avoid, to the first of `to` or its
// facilities reached, at most maxDepth SUPPLIES. Each path is keyed by its start and
// relationship ids; the value is its number of SUPPLIES.
func supRefPaths(ents []*Entity, rels []*Relationship, from, to, material string, avoid []string, maxDepth int) map[string]int {
	country := map[string]string{}
	for _, e := range ents {
		country[e.ID] = e.Country
	}
	ends := func(n string) []string {
		out := []string{n}
		for _, r := range rels {
			if r.Type == TypeOperates && r.From == n && r.To != n && !slices.Contains(out, r.To) && !slices.Contains(avoid, country[r.To]) {
				out = append(out, r.To)
			}
		}
		return out
	}
	srcs, dsts := ends(from), ends(to)
	if slices.Contains(dsts, from) {
		srcs = srcs[:1]
	}
	out := map[string]int{}
	var ids []string
	onPath := map[string]bool{}
	var dfs func(start, n string)
	dfs = func(start, n string) {
		if slices.Contains(dsts, n) {
			out[start+":"+strings.Join(ids, ",")] = len(ids)
			return
		}
		if len(ids) == maxDepth {
			return
		}
		for _, r := range rels {
			if r.Type != TypeSupplies || r.From != n || onPath[r.To] {
				continue
			}
			if material != "" && !strings.EqualFold(supRelMaterial(r), material) {
				continue
			}
			m := r.To
			if !slices.Contains(dsts, m) && (slices.Contains(srcs, m) || slices.Contains(avoid, country[m])) {
				continue
			}
			ids = append(ids, r.ID)
			onPath[m] = true
			dfs(start, m)
			onPath[m] = false
			ids = ids[:len(ids)-1]
		}
	}
	for _, s := range srcs {
		clear(onPath)
		onPath[s] = true
		for _, x := range srcs {
			// A path may end at a facility of `from` that is also an end.
			onPath[x] = !slices.Contains(dsts, x)
		}
		dfs(s, s)
	}
	return out
}

func supRelMaterial(r *Relationship) string {
	var props struct{ Material string }
	_ = json.Unmarshal(r.Properties, &props)
	return props.Material
}

func TestSupplyPathsMatchBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	nonEmpty := 0
	for round := range 500 {
		n := 2 + rng.IntN(8)
		ents, rels := supRandomGraph(rng, n, true)
		v := newMemView(t, Date{}, Limits{}, ents, rels)
		from, to := ents[rng.IntN(len(ents))].ID, ents[rng.IntN(len(ents))].ID
		material := []string{"", "", "OXIDE", "metal"}[rng.IntN(4)]
		var avoid []string
		if rng.IntN(2) == 0 {
			avoid = []string{supCountries[rng.IntN(len(supCountries))]}
		}
		maxDepth, first := rng.IntN(6), 1+rng.IntN(8)
		what := fmt.Sprintf("round %d: supplyPaths(%s, %s, %q, %v, %d, %d) of %s", round, from, to, material, avoid, maxDepth, first, supGraphString(rels))
		ps, err := supplyPathsOf(v, from, to, material, avoid, maxDepth, first)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		want := supRefPaths(ents, rels, from, to, material, avoid, maxDepth)
		if len(want) > 0 {
			nonEmpty++
		}
		if got, wantN := len(ps), min(first, len(want)); got != wantN {
			t.Fatalf("%s: %d paths %v, want %d of %v", what, got, supPathIDs(ps), wantN, want)
		}
		seen := map[string]bool{}
		longest := 0
		for _, p := range ps {
			if err := supCheckSupplyPath(p, from, to); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			start, k := p.Entities[0].ID, 0
			if len(p.Relationships) > 0 && p.Relationships[0].Type == TypeOperates && p.Relationships[0].From == from {
				start, k = p.Entities[1].ID, 1
			}
			var ids []string
			for _, r := range p.Relationships[k:] {
				if r.Type == TypeSupplies {
					ids = append(ids, r.ID)
				}
			}
			key := start + ":" + strings.Join(ids, ",")
			hops, ok := want[key]
			if !ok {
				t.Fatalf("%s: path %v (%s) is not a reference path %v", what, supPathIDs([]Path{p}), key, want)
			}
			if seen[key] {
				t.Fatalf("%s: path %s twice", what, key)
			}
			seen[key] = true
			if hops < longest {
				t.Fatalf("%s: paths not fewest SUPPLIES first: %v", what, supPathIDs(ps))
			}
			longest = hops
		}
		for k, hops := range want {
			if hops < longest && !seen[k] {
				t.Fatalf("%s: path %s with %d SUPPLIES missing while one with %d was returned", what, k, hops, longest)
			}
		}
	}
	if nonEmpty < 100 {
		t.Errorf("only %d of 500 random cases had supply paths; the test is too weak", nonEmpty)
	}
}

func TestSupplyPathsBudget(t *testing.T) {
	// 512 paths from L10-0 to L0-0: reading takes under 100 visits, enumerating them
	// more than 500 steps.
	ents, rels := supLayers(10)
	v := newMemView(t, Date{}, Limits{MaxVisits: 500, MaxFirst: 5000}, ents, rels)
	_, err := supplyPathsOf(v, "L10-0", "L0-0", "", nil, 12, 5000)
	if got := ErrorCode(err); got != ELIMIT {
		t.Errorf("supplyPaths error %v, code %q, want %q", err, got, ELIMIT)
	}
	v = newMemView(t, Date{}, Limits{MaxVisits: 5}, ents, rels)
	_, err = supplyPathsOf(v, "L10-0", "L0-0", "", nil, 12, 10)
	if got := ErrorCode(err); got != ELIMIT {
		t.Errorf("supplyPaths with 5 visits: error %v, code %q, want %q", err, got, ELIMIT)
	}
}

// TestSupplyOnStore runs the supply analytics and the traversals on the Badger-backed
// view, whose arcs carry volume and material in the hot payload.
func TestSupplyOnStore(t *testing.T) {
	s := MustOpenStore(t)
	b := &Batch{}
	for _, e := range []*Entity{ent("M1", "Facility", "AU"), ent("M2", "Facility", "CN"), ent("S", "Facility", "MY"),
		ent("P", "Facility", "US"), ent("M3", "Facility", "US"), ent("K", "Company", "US")} {
		b.Entities = append(b.Entities, *e)
	}
	for _, r := range []*Relationship{supplies("M1", "S", 100, "oxide"), supplies("M2", "S", 300, "Oxide"),
		supplies("S", "P", 400, "metal"), supplies("M3", "P", 100, "metal"), supOperatesRel("K", "P")} {
		b.Relationships = append(b.Relationships, *r)
	}
	MustApply(t, s, b)
	err := s.read(context.Background(), Date{}, func(v *txnView) error {
		x, err := exposureOf(v, "K", "CN", true)
		if err != nil {
			return err
		}
		if !supNear(x.Share, 0.6) || !slices.Equal(supPathIDs(x.Paths), []string{"K P S M2"}) {
			t.Errorf("exposure(K, CN) = %v %v, want 0.6 [K P S M2]", x.Share, supPathIDs(x.Paths))
		}
		g, err := supplyChainOf(v, "K", true, "oxide", 8, false)
		if err != nil {
			return err
		}
		if got := travSorted(travEntityIDs(g.Entities)); !slices.Equal(got, []string{"K", "P"}) {
			t.Errorf("supplyChain(K, oxide) = %v, want [K P]", got)
		}
		g, err = supplyChainOf(v, "P", true, "", 8, false)
		if err != nil {
			return err
		}
		if got := travSorted(travEntityIDs(g.Entities)); !slices.Equal(got, []string{"M1", "M2", "M3", "P", "S"}) {
			t.Errorf("supplyChain(P) = %v, want [M1 M2 M3 P S]", got)
		}
		ps, err := supplyPathsOf(v, "M2", "K", "", []string{"AU"}, 8, 10)
		if err != nil {
			return err
		}
		if got := supPathIDs(ps); !slices.Equal(got, []string{"M2 S P K"}) {
			t.Errorf("supplyPaths(M2, K) = %v, want [M2 S P K]", got)
		}
		p, err := shortestPathOf(v, "M1", "M3", nil, Both, 8)
		if err != nil {
			return err
		}
		if p == nil || !slices.Equal(travEntityIDs(p.Entities), []string{"M1", "S", "P", "M3"}) {
			t.Errorf("shortestPath(M1, M3) = %v, want M1 S P M3", p)
		}
		all, err := pathsOf(v, "M1", "K", nil, Both, 8, 10)
		if err != nil {
			return err
		}
		if got := supPathIDs(all); !slices.Equal(got, []string{"M1 S P K"}) {
			t.Errorf("paths(M1, K) = %v, want [M1 S P K]", got)
		}
		sg, err := subgraphOf(v, []string{"S"}, 1, nil, Both, 10, false)
		if err != nil {
			return err
		}
		travCheckSubgraph(t, "subgraph(S)", sg, []string{"S"})
		if got := travSorted(travEntityIDs(sg.Entities)); !slices.Equal(got, []string{"M1", "M2", "P", "S"}) {
			t.Errorf("subgraph(S) = %v, want [M1 M2 P S]", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
