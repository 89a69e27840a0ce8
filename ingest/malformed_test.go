package ingest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lodestone-kg/lodestone/graph"
)

const (
	csvNodes = ":ID,:LABEL,name,country,employees:int\nnre,Company,China Northern Rare Earth,CN,9000\nweld,Facility,Mount Weld,AU,\n"
	csvRels  = ":START_ID,:END_ID,:TYPE,share:float,validFrom:date\nnre,weld,OWNS,0.4,2024-12-01\n"
	gleifHdr = "Relationship.StartNode.NodeID,Relationship.StartNode.NodeIDType,Relationship.EndNode.NodeID,Relationship.EndNode.NodeIDType,Relationship.RelationshipType,Relationship.RelationshipStatus,Relationship.Period.1.startDate,Relationship.Period.1.endDate,Relationship.Period.1.periodType,Relationship.Period.2.startDate,Relationship.Period.2.endDate,Relationship.Period.2.periodType,Relationship.Quantifiers.1.MeasurementMethod,Relationship.Quantifiers.1.QuantifierAmount,Relationship.Quantifiers.1.QuantifierUnits,Registration.RegistrationStatus\n"
	gleifRow = "5493001KJTIIGC8Y1R12,LEI,529900T8BM49AURSDO55,LEI,IS_DIRECTLY_CONSOLIDATED_BY,ACTIVE,2023-01-01T00:00:00Z,2023-12-31T00:00:00Z,ACCOUNTING_PERIOD,2012-11-29T00:00:00.000Z,,RELATIONSHIP_PERIOD,ACCOUNTING_CONSOLIDATION,%s,PERCENTAGE,PUBLISHED\n"
)

func bods(stmts ...string) string { return "[\n" + strings.Join(stmts, ",\n") + "\n]\n" }

var (
	bodsCo    = stmt(1, "2020-01-01", "co", "entity", "new", `{"isComponent":false,"entityType":{"type":"registeredEntity"},"name":"Co Ltd"}`)
	bodsOwner = stmt(2, "2020-01-01", "owner", "entity", "new", `{"isComponent":false,"entityType":{"type":"registeredEntity"},"name":"Owner Ltd"}`)
)

func bodsRel(n int, share string) string {
	return stmt(n, "2020-01-01", "rel", "relationship", "new", `{"isComponent":false,"subject":"co","interestedParty":"owner","interests":[{"type":"shareholding","share":{"exact":`+share+`}}]}`)
}

