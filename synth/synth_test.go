package synth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lodestone-kg/lodestone/graph"
)

// collected is a whole generated graph, for tests small enough to hold one.
type collected struct {
	sources       []*graph.Source
	entities      []*graph.Entity
	relationships []*graph.Relationship
	byID          map[string]*graph.Entity
}

// mustCollect generates cfg and checks the order of the records on the way: sources,
// then entities, then relationships, exactly one field set in each.
func mustCollect(tb testing.TB, cfg Config) *collected {
	tb.Helper()
	g := &collected{byID: map[string]*graph.Entity{}}
	phase := 0
	err := Generate(cfg, func(rec graph.Record) error {
		set, p := 0, 0
		if rec.Source != nil {
			set, p = set+1, 0
			g.sources = append(g.sources, rec.Source)
		}
		if rec.Entity != nil {
			set, p = set+1, 1
			g.entities = append(g.entities, rec.Entity)
			g.byID[rec.Entity.ID] = rec.Entity
		}
		if rec.Relationship != nil {
			set, p = set+1, 2
			g.relationships = append(g.relationships, rec.Relationship)
		}
		if set != 1 {
			tb.Fatalf("record %+v has %d fields set, want 1", rec, set)
		}
		if p < phase {
			tb.Fatalf("record %+v comes after a later kind of record", rec)
		}
		phase = p
		return nil
	})
	if err != nil {
		tb.Fatalf("Generate(%+v): %v", cfg, err)
	}
	return g
}

// ownershipDepth returns, for every entity with an OWNS walk from an entity that has no
// owners, the length of the shortest such walk, following the OWNS relationships that
// keep returns true for.
func ownershipDepth(g *collected, keep func(*graph.Relationship) bool) map[string]int {
	out := map[string][]string{}
	owned := map[string]bool{}
	for _, r := range g.relationships {
		if r.Type == graph.TypeOwns && keep(r) {
			out[r.From] = append(out[r.From], r.To)
			owned[r.To] = true
		}
	}
	depth := map[string]int{}
	var queue []string
	for from := range out {
		if !owned[from] {
			depth[from] = 0
			queue = append(queue, from)
		}
	}
	for len(queue) > 0 {
		x := queue[0]
		queue = queue[1:]
		for _, y := range out[x] {
			if _, seen := depth[y]; !seen {
				depth[y] = depth[x] + 1
				queue = append(queue, y)
			}
		}
	}
	return depth
}

func TestDeterministic(t *testing.T) {
	cfg := Config{Companies: 3000, Seed: 7, HubDegree: 500}
	var a, b, c bytes.Buffer
	if err := WriteJSONL(&a, cfg); err != nil {
		t.Fatalf("WriteJSONL: %v", err)
	}
	if err := WriteJSONL(&b, cfg); err != nil {
		t.Fatalf("WriteJSONL: %v", err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatalf("WriteJSONL(%+v) gave different bytes on two runs", cfg)
	}
	other := cfg
	other.Seed = 8
	if err := WriteJSONL(&c, other); err != nil {
		t.Fatalf("WriteJSONL: %v", err)
	}
	if bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Fatalf("seeds 7 and 8 gave the same graph")
	}

	// Every line is one json.Marshal'ed record that ReadJSONL accepts.
	records := 0
	if err := Generate(cfg, func(graph.Record) error { records++; return nil }); err != nil {
		t.Fatalf("Generate: %v", err)
	}
	lines := 0
	err := graph.ReadJSONL(bytes.NewReader(a.Bytes()), func(line int, rec graph.Record) error {
		lines++
		return nil
	})
	if err != nil {
		t.Fatalf("ReadJSONL: %v", err)
	}
	if lines != records || bytes.Count(a.Bytes(), []byte("\n")) != records {
		t.Fatalf("WriteJSONL wrote %d records in %d lines, Generate emitted %d", lines, bytes.Count(a.Bytes(), []byte("\n")), records)
	}
}

