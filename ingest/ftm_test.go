package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/lodestone-kg/lodestone/graph"
)

func ftmFixture(tb testing.TB, name string) []*Input {
	tb.Helper()
	return fileInputs(tb, filepath.Join("testdata", "ftm", name))
}

func mustImportFtM(tb testing.TB, s *graph.Store, opts Options, inputs ...*Input) *Summary {
	tb.Helper()
	opts.Format = FormatFtM
	sum, err := Import(context.Background(), s, inputs, opts)
	if err != nil {
		tb.Fatalf("Import ftm: %v", err)
	}
	return sum
}

func entityProps(tb testing.TB, e *graph.Entity) map[string]any {
	tb.Helper()
	props := map[string]any{}
	if len(e.Properties) > 0 {
		if err := json.Unmarshal(e.Properties, &props); err != nil {
			tb.Fatalf("%s properties %s: %v", e.ID, e.Properties, err)
		}
	}
	return props
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestFtMMapping pins the mapping of entities.ftm.json: schemata to kinds, names and
// aliases, countries, identifier schemes, kept properties, sources per dataset, edge
// types and directions, shares, dates, and a Sanction before its entity and an edge
// before its ends.
func TestFtMMapping(t *testing.T) {
	s := mustOpenStore(t)
	sum := mustImportFtM(t, s, Options{}, ftmFixture(t, "entities.ftm.json")...)
	if got, want := [3]int{sum.Sources, sum.Entities, sum.Relationships}, [3]int{4, 8, 11}; got != want {
		t.Fatalf("sources, entities, relationships = %v, want %v (summary %s)", got, want, sum)
	}

	acme := mustEntity(t, s, "co-acme")
	if got, want := jsonText([]any{acme.Kind, acme.Name, acme.Aliases, acme.Country, acme.Sources}),
		`["Company","Acme Holdings Ltd",["ACME HOLDINGS LIMITED","Acme"],"GB",["ftm:gb_coh_psc","ftm:gleif"]]`; got != want {
		t.Errorf("co-acme kind, name, aliases, country, sources = %s, want %s", got, want)
	}
	wantIDs := []graph.Identifier{{Scheme: "LEI", Value: "5493001KJTIIGC8Y1R12"}, {Scheme: "WIKIDATA", Value: "Q42"}, {Scheme: "REGISTRATION_NUMBER", Value: "01234567"}}
	if !sameIdentifiers(acme.Identifiers, wantIDs) {
		t.Errorf("co-acme identifiers = %v, want %v", acme.Identifiers, wantIDs)
	}
	if got, want := jsonText(entityProps(t, acme)),
		`{"ftm:first_seen":"2024-01-02T00:00:00","ftm:last_seen":"2025-01-02T00:00:00","ftm:referents":["gb-coh-01234567"],"ftm:target":false,"incorporationDate":["1999-05-01"],"topics":["corp.public"]}`; got != want {
		t.Errorf("co-acme properties = %s, want %s", got, want)
	}

	beta := mustEntity(t, s, "co-beta")
	wantIDs = []graph.Identifier{{Scheme: "INN", Value: "7701234567"}, {Scheme: "OGRN", Value: "1027700000000"}, {Scheme: "OKPO", Value: "12345678"}, {Scheme: "TAX_NUMBER", Value: "7701234567"}}
	if !sameIdentifiers(beta.Identifiers, wantIDs) {
		t.Errorf("co-beta identifiers = %v, want %v", beta.Identifiers, wantIDs)
	}
	union := mustEntity(t, s, "org-union")
	wantIDs = []graph.Identifier{{Scheme: "SWIFT_BIC", Value: "UNIORUMM"}, {Scheme: "OPENCORPORATES", Value: "https://opencorporates.com/companies/ru/1"}}
	if !sameIdentifiers(union.Identifiers, wantIDs) {
		t.Errorf("org-union identifiers = %v, want %v", union.Identifiers, wantIDs)
	}
	if got, want := union.Country+" "+jsonText(entityProps(t, union)["country"]), ` ["suhh"]`; got != want {
		t.Errorf("org-union country and properties.country = %s, want %s (a code that is not ISO 3166-1 stays a property)", got, want)
	}
	if got, want := mustEntity(t, s, "co-gamma").Kind+" "+mustEntity(t, s, "v-ship").Kind, "PublicBody Vessel"; got != want {
		t.Errorf("kinds = %s, want %s", got, want)
	}
	if _, err := s.Entity(context.Background(), "addr-1"); graph.ErrorCode(err) != graph.ENOTFOUND {
		t.Errorf("Entity(addr-1) error = %v, want ENOTFOUND (Address is not imported)", err)
	}

	// The Sanction came before its entity.
	iv := mustEntity(t, s, "p-ivanov")
	if got, want := jsonText([]any{iv.Kind, iv.Country, iv.Identifiers, iv.Sources}),
		`["Person","RU",[{"scheme":"ID_NUMBER","value":"4500123456"}],["ftm:ru_egrul","ftm:us_ofac_sdn"]]`; got != want {
		t.Errorf("p-ivanov kind, country, identifiers, sources = %s, want %s", got, want)
	}
	props := entityProps(t, iv)
	if got, want := jsonText(props["sanctions"]),
		`[{"authority":"Office of Foreign Assets Control","datasets":["us_ofac_sdn"],"id":"san-ivanov-1","listingDate":"2022-04-06","program":"RUSSIA-EO14024","reason":"Member of the board","sourceUrl":"https://ofac.treasury.gov/","startDate":"2022-04-06"}]`; got != want {
		t.Errorf("p-ivanov sanctions = %s, want %s", got, want)
	}
	if got, want := jsonText(props["topics"]), `["role.pep","sanction"]`; got != want {
		t.Errorf("p-ivanov topics = %s, want %s", got, want)
	}
	if got, want := jsonText(props["country"]), `["ru","cy"]`; got != want {
		t.Errorf("p-ivanov properties.country = %s, want %s (several countries are kept)", got, want)
	}

	for _, tc := range []struct{ id, want string }{
		// percentage 25.5 → 0.255; startDate 2024 → 2024-01-01; endDate 2025-03 → 2025-04-01.
		{"own-acme-beta", `{"id":"own-acme-beta","type":"OWNS","from":"co-acme","to":"co-beta","share":0.255,"validFrom":"2024-01-01","validTo":"2025-04-01"}`},
		{"own-range", `{"id":"own-range","type":"OWNS","from":"p-petrov","to":"co-gamma","shareMin":0.25,"shareMax":0.5}`},
		{"own-words", `{"id":"own-words","type":"OWNS","from":"p-ivanova","to":"co-acme"}`},
		{"dir-ivanov-beta", `{"id":"dir-ivanov-beta","type":"DIRECTORSHIP","from":"p-ivanov","to":"co-beta","validFrom":"2019-07-15"}`},
		{"mem-beta-union", `{"id":"mem-beta-union","type":"MEMBERSHIP","from":"co-beta","to":"org-union"}`},
		{"fam-1", `{"id":"fam-1","type":"FAMILY","from":"p-ivanov","to":"p-ivanova"}`},
		{"assoc-1", `{"id":"assoc-1","type":"ASSOCIATE","from":"p-ivanova","to":"p-petrov"}`},
		{"emp-1", `{"id":"emp-1","type":"EMPLOYMENT","from":"p-petrov","to":"co-acme","validTo":"2023-06-30"}`},
		{"rep-1", `{"id":"rep-1","type":"REPRESENTATION","from":"co-acme","to":"co-beta"}`},
		{"succ-1", `{"id":"succ-1","type":"SUCCESSION","from":"co-beta","to":"co-gamma"}`},
		{"ul-1", `{"id":"ul-1","type":"UNKNOWN_LINK","from":"co-gamma","to":"v-ship"}`},
	} {
		if got := relJSON(t, s, tc.id); got != tc.want {
			t.Errorf("relationship %s = %s, want %s", tc.id, got, tc.want)
		}
	}
	r, err := s.Relationship(context.Background(), "own-words")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(r.Properties), `{"percentage":["majority"]}`; got != want {
		t.Errorf("own-words properties = %s, want %s (words stay a property)", got, want)
	}
	if got, want := jsonText(r.Sources), `["ftm:gb_coh_psc"]`; got != want {
		t.Errorf("own-words sources = %s, want %s", got, want)
	}
	r, err = s.Relationship(context.Background(), "own-acme-beta")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(r.Properties), `{"ftm:first_seen":"2024-01-02T00:00:00","ftm:last_seen":"2025-01-02T00:00:00","ownershipType":["shares"]}`; got != want {
		t.Errorf("own-acme-beta properties = %s, want %s", got, want)
	}
}

func sameIdentifiers(got, want []graph.Identifier) bool {
	key := func(ids []graph.Identifier) map[graph.Identifier]bool {
		m := map[graph.Identifier]bool{}
		for _, id := range ids {
			m[id] = true
		}
		return m
	}
	return len(got) == len(want) && reflect.DeepEqual(key(got), key(want))
}

// TestFtMPercentage: numbers of percent become fractions, ranges become bounds, and
// anything else is not a share.
func TestFtMPercentage(t *testing.T) {
	for _, tc := range []struct {
		in     string
		lo, hi float64
		ok     bool
	}{
		{"25", 0.25, 0.25, true},
		{"25.5", 0.255, 0.255, true},
		{"25,5 %", 0.255, 0.255, true},
		{"100", 1, 1, true},
		{"0", 0, 0, true},
		{"25-50", 0.25, 0.5, true},
		{"25% - 50%", 0.25, 0.5, true},
		{"75 to 100", 0.75, 1, true},
		{"majority", 0, 0, false},
		{"more than 25", 0, 0, false},
		{"150", 0, 0, false},
		{"50-25", 0, 0, false},
		{"", 0, 0, false},
	} {
		lo, hi, ok := ftmPercentage(tc.in)
		if ok != tc.ok || (ok && (lo != tc.lo || hi != tc.hi)) {
			t.Errorf("ftmPercentage(%q) = %v, %v, %v; want %v, %v, %v", tc.in, lo, hi, ok, tc.lo, tc.hi, tc.ok)
		}
	}
}

// TestFtMDatePrefixes: a start is the first day of its period; an end is the first day
// after it, except a full date, which is taken as written.
func TestFtMDatePrefixes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		end  bool
		want string
	}{
		{"2024", false, "2024-01-01"},
		{"2024-05", false, "2024-05-01"},
		{"2024-05-17", false, "2024-05-17"},
		{"2024-05-17T10:30:00", false, "2024-05-17"},
		{"2024", true, "2025-01-01"},
		{"2024-05", true, "2024-06-01"},
		{"2024-12", true, "2025-01-01"},
		{"2024-05-17", true, "2024-05-17"},
		{"spring 2024", false, ""},
		{"2024-13", false, ""},
		{"2024-02-30", false, ""},
	} {
		d, err := ftmDate(tc.in, tc.end)
		got := ""
		if err == nil {
			got = d.String()
		}
		if got != tc.want {
			t.Errorf("ftmDate(%q, end=%v) = %q (err %v), want %q", tc.in, tc.end, got, err, tc.want)
		}
	}
}

