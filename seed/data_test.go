package seed

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/lodestone-kg/lodestone/graph"
)

// seedData is magnets.jsonl parsed into its three record kinds, keyed by id.
type seedData struct {
	sources  map[string]*graph.Source
	entities map[string]*graph.Entity
	rels     map[string]*graph.Relationship
	relOrder []*graph.Relationship
}

// loadSeed reads magnets.jsonl line by line the way the importer does (unknown fields
// refused, exactly one record kind per line) and fails the test on the first bad line
// or duplicate id.
func loadSeed(t *testing.T) *seedData {
	t.Helper()
	raw, err := os.ReadFile("magnets.jsonl")
	if err != nil {
		t.Fatalf("read magnets.jsonl: %v", err)
	}
	d := &seedData{
		sources:  map[string]*graph.Source{},
		entities: map[string]*graph.Entity{},
		rels:     map[string]*graph.Relationship{},
	}
	for i, line := range bytes.Split(raw, []byte("\n")) {
		n := i + 1
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		var rec graph.Record
		if err := dec.Decode(&rec); err != nil {
			t.Fatalf("line %d: not a Lodestone record: %v", n, err)
		}
		if dec.More() {
			t.Fatalf("line %d: more than one JSON value", n)
		}
		kinds := 0
		for _, set := range []bool{rec.Source != nil, rec.Entity != nil, rec.Relationship != nil} {
			if set {
				kinds++
			}
		}
		if kinds != 1 {
			t.Fatalf("line %d: holds %d record kinds, want exactly one of source, entity, relationship", n, kinds)
		}
		switch {
		case rec.Source != nil:
			s := rec.Source
			if _, dup := d.sources[s.ID]; dup {
				t.Errorf("line %d: duplicate source id %q", n, s.ID)
			}
			d.sources[s.ID] = s
		case rec.Entity != nil:
			e := rec.Entity
			if _, dup := d.entities[e.ID]; dup {
				t.Errorf("line %d: duplicate entity id %q", n, e.ID)
			}
			d.entities[e.ID] = e
		case rec.Relationship != nil:
			r := rec.Relationship
			if r.ID == "" {
				t.Errorf("line %d: relationship %s %s->%s has no explicit id", n, r.Type, r.From, r.To)
			}
			if _, dup := d.rels[r.ID]; dup {
				t.Errorf("line %d: duplicate relationship id %q", n, r.ID)
			}
			d.rels[r.ID] = r
			d.relOrder = append(d.relOrder, r)
		}
	}
	return d
}

func TestSeedRecordsAreValid(t *testing.T) {
	d := loadSeed(t)
	for id, s := range d.sources {
		if err := graph.ValidateSource("source "+id+".", s); err != nil {
			t.Errorf("%v", err)
		}
		if s.ID == "" {
			t.Errorf("a source has no id (title %q)", s.Title)
		}
		if strings.TrimSpace(s.Title) == "" {
			t.Errorf("source %s: no title", id)
		}
		if strings.TrimSpace(s.Publisher) == "" {
			t.Errorf("source %s: no publisher", id)
		}
		if s.Published.IsZero() {
			t.Errorf("source %s: no published date", id)
		}
	}
	for id, e := range d.entities {
		if err := graph.ValidateEntity("entity "+id+".", e); err != nil {
			t.Errorf("%v", err)
		}
	}
	for id, r := range d.rels {
		if err := graph.ValidateRelationship("relationship "+id+".", r); err != nil {
			t.Errorf("%v", err)
		}
	}
}

func TestSeedCounts(t *testing.T) {
	d := loadSeed(t)
	if n := len(d.entities); n < 60 {
		t.Errorf("%d entities, want at least 60", n)
	}
	if n := len(d.rels); n < 100 {
		t.Errorf("%d relationships, want at least 100", n)
	}
}

func TestSeedReferencesResolve(t *testing.T) {
	d := loadSeed(t)
	cites := func(what string, ids []string) {
		if len(ids) == 0 {
			t.Errorf("%s cites no source", what)
		}
		for _, s := range ids {
			if _, ok := d.sources[s]; !ok {
				t.Errorf("%s cites unknown source %q", what, s)
			}
		}
	}
	for id, e := range d.entities {
		cites("entity "+id, e.Sources)
	}
	for id, r := range d.rels {
		cites("relationship "+id, r.Sources)
		if _, ok := d.entities[r.From]; !ok {
			t.Errorf("relationship %s: from %q does not exist", id, r.From)
		}
		if _, ok := d.entities[r.To]; !ok {
			t.Errorf("relationship %s: to %q does not exist", id, r.To)
		}
	}
}