func TestShape(t *testing.T) {
	const n = 10000
	cfg := Config{Companies: n, Seed: 1}
	g := mustCollect(t, cfg)

	// Counts within ±10 % of 1.5 entities and 3 relationships a company.
	if got, want := len(g.entities), 1.5*n; float64(got) < 0.9*want || float64(got) > 1.1*want {
		t.Errorf("%d entities for %d companies, want %v ± 10 %%", got, n, want)
	}
	if got, want := len(g.relationships), 3.0*n; float64(got) < 0.9*want || float64(got) > 1.1*want {
		t.Errorf("%d relationships for %d companies, want %v ± 10 %%", got, n, want)
	}
	if got := len(g.sources); got != DefaultSources {
		t.Errorf("%d sources, want %d", got, DefaultSources)
	}
	kinds := map[string]int{}
	for _, e := range g.entities {
		kinds[e.Kind]++
	}
	types := map[string]int{}
	for _, r := range g.relationships {
		types[r.Type]++
	}
	t.Logf("entities %d %v; relationships %d %v", len(g.entities), kinds, len(g.relationships), types)
	if kinds["Company"] != n || kinds["Country"] != len(countries) || kinds["Material"] != numMaterials ||
		kinds["Person"] == 0 || kinds["Government"] == 0 || kinds["Facility"] == 0 {
		t.Errorf("entities by kind = %v", kinds)
	}
	if types[graph.TypeOperates] != kinds["Facility"] {
		t.Errorf("%d OPERATES for %d facilities, want one each", types[graph.TypeOperates], kinds["Facility"])
	}
	for i := range 5 {
		if id := CompanyID(i * 1999); g.byID[id] == nil || g.byID[id].Kind != "Company" {
			t.Errorf("CompanyID(%d) = %q is not a company", i*1999, id)
		}
	}

	// About 45 % of companies are in CN.
	cnCompanies := 0
	for _, e := range g.entities {
		if e.Kind == "Company" && e.Country == "CN" {
			cnCompanies++
		}
	}
	if share := float64(cnCompanies) / n; share < 0.38 || share > 0.52 {
		t.Errorf("%.3f of companies are in CN, want about 0.45", share)
	}

	checkValid(t, g)
	checkShares(t, g)
	checkVariety(t, g)

	// Ownership depth: some pyramid reaches 10 levels, and DeepCompanies are that deep,
	// over all OWNS and over those valid today alike.
	today := graph.Today()
	for name, keep := range map[string]func(*graph.Relationship) bool{
		"all OWNS":         func(*graph.Relationship) bool { return true },
		"OWNS valid today": func(r *graph.Relationship) bool { return r.ValidAt(today) },
	} {
		depth := ownershipDepth(g, keep)
		deepest := 0
		for _, d := range depth {
			deepest = max(deepest, d)
		}
		if deepest < 10 || deepest > DefaultMaxPyramidDepth {
			t.Errorf("%s: deepest ownership depth %d, want 10..%d", name, deepest, DefaultMaxPyramidDepth)
		}
		deep := DeepCompanies(cfg)
		if len(deep) == 0 {
			t.Fatalf("DeepCompanies(%+v) is empty", cfg)
		}
		for _, id := range deep {
			if depth[id] < 10 {
				t.Errorf("%s: DeepCompanies has %s at depth %d, want ≥ 10", name, id, depth[id])
			}
		}
		for i := range n {
			if _, ok := depth[CompanyID(i)]; !ok {
				t.Errorf("%s: %s has no ownership walk from a top-level owner", name, CompanyID(i))
				break
			}
		}
	}

	// EndUseFacilities are exactly the facilities of stage end-use.
	endUse := map[string]bool{}
	for _, e := range g.entities {
		if e.Kind == "Facility" && stageOf(t, e) == "end-use" {
			endUse[e.ID] = true
		}
	}
	got := EndUseFacilities(cfg)
	if len(got) != len(endUse) || len(got) == 0 {
		t.Errorf("EndUseFacilities has %d ids; the graph has %d end-use facilities", len(got), len(endUse))
	}
	for _, id := range got {
		if !endUse[id] {
			t.Errorf("EndUseFacilities has %s, which is not an end-use facility", id)
		}
	}

	checkSupplies(t, g)
}

