package ingest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/lodestone-kg/lodestone/graph"
)

// The importers' fuzz targets share one contract, checked by fuzzImport: Import never
// panics; a refused import fails with INVALID_INPUT naming a file and a line and changes
// nothing; with SkipInvalid, every reject names a file and a line; an accepted import
// leaves a store whose invariants hold (graph.Store.Check).

var (
	fuzzStoreOnce sync.Once
	fuzzStore     *graph.Store
	fuzzStoreErr  error
)

// sharedFuzzStore is one in-memory store per fuzzing process, holding richGraph so that
// imports may refer to existing entities and sources. Opening a Badger store per input
// would cost more than the import; accepted imports accumulate in it.
func sharedFuzzStore(tb testing.TB) *graph.Store {
	tb.Helper()
	fuzzStoreOnce.Do(func() {
		fuzzStore, fuzzStoreErr = graph.Open(graph.Options{InMemory: true})
		if fuzzStoreErr == nil {
			_, fuzzStoreErr = fuzzStore.Apply(context.Background(), richGraph())
		}
	})
	if fuzzStoreErr != nil {
		tb.Fatal(fuzzStoreErr)
	}
	return fuzzStore
}

// fuzzImport imports files in format and checks the contract above.
func fuzzImport(t *testing.T, format string, skipInvalid bool, files ...*Input) {
	ctx := context.Background()
	store := sharedFuzzStore(t)
	var names []string
	for _, f := range files {
		names = append(names, regexp.QuoteMeta(f.Name))
	}
	located := regexp.MustCompile(`^(` + strings.Join(names, "|") + `) line [1-9][0-9]*(: |$)`)

	before := store.Version()
	var rejects bytes.Buffer
	_, err := Import(ctx, store, files, Options{Format: format, SkipInvalid: skipInvalid, Rejects: &rejects})
	if err != nil {
		var e *graph.Error
		if !errors.As(err, &e) || e.Code != graph.EINVALID || !located.MatchString(err.Error()) {
			t.Fatalf("Import failed with %T %q (code %s), want INVALID_INPUT naming a file and a line", err, err, graph.ErrorCode(err))
		}
		if after := store.Version(); after != before {
			t.Fatalf("a refused import (%v) changed the store from version %d to %d", err, before, after)
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
	rep, err := store.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) > 0 {
		t.Fatalf("an accepted import left a broken store: %v", rep.Problems)
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
