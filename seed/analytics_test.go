package seed_test

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/lodestone-kg/lodestone/graph"
	"github.com/lodestone-kg/lodestone/seed"
)

func seededStore(t *testing.T) *graph.Store {
	t.Helper()
	s, err := graph.Open(graph.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	loaded, err := seed.Load(context.Background(), s)
	if err != nil || !loaded {
		t.Fatalf("seed.Load = %v, %v", loaded, err)
	}
	return s
}

var asOf2025 = graph.MustParseDate("2025-10-01")

// TestSeedOwnership asserts the ownership questions on the seed graph.
func TestSeedOwnership(t *testing.T) {
	s := seededStore(t)
	ctx := context.Background()
	o, err := s.Ownership(ctx, "baotou-steel", "northern-zhaobao-magnets", asOf2025)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(o.Integrated-0.14684) > 1e-9 || o.Direct != 0 || o.Controls {
		t.Errorf("Baotou Steel in the JV = %+v, want integrated 0.3671 × 0.40 = 0.14684, no direct stake, no control", o)
	}
	if len(o.Paths) != 1 || o.Paths[0].Length() != 2 {
		t.Errorf("paths = %d, want the one path through China Northern Rare Earth", len(o.Paths))
	}
	c, err := s.UltimateController(ctx, "northern-zhaobao-magnets", asOf2025)
	if err != nil || c != nil {
		t.Errorf("ultimateController(JV) = %+v, %v; want nobody (no owner holds more than 50 %%)", c, err)
	}
	// Beneficial owners at 25 %: top-level owners (no owners of their own) with an
	// integrated share ≥ 0.25. NRE (40 %) is itself owned by Baotou Steel, whose
	// look-through 14.684 % is below the threshold; Ningbo Zhaobao holds 35 % and has no
	// recorded owners.
	bo, err := s.BeneficialOwners(ctx, "northern-zhaobao-magnets", 0.25, asOf2025)
	if err != nil {
		t.Fatal(err)
	}
	if len(bo) != 1 || bo[0].Entity.ID != "ningbo-zhaobao-magnet" || bo[0].Integrated != 0.35 || !bo[0].Certain {
		t.Errorf("beneficialOwners(JV, 0.25) = %v, want only ningbo-zhaobao-magnet at 0.35", stakeIDs(bo))
	}
	owners, err := s.Owners(ctx, graph.StakeQuery{Of: "northern-zhaobao-magnets", MaxDepth: 10, AsOf: asOf2025})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := stakeIDs(owners), []string{"china-northern-rare-earth", "ningbo-zhaobao-magnet", "baotou-steel", "ningbo-souwest-magnet", "suzhou-torin-drive"}; !slices.Equal(got, want) {
		t.Errorf("owners(JV) = %v, want %v", got, want)
	}
	// Before the JV existed it had no owners.
	if owners, err := s.Owners(ctx, graph.StakeQuery{Of: "northern-zhaobao-magnets", MaxDepth: 10, AsOf: graph.MustParseDate("2024-11-30")}); err != nil || len(owners) != 0 {
		t.Errorf("owners(JV) in Nov 2024 = %v, %v", stakeIDs(owners), err)
	}
}

func stakeIDs(st []graph.Stake) []string {
	var out []string
	for _, s := range st {
		out = append(out, s.Entity.ID)
	}
	return out
}

func TestSeedPathsAndExposure(t *testing.T) {
	s := seededStore(t)
	ctx := context.Background()
	p, err := s.ShortestPath(ctx, graph.PathQuery{From: "mp-materials", To: "shenghe-resources", MaxDepth: 8, Direction: graph.Both, AsOf: asOf2025})
	if err != nil || p == nil {
		t.Fatalf("shortestPath(MP, Shenghe) = %v, %v", p, err)
	}
	if p.Length() != 1 || p.Entities[0].ID != "mp-materials" || p.Entities[1].ID != "shenghe-resources" {
		t.Errorf("shortestPath(MP, Shenghe) has length %d through %v", p.Length(), p.Entities)
	}
	// EV traction motors get magnets from the Northern Zhaobao plant (CN), General
	// Motors (US, itself fed from Texas and South Carolina) and Neo's Narva plant (EE).
	// No source gives volumes, so each supplier weighs 1: a third runs through China.
	x, err := s.Exposure(ctx, "ev-traction-motor", "CN", true, asOf2025)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(x.Share-1.0/3) > 1e-9 || len(x.Entities) != 1 || x.Entities[0].ID != "northern-zhaobao-baotou-plant" {
		t.Errorf("exposure(ev-traction-motor, CN) = %v with %v, want 1/3 through northern-zhaobao-baotou-plant", x.Share, x.Entities)
	}
	// MP Materials sold concentrate to Shenghe until it halted exports on 2025-04-17.
	before, err := s.Exposure(ctx, "mp-materials", "CN", false, graph.MustParseDate("2025-01-01"))
	if err != nil {
		t.Fatal(err)
	}
	if before.Share <= 0 || !slices.ContainsFunc(before.Entities, func(e *graph.Entity) bool { return e.ID == "shenghe-resources" }) {
		t.Errorf("MP's downstream exposure to CN in January 2025 = %v through %v, want Shenghe named", before.Share, before.Entities)
	}
	after, err := s.Exposure(ctx, "mp-materials", "CN", false, asOf2025)
	if err != nil || after.Share != 0 {
		t.Errorf("MP's downstream exposure to CN after the halt = %+v, %v, want 0", after, err)
	}
	// Paths from the Bayan Obo mine to EV traction motors, and none that avoid China.
	paths, err := s.SupplyPaths(ctx, graph.SupplyPathQuery{From: "bayan-obo-mine", To: "ev-traction-motor", MaxDepth: 8, First: 10, AsOf: asOf2025})
	if err != nil || len(paths) == 0 {
		t.Fatalf("supplyPaths(Bayan Obo → EV motor) = %v, %v", paths, err)
	}
	avoid, err := s.SupplyPaths(ctx, graph.SupplyPathQuery{From: "bayan-obo-mine", To: "ev-traction-motor", AvoidCountries: []string{"CN"}, MaxDepth: 8, First: 10, AsOf: asOf2025})
	if err != nil || len(avoid) != 0 {
		t.Errorf("supplyPaths avoiding CN = %d paths, %v; want none (every route runs through Baotou)", len(avoid), err)
	}
}