// checkValid checks every record against the store's rules, unique ids, that every
// relationship's ends and every cited source exist, and the dates.
func checkValid(t *testing.T, g *collected) {
	t.Helper()
	sources := map[string]bool{}
	for i, s := range g.sources {
		if err := graph.ValidateSource("", s); err != nil || s.ID == "" {
			t.Fatalf("source %d %+v: %v", i, s, err)
		}
		if sources[s.ID] {
			t.Fatalf("source id %s twice", s.ID)
		}
		sources[s.ID] = true
	}
	today := graph.Today()
	checkDates := func(what string, from, to graph.Date) {
		for _, d := range []graph.Date{from, to} {
			if !d.IsZero() && !d.Before(today) {
				t.Fatalf("%s: date %s is not in the past", what, d)
			}
		}
	}
	cites := func(what string, ids []string) {
		if len(ids) == 0 {
			t.Fatalf("%s cites no source", what)
		}
		for _, id := range ids {
			if !sources[id] {
				t.Fatalf("%s cites %s, which is not a source", what, id)
			}
		}
	}
	if len(g.byID) != len(g.entities) {
		t.Fatalf("%d entities but %d distinct ids", len(g.entities), len(g.byID))
	}
	for _, e := range g.entities {
		if err := graph.ValidateEntity("", e); err != nil {
			t.Fatalf("entity %+v: %v", e, err)
		}
		cites(e.ID, e.Sources)
		checkDates(e.ID, e.ValidFrom, e.ValidTo)
	}
	relIDs := map[string]bool{}
	for _, r := range g.relationships {
		if err := graph.ValidateRelationship("", r); err != nil || r.ID == "" {
			t.Fatalf("relationship %+v: %v", r, err)
		}
		if relIDs[r.ID] {
			t.Fatalf("relationship id %s twice", r.ID)
		}
		relIDs[r.ID] = true
		if g.byID[r.From] == nil || g.byID[r.To] == nil {
			t.Fatalf("relationship %s: %s → %s, an end does not exist", r.ID, r.From, r.To)
		}
		prefix := map[string]string{graph.TypeOwns: "own-", graph.TypeSupplies: "sup-", graph.TypeOperates: "op-"}[r.Type]
		if prefix == "" || !strings.HasPrefix(r.ID, prefix) {
			t.Fatalf("relationship %s of type %s", r.ID, r.Type)
		}
		cites(r.ID, r.Sources)
		checkDates(r.ID, r.ValidFrom, r.ValidTo)
	}
}

// checkShares checks that the shares (shareMax for ranges) of the OWNS into every entity
// sum to at most 1, and that cross-holdings are at most 0.1.
func checkShares(t *testing.T, g *collected) {
	t.Helper()
	sum := map[string]float64{}
	for _, r := range g.relationships {
		if r.Type != graph.TypeOwns {
			continue
		}
		_, hi, _ := r.ShareBounds()
		if strings.HasSuffix(r.ID, "-x") && hi > 0.1 {
			t.Errorf("cross-holding %s of %v, want ≤ 0.1", r.ID, hi)
		}
		sum[r.To] += hi
	}
	for id, s := range sum {
		if s > 1+1e-12 {
			t.Errorf("the owners of %s hold %v, more than 1", id, s)
		}
	}
}

