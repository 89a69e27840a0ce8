package ingest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lodestone-kg/lodestone/graph"
)

// The importers' fuzz targets share one contract, checked by fuzzImport: decoding and
// validating (Import's first pass) never panic; a refused input fails with INVALID_INPUT
// naming a file and a line; with SkipInvalid, every reject names a file and a line; an
// accepted input yields records that name their file and line and pass the store's
// validation.
//
// The targets run against memLookup rather than a Badger store: Badger's background
// goroutines run instrumented code while the fuzzer measures coverage, and the noise
// makes every input look new, so the fuzzer spends its time minimizing instead of
// fuzzing. The write pass is Store.Apply, fuzzed through its own validation.

// memLookup answers the importers' store reads from a batch held in memory.
type memLookup struct {
	entities map[string]*graph.Entity
	rels     map[string]*graph.Relationship
	sources  map[string]bool
}

func newMemLookup(b *graph.Batch) *memLookup {
	m := &memLookup{entities: map[string]*graph.Entity{}, rels: map[string]*graph.Relationship{}, sources: map[string]bool{}}
	for i := range b.Entities {
		m.entities[b.Entities[i].ID] = &b.Entities[i]
	}
	for i := range b.Relationships {
		m.rels[b.Relationships[i].ID] = &b.Relationships[i]
	}
	for _, s := range b.Sources {
		m.sources[s.ID] = true
	}
	return m
}

func (m *memLookup) EntitiesByIdentifier(ctx context.Context, scheme, value string) ([]*graph.Entity, error) {
	var out []*graph.Entity
	for _, e := range m.entities {
		for _, id := range e.Identifiers {
			if id.Scheme == scheme && id.Value == value {
				out = append(out, e)
			}
		}
	}
	return out, nil
}

func (m *memLookup) Entity(ctx context.Context, id string) (*graph.Entity, error) {
	if e, ok := m.entities[id]; ok {
		return e, nil
	}
	return nil, graph.Errorf(graph.ENOTFOUND, "no entity %q", id)
}

func (m *memLookup) Relationship(ctx context.Context, id string) (*graph.Relationship, error) {
	if r, ok := m.rels[id]; ok {
		return r, nil
	}
	return nil, graph.Errorf(graph.ENOTFOUND, "no relationship %q", id)
}

func (m *memLookup) MissingIDs(ctx context.Context, entityIDs, sourceIDs []string) (entities, sources []string, err error) {
	for _, id := range entityIDs {
		if m.entities[id] == nil {
			entities = append(entities, id)
		}
	}
	for _, id := range sourceIDs {
		if !m.sources[id] {
			sources = append(sources, id)
		}
	}
	return entities, sources, nil
}

var fuzzLookup = newMemLookup(richGraph())

// fuzzImport runs Import's first pass (decode and validate) over files and checks the
// contract above.
func fuzzImport(t *testing.T, format string, skipInvalid bool, files ...*Input) {
	ctx := context.Background()
	var names []string
	for _, f := range files {
		names = append(names, regexp.QuoteMeta(f.Name))
	}
	located := regexp.MustCompile(`^(` + strings.Join(names, "|") + `) line [1-9][0-9]*(: |$)`)

	dec, err := decoderFor(format)
	if err != nil {
		t.Fatal(err)
	}
	var rejects bytes.Buffer
	v := newValidator(Options{Format: format, SkipInvalid: skipInvalid, Rejects: &rejects, BatchSize: DefaultBatchSize})
	err = dec(ctx, &decodeEnv{store: fuzzLookup}, files, v.item)
	if err == nil {
		err = v.finish(ctx, fuzzLookup)
	}
	if err != nil {
		var e *graph.Error
		if !errors.As(err, &e) || e.Code != graph.EINVALID || !located.MatchString(err.Error()) {
			t.Fatalf("import failed with %T %q (code %s), want INVALID_INPUT naming a file and a line", err, err, graph.ErrorCode(err))
		}
		return
	}
	sc := bufio.NewScanner(&rejects)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var rej struct {
			File  string
			Line  int
			Error string
		}
		if err := json.Unmarshal(sc.Bytes(), &rej); err != nil || rej.Line < 1 || !located.MatchString(rej.File+" line 1: ") || rej.Error == "" {
			t.Fatalf("reject %s does not name a file, a line and an error (%v)", sc.Bytes(), err)
		}
	}
	if !v.keep {
		return // more records than one batch: not kept in memory
	}
	for _, it := range append(v.srcItems, v.kept...) {
		if !located.MatchString(fmt.Sprintf("%s line %d", it.file, it.line)) {
			t.Fatalf("record %+v does not name its file and line", it.rec)
		}
		var err error
		switch r := it.rec; {
		case r.Source != nil:
			err = graph.ValidateSource("", r.Source)
		case r.Entity != nil:
			err = graph.ValidateEntity("", r.Entity)
		case r.Relationship != nil:
			err = graph.ValidateRelationship("", r.Relationship)
		}
		if err != nil {
			t.Fatalf("accepted record %+v fails the store's validation: %v", it.rec, err)
		}
	}
}