// TestMalformedFiles: every kind of bad input fails with an error naming file, line and
// field, and leaves the store exactly as it was.
func TestMalformedFiles(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, format string
		files        map[string]string
		want         string
	}{
		// JSONL
		{"jsonl truncated line", FormatJSONL, map[string]string{"g.jsonl": `{"entity":{"id":"a","kind":"Company","name":"A"}}` + "\n" + `{"entity":{"id":"b","kind":"Comp`},
			"g.jsonl line 2: is not valid JSON: it ends in the middle of a value (truncated line?)"},
		{"jsonl wrong type", FormatJSONL, map[string]string{"g.jsonl": `{"relationship":{"type":"OWNS","from":"a","to":"b","share":"forty"}}`},
			"g.jsonl line 1: relationship.share: is a JSON string; want a number"},
		{"jsonl unknown id", FormatJSONL, map[string]string{"g.jsonl": `{"entity":{"id":"a","kind":"Company","name":"A"}}` + "\n" + `{"relationship":{"type":"OWNS","from":"a","to":"ghost","share":0.5}}`},
			`g.jsonl line 2: to: "ghost" is not an entity in the import or the store; add it to the import or create it first`},
		{"jsonl duplicate id", FormatJSONL, map[string]string{"g.jsonl": `{"entity":{"id":"a","kind":"Company","name":"A"}}` + "\n\n" + `{"entity":{"id":"a","kind":"Company","name":"A2"}}`},
			`g.jsonl line 3: id: entity "a" appears twice (also at g.jsonl line 1)`},
		{"jsonl share 140%", FormatJSONL, map[string]string{"g.jsonl": `{"relationship":{"type":"OWNS","from":"nre","to":"weld","share":1.4}}`},
			"g.jsonl line 1: share: 1.4 is outside 0..1 (shares and confidence are fractions: 40 % is 0.4)"},
		{"jsonl invalid UTF-8", FormatJSONL, map[string]string{"g.jsonl": "{\"entity\":{\"id\":\"a\",\"kind\":\"Company\",\"name\":\"A\xff\"}}"},
			"g.jsonl line 1: is not valid UTF-8 (at byte 46)"},
		{"jsonl unknown field", FormatJSONL, map[string]string{"g.jsonl": `{"entity":{"id":"a","kind":"Company","name":"A","colour":"red"}}`},
			"g.jsonl line 1: colour: is not a field of a Lodestone record"},
		{"jsonl bad date", FormatJSONL, map[string]string{"g.jsonl": `{"entity":{"id":"a","kind":"Company","name":"A","validFrom":"2024-02-30"}}`},
			`g.jsonl line 1: "2024-02-30" is not a date: February 2024 has 29 days`},
		{"jsonl unknown source", FormatJSONL, map[string]string{"g.jsonl": `{"entity":{"id":"a","kind":"Company","name":"A","sources":["nope"]}}`},
			`g.jsonl line 1: sources[0]: "nope" is not a source in the import or the store; add the source record to the import`},
		// CSV
		{"csv truncated line", FormatCSV, map[string]string{"nodes.csv": csvNodes + "zb,Company\n"},
			"nodes.csv line 4: has 2 fields but the header has 5 (a truncated or broken line?)"},
		{"csv wrong type", FormatCSV, map[string]string{"nodes.csv": csvNodes + "zb,Company,Zhaobao,CN,many\n"},
			`nodes.csv line 4: employees: "many" is not an integer`},
		{"csv unknown id", FormatCSV, map[string]string{"nodes.csv": csvNodes, "rels.csv": csvRels + "nre,ghost,OWNS,0.1,\n"},
			`rels.csv line 3: to: "ghost" is not an entity in the import or the store; add it to the import or create it first`},
		{"csv duplicate id", FormatCSV, map[string]string{"nodes.csv": csvNodes + "nre,Company,Again,CN,1\n"},
			`nodes.csv line 4: id: entity "nre" appears twice (also at nodes.csv line 2)`},
		{"csv share 140%", FormatCSV, map[string]string{"nodes.csv": csvNodes, "rels.csv": csvRels + "weld,nre,OWNS,1.4,\n"},
			"rels.csv line 3: share: 1.4 is outside 0..1 (shares and confidence are fractions: 40 % is 0.4)"},
		{"csv invalid UTF-8", FormatCSV, map[string]string{"nodes.csv": csvNodes + "zb,Company,Zhao\xffbao,CN,1\n"},
			"nodes.csv line 4: name: is not valid UTF-8 (at byte 4)"},
		{"csv bad date", FormatCSV, map[string]string{"nodes.csv": csvNodes, "rels.csv": csvRels + "weld,nre,OWNS,0.1,01/02/2024\n"},
			`rels.csv line 3: validFrom: "01/02/2024" is not a date of the form YYYY-MM-DD`},
		{"csv unclosed quote", FormatCSV, map[string]string{"nodes.csv": csvNodes + "zb,Company,\"Zhaobao,CN,1\n"},
			"nodes.csv line 4: is not valid CSV: extraneous or missing \" in quoted-field"},
		{"csv quote opening a row", FormatCSV, map[string]string{"nodes.csv": csvNodes + "\"zb,Company\n"},
			"nodes.csv line 4: is not valid CSV: extraneous or missing \" in quoted-field"},
		{"csv no id column", FormatCSV, map[string]string{"x.csv": "name,country\nA,CN\n"},
			"x.csv line 1: the header has neither an :ID column (a node file) nor :START_ID and :END_ID columns (a relationship file)"},
		// BODS
		{"bods truncated", FormatBODS, map[string]string{"b.json": bods(bodsCo)[:200]},
			"b.json line 2: is not valid JSON: the array ends in the middle of a statement (truncated file?)"},
		{"bods wrong type", FormatBODS, map[string]string{"b.json": bods(bodsCo, bodsOwner, bodsRel(3, `"thirty"`))},
			"b.json line 4: recordDetails.interests[0].share.exact: got string, want number (BODS 0.4 schema)"},
		{"bods unknown id", FormatBODS, map[string]string{"b.json": bods(bodsCo, bodsRel(3, "30"))},
			`b.json line 3: from: "owner" is not an entity in the import or the store; add it to the import or create it first`},
		{"bods duplicate record type", FormatBODS, map[string]string{"b.json": bods(bodsCo, stmt(9, "2020-01-01", "co", "person", "new", `{"isComponent":false,"personType":"knownPerson","names":[{"fullName":"X"}]}`))},
			`b.json line 3: recordType: record "co" was a entity and cannot become a person`},
		{"bods share 140%", FormatBODS, map[string]string{"b.json": bods(bodsCo, bodsOwner, bodsRel(3, "140"))},
			"b.json line 4: recordDetails.interests[0].share.exact: maximum: got 140, want 100 (BODS 0.4 schema)"},
		{"bods missing statementDate", FormatBODS, map[string]string{"b.json": bods(strings.Replace(bodsCo, `"statementDate":"2020-01-01",`, "", 1))},
			"b.json line 2: missing property 'statementDate' (BODS 0.4 schema)"},
		{"bods invalid UTF-8", FormatBODS, map[string]string{"b.json": bods(strings.Replace(bodsCo, "Co Ltd", "Co\xffLtd", 1))},
			"b.json line 2: is not valid UTF-8 (at byte 258 of the file)"},
		// GLEIF
		{"gleif truncated line", FormatGLEIF, map[string]string{"rr.csv": gleifHdr + "5493001KJTIIGC8Y1R12,LEI,529900T8BM49AURSDO55\n"},
			"rr.csv line 2: has 3 fields but the header has 16 (a truncated or broken line?)"},
		{"gleif wrong type", FormatGLEIF, map[string]string{"rr.csv": gleifHdr + strings.Replace(gleifRow, "%s", "all", 1)},
			`rr.csv line 2: Relationship.Quantifiers.1.QuantifierAmount: "all" is not a number`},
		{"gleif share 140%", FormatGLEIF, map[string]string{"rr.csv": gleifHdr + strings.Replace(gleifRow, "%s", "140", 1)},
			"rr.csv line 2: Relationship.Quantifiers.1.QuantifierAmount: 140 % is outside 0..100 %"},
		{"gleif duplicate", FormatGLEIF, map[string]string{"rr.csv": gleifHdr + strings.Replace(gleifRow, "%s", "", 1) + strings.Replace(gleifRow, "%s", "", 1)},
			`rr.csv line 3: id: relationship "IS_DIRECTLY_CONSOLIDATED_BY:5493001KJTIIGC8Y1R12->529900T8BM49AURSDO55" appears twice (also at rr.csv line 2)`},
		{"gleif bad type", FormatGLEIF, map[string]string{"rr.csv": gleifHdr + strings.Replace(strings.Replace(gleifRow, "%s", "", 1), "IS_DIRECTLY", "WAS_DIRECTLY", 1)},
			`rr.csv line 2: Relationship.RelationshipType: "WAS_DIRECTLY_CONSOLIDATED_BY" is not a GLEIF relationship type (IS_DIRECTLY_CONSOLIDATED_BY, IS_ULTIMATELY_CONSOLIDATED_BY, IS_INTERNATIONAL_BRANCH_OF, IS_FUND-MANAGED_BY, IS_SUBFUND_OF, IS_FEEDER_TO)`},
		{"gleif invalid UTF-8", FormatGLEIF, map[string]string{"rr.csv": gleifHdr + strings.Replace(strings.Replace(gleifRow, "%s", "", 1), "PUBLISHED", "PUBL\xffISHED", 1)},
			"rr.csv line 2: Registration.RegistrationStatus: is not valid UTF-8"},
		{"gleif quote opening a row", FormatGLEIF, map[string]string{"rr.csv": gleifHdr + "\"5493001KJTIIGC8Y1R12\n"},
			"rr.csv line 2: is not valid CSV: extraneous or missing \" in quoted-field"},
		{"gleif not gleif", FormatGLEIF, map[string]string{"rr.csv": csvNodes},
			"rr.csv line 1: the header has no Relationship.StartNode.NodeID column; is this a GLEIF RR golden-copy CSV?"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, bulk := range []bool{false, true} {
				s := mustOpenStore(t)
				if !bulk {
					if _, err := s.Apply(ctx, richGraph()); err != nil {
						t.Fatal(err)
					}
				}
				before := snapshot(t, s)
				var inputs []*Input
				for _, name := range sortedNames(tc.files) {
					inputs = append(inputs, memInput(name, tc.files[name]))
				}
				_, err := Import(ctx, s, inputs, Options{Format: tc.format, Bulk: bulk})
				// A bulk load (StreamLoad into an empty store) words some errors its own
				// way; it must still name the same file and line.
				got, want := errText(err), tc.want
				if bulk {
					loc := want[:strings.Index(want, ":")]
					if !strings.HasPrefix(got, loc+":") {
						t.Errorf("bulk: error = %q, want it to start with %q", got, loc)
					}
				} else if got != want {
					t.Errorf("error =\n %q\nwant\n %q", got, want)
				}
				if graph.ErrorCode(err) != graph.EINVALID {
					t.Errorf("bulk=%v: code = %s, want INVALID_INPUT", bulk, graph.ErrorCode(err))
				}
				if got := snapshot(t, s); got != before {
					t.Errorf("bulk=%v: a refused import changed the store", bulk)
				}
			}
		})
	}
}