// checkVariety checks that a graph large enough has a few of each oddity: ended
// relationships, undisclosed shares, share ranges, cross-holdings, and validFrom dates.
func checkVariety(t *testing.T, g *collected) {
	t.Helper()
	var ended, undisclosed, ranges, cross, dated int
	n := 0
	for _, r := range g.relationships {
		if r.From == HubID {
			continue // the hub's own relationships are plain on purpose
		}
		n++
		if !r.ValidTo.IsZero() {
			ended++
		}
		if !r.ValidFrom.IsZero() {
			dated++
		}
		if r.Type != graph.TypeOwns {
			continue
		}
		if _, _, known := r.ShareBounds(); !known {
			undisclosed++
		}
		if r.ShareMin != nil {
			ranges++
		}
		if strings.HasSuffix(r.ID, "-x") {
			cross++
		}
	}
	if ended == 0 || ended > n/10 || undisclosed == 0 || ranges == 0 || cross == 0 || dated < n/4 {
		t.Errorf("of %d relationships: %d ended, %d undisclosed shares, %d ranges, %d cross-holdings, %d with validFrom; want a few of each (ended ≤ 10 %%, validFrom ≥ 25 %%)",
			n, ended, undisclosed, ranges, cross, dated)
	}
}

// checkSupplies checks that SUPPLIES run from one stage to the next (or, recycling, from
// magnet to separation) carrying the right material, and that a recycling link exists.
func checkSupplies(t *testing.T, g *collected) {
	t.Helper()
	next := map[string]string{"mine": "separation", "separation": "metal-alloy", "metal-alloy": "magnet", "magnet": "motor", "motor": "end-use"}
	carries := map[string]string{
		"separation": "rare-earth-concentrate", "metal-alloy": "ndpr-oxide", "magnet": "ndpr-metal ndfeb-alloy",
		"motor": "ndfeb-magnet", "end-use": "traction-motor",
	}
	recycling, noVolume := 0, 0
	for _, r := range g.relationships {
		if r.Type != graph.TypeSupplies {
			continue
		}
		from, to := stageOf(t, g.byID[r.From]), stageOf(t, g.byID[r.To])
		var p struct {
			Material  string   `json:"material"`
			VolumeTpa *float64 `json:"volumeTpa"`
		}
		if err := json.Unmarshal(r.Properties, &p); err != nil {
			t.Fatalf("%s: properties %s: %v", r.ID, r.Properties, err)
		}
		if p.VolumeTpa == nil {
			noVolume++
		}
		switch {
		case from == "magnet" && to == "separation" && p.Material == "ndfeb-magnet":
			recycling++
		case next[from] != to || !strings.Contains(carries[to], p.Material):
			t.Fatalf("%s: %s (%s) → %s (%s) carrying %q", r.ID, r.From, from, r.To, to, p.Material)
		}
	}
	if recycling == 0 || noVolume == 0 {
		t.Errorf("%d recycling links, %d supplies without volume; want some of each", recycling, noVolume)
	}
}

// stageOf returns the stage property of a facility.
func stageOf(t *testing.T, e *graph.Entity) string {
	t.Helper()
	var p struct {
		Stage       string `json:"stage"`
		CapacityTpa int    `json:"capacityTpa"`
	}
	if e.Kind != "Facility" || json.Unmarshal(e.Properties, &p) != nil || p.Stage == "" || p.CapacityTpa <= 0 {
		t.Fatalf("entity %s (%s) is not a facility with a stage and capacity: %s", e.ID, e.Kind, e.Properties)
	}
	return p.Stage
}