func TestSeedFixedIDs(t *testing.T) {
	d := loadSeed(t)
	for _, id := range []string{
		"northern-zhaobao-magnets", "china-northern-rare-earth", "ningbo-zhaobao-magnet",
		"suzhou-torin-drive", "ningbo-souwest-magnet", "baotou-steel", "china-rare-earth-group",
		"lynas-rare-earths", "iluka-resources", "mp-materials", "shenghe-resources", "jl-mag",
		"bayan-obo-mine", "mountain-pass-mine", "mount-weld-mine",
	} {
		if _, ok := d.entities[id]; !ok {
			t.Errorf("fixed entity id %q is missing", id)
		}
	}
}

func isCountryCode(cc string) bool {
	return len(cc) == 2 && cc[0] >= 'A' && cc[0] <= 'Z' && cc[1] >= 'A' && cc[1] <= 'Z'
}

func TestSeedCountries(t *testing.T) {
	d := loadSeed(t)
	for id, e := range d.entities {
		if e.Country != "" && !isCountryCode(e.Country) {
			t.Errorf("entity %s: country %q is not two upper-case letters", id, e.Country)
		}
		if code, ok := strings.CutPrefix(id, "country-"); ok {
			if e.Kind != "Country" {
				t.Errorf("entity %s: kind %q, want Country", id, e.Kind)
			}
			if e.Country != strings.ToUpper(code) {
				t.Errorf("entity %s: country %q, want %q", id, e.Country, strings.ToUpper(code))
			}
		} else if e.Kind == "Country" {
			t.Errorf("entity %s is of kind Country but its id does not start with country-", id)
		}
		if (e.Kind == "Company" || e.Kind == "Facility") && e.Country == "" {
			t.Errorf("%s %s has no country", e.Kind, id)
		}
	}
}

func TestSeedFractions(t *testing.T) {
	d := loadSeed(t)
	in01 := func(id, field string, x *float64) {
		if x != nil && (math.IsNaN(*x) || *x < 0 || *x > 1) {
			t.Errorf("relationship %s: %s %v is outside 0..1", id, field, *x)
		}
	}
	for id, r := range d.rels {
		in01(id, "share", r.Share)
		in01(id, "shareMin", r.ShareMin)
		in01(id, "shareMax", r.ShareMax)
		in01(id, "confidence", r.Confidence)
		if r.Type != graph.TypeOwns && (r.Share != nil || r.ShareMin != nil || r.ShareMax != nil) {
			t.Errorf("relationship %s: only OWNS carries a share, this is %s", id, r.Type)
		}
	}
}

func TestSeedValidityIntervals(t *testing.T) {
	d := loadSeed(t)
	for id, r := range d.rels {
		if !r.ValidFrom.IsZero() && !r.ValidTo.IsZero() && !r.ValidFrom.Before(r.ValidTo) {
			t.Errorf("relationship %s: validFrom %s is not before validTo %s", id, r.ValidFrom, r.ValidTo)
		}
	}
	for id, e := range d.entities {
		if !e.ValidFrom.IsZero() && !e.ValidTo.IsZero() && !e.ValidFrom.Before(e.ValidTo) {
			t.Errorf("entity %s: validFrom %s is not before validTo %s", id, e.ValidFrom, e.ValidTo)
		}
	}
}

func TestSeedNorthernZhaobaoOwners(t *testing.T) {
	d := loadSeed(t)
	want := map[string]float64{
		"china-northern-rare-earth": 0.40,
		"ningbo-zhaobao-magnet":     0.35,
		"suzhou-torin-drive":        0.125,
		"ningbo-souwest-magnet":     0.125,
	}
	from := graph.MustParseDate("2024-12-01")
	got := map[string]int{}
	for _, r := range d.relOrder {
		if r.Type != graph.TypeOwns || r.To != "northern-zhaobao-magnets" {
			continue
		}
		share, ok := want[r.From]
		if !ok {
			t.Errorf("relationship %s: unexpected owner %s of northern-zhaobao-magnets", r.ID, r.From)
			continue
		}
		got[r.From]++
		if r.Share == nil || *r.Share != share {
			t.Errorf("relationship %s: share %v, want %v", r.ID, ptr(r.Share), share)
		}
		if r.ValidFrom != from {
			t.Errorf("relationship %s: validFrom %s, want 2024-12-01", r.ID, r.ValidFrom)
		}
		if r.From == "suzhou-torin-drive" || r.From == "ningbo-souwest-magnet" {
			if r.Confidence == nil || *r.Confidence >= 1 {
				t.Errorf("relationship %s: a minor JV holder needs a confidence below 1 (discrepancy 1), got %v", r.ID, ptr(r.Confidence))
			}
		}
	}
	for owner := range want {
		if got[owner] != 1 {
			t.Errorf("northern-zhaobao-magnets: %d OWNS relationships from %s, want 1", got[owner], owner)
		}
	}
}

