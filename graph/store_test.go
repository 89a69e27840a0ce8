package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// MustOpenStore opens an in-memory store closed at the end of the test.
func MustOpenStore(tb testing.TB) *Store {
	tb.Helper()
	s, err := Open(Options{InMemory: true})
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// MustApply applies b and fails the test on error.
func MustApply(tb testing.TB, s *Store, b *Batch) *Applied {
	tb.Helper()
	a, err := s.Apply(context.Background(), b)
	if err != nil {
		tb.Fatalf("Apply: %v", err)
	}
	return a
}

func fptr(f float64) *float64 { return &f }

var testSource = Source{ID: "src-test", Title: "Test source", Publisher: "Lodestone", Published: MustParseDate("2025-01-02")}

// smallGraph: the Northern Zhaobao JV and a little around it.
func smallGraph() *Batch {
	return &Batch{
		Sources: []Source{testSource},
		Entities: []Entity{
			{ID: "nre", Kind: "Company", Name: "China Northern Rare Earth (Group) High-Tech Co., Ltd.", Country: "CN",
				Aliases:     []string{"Northern Rare Earth", "中国北方稀土（集团）高科技股份有限公司", "北方稀土"},
				Identifiers: []Identifier{{Scheme: "SSE", Value: "600111"}}, Sources: []string{"src-test"}},
			{ID: "nzb", Kind: "Company", Name: "Northern Zhaobao Magnets (Inner Mongolia) Co., Ltd.", Country: "CN", Sources: []string{"src-test"}},
			{ID: "zhaobao", Kind: "Company", Name: "Ningbo Zhaobao Magnet Co., Ltd.", Country: "CN"},
			{ID: "societe", Kind: "Company", Name: "Société Générale Aimants", Country: "FR"},
			{ID: "lynas", Kind: "Company", Name: "Lynas Rare Earths", Country: "AU"},
			{ID: "weld", Kind: "Facility", Name: "Mount Weld mine", Country: "AU"},
		},
		Relationships: []Relationship{
			{ID: "o1", Type: "OWNS", From: "nre", To: "nzb", Share: fptr(0.4), ValidFrom: MustParseDate("2024-12-01"), Sources: []string{"src-test"}},
			{ID: "o2", Type: "OWNS", From: "zhaobao", To: "nzb", Share: fptr(0.35), ValidFrom: MustParseDate("2024-12-01")},
			{Type: "OPERATES", From: "lynas", To: "weld"},
			{ID: "s1", Type: "SUPPLIES", From: "weld", To: "nzb", Properties: json.RawMessage(`{"material":"ndpr-oxide","volumeTpa":100}`), ValidTo: MustParseDate("2020-01-01")},
		},
	}
}

func TestStoreUpsertAndRead(t *testing.T) {
	s := MustOpenStore(t)
	ctx := context.Background()
	a := MustApply(t, s, smallGraph())
	if got, want := a.Relationships[2], "OPERATES:lynas->weld"; got != want {
		t.Errorf("derived relationship id = %q, want %q", got, want)
	}
	e, err := s.Entity(ctx, "nre")
	if err != nil {
		t.Fatal(err)
	}
	if e.Name != "China Northern Rare Earth (Group) High-Tech Co., Ltd." || e.Country != "CN" || len(e.Aliases) != 3 {
		t.Errorf("Entity(nre) = %+v", e)
	}
	r, err := s.Relationship(ctx, "o1")
	if err != nil {
		t.Fatal(err)
	}
	if r.From != "nre" || r.To != "nzb" || *r.Share != 0.4 || r.ValidFrom.String() != "2024-12-01" {
		t.Errorf("Relationship(o1) = %+v", r)
	}
	if _, err := s.Entity(ctx, "nope"); ErrorCode(err) != ENOTFOUND {
		t.Errorf("Entity(nope) error = %v, want NOT_FOUND", err)
	}
	if _, err := s.Relationship(ctx, "nope"); ErrorCode(err) != ENOTFOUND {
		t.Errorf("Relationship(nope) error = %v, want NOT_FOUND", err)
	}
	got, err := s.EntitiesByIdentifier(ctx, "SSE", "600111")
	if err != nil || len(got) != 1 || got[0].ID != "nre" {
		t.Errorf("EntitiesByIdentifier(SSE 600111) = %v, %v", got, err)
	}
	st, _ := s.Stats(ctx)
	if st.Entities != 6 || st.Relationships != 4 || st.ByKind["Company"] != 5 || st.ByType["OWNS"] != 2 || st.Version != 1 {
		t.Errorf("Stats = %+v", st)
	}
	srcs, err := s.Sources(ctx, []string{"src-test", "missing"})
	if err != nil || len(srcs) != 1 || srcs[0].Publisher != "Lodestone" {
		t.Errorf("Sources = %v, %v", srcs, err)
	}
}

func TestStoreUpdateMovesIndexes(t *testing.T) {
	s := MustOpenStore(t)
	ctx := context.Background()
	MustApply(t, s, smallGraph())
	// Rename and move nzb: the old name and country must no longer find it.
	MustApply(t, s, &Batch{Entities: []Entity{{ID: "nzb", Kind: "Factory", Name: "Renamed Works", Country: "MN"}}})
	if hits, _ := s.Search(ctx, "zhaobao magnets", "", 10); slices.ContainsFunc(hits, func(h SearchHit) bool { return h.Entity.ID == "nzb" }) {
		t.Errorf("old name still finds nzb: %v", hits)
	}
	if hits, _ := s.Search(ctx, "renamed", "", 10); len(hits) != 1 || hits[0].Entity.ID != "nzb" {
		t.Errorf("Search(renamed) = %v", hits)
	}
	if p, _ := s.ListEntities(ctx, EntityFilter{Country: "CN"}, 50, ""); len(p.Items) != 2 {
		t.Errorf("CN entities = %d, want 2", len(p.Items))
	}
	if p, _ := s.ListEntities(ctx, EntityFilter{Kind: "Factory", Country: "MN"}, 50, ""); len(p.Items) != 1 {
		t.Errorf("Factory/MN entities = %d, want 1", len(p.Items))
	}
	if got, want := s.CountEntities(EntityFilter{Kind: "Company"}), 4; got != want {
		t.Errorf("CountEntities(Company) = %d, want %d", got, want)
	}
	// Move a relationship to other ends: the old adjacency must be gone.
	MustApply(t, s, &Batch{Relationships: []Relationship{{ID: "o1", Type: "OWNS", From: "nre", To: "zhaobao", Share: fptr(0.1)}}})
	p, _, err := s.EntityRelationships(ctx, "nzb", RelationshipFilter{Direction: In, Types: []string{"OWNS"}, AsOf: MustParseDate("2025-06-01")}, 10, "", false)
	if err != nil || len(p.Items) != 1 || p.Items[0].ID != "o2" {
		t.Errorf("nzb owners after move = %v, %v", p, err)
	}
	st, _ := s.Stats(ctx)
	if st.Relationships != 4 || st.ByType["OWNS"] != 2 {
		t.Errorf("stats after move = %+v", st)
	}
}

func TestStoreEntityRelationships(t *testing.T) {
	s := MustOpenStore(t)
	ctx := context.Background()
	MustApply(t, s, smallGraph())
	tests := []struct {
		name string
		id   string
		f    RelationshipFilter
		want []string
	}{
		{"in owns", "nzb", RelationshipFilter{Direction: In, Types: []string{"OWNS"}, AsOf: MustParseDate("2025-01-01")}, []string{"o1", "o2"}},
		{"before the JV", "nzb", RelationshipFilter{Direction: In, Types: []string{"OWNS"}, AsOf: MustParseDate("2024-11-30")}, nil},
		{"expired supply visible in 2019", "nzb", RelationshipFilter{Direction: In, AsOf: MustParseDate("2019-01-01")}, []string{"s1"}},
		{"out of nre", "nre", RelationshipFilter{Direction: Out}, []string{"o1"}},
		{"in of nre", "nre", RelationshipFilter{Direction: In}, nil},
		{"both of weld today", "weld", RelationshipFilter{Direction: Both}, []string{"OPERATES:lynas->weld"}},
		{"unknown type", "nzb", RelationshipFilter{Direction: Both, Types: []string{"NOPE"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, total, err := s.EntityRelationships(ctx, tt.id, tt.f, 10, "", true)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range p.Items {
				got = append(got, r.ID)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) || total != len(tt.want) {
				t.Errorf("EntityRelationships(%s, %+v) = %v (total %d), want %v", tt.id, tt.f, got, total, tt.want)
			}
		})
	}
	if _, _, err := s.EntityRelationships(ctx, "nope", RelationshipFilter{}, 10, "", false); ErrorCode(err) != ENOTFOUND {
		t.Errorf("unknown entity error = %v", err)
	}
	if _, _, err := s.EntityRelationships(ctx, "nzb", RelationshipFilter{}, 10, "!!", false); ErrorCode(err) != EINVALID {
		t.Errorf("bad cursor error = %v", err)
	}
	if _, _, err := s.EntityRelationships(ctx, "nzb", RelationshipFilter{}, 100000, "", false); ErrorCode(err) != ELIMIT {
		t.Errorf("first over cap error = %v", err)
	}
}

// TestStorePagination pages through entities and a hub's relationships with several
// page sizes: pages must be disjoint and together complete.
func TestStorePagination(t *testing.T) {
	s := MustOpenStore(t)
	ctx := context.Background()
	b := &Batch{Entities: []Entity{{ID: "hub", Kind: "Company", Name: "Hub", Country: "CN"}}}
	for i := range 57 {
		cc := []string{"CN", "US", "AU"}[i%3]
		b.Entities = append(b.Entities, Entity{ID: fmt.Sprintf("e%02d", i), Kind: []string{"Company", "Facility"}[i%2], Name: fmt.Sprintf("Entity %d", i), Country: cc})
		typ := []string{"SUPPLIES", "OWNS"}[i%2]
		from, to := "hub", fmt.Sprintf("e%02d", i)
		if i%3 == 0 {
			from, to = to, from
		}
		b.Relationships = append(b.Relationships, Relationship{Type: typ, From: from, To: to})
	}
	MustApply(t, s, b)
	for _, first := range []int{1, 5, 7, 50, 100} {
		for _, f := range []EntityFilter{{}, {Kind: "Company"}, {Country: "US"}, {Kind: "Facility", Country: "AU"}} {
			seen := map[string]bool{}
			after := ""
			for pages := 0; ; pages++ {
				p, err := s.ListEntities(ctx, f, first, after)
				if err != nil {
					t.Fatal(err)
				}
				for i, e := range p.Items {
					if seen[e.ID] {
						t.Fatalf("first=%d filter=%+v: %s on two pages", first, f, e.ID)
					}
					if f.Kind != "" && e.Kind != f.Kind || f.Country != "" && e.Country != f.Country {
						t.Fatalf("filter %+v returned %+v", f, e)
					}
					seen[e.ID] = true
					after = p.Cursors[i]
				}
				if !p.HasNext {
					break
				}
				if pages > 100 {
					t.Fatal("pagination does not end")
				}
			}
			if got, want := len(seen), s.CountEntities(f); got != want {
				t.Errorf("first=%d filter=%+v: paged %d entities, want %d", first, f, got, want)
			}
		}
		for _, rf := range []RelationshipFilter{{Direction: Both}, {Direction: Out}, {Direction: In, Types: []string{"OWNS"}}, {Direction: Both, Types: []string{"OWNS", "SUPPLIES"}}} {
			seen := map[string]bool{}
			after := ""
			total := 0
			for {
				p, n, err := s.EntityRelationships(ctx, "hub", rf, first, after, true)
				if err != nil {
					t.Fatal(err)
				}
				total = n
				for i, r := range p.Items {
					if seen[r.ID] {
						t.Fatalf("first=%d %+v: %s on two pages", first, rf, r.ID)
					}
					seen[r.ID] = true
					after = p.Cursors[i]
				}
				if !p.HasNext {
					break
				}
			}
			if len(seen) != total || total == 0 {
				t.Errorf("first=%d %+v: paged %d relationships, totalCount %d", first, rf, len(seen), total)
			}
		}
	}
}

func TestStoreSearch(t *testing.T) {
	s := MustOpenStore(t)
	MustApply(t, s, smallGraph())
	tests := []struct {
		text, kind string
		want       string // id of the top hit; "" for none
	}{
		{"China Northern Rare Earth (Group) High-Tech Co., Ltd.", "", "nre"},
		{"northern rare", "", "nre"},
		{"NORTHERN RARE EARTH", "", "nre"},
		{"北方稀土", "", "nre"},
		{"稀土", "", "nre"},
		{"中国北方", "", "nre"},
		{"societe generale", "", "societe"},
		{"Société", "", "societe"},
		{"SOCIÉTÉ GÉNÉRALE", "", "societe"},
		{"zhaobao", "", "zhaobao"},
		{"northern zhaobao", "", "nzb"},
		{"mount weld", "Facility", "weld"},
		{"mount weld", "Company", ""},
		{"lyn", "", "lynas"},
		{"南方稀土", "", ""},
		{"xyzzy", "", ""},
	}
	for _, tt := range tests {
		hits, err := s.Search(context.Background(), tt.text, tt.kind, 10)
		if err != nil {
			t.Fatalf("Search(%q): %v", tt.text, err)
		}
		got := ""
		if len(hits) > 0 {
			got = hits[0].Entity.ID
		}
		if got != tt.want {
			t.Errorf("Search(%q, %q) top hit = %q, want %q (hits %v)", tt.text, tt.kind, got, tt.want, hits)
		}
	}
	hits, _ := s.Search(context.Background(), "zhaobao", "", 10)
	if len(hits) != 2 || hits[0].Score < hits[1].Score {
		t.Errorf("Search(zhaobao) = %v: want 2 hits, ranked", hits)
	}
	if _, err := s.Search(context.Background(), "  ,, ", "", 10); ErrorCode(err) != EINVALID {
		t.Errorf("Search of punctuation error = %v, want INVALID_INPUT", err)
	}
}

// TestStoreValidation sends one bad item at a time: each must be refused with
// INVALID_INPUT (or NOT_FOUND) naming the field, and leave the store unchanged.
func TestStoreValidation(t *testing.T) {
	ctx := context.Background()
	long := strings.Repeat("x", 257)
	ok := Entity{ID: "new", Kind: "Company", Name: "New Co"}
	rel := func(mod func(r *Relationship)) *Batch {
		r := Relationship{ID: "r-new", Type: "OWNS", From: "nre", To: "nzb", Share: fptr(0.1)}
		mod(&r)
		return &Batch{Relationships: []Relationship{r}}
	}
	entity := func(mod func(e *Entity)) *Batch {
		e := ok
		mod(&e)
		return &Batch{Entities: []Entity{e}}
	}
	tests := []struct {
		name  string
		batch *Batch
		code  string
		field string
	}{
		{"empty id", entity(func(e *Entity) { e.ID = "" }), EINVALID, "entities[0].id"},
		{"long id", entity(func(e *Entity) { e.ID = long }), EINVALID, "entities[0].id"},
		{"control char", entity(func(e *Entity) { e.ID = "a\x01b" }), EINVALID, "entities[0].id"},
		{"NUL", entity(func(e *Entity) { e.ID = "a\x00b" }), EINVALID, "entities[0].id"},
		{"spaces", entity(func(e *Entity) { e.ID = " a" }), EINVALID, "entities[0].id"},
		{"invalid utf8", entity(func(e *Entity) { e.ID = "a\xffb" }), EINVALID, "entities[0].id"},
		{"empty name", entity(func(e *Entity) { e.Name = " " }), EINVALID, "entities[0].name"},
		{"empty kind", entity(func(e *Entity) { e.Kind = "" }), EINVALID, "entities[0].kind"},
		{"lower country", entity(func(e *Entity) { e.Country = "cn" }), EINVALID, "entities[0].country"},
		{"long country", entity(func(e *Entity) { e.Country = "CHN" }), EINVALID, "entities[0].country"},
		{"entity dates", entity(func(e *Entity) { e.ValidFrom, e.ValidTo = MustParseDate("2025-01-02"), MustParseDate("2025-01-01") }), EINVALID, "entities[0].validFrom"},
		{"entity properties not object", entity(func(e *Entity) { e.Properties = json.RawMessage(`[1]`) }), EINVALID, "entities[0].properties"},
		{"entity unknown source", entity(func(e *Entity) { e.Sources = []string{"nope"} }), EINVALID, "entities[0].sources[0]"},
		{"duplicate entity", &Batch{Entities: []Entity{ok, ok}}, EINVALID, "entities[1].id"},
		{"unknown from", rel(func(r *Relationship) { r.From = "ghost" }), EINVALID, "relationships[0].from"},
		{"unknown to", rel(func(r *Relationship) { r.To = "ghost" }), EINVALID, "relationships[0].to"},
		{"share above 1", rel(func(r *Relationship) { r.Share = fptr(1.4) }), EINVALID, "relationships[0].share"},
		{"share negative", rel(func(r *Relationship) { r.Share = fptr(-0.1) }), EINVALID, "relationships[0].share"},
		{"min > max", rel(func(r *Relationship) { r.Share, r.ShareMin, r.ShareMax = nil, fptr(0.5), fptr(0.25) }), EINVALID, "relationships[0].shareMin"},
		{"min alone", rel(func(r *Relationship) { r.Share, r.ShareMin = nil, fptr(0.5) }), EINVALID, "relationships[0].shareMin"},
		{"share and range", rel(func(r *Relationship) { r.ShareMin, r.ShareMax = fptr(0.1), fptr(0.2) }), EINVALID, "relationships[0].share"},
		{"confidence", rel(func(r *Relationship) { r.Confidence = fptr(2) }), EINVALID, "relationships[0].confidence"},
		{"rel dates", rel(func(r *Relationship) {
			r.ValidFrom, r.ValidTo = MustParseDate("2025-01-02"), MustParseDate("2024-01-01")
		}), EINVALID, "relationships[0].validFrom"},
		{"lower type", rel(func(r *Relationship) { r.Type = "owns" }), EINVALID, "relationships[0].type"},
		{"self ownership", rel(func(r *Relationship) { r.To = "nre" }), EINVALID, "relationships[0].to"},
		{"bad volume", rel(func(r *Relationship) { r.Properties = json.RawMessage(`{"volumeTpa":"lots"}`) }), EINVALID, "relationships[0].properties.volumeTpa"},
		{"empty rel id", rel(func(r *Relationship) { r.ID = " x" }), EINVALID, "relationships[0].id"},
		{"source without title", &Batch{Sources: []Source{{ID: "s"}}}, EINVALID, "sources[0].title"},
		{"delete unknown relationship", &Batch{DeleteRelationships: []string{"ghost"}}, ENOTFOUND, ""},
		{"delete unknown entity", &Batch{DeleteEntities: []EntityDelete{{ID: "ghost"}}}, ENOTFOUND, ""},
		{"delete entity with relationships", &Batch{DeleteEntities: []EntityDelete{{ID: "nzb"}}}, EINVALID, "id"},
		// A good item followed by a bad one: the good one must not be stored either.
		{"atomic", &Batch{Entities: []Entity{ok}, Relationships: []Relationship{{Type: "OWNS", From: "new", To: "ghost"}}}, EINVALID, "relationships[0].to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := MustOpenStore(t)
			MustApply(t, s, smallGraph())
			before := dump(t, s)
			_, err := s.Apply(ctx, tt.batch)
			if ErrorCode(err) != tt.code {
				t.Fatalf("Apply error = %v (code %s), want code %s", err, ErrorCode(err), tt.code)
			}
			if e, ok := err.(*Error); !ok || e.Field != tt.field || e.Message == "" {
				t.Errorf("error = %#v, want field %q", err, tt.field)
			}
			if after := dump(t, s); after != before {
				t.Errorf("store changed by a refused batch:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// dump renders every key and value of the store, to compare states; the change log is
// left out (its commits carry their time, and a bulk load is one commit where Apply
// makes one per batch): changes_test.go checks it.
func dump(tb testing.TB, s *Store) string {
	tb.Helper()
	var b strings.Builder
	err := s.read(context.Background(), Date{}, func(v *txnView) error {
		it := v.txn.NewIterator(badgerIteratorAll())
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if it.Item().Key()[0] == famChange {
				continue
			}
			val, _ := it.Item().ValueCopy(nil)
			fmt.Fprintf(&b, "%q=%q\n", it.Item().Key(), val)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return b.String()
}

func TestStoreDelete(t *testing.T) {
	s := MustOpenStore(t)
	ctx := context.Background()
	MustApply(t, s, smallGraph())
	MustApply(t, s, &Batch{DeleteRelationships: []string{"o2"}})
	if _, err := s.Relationship(ctx, "o2"); ErrorCode(err) != ENOTFOUND {
		t.Errorf("deleted relationship still there: %v", err)
	}
	a := MustApply(t, s, &Batch{DeleteEntities: []EntityDelete{{ID: "nzb", Cascade: true}}})
	if a.DeletedRelationships != 2 || a.DeletedEntities != 1 {
		t.Errorf("cascade deleted %+v, want 2 relationships and 1 entity", a)
	}
	if _, err := s.Relationship(ctx, "o1"); ErrorCode(err) != ENOTFOUND {
		t.Errorf("cascaded relationship still there: %v", err)
	}
	if hits, _ := s.Search(ctx, "northern zhaobao", "", 10); len(hits) != 0 {
		t.Errorf("deleted entity still searchable: %v", hits)
	}
	p, _, _ := s.EntityRelationships(ctx, "nre", RelationshipFilter{Direction: Both}, 10, "", false)
	if len(p.Items) != 0 {
		t.Errorf("nre keeps relationships to a deleted entity: %v", p.Items)
	}
	st, _ := s.Stats(ctx)
	if st.Entities != 5 || st.Relationships != 1 || st.ByType["OWNS"] != 0 {
		t.Errorf("stats after deletes = %+v", st)
	}
}

func TestStoreSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	MustApply(t, s, smallGraph())
	MustApply(t, s, &Batch{Entities: []Entity{{ID: "later", Kind: "Person", Name: "Later"}}})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if e, err := s.Entity(ctx, "later"); err != nil || e.Name != "Later" {
		t.Errorf("after reopen Entity(later) = %v, %v", e, err)
	}
	st, _ := s.Stats(ctx)
	if st.Entities != 7 || st.Relationships != 4 || st.Version != 2 {
		t.Errorf("after reopen stats = %+v", st)
	}
	// New writes continue the id sequences instead of reusing them.
	MustApply(t, s, &Batch{Entities: []Entity{{ID: "later2", Kind: "Person", Name: "Later Two"}}})
	p, _ := s.ListEntities(ctx, EntityFilter{Kind: "Person"}, 10, "")
	if len(p.Items) != 2 {
		t.Errorf("persons after reopen = %d, want 2", len(p.Items))
	}
	if hits, _ := s.Search(ctx, "北方稀土", "", 10); len(hits) != 1 {
		t.Errorf("search after reopen = %v", hits)
	}
}

func TestHotRoundTrip(t *testing.T) {
	for _, r := range []*Relationship{
		{ID: "r1", Type: "OWNS", Share: fptr(0.123456789)},
		{ID: "北方稀土>x", Type: "OWNS", ShareMin: fptr(0.25), ShareMax: fptr(0.5), ShareMinExclusive: true, ValidFrom: MustParseDate("1999-12-31"), ValidTo: MustParseDate("2030-01-01")},
		{ID: strings.Repeat("r", 200), Type: "OWNS", ShareMin: fptr(0.1), ShareMax: fptr(0.2), ShareMaxExclusive: true},
		{Type: "SUPPLIES", Properties: json.RawMessage(`{"volumeTpa":300,"material":"` + strings.Repeat("m", 300) + `"}`)},
		{Type: "SUPPLIES", ValidFrom: MustParseDate("1950-01-01")},
	} {
		h := hotOf(r)
		got, ok := decodeHot(h.encode())
		if !ok {
			t.Fatalf("decodeHot(encode(%+v)) failed", h)
		}
		if len(h.material) > 255 {
			h.material = h.material[:255]
		}
		if got != h {
			t.Errorf("round trip = %+v, want %+v", got, h)
		}
	}
	if _, ok := decodeHot([]byte{1, 2, 3}); ok {
		t.Error("decodeHot accepted a short payload")
	}
	// A version 1 payload (stores written before the id was added) is still read, without
	// an id; a version 2 payload whose id length is off is refused.
	v2 := hotOf(&Relationship{ID: "rel", Type: "OWNS", Share: fptr(0.5), Properties: json.RawMessage(`{"material":"NdPr"}`)}).encode()
	v1 := append([]byte{1}, v2[1:len(v2)-4]...)
	if got, ok := decodeHot(v1); !ok || got.id != "" || got.material != "NdPr" || got.min != 0.5 {
		t.Errorf("decodeHot(version 1) = %+v, %v", got, ok)
	}
	if _, ok := decodeHot(v2[:len(v2)-1]); ok {
		t.Error("decodeHot accepted a payload with a cut id")
	}
	// lodestone check takes either version as matching the record, nothing else.
	r := &Relationship{ID: "rel", Type: "OWNS", Share: fptr(0.5), Properties: json.RawMessage(`{"material":"NdPr"}`)}
	if !hotMatches(v1, r) || !hotMatches(v2, r) {
		t.Error("hotMatches refused the payload of its own record")
	}
	r.Share = fptr(0.6)
	if hotMatches(v1, r) || hotMatches(v2, r) {
		t.Error("hotMatches accepted the payload of another share")
	}
}

// TestThinSubgraph checks that a subgraph built from adjacency payloads (Thin) names the
// same entities and relationships, with the same fields apart from Properties, Sources
// and Confidence, as one read from the records.
func TestThinSubgraph(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)
	rng := rand.New(rand.NewPCG(3, 4))
	b := &Batch{Sources: []Source{{ID: "src", Title: "t"}}}
	const n = 60
	for i := range n {
		b.Entities = append(b.Entities, Entity{ID: fmt.Sprintf("e%d", i), Kind: "Company", Name: fmt.Sprintf("E %d", i)})
	}
	for i := range 200 {
		r := Relationship{ID: fmt.Sprintf("r%d", i), Type: []string{"OWNS", "SUPPLIES", "OPERATES"}[rng.IntN(3)],
			From: fmt.Sprintf("e%d", rng.IntN(n)), To: fmt.Sprintf("e%d", rng.IntN(n)),
			Properties: json.RawMessage(`{"material":"NdPr","volumeTpa":12}`), Sources: []string{"src"}, Confidence: fptr(0.8)}
		switch rng.IntN(3) {
		case 0:
			r.Share = fptr(rng.Float64())
		case 1:
			lo := rng.Float64() / 2
			r.ShareMin, r.ShareMax = fptr(lo), fptr(lo+0.25)
			r.ShareMinExclusive, r.ShareMaxExclusive = rng.IntN(2) == 0, rng.IntN(2) == 0
		}
		if rng.IntN(2) == 0 {
			r.ValidFrom = DateFromDays(int32(10000 + rng.IntN(5000)))
		}
		if rng.IntN(4) == 0 {
			r.ValidTo = DateFromDays(int32(20000 + rng.IntN(5000)))
		}
		if r.From == r.To {
			r.Type = "SUPPLIES"
		}
		if r.Type != "OWNS" {
			r.Share, r.ShareMin, r.ShareMax, r.ShareMinExclusive, r.ShareMaxExclusive = nil, nil, nil, false, false
		}
		b.Relationships = append(b.Relationships, r)
	}
	MustApply(t, s, b)
	asOf := DateFromDays(16000)
	supplied := 0 // supply chains with relationships
	for i := range 40 {
		var full, thin *Subgraph
		var err error
		if i < 20 {
			q := SubgraphQuery{IDs: []string{fmt.Sprintf("e%d", i)}, Depth: 1 + i%3, Limit: 500, Direction: Direction(i % 3), AsOf: asOf}
			if full, err = s.Subgraph(ctx, q); err == nil {
				q.Thin = true
				thin, err = s.Subgraph(ctx, q)
			}
		} else {
			q := SupplyQuery{Of: fmt.Sprintf("e%d", i), Upstream: i%2 == 0, MaxDepth: 4, AsOf: asOf}
			if full, err = s.SupplyChain(ctx, q); err == nil {
				q.Thin = true
				thin, err = s.SupplyChain(ctx, q)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		q := i
		if len(thin.Relationships) > 0 && i >= 20 {
			supplied++
		}
		if !reflect.DeepEqual(thin.Entities, full.Entities) || len(thin.Relationships) != len(full.Relationships) {
			t.Fatalf("case %d: thin and full subgraphs differ in entities or relationship count", q)
		}
		for j, r := range thin.Relationships {
			if !r.Thin {
				t.Fatalf("case %d: relationship %s is not thin", q, r.ID)
			}
			want := *full.Relationships[j]
			want.Properties, want.Sources, want.Confidence, want.Thin = nil, nil, nil, true
			if !reflect.DeepEqual(*r, want) {
				t.Errorf("case %d: thin relationship\n%+v\nwant\n%+v", q, *r, want)
			}
		}
	}
	if supplied < 5 {
		t.Errorf("only %d of 20 supply chains had relationships; the test compares too little", supplied)
	}
}

func badgerIteratorAll() badger.IteratorOptions { return badger.DefaultIteratorOptions }

// TestPrefetch: prefetch reads many entities on two goroutines (run with -race) and
// leaves each as entity would read it; an unknown node is left for entity to report.
func TestPrefetch(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)
	b := &Batch{}
	for i := range 3 * prefetchParallelMin {
		b.Entities = append(b.Entities, Entity{ID: fmt.Sprintf("p%d", i), Kind: "Company", Name: fmt.Sprintf("P %d", i), Aliases: []string{"a"}})
	}
	MustApply(t, s, b)
	err := s.read(ctx, Date{}, func(v *txnView) error {
		var ns []NodeID
		for i := range 3 * prefetchParallelMin {
			n, err := v.lookup(fmt.Sprintf("p%d", i))
			if err != nil {
				return err
			}
			ns = append(ns, n)
		}
		ghost := NodeID(1 << 40)
		v.prefetch(append(ns, ghost))
		if len(v.ents) != len(ns) {
			t.Errorf("prefetch read %d entities, want %d", len(v.ents), len(ns))
		}
		for i, n := range ns {
			want, err := readEntity(v.txn, n)
			if err != nil {
				return err
			}
			if got := v.ents[n]; !reflect.DeepEqual(got, want) || got.ID != fmt.Sprintf("p%d", i) {
				t.Errorf("entity %d: prefetched %+v, want %+v", i, got, want)
			}
		}
		if _, err := v.entity(ghost); err == nil {
			t.Error("entity of an unknown node: no error")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