func sortedNames(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	// node files before relationship files, as a user would pass them
	if len(out) == 2 && out[0] > out[1] {
		out[0], out[1] = out[1], out[0]
	}
	return out
}

// TestBOMAndCRLF: a byte order mark and CRLF line ends are accepted in every format.
func TestBOMAndCRLF(t *testing.T) {
	ctx := context.Background()
	crlf := func(s string) string { return "\xef\xbb\xbf" + strings.ReplaceAll(s, "\n", "\r\n") }
	for _, tc := range []struct {
		format string
		files  []*Input
		ents   int
	}{
		{FormatJSONL, []*Input{memInput("g.jsonl", crlf(`{"entity":{"id":"a","kind":"Company","name":"A"}}`+"\n\n"+`{"entity":{"id":"b","kind":"Company","name":"B"}}`+"\n"))}, 2},
		{FormatCSV, []*Input{memInput("n.csv", crlf(csvNodes)), memInput("r.csv", crlf(csvRels))}, 2},
		{FormatBODS, []*Input{memInput("b.json", crlf(bods(bodsCo, bodsOwner, bodsRel(3, "30"))))}, 2},
		{FormatGLEIF, []*Input{memInput("rr.csv", crlf(gleifHdr+strings.Replace(gleifRow, "%s", "100", 1)))}, 2},
	} {
		t.Run(tc.format, func(t *testing.T) {
			s := mustOpenStore(t)
			sum, err := Import(ctx, s, tc.files, Options{Format: tc.format})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Entities != tc.ents {
				t.Errorf("imported %d entities, want %d", sum.Entities, tc.ents)
			}
			if e, err := s.Entities(ctx, []string{"nre", "a", "co", "5493001KJTIIGC8Y1R12"}); err == nil {
				for _, x := range e {
					if x != nil && (strings.HasPrefix(x.ID, "\ufeff") || strings.HasSuffix(x.Name, "\r")) {
						t.Errorf("BOM or CR kept in %+v", x)
					}
				}
			}
		})
	}
}