func TestHub(t *testing.T) {
	for _, tc := range []struct{ companies, degree, owns int }{
		{2000, 3001, 1501},
		{2000, 10000, 2000}, // more than the companies: the rest are SUPPLIES, repeating facilities
		{20, 7, 4},
	} {
		cfg := Config{Companies: tc.companies, Seed: 3, HubDegree: tc.degree}
		g := mustCollect(t, cfg)
		out := map[string]int{}
		in := 0
		for _, r := range g.relationships {
			if r.From == HubID {
				out[r.Type]++
			}
			if r.To == HubID {
				in++
			}
		}
		if out[graph.TypeOwns]+out[graph.TypeSupplies] != tc.degree || out[graph.TypeOwns] != tc.owns || len(out) != 2 || in != 1 {
			t.Errorf("%+v: the hub has %v out, %d in; want %d out of which %d OWNS, and 1 in", cfg, out, in, tc.degree, tc.owns)
		}
		checkValid(t, g)
		checkShares(t, g)
		if tc.companies >= 1000 {
			checkVariety(t, g)
			depth := ownershipDepth(g, func(*graph.Relationship) bool { return true })
			for _, id := range DeepCompanies(cfg) {
				if depth[id] < 10 {
					t.Errorf("%+v: DeepCompanies has %s at depth %d, want ≥ 10", cfg, id, depth[id])
				}
			}
		}
	}
}

// TestSmall: tiny graphs and odd settings still give valid, closed graphs.
func TestSmall(t *testing.T) {
	for _, cfg := range []Config{
		{Companies: 1},
		{Companies: 2, HubDegree: 1},
		{Companies: 13, MaxPyramidDepth: 3, Sources: 1},
		{Companies: 50, MaxPyramidDepth: 100, Sources: 3},
		{Companies: 300, CrossHoldingRate: 1, RecyclingRate: 1, DeepPyramidRate: 1},
		{Companies: 300, CrossHoldingRate: -1, RecyclingRate: -1, DeepPyramidRate: -1, FacilitiesPerCompany: 3},
	} {
		g := mustCollect(t, cfg)
		sources := map[string]bool{}
		for _, s := range g.sources {
			sources[s.ID] = true
		}
		for _, r := range g.relationships {
			if g.byID[r.From] == nil || g.byID[r.To] == nil || !sources[r.Sources[0]] {
				t.Fatalf("%+v: relationship %+v has a missing end or source", cfg, r)
			}
			if err := graph.ValidateRelationship("", r); err != nil {
				t.Fatalf("%+v: %v", cfg, err)
			}
		}
		checkShares(t, g)
		depth := ownershipDepth(g, func(*graph.Relationship) bool { return true })
		want := min(10, cmpOr(cfg.MaxPyramidDepth, DefaultMaxPyramidDepth))
		for _, id := range DeepCompanies(cfg) {
			if depth[id] < want {
				t.Errorf("%+v: DeepCompanies has %s at depth %d, want ≥ %d", cfg, id, depth[id], want)
			}
		}
	}
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{Companies: -1},
		{Companies: 10, MaxPyramidDepth: -1},
		{Companies: 10, MaxPyramidDepth: 101},
		{Companies: 10, CrossHoldingRate: 1.5},
		{Companies: 10, FacilitiesPerCompany: -0.1},
		{Companies: 10, HubDegree: -1},
		{Companies: 10, Sources: -1},
	} {
		called := false
		err := Generate(cfg, func(graph.Record) error { called = true; return nil })
		if !errors.Is(err, ErrInvalidConfig) || called {
			t.Errorf("Generate(%+v) = %v (emitted: %v), want ErrInvalidConfig and nothing emitted", cfg, err, called)
		}
		if DeepCompanies(cfg) != nil || EndUseFacilities(cfg) != nil {
			t.Errorf("DeepCompanies or EndUseFacilities of %+v is not nil", cfg)
		}
	}
}