// TestFtMMalformed: a bad line fails the import naming file, line and field, and nothing
// is written; with SkipInvalid the good lines are written and the bad one rejected.
func TestFtMMalformed(t *testing.T) {
	for _, tc := range []struct {
		file, field string
		keep        int // entities written with SkipInvalid
	}{
		{"malformed_json.ftm.json", "malformed_json.ftm.json line 2: properties.name", 1},
		{"malformed_date.ftm.json", "malformed_date.ftm.json line 3: properties.startDate", 2},
		{"malformed_edge.ftm.json", "malformed_edge.ftm.json line 2: properties.director", 1},
		{"malformed_noid.ftm.json", "malformed_noid.ftm.json line 2: id", 1},
		{"malformed_sanction.ftm.json", "malformed_sanction.ftm.json line 2: properties.entity", 1},
	} {
		t.Run(tc.file, func(t *testing.T) {
			for _, bulk := range []bool{false, true} {
				s := mustOpenStore(t)
				_, err := Import(context.Background(), s, ftmFixture(t, tc.file), Options{Format: FormatFtM, Bulk: bulk})
				var ge *graph.Error
				if !errors.As(err, &ge) || ge.Code != graph.EINVALID || ge.Field != tc.field {
					t.Fatalf("Import(%s, bulk=%v) error = %v, want EINVALID with field %q", tc.file, bulk, err, tc.field)
				}
				if got := s.Version(); got != 0 {
					t.Errorf("Import(%s, bulk=%v) failed but the store is at version %d, want 0 (nothing written)", tc.file, bulk, got)
				}
			}
			s := mustOpenStore(t)
			var rejects bytes.Buffer
			sum := mustImportFtM(t, s, Options{SkipInvalid: true, Rejects: &rejects}, ftmFixture(t, tc.file)...)
			if sum.Entities != tc.keep || sum.Rejected != 1 {
				t.Errorf("SkipInvalid: %d entities, %d rejected; want %d, 1", sum.Entities, sum.Rejected, tc.keep)
			}
			if !strings.Contains(rejects.String(), tc.field) {
				t.Errorf("rejects = %s, want a line naming %q", rejects.String(), tc.field)
			}
		})
	}
}