// TestSkipInvalid: bad rows go to the rejects file with file, line, field and text, and
// are counted; the rows that depend on them are rejected too; the rest is written.
func TestSkipInvalid(t *testing.T) {
	ctx := context.Background()
	nodes := csvNodes + "zb,Company,Zhaobao,CN,many\n" // bad employees
	rels := csvRels + "zb,nre,OWNS,0.2,\nweld,nre,OWNS,1.4,\n"
	s := mustOpenStore(t)
	var rejects bytes.Buffer
	sum, err := Import(ctx, s, []*Input{memInput("nodes.csv", nodes), memInput("rels.csv", rels)}, Options{Format: FormatCSV, SkipInvalid: true, Rejects: &rejects})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rejected != 3 || sum.Entities != 2 || sum.Relationships != 1 {
		t.Errorf("summary = %+v, want 3 rejected, 2 entities, 1 relationship", sum)
	}
	want := `{"error":"nodes.csv line 4: employees: \"many\" is not an integer","field":"nodes.csv line 4: employees","file":"nodes.csv","line":4,"raw":"zb,Company,Zhaobao,CN,many"}
{"error":"rels.csv line 4: share: 1.4 is outside 0..1 (shares and confidence are fractions: 40 % is 0.4)","field":"rels.csv line 4: share","file":"rels.csv","line":4,"raw":"weld,nre,OWNS,1.4,"}
{"error":"rels.csv line 3: from: \"zb\" is not an entity in the import or the store; add it to the import or create it first","field":"rels.csv line 3: from","file":"rels.csv","line":3,"raw":"zb,nre,OWNS,0.2,"}
`
	if rejects.String() != want {
		t.Errorf("rejects =\n%s\nwant\n%s", rejects.String(), want)
	}
	// Bulk mode with skip-invalid validates first, then loads what is valid.
	s2 := mustOpenStore(t)
	sum, err = Import(ctx, s2, []*Input{memInput("nodes.csv", nodes), memInput("rels.csv", rels)}, Options{Format: FormatCSV, SkipInvalid: true, Bulk: true})
	if err != nil || sum.Mode != "bulk" || sum.Rejected != 3 || sum.Relationships != 1 {
		t.Errorf("bulk skip-invalid = %+v, %v", sum, err)
	}
	if snapshot(t, s) != snapshot(t, s2) {
		t.Errorf("bulk and atomic skip-invalid imports differ")
	}
}

