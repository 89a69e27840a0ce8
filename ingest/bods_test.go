package ingest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lodestone-kg/lodestone/graph"
)

func relJSON(tb testing.TB, s *graph.Store, id string) string {
	tb.Helper()
	r, err := s.Relationship(context.Background(), id)
	if err != nil {
		tb.Fatalf("Relationship(%q): %v", id, err)
	}
	r.Sources, r.Properties = nil, nil
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(r)
	return strings.TrimSpace(b.String())
}

// TestBODSMapping pins the mapping of the official examples: shares as fractions with
// their inclusive/exclusive bounds, one relationship per interest, indirect holdings,
// dates, kinds, unspecified parties.
func TestBODSMapping(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		file, rel, want string
	}{
		{"bods-package-entity-owning-entity.json", "0f31559c6eec",
			`{"id":"0f31559c6eec","type":"OWNS","from":"e83cce729ada","to":"12b7dd0770ce","shareMin":0.75,"shareMax":1,"shareMaxExclusive":true}`},
		{"bods-package-linking-annotations.json", "331342ec3940",
			`{"id":"331342ec3940","type":"OWNS","from":"0fc263ba4126","to":"a01c1a0863e2","shareMin":0.25,"shareMax":0.5,"shareMinExclusive":true,"shareMaxExclusive":true,"validFrom":"2018-09-19"}`},
		{"full-pep-declaration.json", "91e4b9055ca0",
			`{"id":"91e4b9055ca0","type":"OWNS","from":"9bcdcc85e803","to":"a7b3bd81d8ba","shareMin":0.25,"shareMax":0.5,"shareMaxExclusive":true,"validFrom":"2016-07-07"}`},
		{"full-pep-declaration.json", "91e4b9055ca0#2",
			`{"id":"91e4b9055ca0#2","type":"CONTROLS","from":"9bcdcc85e803","to":"a7b3bd81d8ba","shareMin":0.25,"shareMax":0.5,"shareMaxExclusive":true,"validFrom":"2016-07-07"}`},
		{"bods-package-fi-soe.json", "e8ddaee2a7a4",
			`{"id":"e8ddaee2a7a4","type":"OWNS_INDIRECT","from":"05ce06ec97b1","to":"19f1c5afe9d7","share":1,"validFrom":"2020-01-01"}`},
		{"bods-package-fi-soe.json", "87ed6d1daf8f",
			`{"id":"87ed6d1daf8f","type":"OWNS","from":"0199c515a699","to":"19f1c5afe9d7","share":0.765,"validFrom":"2020-01-01"}`},
		{"listed-company-exempt-from-disclosure.json", "fa402c4818f9",
			`{"id":"fa402c4818f9","type":"CONTROLS","from":"fa402c4818f9:interested-party","to":"4c7ea3bfbe6c"}`},
		{"mixed-direct-and-indirect-ownership.json", "f5a45a6daf31#2",
			`{"id":"f5a45a6daf31#2","type":"OWNS","from":"53508b65253f","to":"9bfe59b6a869","share":0.5,"validFrom":"2019-05-01"}`},
	} {
		t.Run(tc.file+"/"+tc.rel, func(t *testing.T) {
			s := mustOpenStore(t)
			if _, err := Import(ctx, s, fileInputs(t, "testdata/bods/"+tc.file), Options{Format: FormatBODS}); err != nil {
				t.Fatal(err)
			}
			if got := relJSON(t, s, tc.rel); got != tc.want {
				t.Errorf("relationship %s =\n %s\nwant\n %s", tc.rel, got, tc.want)
			}
		})
	}
	s := mustOpenStore(t)
	if _, err := Import(ctx, s, fileInputs(t, "testdata/bods/bods-package-fi-soe.json", "testdata/bods/plc-entity-statement.json", "testdata/bods/bods-package.json"), Options{Format: FormatBODS}); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{
		"05ce06ec97b1": "Government FI Suomen tasavalta",
		"19f1c5afe9d7": "Company FI Gasgrid Finland Oy",
		"70044236":     "Company GB AstraZeneca PLC",
		"10478c6cf6de": "Person GB Jennifer Hewitson-Smith",
	} {
		e, err := s.Entity(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.Kind + " " + e.Country + " " + e.Name; got != want {
			t.Errorf("entity %s = %q, want %q", id, got, want)
		}
	}
	if es, _ := s.EntitiesByIdentifier(ctx, "LEI", "PY6ZZQWO2IZFZC3IOL08"); len(es) != 1 || es[0].ID != "70044236" {
		t.Errorf("XI-LEI identifier not stored as LEI: %v", es)
	}
	srcs, _ := s.Sources(ctx, mustEntity(t, s, "19f1c5afe9d7").Sources)
	if len(srcs) != 1 || srcs[0].Publisher == "" || srcs[0].Published.IsZero() {
		t.Errorf("source of a statement with publicationDetails = %+v", srcs)
	}
}