// TestFtMSanctionOfStoredEntity: a Sanction whose entity is in the store, not the
// import, is added to the stored entity.
func TestFtMSanctionOfStoredEntity(t *testing.T) {
	s := mustOpenStore(t)
	mustImportFtM(t, s, Options{}, ftmFixture(t, "entities.ftm.json")...)
	mustImportFtM(t, s, Options{}, ftmFixture(t, "sanction_only.ftm.json")...)
	acme := mustEntity(t, s, "co-acme")
	props := entityProps(t, acme)
	if got, want := jsonText(props["sanctions"]), `[{"authority":"European Union","datasets":["eu_fsf"],"endDate":"2024","id":"san-acme-eu","program":"EU 833/2014","startDate":"2023"}]`; got != want {
		t.Errorf("co-acme sanctions = %s, want %s", got, want)
	}
	if got, want := jsonText(props["topics"]), `["corp.public","sanction"]`; got != want {
		t.Errorf("co-acme topics = %s, want %s", got, want)
	}
	if got, want := jsonText(acme.Sources), `["ftm:gb_coh_psc","ftm:gleif","ftm:eu_fsf"]`; got != want {
		t.Errorf("co-acme sources = %s, want %s", got, want)
	}
	if got, want := acme.Name+" "+jsonText(acme.Aliases), `Acme Holdings Ltd ["ACME HOLDINGS LIMITED","Acme"]`; got != want {
		t.Errorf("co-acme name and aliases = %s, want %s (unchanged)", got, want)
	}
}