// failingInput opens normally n times, then fails: an import that dies halfway.
func failingInput(in *Input, n int) *Input {
	count := 0
	out := *in
	out.Open = func() (io.ReadCloser, error) {
		count++
		if count > n {
			return nil, errors.New("disk went away")
		}
		return in.Open()
	}
	return &out
}

// TestResumeFromCheckpoint: a batched import that fails after its entity batches leaves
// a checkpoint; the rerun skips what was written and completes the same graph.
func TestResumeFromCheckpoint(t *testing.T) {
	ctx := context.Background()
	src := mustOpenStore(t)
	if _, err := src.Apply(ctx, richGraph()); err != nil {
		t.Fatal(err)
	}
	body := exportString(t, src, FormatJSONL, graph.ExportOptions{})
	cp := filepath.Join(t.TempDir(), "import.checkpoint")
	s := mustOpenStore(t)
	if _, err := s.Apply(ctx, &graph.Batch{Entities: []graph.Entity{{ID: "other", Kind: "Company", Name: "Other"}}}); err != nil {
		t.Fatal(err)
	}
	opts := Options{Format: FormatJSONL, BatchSize: 2, Checkpoint: cp}
	// Opens: validation, entities phase, relationships phase (fails).
	_, err := Import(ctx, s, []*Input{failingInput(memInput("g.jsonl", body), 2)}, opts)
	if err == nil || !strings.Contains(err.Error(), "disk went away") {
		t.Fatalf("first run error = %v, want the read failure", err)
	}
	raw, err := os.ReadFile(cp)
	if err != nil || !strings.Contains(string(raw), `"done": 7`) {
		t.Fatalf("checkpoint after the failure = %s, %v; want done 7 (2 sources, 5 entities)", raw, err)
	}
	sum, err := Import(ctx, s, []*Input{memInput("g.jsonl", body)}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Resumed != 7 || sum.Relationships != 4 || sum.Entities != 0 || sum.Mode != "batched" {
		t.Errorf("resumed summary = %+v, want resumed 7, 4 relationships written", sum)
	}
	if _, err := os.Stat(cp); !os.IsNotExist(err) {
		t.Errorf("checkpoint still there after completion: %v", err)
	}
	if _, err := s.Apply(ctx, &graph.Batch{DeleteEntities: []graph.EntityDelete{{ID: "other"}}}); err != nil {
		t.Fatal(err)
	}
	if snapshot(t, s) != snapshot(t, src) {
		t.Errorf("resumed import differs from the source graph")
	}
	// A checkpoint of other inputs is ignored.
	if err := os.WriteFile(cp, []byte(`{"format":"jsonl","inputs":[{"name":"x"}],"done":5}`), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err = Import(ctx, s, []*Input{memInput("g.jsonl", body)}, opts)
	if err != nil || sum.Resumed != 0 {
		t.Errorf("import with a foreign checkpoint = %+v, %v; want no resume", sum, err)
	}
}
