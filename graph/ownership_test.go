package graph

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// ownView returns a memView valid on date over rels, with a Company entity for every id
// they name; ents adds or replaces entities (e.g. a Person).
func ownView(tb testing.TB, date Date, lim Limits, ents []*Entity, rels ...*Relationship) *memView {
	tb.Helper()
	byID := map[string]*Entity{}
	var all []*Entity
	add := func(e *Entity) {
		if _, ok := byID[e.ID]; !ok {
			all = append(all, e)
		}
		byID[e.ID] = e
	}
	for _, e := range ents {
		add(e)
	}
	for _, r := range rels {
		for _, id := range []string{r.From, r.To} {
			if _, ok := byID[id]; !ok {
				add(ent(id, "Company", ""))
			}
		}
	}
	for i, e := range all {
		all[i] = byID[e.ID]
	}
	return newMemView(tb, date, lim, all, rels)
}

const ownEps = 1e-9

func ownNear(got, want float64) bool { return math.Abs(got-want) <= ownEps }

// ownPathString renders a path as its entity ids joined by ">".
func ownPathString(p Path) string {
	ids := make([]string, len(p.Entities))
	for i, e := range p.Entities {
		ids[i] = e.ID
	}
	return strings.Join(ids, ">")
}

func ownPathStrings(ps []Path) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = ownPathString(p)
	}
	return strings.Join(s, " ")
}

// ownStakeString renders stakes compactly for failure messages.
func ownStakeString(s []Stake) string {
	var b strings.Builder
	for _, st := range s {
		fmt.Fprintf(&b, "{%s direct=%.12g int=%.12g [%.12g,%.12g] certain=%v depth=%d controls=%v} ",
			st.Entity.ID, st.Direct, st.Integrated, st.IntegratedMin, st.IntegratedMax, st.Certain, st.Depth, st.Controls)
	}
	return b.String()
}

// ownWant is the part of a Stake that a worked example states.
type ownWant struct {
	id                    string
	direct, integ, lo, hi float64
	certain               bool
	depth                 int
	controls              bool
}

func checkOwnStakes(t *testing.T, what string, got []Stake, want []ownWant) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		g, w := got[i], want[i]
		ok = g.Entity.ID == w.id && ownNear(g.Direct, w.direct) && ownNear(g.Integrated, w.integ) &&
			ownNear(g.IntegratedMin, w.lo) && ownNear(g.IntegratedMax, w.hi) &&
			g.Certain == w.certain && g.Depth == w.depth && g.Controls == w.controls
	}
	if !ok {
		t.Fatalf("%s = %s\nwant %+v", what, ownStakeString(got), want)
	}
}

func mustOwnership(t *testing.T, v view, owner, target string) *Ownership {
	t.Helper()
	o, err := ownershipOf(v, owner, target)
	if err != nil {
		t.Fatalf("ownershipOf(%s, %s): %v", owner, target, err)
	}
	return o
}