// addFiles adds every file matching pattern as a seed.
func addFiles(f *testing.F, pattern string) {
	paths, err := filepath.Glob(pattern)
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b), false)
	}
}

// FuzzImportJSONL: Lodestone JSONL, with and without SkipInvalid (fuzzImport's contract).
func FuzzImportJSONL(f *testing.F) {
	for _, s := range []string{
		`{"entity":{"id":"a","kind":"Company","name":"A","country":"DE","aliases":["Ä"],"identifiers":[{"scheme":"LEI","value":"X"}],"properties":{"x":[1,{"y":null}]},"sources":["src-a"],"validFrom":"2020-01-01"}}` + "\n" +
			`{"relationship":{"type":"OWNS","from":"a","to":"nre","share":0.4,"validTo":"2030-12-31","confidence":0.5}}` + "\n",
		`{"source":{"id":"s","title":"T","published":"2024-02-29"}}` + "\n" + `{"relationship":{"id":"r","type":"SUPPLIES","from":"weld","to":"nzb","shareMin":0.1,"shareMax":0.2,"sources":["s"]}}`,
		"\xef\xbb\xbf" + `{"entity":{"id":"b","kind":"Company","name":"B"}}` + "\r\n\r\n",
		`{"entity":{"id":"a","kind":"Company","name":"A"}}` + "\n" + `{"entity":{"id":"b","kind":"Comp`,
		`{"relationship":{"type":"OWNS","from":"a","to":"ghost","share":1.4}}`,
		`{"entity":{"id":"a","kind":"Company","name":"A","colour":"red"}}`,
		`{"entity":{}, "source":{}}`, `[]`, `null`, "\n\n",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, data string, skip bool) {
		fuzzImport(t, FormatJSONL, skip, memInput("g.jsonl", data))
	})
}

// FuzzImportCSV: a neo4j-admin style node file and relationship file.
func FuzzImportCSV(f *testing.F) {
	f.Add(csvNodes, csvRels, false)
	f.Add(csvNodes+"zb,Company,Zhaobao,CN,many\n", csvRels+"zb,nre,OWNS,0.2,\nweld,nre,OWNS,1.4,\n", true)
	f.Add(":ID,:LABEL,name,aliases:string[],country,validFrom:date\nx,Company;Listed,X,\"a;b\",US,2020-01-01\n",
		":START_ID,:END_ID,:TYPE,id,share:float,shareMin:float,shareMax:float,confidence:float,props:boolean\nx,nre,OWNS,r1,,0.1,0.3,1,true\n", false)
	f.Add("\xef\xbb\xbf"+strings.ReplaceAll(csvNodes, "\n", "\r\n"), "", false)
	f.Add(csvNodes+"zb,Company,\"Zhaobao,CN,1\n", csvRels, false)
	f.Add("name,country\nA,CN\n", ":START_ID,:END_ID\n", true)
	f.Add(":ID\n\n", ":START_ID,:END_ID,:TYPE\nnre,nre,OWNS\n", false)
	f.Fuzz(func(t *testing.T, nodes, rels string, skip bool) {
		files := []*Input{memInput("nodes.csv", nodes)}
		if rels != "" {
			files = append(files, memInput("rels.csv", rels))
		}
		fuzzImport(t, FormatCSV, skip, files...)
	})
}

// FuzzImportBODS: BODS statements, seeded with the standard's examples in testdata/bods.
func FuzzImportBODS(f *testing.F) {
	addFiles(f, "testdata/bods/*.json")
	f.Add(bods(bodsCo, bodsOwner, bodsRel(3, "30")), false)
	f.Add(bods(bodsCo, bodsOwner, bodsRel(3, "140")), true)
	f.Add(bods(bodsCo, bodsRel(3, "30")), false)
	f.Add(bods(bodsCo)[:200], false)
	f.Add(strings.Join([]string{bodsCo, bodsOwner, bodsRel(3, `"thirty"`)}, "\n"), false)
	f.Add(`[]`, false)
	f.Add(`{}`, false)
	f.Fuzz(func(t *testing.T, data string, skip bool) {
		fuzzImport(t, FormatBODS, skip, memInput("b.json", data))
	})
}

// FuzzImportGLEIF: GLEIF Level 2 relationship records (RR golden-copy CSV).
func FuzzImportGLEIF(f *testing.F) {
	row := func(amount string) string { return strings.Replace(gleifRow, "%s", amount, 1) }
	f.Add(gleifHdr+row("100"), false)
	f.Add(gleifHdr+row("")+strings.Replace(row("60"), "IS_DIRECTLY", "IS_ULTIMATELY", 1), false)
	f.Add(gleifHdr+row("140")+row("all"), true)
	f.Add(gleifHdr+"5493001KJTIIGC8Y1R12,LEI,529900T8BM49AURSDO55\n", false)
	f.Add(gleifHdr+strings.Replace(row(""), "PUBLISHED", "PUBL\xffISHED", 1), false)
	f.Add(csvNodes, false)
	f.Fuzz(func(t *testing.T, data string, skip bool) {
		fuzzImport(t, FormatGLEIF, skip, memInput("rr.csv", data))
	})
}