func mustEntity(tb testing.TB, s *graph.Store, id string) *graph.Entity {
	tb.Helper()
	e, err := s.Entity(context.Background(), id)
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

const bodsStmt = `{"statementId":"%s","declarationSubject":"co","statementDate":"%s","recordId":"%s","recordType":"%s","recordStatus":"%s","recordDetails":%s,"publicationDetails":{"publicationDate":"2025-01-01","bodsVersion":"0.4","publisher":{"name":"Registry"}}}`

func stmt(n int, date, id, typ, status, details string) string {
	return sprintf(bodsStmt, "00000000-0000-0000-0000-0000000000"+sprintf("%02d", n), date, id, typ, status, details)
}

// TestBODSUpdatesAndCloses: statements apply in date order; an update replaces the
// record and drops interests it no longer has (deleting relationships stored by an
// earlier import); a close ends validity; a statement after a close is refused.
func TestBODSUpdatesAndCloses(t *testing.T) {
	ctx := context.Background()
	co := `{"isComponent":false,"entityType":{"type":"registeredEntity"},"name":"Co Ltd"}`
	owner := `{"isComponent":false,"entityType":{"type":"registeredEntity"},"name":"Owner Ltd"}`
	two := `{"isComponent":false,"subject":"co","interestedParty":"owner","interests":[{"type":"shareholding","directOrIndirect":"direct","share":{"exact":30}},{"type":"votingRights","directOrIndirect":"direct","share":{"exact":30}}]}`
	one := `{"isComponent":false,"subject":"co","interestedParty":"owner","interests":[{"type":"shareholding","directOrIndirect":"direct","share":{"exact":45},"startDate":"2021-01-01"}]}`
	first := "[" + strings.Join([]string{
		stmt(1, "2020-01-01", "co", "entity", "new", co),
		stmt(2, "2020-01-01", "owner", "entity", "new", owner),
		stmt(3, "2020-01-01", "rel", "relationship", "new", two),
	}, ",\n") + "]"
	s := mustOpenStore(t)
	if _, err := Import(ctx, s, []*Input{memInput("first.json", first)}, Options{Format: FormatBODS}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Relationship(ctx, "rel#2"); err != nil {
		t.Fatalf("rel#2 after the first import: %v", err)
	}
	// The update comes before the older statement in the file: date order wins.
	second := strings.Join([]string{
		stmt(5, "2022-06-30", "rel", "relationship", "closed", one),
		stmt(4, "2021-01-01", "rel", "relationship", "updated", one),
		stmt(6, "2021-02-01", "co", "entity", "updated", `{"isComponent":false,"entityType":{"type":"registeredEntity"},"name":"Co Renamed Ltd","foundingDate":"2001-03-04"}`),
	}, "\n")
	sum, err := Import(ctx, s, []*Input{memInput("second.jsonl", second)}, Options{Format: FormatBODS})
	if err != nil {
		t.Fatal(err)
	}
	if sum.DeletedRelationships != 1 {
		t.Errorf("deleted %d relationships, want 1 (rel#2)", sum.DeletedRelationships)
	}
	if _, err := s.Relationship(ctx, "rel#2"); graph.ErrorCode(err) != graph.ENOTFOUND {
		t.Errorf("rel#2 after the update: %v, want NOT_FOUND", err)
	}
	if got, want := relJSON(t, s, "rel"), `{"id":"rel","type":"OWNS","from":"owner","to":"co","share":0.45,"validFrom":"2021-01-01","validTo":"2022-06-30"}`; got != want {
		t.Errorf("closed relationship = %s, want %s", got, want)
	}
	if e := mustEntity(t, s, "co"); e.Name != "Co Renamed Ltd" || e.ValidFrom.String() != "2001-03-04" {
		t.Errorf("updated entity = %+v", e)
	}
	after := strings.Join([]string{
		stmt(7, "2022-06-30", "rel", "relationship", "closed", one),
		stmt(8, "2023-01-01", "rel", "relationship", "updated", one),
	}, "\n")
	before := snapshot(t, s)
	_, err = Import(ctx, s, []*Input{memInput("late.jsonl", after)}, Options{Format: FormatBODS})
	if got, want := errText(err), "late.jsonl line 2: recordStatus: record \"rel\" was closed by the statement at late.jsonl line 1; no statement may follow a close"; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
	if snapshot(t, s) != before {
		t.Errorf("a refused import changed the store")
	}
}

// TestBODSLegacy: 0.2/0.3 statements (statementID, statementType, replacesStatements,
// interestLevel, boolean range flags) import.
func TestBODSLegacy(t *testing.T) {
	ctx := context.Background()
	legacy := `[
{"statementID":"ent-1","statementType":"entityStatement","entityType":"registeredEntity","name":"Old Co","incorporatedInJurisdiction":{"name":"United Kingdom","code":"GB"},"identifiers":[{"scheme":"GB-COH","id":"123"}]},
{"statementID":"per-1","statementType":"personStatement","personType":"knownPerson","names":[{"fullName":"Ann Smith"}],"nationalities":[{"code":"IE"}]},
{"statementID":"ooc-1","statementType":"ownershipOrControlStatement","statementDate":"2019-01-01","subject":{"describedByEntityStatement":"ent-1"},"interestedParty":{"describedByPersonStatement":"per-1"},"interests":[{"type":"shareholding","interestLevel":"direct","share":{"minimum":25,"maximum":50},"startDate":"2016-04"}]},
{"statementID":"ooc-2","statementType":"ownershipOrControlStatement","statementDate":"2020-01-01","replacesStatements":["ooc-1"],"subject":{"describedByEntityStatement":"ent-1"},"interestedParty":{"describedByPersonStatement":"per-1"},"interests":[{"type":"voting-rights","interestLevel":"direct","share":{"minimum":50,"maximum":75,"exclusiveMinimum":true,"exclusiveMaximum":false}}]}
]`
	s := mustOpenStore(t)
	sum, err := Import(ctx, s, []*Input{memInput("legacy.json", legacy)}, Options{Format: FormatBODS})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Entities != 2 || sum.Relationships != 1 {
		t.Errorf("summary = %+v, want 2 entities and 1 relationship", sum)
	}
	if got, want := relJSON(t, s, "ooc-1"), `{"id":"ooc-1","type":"CONTROLS","from":"per-1","to":"ent-1","shareMin":0.5,"shareMax":0.75,"shareMinExclusive":true}`; got != want {
		t.Errorf("replaced relationship = %s, want %s", got, want)
	}
	if e := mustEntity(t, s, "per-1"); e.Country != "IE" || e.Kind != "Person" {
		t.Errorf("person = %+v", e)
	}
}