// TestEmitError: the first error of emit stops Generate and comes back.
func TestEmitError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := Generate(Config{Companies: 100}, func(graph.Record) error {
		if n++; n == 150 {
			return stop
		}
		return nil
	})
	if err != stop || n != 150 {
		t.Fatalf("Generate = %v after %d records, want stop after 150", err, n)
	}
	if err := WriteJSONL(failingWriter{}, Config{Companies: 1000}); err == nil {
		t.Fatalf("WriteJSONL to a failing writer succeeded")
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

// TestBulkLoad: a generated graph loads into a store, which then checks clean.
func TestBulkLoad(t *testing.T) {
	cfg := Config{Companies: 2000, Seed: 5, HubDegree: 100}
	s, err := graph.Open(graph.Options{InMemory: true})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	stats, err := s.BulkLoad(ctx, func(emit func(graph.Record) error) error { return Generate(cfg, emit) }, nil)
	if err != nil {
		t.Fatalf("BulkLoad: %v", err)
	}
	g := mustCollect(t, cfg)
	if stats.Sources != len(g.sources) || stats.Entities != len(g.entities) || stats.Relationships != len(g.relationships) {
		t.Errorf("BulkLoad stats %+v, generated %d sources, %d entities, %d relationships", stats, len(g.sources), len(g.entities), len(g.relationships))
	}
	rep, err := s.Check(ctx)
	if err != nil || len(rep.Problems) > 0 {
		t.Fatalf("Check = %+v, %v", rep, err)
	}
}

func TestIDs(t *testing.T) {
	for _, tc := range []struct {
		i    int
		want string
	}{{0, "co-0000000"}, {42, "co-0000042"}, {9999999, "co-9999999"}, {12345678, "co-12345678"}} {
		if got := CompanyID(tc.i); got != tc.want {
			t.Errorf("CompanyID(%d) = %q, want %q", tc.i, got, tc.want)
		}
	}
	if got, want := facilityID(stageEndUse, 7), "fac-end-use-000007"; got != want {
		t.Errorf("facilityID(end-use, 7) = %q, want %q", got, want)
	}
}

// TestLEI: generated LEIs pass the ISO 7064 MOD 97-10 check.
func TestLEI(t *testing.T) {
	r := newStream(1)
	for i := range 1000 {
		r.reset(streamCompany, i)
		v := lei(r)
		m := 0
		for _, c := range v {
			if c >= 'A' {
				m = (m*100 + int(c-'A') + 10) % 97
			} else {
				m = (m*10 + int(c-'0')) % 97
			}
		}
		if len(v) != 20 || m != 1 {
			t.Fatalf("lei() = %q: %d characters, mod 97 = %d; want 20 and 1", v, len(v), m)
		}
	}
}

// TestWriteJSONLMillion measures WriteJSONL for 1,000,000 companies, to /dev/null and
// to a temporary file. It runs only when LODESTONE_SYNTH_MILLION is set: it takes tens
// of seconds.
func TestWriteJSONLMillion(t *testing.T) {
	if os.Getenv("LODESTONE_SYNTH_MILLION") == "" {
		t.Skip("set LODESTONE_SYNTH_MILLION=1 to measure WriteJSONL for 1,000,000 companies")
	}
	cfg := Config{Companies: 1_000_000, Seed: 1}
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	start := time.Now()
	if err := WriteJSONL(null, cfg); err != nil {
		t.Fatalf("WriteJSONL: %v", err)
	}
	t.Logf("WriteJSONL(%d companies) to %s: %v", cfg.Companies, os.DevNull, time.Since(start))

	path := filepath.Join(t.TempDir(), "synth.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if err := WriteJSONL(f, cfg); err != nil {
		t.Fatalf("WriteJSONL: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("WriteJSONL(%d companies) to a file: %v, %d bytes", cfg.Companies, time.Since(start), fi.Size())
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkGenerate generates 100,000 companies (about 450,000 records) per iteration.
func BenchmarkGenerate(b *testing.B) {
	cfg := Config{Companies: 100_000, Seed: 1}
	records := 0
	for b.Loop() {
		err := Generate(cfg, func(graph.Record) error { records++; return nil })
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkWriteJSONL writes 100,000 companies as JSONL to io.Discard per iteration.
func BenchmarkWriteJSONL(b *testing.B) {
	cfg := Config{Companies: 100_000, Seed: 1}
	var cw countingWriter
	for b.Loop() {
		if err := WriteJSONL(&cw, cfg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cw)/b.Elapsed().Seconds()/1e6, "MB/s")
}

type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}
