package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCmd runs the lodestone command line with args and returns stdout and the error.
func runCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"lodestone"}, args...), func(string) string { return "" }, strings.NewReader(""), &out, &errOut)
	return out.String(), err
}

// TestImportExportBackupRestoreCLI: the seed graph goes through every command on closed
// stores: import (bulk into an empty store) → export JSONL → import into another store
// (identical export), GraphML/CSV exports, backup → restore (identical export), and a
// bad file fails naming file, line and field.
func TestImportExportBackupRestoreCLI(t *testing.T) {
	dir := t.TempDir()
	seedFile := filepath.Join("seed", "magnets.jsonl")
	a, b, c := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "c")
	out, err := runCmd(t, "import", "--format", "jsonl", "--data", a, seedFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "bulk mode") || !strings.Contains(out, "130 entities, 259 relationships") {
		t.Errorf("import summary = %q", out)
	}
	exported := filepath.Join(dir, "a.jsonl")
	if _, err := runCmd(t, "export", "--format", "jsonl", "--data", a, "--out", exported); err != nil {
		t.Fatal(err)
	}
	if _, err := runCmd(t, "import", "--data", b, "--no-bulk", exported, "--format=jsonl"); err != nil {
		t.Fatal(err)
	}
	again := filepath.Join(dir, "b.jsonl")
	if _, err := runCmd(t, "export", "--data", b, "--out", again); err != nil {
		t.Fatal(err)
	}
	x, _ := os.ReadFile(exported)
	y, _ := os.ReadFile(again)
	if !bytes.Equal(x, y) || len(x) == 0 {
		t.Errorf("export → import → export differs (%d vs %d bytes)", len(x), len(y))
	}
	for _, f := range []string{"graphml", "gexf", "cytoscape"} {
		if _, err := runCmd(t, "export", "--format", f, "--data", a, "--out", filepath.Join(dir, "a."+f)); err != nil {
			t.Errorf("export %s: %v", f, err)
		}
	}
	if _, err := runCmd(t, "export", "--format", "csv", "--data", a, "--out", filepath.Join(dir, "csv")); err != nil {
		t.Fatal(err)
	}
	if _, err := runCmd(t, "import", "--format", "csv", "--data", c, filepath.Join(dir, "csv", "sources.csv"), filepath.Join(dir, "csv", "entities.csv"), filepath.Join(dir, "csv", "relationships.csv")); err != nil {
		t.Fatalf("CSV export → import: %v", err)
	}
	backup := filepath.Join(dir, "a.backup")
	out, err = runCmd(t, "backup", "--data", a, "--out", backup)
	if err != nil || !strings.Contains(out, "--since") {
		t.Fatalf("backup: %q, %v", out, err)
	}
	restored := filepath.Join(dir, "restored")
	if out, err = runCmd(t, "restore", "--data", restored, backup); err != nil || !strings.Contains(out, "130 entities and 259 relationships") {
		t.Fatalf("restore: %q, %v", out, err)
	}
	fromRestore := filepath.Join(dir, "r.jsonl")
	if _, err := runCmd(t, "export", "--data", restored, "--out", fromRestore); err != nil {
		t.Fatal(err)
	}
	z, _ := os.ReadFile(fromRestore)
	if !bytes.Equal(x, z) {
		t.Errorf("backup → restore → export differs")
	}
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte(":START_ID,:END_ID,:TYPE,share:float\nchina-northern-rare-earth,ghost,OWNS,0.5\n"), 0o644)
	_, err = runCmd(t, "import", "--format", "csv", "--data", a, bad)
	if want := `bad.csv line 2: to: "ghost" is not an entity in the import or the store`; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("bad import error = %v, want %q…", err, want)
	}
}

// TestAdminOverHTTP: import, export and backup through a running server (--url).
func TestAdminOverHTTP(t *testing.T) {
	data := t.TempDir()
	admin := mustCreateKey(t, data, "admin")
	base, stop := startServe(t, map[string]string{"LODESTONE_DATA": data}, "--seed=false")
	defer stop()
	dir := t.TempDir()
	if _, err := runCmd(t, "import", "--url", base, "--format", "jsonl", filepath.Join("seed", "magnets.jsonl")); err == nil || !strings.Contains(err.Error(), "admin role") {
		t.Errorf("remote import without a key: %v, want a refusal naming the admin role", err)
	}
	out, err := runCmd(t, "import", "--url", base, "--key", admin, "--format", "jsonl", filepath.Join("seed", "magnets.jsonl"))
	if err != nil || !strings.Contains(out, "atomic mode") && !strings.Contains(out, "batched mode") {
		t.Fatalf("remote import: %q, %v", out, err)
	}
	if _, err := runCmd(t, "export", "--url", base, "--format", "graphml", "--out", filepath.Join(dir, "g.graphml"), "--seeds", "china-northern-rare-earth", "--depth", "2"); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "g.graphml"))
	if !bytes.Contains(raw, []byte(`<node id="china-northern-rare-earth">`)) {
		t.Errorf("subgraph GraphML lacks its seed: %.300s", raw)
	}
	out, err = runCmd(t, "backup", "--url", base, "--key", admin, "--out", filepath.Join(dir, "s.backup"))
	if err != nil || !strings.Contains(out, "wrote full backup") {
		t.Fatalf("remote backup: %q, %v", out, err)
	}
	restored := filepath.Join(dir, "restored")
	if out, err := runCmd(t, "restore", "--data", restored, filepath.Join(dir, "s.backup")); err != nil || !strings.Contains(out, "130 entities") {
		t.Errorf("restore of a remote backup: %q, %v", out, err)
	}
}