func TestOwnershipExample1(t *testing.T) {
	v := ownView(t, Date{}, Limits{}, nil, owns("A", "B", 0.6), owns("B", "C", 0.5), owns("A", "C", 0.2))

	o := mustOwnership(t, v, "A", "C")
	if !ownNear(o.Direct, 0.2) || !ownNear(o.Integrated, 0.5) || !ownNear(o.IntegratedMin, 0.5) || !ownNear(o.IntegratedMax, 0.5) || !o.Controls {
		t.Errorf("ownership(A, C) = %+v, want direct 0.2, integrated 0.5 (min = max), controls", *o)
	}
	if got, want := ownPathStrings(o.Paths), "A>C A>B>C"; got != want {
		t.Errorf("ownership(A, C).paths = %s, want %s", got, want)
	}
	if p := o.Paths[1]; p.Share == nil || !ownNear(*p.Share, 0.3) || p.Relationships[0].ID != "A>B" || p.Relationships[1].ID != "B>C" {
		t.Errorf("path A>B>C = %+v, want relationships A>B, B>C with share 0.3", p)
	}
	if o := mustOwnership(t, v, "A", "B"); !o.Controls || !ownNear(o.Integrated, 0.6) {
		t.Errorf("ownership(A, B) = %+v, want controls with 0.6", *o)
	}
	if o := mustOwnership(t, v, "B", "C"); o.Controls || !ownNear(o.Integrated, 0.5) {
		t.Errorf("ownership(B, C) = %+v, want 0.5 and no control (0.5 is not over 0.5)", *o)
	}
	if o := mustOwnership(t, v, "C", "A"); o.Direct != 0 || o.Integrated != 0 || o.Controls || o.Paths == nil || len(o.Paths) != 0 {
		t.Errorf("ownership(C, A) = %+v, want zeros and an empty, non-nil path list", *o)
	}

	c, err := ultimateControllerOf(v, "C")
	if err != nil || c == nil {
		t.Fatalf("ultimateControllerOf(C) = %v, %v, want A", c, err)
	}
	if c.Controller.ID != "A" || !ownNear(c.Share, 0.7) {
		t.Errorf("ultimateController(C) = %s %v, want A 0.7", c.Controller.ID, c.Share)
	}
	if got, want := ownPathStrings(c.Paths), "A>C A>B>C"; got != want {
		t.Errorf("ultimateController(C).paths = %s, want %s", got, want)
	}
	if c, err := ultimateControllerOf(v, "A"); c != nil || err != nil {
		t.Errorf("ultimateControllerOf(A) = %v, %v, want nil, nil", c, err)
	}

	got, err := ownersOf(v, "C", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	checkOwnStakes(t, "owners(C)", got, []ownWant{
		{"A", 0.2, 0.5, 0.5, 0.5, true, 1, true},
		{"B", 0.5, 0.5, 0.5, 0.5, true, 1, false},
	})
	got, err = holdingsOf(v, "A", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	checkOwnStakes(t, "holdings(A)", got, []ownWant{
		{"B", 0.6, 0.6, 0.6, 0.6, true, 1, true},
		{"C", 0.2, 0.5, 0.5, 0.5, true, 1, true},
	})
	got, err = beneficialOwnersOf(v, "C", 0.25)
	if err != nil {
		t.Fatal(err)
	}
	checkOwnStakes(t, "beneficialOwners(C, 0.25)", got, []ownWant{{"A", 0.2, 0.5, 0.5, 0.5, true, 1, true}})
}

func TestOwnershipExample2CrossHolding(t *testing.T) {
	v := ownView(t, Date{}, Limits{}, nil, owns("A", "B", 0.5), owns("B", "C", 0.5), owns("C", "B", 0.1))
	for _, c := range []struct {
		owner, target string
		want          float64
	}{
		{"A", "C", 0.25 / 0.95},
		{"A", "B", 0.5 / 0.95},
	} {
		o := mustOwnership(t, v, c.owner, c.target)
		if !ownNear(o.Integrated, c.want) || !ownNear(o.IntegratedMin, c.want) || !ownNear(o.IntegratedMax, c.want) {
			t.Errorf("ownership(%s, %s).integrated = %.15g [%.15g, %.15g], want %.15g", c.owner, c.target, o.Integrated, o.IntegratedMin, o.IntegratedMax, c.want)
		}
	}
	if got, want := 0.25/0.95, 0.263157894736842; math.Abs(got-want) > 1e-15 {
		t.Fatalf("semantics.md constant: %v vs %v", got, want)
	}
	got, err := ownersOf(v, "C", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	// B's walks to C: B>C, B>C>B>C, … = 0.5 / (1 − 0.05); C is not its own owner.
	checkOwnStakes(t, "owners(C)", got, []ownWant{
		{"B", 0.5, 0.5 / 0.95, 0.5 / 0.95, 0.5 / 0.95, true, 1, false},
		{"A", 0, 0.25 / 0.95, 0.25 / 0.95, 0.25 / 0.95, true, 2, false},
	})
}

func TestOwnershipExample3OutsideOwners(t *testing.T) {
	v := ownView(t, Date{}, Limits{}, nil, owns("P", "X", 0.8), owns("Q", "Y", 0.7), owns("X", "Y", 0.3), owns("Y", "X", 0.2))
	for _, c := range []struct {
		owner, target string
		want          float64
	}{
		{"P", "X", 40.0 / 47}, {"P", "Y", 12.0 / 47}, {"Q", "X", 7.0 / 47}, {"Q", "Y", 35.0 / 47},
	} {
		if o := mustOwnership(t, v, c.owner, c.target); !ownNear(o.Integrated, c.want) {
			t.Errorf("ownership(%s, %s).integrated = %.15g, want %.15g", c.owner, c.target, o.Integrated, c.want)
		}
	}
	// P passes a 25 % test that the single-path product 0.8 × 0.3 = 0.24 fails.
	got, err := ownersOf(v, "Y", 0.25, 10)
	if err != nil {
		t.Fatal(err)
	}
	checkOwnStakes(t, "owners(Y, 0.25)", got, []ownWant{
		{"Q", 0.7, 35.0 / 47, 35.0 / 47, 35.0 / 47, true, 1, true},
		{"X", 0.3, 0.3 / 0.94, 0.3 / 0.94, 0.3 / 0.94, true, 1, false},
		{"P", 0, 12.0 / 47, 12.0 / 47, 12.0 / 47, true, 2, false},
	})
	// The top-level owners' shares of each company sum to 1.
	for _, y := range []string{"X", "Y"} {
		bo, err := beneficialOwnersOf(v, y, 0)
		if err != nil {
			t.Fatal(err)
		}
		sum := 0.0
		for _, s := range bo {
			if s.Entity.ID != "P" && s.Entity.ID != "Q" {
				t.Errorf("beneficialOwners(%s, 0) holds %s, want only P and Q", y, s.Entity.ID)
			}
			sum += s.Integrated
		}
		if len(bo) != 2 || !ownNear(sum, 1) {
			t.Errorf("beneficialOwners(%s, 0) = %s: sum %.15g, want P and Q summing to 1", y, ownStakeString(bo), sum)
		}
	}
}

func TestOwnershipExample4Ranges(t *testing.T) {
	v := ownView(t, Date{}, Limits{}, nil, ownsRange("X", "Y", 0.25, 0.5), ownsRange("Y", "Z", 0.5, 0.75))
	o := mustOwnership(t, v, "X", "Z")
	if !ownNear(o.Integrated, 0.234375) || !ownNear(o.IntegratedMin, 0.125) || !ownNear(o.IntegratedMax, 0.375) || o.Direct != 0 || o.Controls {
		t.Errorf("ownership(X, Z) = %+v, want integrated 0.234375 in [0.125, 0.375], direct 0, no control", *o)
	}
	if len(o.Paths) != 1 || o.Paths[0].Share == nil || !ownNear(*o.Paths[0].Share, 0.234375) {
		t.Errorf("ownership(X, Z).paths = %s, want X>Y>Z with share 0.234375", ownPathStrings(o.Paths))
	}
	got, err := beneficialOwnersOf(v, "Z", 0.25)
	if err != nil {
		t.Fatal(err)
	}
	checkOwnStakes(t, "beneficialOwners(Z, 0.25)", got, []ownWant{{"X", 0, 0.234375, 0.125, 0.375, false, 2, false}})

	// Control is decided on lower bounds: Y holds 0.5..0.75 of Z, so it may not control it.
	got, err = ownersOf(v, "Z", 0.25, 10)
	if err != nil {
		t.Fatal(err)
	}
	checkOwnStakes(t, "owners(Z, 0.25)", got, []ownWant{
		{"Y", 0.625, 0.625, 0.5, 0.75, true, 1, false},
		{"X", 0, 0.234375, 0.125, 0.375, false, 2, false},
	})
	if got, err = ownersOf(v, "Z", 0.4, 10); err != nil || len(got) != 1 || got[0].Entity.ID != "Y" {
		t.Errorf("owners(Z, 0.4) = %s, %v, want only Y", ownStakeString(got), err)
	}
	v = ownView(t, Date{}, Limits{}, nil, ownsRange("Y", "Z", 0.51, 0.75))
	if c, err := ultimateControllerOf(v, "Z"); err != nil || c == nil || c.Controller.ID != "Y" || !ownNear(c.Share, 0.63) {
		t.Errorf("ultimateController(Z) with Y holding 0.51..0.75 = %+v, %v, want Y with 0.63", c, err)
	}
}

func TestOwnershipExample5JointVenture(t *testing.T) {
	v := ownView(t, Date{}, Limits{}, nil, owns("P", "J", 0.5), owns("Q", "J", 0.5))
	if c, err := ultimateControllerOf(v, "J"); c != nil || err != nil {
		t.Errorf("ultimateControllerOf(J) = %+v, %v, want nil, nil", c, err)
	}
	got, err := beneficialOwnersOf(v, "J", 0.25)
	if err != nil {
		t.Fatal(err)
	}
	checkOwnStakes(t, "beneficialOwners(J, 0.25)", got, []ownWant{
		{"P", 0.5, 0.5, 0.5, 0.5, true, 1, false},
		{"Q", 0.5, 0.5, 0.5, 0.5, true, 1, false},
	})
}

func TestOwnershipDivergentCycle(t *testing.T) {
	cases := []struct {
		name string
		rels []*Relationship
		ids  []string
	}{
		{"two 100% stakes", []*Relationship{owns("alpha", "beta", 1), owns("beta", "alpha", 1), owns("alpha", "gamma", 0.5), owns("top", "alpha", 0.1)},
			[]string{"alpha", "beta"}},
		{"three 100% stakes", []*Relationship{owns("alpha", "beta", 1), owns("beta", "delta", 1), owns("delta", "alpha", 1), owns("alpha", "gamma", 0.5), owns("top", "alpha", 0.1)},
			[]string{"alpha", "beta", "delta"}},
		// alpha's owners hold 160 % of it: the radius is √(0.9·0.9 + 0.6·0.6) > 1.
		{"owners above 100%", []*Relationship{owns("alpha", "beta", 0.9), owns("beta", "alpha", 0.9), owns("alpha", "delta", 0.6), owns("delta", "alpha", 0.6), owns("alpha", "gamma", 0.5), owns("top", "alpha", 0.1)},
			[]string{"alpha", "beta", "delta"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := ownView(t, Date{}, Limits{}, nil, c.rels...)
			check := func(what string, err error) {
				t.Helper()
				if ErrorCode(err) != EINVALID {
					t.Fatalf("%s: error %v, want %s", what, err, EINVALID)
				}
				for _, id := range c.ids {
					if !strings.Contains(err.Error(), id) {
						t.Errorf("%s: error %q does not name %s", what, err, id)
					}
				}
			}
			_, err := ownersOf(v, "gamma", 0, 10)
			check("owners(gamma)", err)
			_, err = holdingsOf(v, "top", 0, 10)
			check("holdings(top)", err)
			_, err = ownershipOf(v, "top", "gamma")
			check("ownership(top, gamma)", err)
			_, err = beneficialOwnersOf(v, "gamma", 0.25)
			check("beneficialOwners(gamma)", err)
			// Control needs no look-through share, so it still has an answer.
			if _, err := ultimateControllerOf(v, "gamma"); err != nil {
				t.Errorf("ultimateController(gamma): %v", err)
			}
		})
	}
	// A cycle that no known share links to the answer carries 0 and is no error.
	v := ownView(t, Date{}, Limits{}, nil, owns("alpha", "beta", 1), owns("beta", "alpha", 1), ownsUndisclosed("alpha", "gamma"))
	got, err := ownersOf(v, "gamma", 0, 10)
	if err != nil {
		t.Fatalf("owners(gamma) through an undisclosed stake: %v", err)
	}
	checkOwnStakes(t, "owners(gamma)", got, []ownWant{
		{"alpha", 0, 0, 0, 0, true, 1, false},
		{"beta", 0, 0, 0, 0, true, 2, false},
	})
	// ownership(x, y) solves only what lies between x and y.
	v = ownView(t, Date{}, Limits{}, nil, owns("alpha", "beta", 1), owns("beta", "alpha", 1), owns("alpha", "gamma", 0.5), owns("top", "gamma", 0.3))
	if o, err := ownershipOf(v, "top", "gamma"); err != nil || !ownNear(o.Integrated, 0.3) {
		t.Errorf("ownership(top, gamma) beside a divergent cycle = %+v, %v, want 0.3", o, err)
	}
}

func TestOwnershipUndisclosedShare(t *testing.T) {
	v := ownView(t, Date{}, Limits{}, nil, ownsUndisclosed("A", "B"), owns("B", "C", 0.5), owns("A", "C", 0.1))
	o := mustOwnership(t, v, "A", "C")
	if !ownNear(o.Direct, 0.1) || !ownNear(o.Integrated, 0.1) || o.Controls {
		t.Errorf("ownership(A, C) = %+v, want direct = integrated = 0.1 (the undisclosed stake adds 0)", *o)
	}
	if got, want := ownPathStrings(o.Paths), "A>C A>B>C"; got != want {
		t.Fatalf("paths = %s, want %s", got, want)
	}
	if o.Paths[1].Share != nil {
		t.Errorf("share of A>B>C = %v, want nil (undisclosed)", *o.Paths[1].Share)
	}
	got, err := ownersOf(v, "C", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	checkOwnStakes(t, "owners(C)", got, []ownWant{
		{"B", 0.5, 0.5, 0.5, 0.5, true, 1, false},
		{"A", 0.1, 0.1, 0.1, 0.1, true, 1, false},
	})
	got, err = holdingsOf(v, "A", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	checkOwnStakes(t, "holdings(A)", got, []ownWant{
		{"C", 0.1, 0.1, 0.1, 0.1, true, 1, false},
		{"B", 0, 0, 0, 0, true, 1, false},
	})
	// B has an (undisclosed) owner: it is not top-level.
	got, err = beneficialOwnersOf(v, "C", 0)
	if err != nil {
		t.Fatal(err)
	}
	checkOwnStakes(t, "beneficialOwners(C, 0)", got, []ownWant{{"A", 0.1, 0.1, 0.1, 0.1, true, 1, false}})
}

func TestOwnershipAsOf(t *testing.T) {
	old := owns("A", "B", 0.6)
	old.ID, old.ValidTo = "old", MustParseDate("2020-01-01")
	cur := owns("A", "B", 0.3)
	cur.ID, cur.ValidFrom = "new", MustParseDate("2020-01-01")
	for _, c := range []struct {
		date     string
		want     float64
		controls bool
	}{
		{"2019-12-31", 0.6, true},
		{"2020-01-01", 0.3, false},
		{"2024-06-01", 0.3, false},
	} {
		v := ownView(t, MustParseDate(c.date), Limits{}, nil, old, cur)
		o := mustOwnership(t, v, "A", "B")
		if !ownNear(o.Direct, c.want) || !ownNear(o.Integrated, c.want) || o.Controls != c.controls || len(o.Paths) != 1 {
			t.Errorf("asOf %s: ownership(A, B) = %+v, want %v, controls %v, one path", c.date, *o, c.want, c.controls)
		}
	}
	// A relationship not yet valid leaves no owner at all.
	v := ownView(t, MustParseDate("2019-12-31"), Limits{}, nil, cur)
	if got, err := ownersOf(v, "B", 0, 10); err != nil || len(got) != 0 {
		t.Errorf("owners(B) before the stake = %s, %v, want none", ownStakeString(got), err)
	}
}

func TestOwnershipParallelRelationshipsAddUp(t *testing.T) {
	a, b := owns("A", "B", 0.3), owns("A", "B", 0.25)
	b.ID = "A>B second"
	v := ownView(t, Date{}, Limits{}, nil, a, b)
	o := mustOwnership(t, v, "A", "B")
	if !ownNear(o.Direct, 0.55) || !ownNear(o.Integrated, 0.55) || !o.Controls || len(o.Paths) != 2 {
		t.Errorf("ownership(A, B) = %+v, want 0.55, control and two paths", *o)
	}
	if got, want := o.Paths[0].Relationships[0].ID, "A>B"; got != want {
		t.Errorf("first path runs through %s, want %s (larger share first)", got, want)
	}
}

func TestOwnershipMaxDepthKeepsFullShare(t *testing.T) {
	v := ownView(t, Date{}, Limits{}, nil, owns("A", "D", 0.1), owns("A", "B", 0.5), owns("B", "C", 0.5), owns("C", "D", 0.5), owns("E", "A", 1))
	got, err := ownersOf(v, "D", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	checkOwnStakes(t, "owners(D, maxDepth 1)", got, []ownWant{
		{"C", 0.5, 0.5, 0.5, 0.5, true, 1, false},
		{"A", 0.1, 0.225, 0.225, 0.225, true, 1, false},
	})
	got, err = ownersOf(v, "D", 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	checkOwnStakes(t, "owners(D, maxDepth 2)", got, []ownWant{
		{"C", 0.5, 0.5, 0.5, 0.5, true, 1, false},
		{"B", 0, 0.25, 0.25, 0.25, true, 2, false},
		{"A", 0.1, 0.225, 0.225, 0.225, true, 1, false},
		{"E", 0, 0.225, 0.225, 0.225, true, 2, false},
	})
	if got, err := ownersOf(v, "D", 0, 0); err != nil || len(got) != 0 || got == nil {
		t.Errorf("owners(D, maxDepth 0) = %v, %v, want an empty, non-nil list", got, err)
	}
	got, err = holdingsOf(v, "E", 0.2, 1)
	if err != nil {
		t.Fatal(err)
	}
	checkOwnStakes(t, "holdings(E, 0.2, maxDepth 1)", got, []ownWant{{"A", 1, 1, 1, 1, true, 1, true}})
}

func TestOwnershipBeneficialOwners(t *testing.T) {
	// The ultimate controller comes in whatever its share; a Person counts as top-level
	// even with owners of its own.
	ents := []*Entity{ent("pat", KindPerson, "GB")}
	v := ownView(t, Date{}, Limits{}, ents, owns("A", "B", 0.6), owns("B", "C", 0.6), owns("D", "C", 0.4), owns("trust", "pat", 1), owns("pat", "D", 1))
	got, err := beneficialOwnersOf(v, "C", 0.5)
	if err != nil {
		t.Fatal(err)
	}
	checkOwnStakes(t, "beneficialOwners(C, 0.5)", got, []ownWant{{"A", 0, 0.36, 0.36, 0.36, false, 2, true}})
	got, err = beneficialOwnersOf(v, "C", 0.3)
	if err != nil {
		t.Fatal(err)
	}
	checkOwnStakes(t, "beneficialOwners(C, 0.3)", got, []ownWant{
		{"pat", 0, 0.4, 0.4, 0.4, true, 2, false},
		{"trust", 0, 0.4, 0.4, 0.4, true, 3, false},
		{"A", 0, 0.36, 0.36, 0.36, true, 2, true},
	})
}

func TestOwnershipArguments(t *testing.T) {
	v := ownView(t, Date{}, Limits{}, nil, owns("A", "B", 0.6))
	for _, c := range []struct {
		name string
		err  error
		code string
	}{
		{"owners unknown id", ownErr(ownersOf(v, "nope", 0, 10)), ENOTFOUND},
		{"holdings unknown id", ownErr(holdingsOf(v, "nope", 0, 10)), ENOTFOUND},
		{"ownership unknown owner", ownErr(ownershipOf(v, "nope", "B")), ENOTFOUND},
		{"ownership unknown target", ownErr(ownershipOf(v, "A", "nope")), ENOTFOUND},
		{"ultimateController unknown id", ownErr(ultimateControllerOf(v, "nope")), ENOTFOUND},
		{"beneficialOwners unknown id", ownErr(beneficialOwnersOf(v, "nope", 0.25)), ENOTFOUND},
		{"owners threshold above 1", ownErr(ownersOf(v, "B", 1.5, 10)), EINVALID},
		{"holdings threshold below 0", ownErr(holdingsOf(v, "A", -0.1, 10)), EINVALID},
		{"owners threshold NaN", ownErr(ownersOf(v, "B", math.NaN(), 10)), EINVALID},
		{"beneficialOwners threshold above 1", ownErr(beneficialOwnersOf(v, "B", 2)), EINVALID},
		{"owners negative maxDepth", ownErr(ownersOf(v, "B", 0, -1)), EINVALID},
		{"holdings maxDepth above cap", ownErr(holdingsOf(v, "A", 0, DefaultMaxDepth+1)), ELIMIT},
		{"ownership of itself", ownErr(ownershipOf(v, "A", "A")), EINVALID},
	} {
		if got := ErrorCode(c.err); got != c.code {
			t.Errorf("%s: error %v (code %q), want %s", c.name, c.err, got, c.code)
		}
	}
}

func ownErr[T any](_ T, err error) error { return err }

func TestOwnershipBudget(t *testing.T) {
	rels := []*Relationship{owns("P", "X", 0.8), owns("Q", "Y", 0.7), owns("X", "Y", 0.3), owns("Y", "X", 0.2)}
	lim := Limits{MaxVisits: 2}
	for _, c := range []struct {
		name string
		call func(v view) error
	}{
		{"owners", func(v view) error { return ownErr(ownersOf(v, "Y", 0, 10)) }},
		{"holdings", func(v view) error { return ownErr(holdingsOf(v, "P", 0, 10)) }},
		{"ownership", func(v view) error { return ownErr(ownershipOf(v, "P", "Y")) }},
		{"ultimateController", func(v view) error { return ownErr(ultimateControllerOf(v, "Y")) }},
		{"beneficialOwners", func(v view) error { return ownErr(beneficialOwnersOf(v, "Y", 0.25)) }},
	} {
		err := c.call(ownView(t, Date{}, lim, nil, rels...))
		if ErrorCode(err) != ELIMIT || !strings.Contains(err.Error(), c.name) {
			t.Errorf("%s with MaxVisits %d: error %v, want %s naming %s", c.name, lim.MaxVisits, err, ELIMIT, c.name)
		}
		if err := c.call(ownView(t, Date{}, Limits{MaxVisits: 20}, nil, rels...)); err != nil {
			t.Errorf("%s with MaxVisits 20: %v", c.name, err)
		}
	}
}

// ownCompleteDAG returns the OWNS relationships of a complete DAG on n nodes: every
// k<j has k OWNS j with a small share, so that 2^(n-2) simple paths join the first and
// the last.
func ownCompleteDAG(n int) []*Relationship {
	var rels []*Relationship
	for j := 1; j < n; j++ {
		for k := 0; k < j; k++ {
			rels = append(rels, owns(fmt.Sprintf("n%02d", k), fmt.Sprintf("n%02d", j), 0.9/float64(j)))
		}
	}
	return rels
}

func TestOwnershipPathSearchBudget(t *testing.T) {
	// Collecting the upstream of n13 takes 91 visits; the path search needs many more.
	rels := ownCompleteDAG(14)
	v := ownView(t, Date{}, Limits{MaxVisits: 500}, nil, rels...)
	if _, err := ownersOf(v, "n13", 0, 12); err != nil {
		t.Fatalf("owners(n13) with MaxVisits 500: %v", err)
	}
	v = ownView(t, Date{}, Limits{MaxVisits: 500}, nil, rels...)
	if _, err := ownershipOf(v, "n00", "n13"); ErrorCode(err) != ELIMIT {
		t.Errorf("ownership(n00, n13) with MaxVisits 500: error %v, want %s", err, ELIMIT)
	}
	v = ownView(t, Date{}, Limits{}, nil, rels...)
	o, err := ownershipOf(v, "n00", "n13")
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Paths) != maxOwnershipPaths {
		t.Fatalf("ownership(n00, n13) has %d paths, want the cap %d", len(o.Paths), maxOwnershipPaths)
	}
	for i := 1; i < len(o.Paths); i++ {
		if o.Paths[i].Length() < o.Paths[i-1].Length() {
			t.Fatalf("path %d (%s) is shorter than path %d (%s)", i, ownPathString(o.Paths[i]), i-1, ownPathString(o.Paths[i-1]))
		}
	}
	if got, want := ownPathString(o.Paths[0]), "n00>n13"; got != want {
		t.Errorf("first path %s, want %s", got, want)
	}
}

// ownPyramid returns a 10-level pyramid: the bottom company, owned by two companies, each
// owned by two companies … with cross-holdings between siblings on every level.
func ownPyramid(levels int) []*Relationship {
	var rels []*Relationship
	name := func(l, i int) string { return fmt.Sprintf("L%d-%d", l, i) }
	width := 1
	for l := 0; l < levels; l++ {
		for i := 0; i < width; i++ {
			rels = append(rels, owns(name(l+1, 2*i), name(l, i), 0.55), owns(name(l+1, 2*i+1), name(l, i), 0.35))
		}
		if width > 1 {
			rels = append(rels, owns(name(l, 0), name(l, 1), 0.05))
		}
		width = min(width*2, 4)
	}
	return rels
}

func BenchmarkOwnersPyramid(b *testing.B) {
	v := ownView(b, Date{}, Limits{}, nil, ownPyramid(10)...)
	for b.Loop() {
		v.visits = 0
		if _, err := ownersOf(v, "L0-0", 0, 10); err != nil {
			b.Fatal(err)
		}
	}
}