// TestFtMRoundTrip: import → export → import gives the same store, in every write mode
// (atomic, batched with small batches, bulk), and the export is FtM.
func TestFtMRoundTrip(t *testing.T) {
	first := mustOpenStore(t)
	mustImportFtM(t, first, Options{}, ftmFixture(t, "entities.ftm.json")...)
	mustImportFtM(t, first, Options{}, ftmFixture(t, "sanction_only.ftm.json")...)
	want := snapshot(t, first)
	out := exportString(t, first, FormatFtM, graph.ExportOptions{})

	var schemata []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec ftmRecord
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("export line %s: %v", line, err)
		}
		schemata = append(schemata, rec.Schema)
		if rec.ID == "own-acme-beta" {
			if got, want := jsonText(rec.Properties["percentage"])+jsonText(rec.Properties["startDate"])+jsonText(rec.Properties["endDate"]), `["25.5"]["2024-01-01"]["2025-04-01"]`; got != want {
				t.Errorf("exported own-acme-beta percentage, startDate, endDate = %s, want %s", got, want)
			}
		}
	}
	if got, want := strings.Count(strings.Join(schemata, " "), "Sanction"), 2; got != want {
		t.Errorf("export holds %d Sanctions, want %d:\n%s", got, want, out)
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "export.ftm.json")
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"atomic", Options{}},
		{"batched", Options{BatchSize: 3}},
		{"bulk", Options{Bulk: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			second := mustOpenStore(t)
			mustImportFtM(t, second, tc.opts, fileInputs(t, path)...)
			if got := snapshot(t, second); got != want {
				t.Errorf("import → export → import (%s) changed the store:\ngot\n%s\nwant\n%s", tc.name, got, want)
			}
		})
	}
}

// TestFtMEdgeBeforeEnds: edges and a Sanction that come before their entities import in
// every write mode.
func TestFtMEdgeBeforeEnds(t *testing.T) {
	body := `{"id":"own","schema":"Ownership","properties":{"owner":["a"],"asset":["b"],"percentage":["60"]},"datasets":["d"]}
{"id":"san","schema":"Sanction","properties":{"entity":["b"],"program":["P"]},"datasets":["d2"]}
{"id":"a","schema":"Person","properties":{"name":["A"]},"datasets":["d"]}
{"id":"b","schema":"Company","properties":{"name":["B"]},"datasets":["d"]}
`
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"atomic", Options{}},
		{"batched", Options{BatchSize: 1}},
		{"bulk", Options{Bulk: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustOpenStore(t)
			mustImportFtM(t, s, tc.opts, memInput("early.ftm.json", body))
			if got, want := relJSON(t, s, "own"), `{"id":"own","type":"OWNS","from":"a","to":"b","share":0.6}`; got != want {
				t.Errorf("own = %s, want %s", got, want)
			}
			if got, want := jsonText(mustEntity(t, s, "b").Sources), `["ftm:d","ftm:d2"]`; got != want {
				t.Errorf("b sources = %s, want %s", got, want)
			}
		})
	}
}

// FuzzImportFtM: FollowTheMoney lines, seeded with testdata/ftm (fuzzImport's contract:
// an import fails only with INVALID_INPUT naming a file and a line, and what it accepts
// passes the store's validation).
func FuzzImportFtM(f *testing.F) {
	addFiles(f, "testdata/ftm/*.json")
	f.Add(`{"id":"o","schema":"Ownership","properties":{"owner":["o"],"asset":["o"],"percentage":["50"]}}`, false)
	f.Add(`{"id":"a","schema":"Company","properties":{"name":[" "],"country":["xx-yy"],"leiCode":[""]}}`, true)
	f.Add(`{"id":"s","schema":"Sanction","properties":{"entity":["a","b"]}}`, false)
	f.Add(`{"id":"e","schema":"Ownership","properties":{"owner":["a"],"asset":["b"],"endDate":["2020"],"startDate":["2020-06"]}}`, true)
	f.Add(`[]`, false)
	f.Fuzz(func(t *testing.T, data string, skip bool) {
		fuzzImport(t, FormatFtM, skip, memInput("e.ftm.json", data))
	})
}
