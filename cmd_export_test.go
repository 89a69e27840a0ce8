package main

import (
	"archive/zip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lodestone-kg/lodestone/graph"
)

// TestExportFailureLeavesNoFile: an export that fails leaves neither --out nor a
// temporary file behind.
func TestExportFailureLeavesNoFile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "graph.jsonl")
	_, _, err := runCLI(t, nil, "", "export", "--data", filepath.Join(dir, "missing"), "--out", out)
	if err == nil {
		t.Fatal("export from a missing store succeeded")
	}
	if ents, _ := os.ReadDir(dir); len(ents) > 0 {
		t.Errorf("a failed export --out %s left %v", out, ents)
	}
}

// TestExportCSVZipDated: export --format csv --out F.zip writes F.zip in full, and its
// entries are dated with the export time, not 1980.
func TestExportCSVZipDated(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	store, err := graph.Open(graph.Options{Dir: data})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "graph.zip")
	before := time.Now().Add(-2 * time.Second) // zip times have a 2 s resolution
	if _, errOut, err := runCLI(t, nil, "", "export", "--data", data, "--format", "csv", "--out", out); err != nil {
		t.Fatalf("export --format csv --out %s: %v (%s)", out, err, errOut)
	}
	after := time.Now().Add(2 * time.Second)
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) == 0 {
		t.Fatal("the zip has no entries")
	}
	for _, f := range zr.File {
		if m := f.Modified; m.Before(before) || m.After(after) {
			t.Errorf("%s is dated %v, want the export time (%v to %v)", f.Name, m, before, after)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("the folder holds %s, want data and graph.zip only", strings.Join(names, ", "))
	}
}