func ptr(x *float64) any {
	if x == nil {
		return "none"
	}
	return *x
}

// TestSeedOwnershipSums checks that, for every owned entity, the disclosed OWNS shares
// valid on the same day never add up to more than 100 %. The days checked are every day
// on which an OWNS relationship into the entity starts, plus "before any start" for the
// relationships without validFrom; the set of valid relationships only grows on those days.
func TestSeedOwnershipSums(t *testing.T) {
	d := loadSeed(t)
	into := map[string][]*graph.Relationship{}
	for _, r := range d.relOrder {
		if r.Type == graph.TypeOwns {
			into[r.To] = append(into[r.To], r)
		}
	}
	const eps = 1e-9
	for target, rels := range into {
		days := map[int32]bool{math.MinInt32: true}
		for _, r := range rels {
			if !r.ValidFrom.IsZero() {
				days[r.ValidFrom.Days()] = true
			}
		}
		for day := range days {
			at := graph.DateFromDays(day)
			sum := 0.0
			var parts []string
			for _, r := range rels {
				if !r.ValidAt(at) {
					continue
				}
				_, hi, known := r.ShareBounds()
				if !known {
					continue
				}
				sum += hi // the upper bound of a range is the worst case
				parts = append(parts, fmt.Sprintf("%s=%v", r.ID, hi))
			}
			if sum > 1+eps {
				sort.Strings(parts)
				when := at.String()
				if day == math.MinInt32 {
					when = "the start"
				}
				t.Errorf("%s: OWNS shares valid at %s sum to %v > 1: %s", target, when, sum, strings.Join(parts, ", "))
			}
		}
	}
}

func TestSeedSearchableChineseAlias(t *testing.T) {
	d := loadSeed(t)
	e, ok := d.entities["china-northern-rare-earth"]
	if !ok {
		t.Fatal("china-northern-rare-earth is missing")
	}
	for _, a := range e.Aliases {
		if strings.Contains(a, "北方稀土") {
			return
		}
	}
	t.Errorf("china-northern-rare-earth has no alias containing 北方稀土: %q", e.Aliases)
}

// TestSeedSupplyAndFacilityProperties keeps the supply-chain conventions: every SUPPLIES
// names its material and any volumeTpa is a non-negative number; every facility says its
// stage and status and is LOCATED_IN its country.
func TestSeedSupplyAndFacilityProperties(t *testing.T) {
	d := loadSeed(t)
	for id, r := range d.rels {
		if r.Type != graph.TypeSupplies {
			continue
		}
		var p map[string]any
		if err := json.Unmarshal(r.Properties, &p); err != nil {
			t.Errorf("relationship %s: properties: %v", id, err)
			continue
		}
		if m, _ := p["material"].(string); m == "" {
			t.Errorf("relationship %s: SUPPLIES without properties.material", id)
		}
		if v, ok := p["volumeTpa"]; ok {
			if f, isNum := v.(float64); !isNum || f < 0 {
				t.Errorf("relationship %s: volumeTpa %v is not a non-negative number", id, v)
			}
		}
	}
	located := map[string]string{}
	for _, r := range d.relOrder {
		if r.Type == "LOCATED_IN" {
			located[r.From] = r.To
		}
	}
	for id, e := range d.entities {
		if e.Kind != "Facility" {
			continue
		}
		var p map[string]any
		if err := json.Unmarshal(e.Properties, &p); err != nil {
			t.Errorf("facility %s: properties: %v", id, err)
			continue
		}
		for _, k := range []string{"stage", "status"} {
			if s, _ := p[k].(string); s == "" {
				t.Errorf("facility %s: no properties.%s", id, k)
			}
		}
		if want := "country-" + strings.ToLower(e.Country); located[id] != want {
			t.Errorf("facility %s: LOCATED_IN %q, want %q", id, located[id], want)
		}
	}
}
