package graph

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// MustSaveQuery saves q and fails the test on error.
func MustSaveQuery(tb testing.TB, s *Store, q SavedQuery) *SavedQuery {
	tb.Helper()
	out, err := s.SaveQuery(context.Background(), &q)
	if err != nil {
		tb.Fatalf("SaveQuery(%q): %v", q.Name, err)
	}
	return out
}

func TestSaveQueryVersions(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)
	MustApply(t, s, smallGraph())
	before := s.Version()

	at := time.Date(2025, 7, 10, 12, 0, 0, 0, time.UTC)
	v1 := MustSaveQuery(t, s, SavedQuery{Name: "owners", Description: "first", Tags: []string{"ownership"},
		Query: `query($id: ID!) { entity(id: $id) { name } }`, SavedAt: at,
		Params: []QueryParam{{Name: "id", Type: "ID!", Required: true}}})
	v2 := MustSaveQuery(t, s, SavedQuery{Name: "owners", Description: "second", Query: `{ stats { entities } }`})

	if got, want := v1.Version, 1; got != want {
		t.Errorf("first save: version %d, want %d", got, want)
	}
	if got, want := v2.Version, 2; got != want {
		t.Errorf("second save: version %d, want %d", got, want)
	}
	sum := sha256.Sum256([]byte(`{ stats { entities } }`))
	if got, want := v2.Hash, hex.EncodeToString(sum[:]); got != want {
		t.Errorf("hash = %s, want %s", got, want)
	}
	if got := s.Version(); got != before+2 {
		t.Errorf("store version moved from %d to %d; each save is one write through the store's funnel", before, got)
	}

	latest, err := s.SavedQuery(ctx, "owners", 0)
	if err != nil || latest.Version != 2 || latest.Description != "second" {
		t.Fatalf("SavedQuery(owners, 0) = %+v, %v; want version 2", latest, err)
	}
	old, err := s.SavedQuery(ctx, "owners", 1)
	if err != nil || old.Version != 1 || old.Description != "first" || !old.SavedAt.Equal(at) ||
		len(old.Params) != 1 || old.Params[0].Type != "ID!" || !old.Params[0].Required {
		t.Fatalf("SavedQuery(owners, 1) = %+v, %v; want the first version as saved", old, err)
	}
	for _, tc := range []struct {
		name    string
		version int
		code    string
	}{
		{"owners", 3, ENOTFOUND},
		{"nobody", 0, ENOTFOUND},
		{"Not A Slug", 0, EINVALID},
		{"owners", -1, EINVALID},
	} {
		if _, err := s.SavedQuery(ctx, tc.name, tc.version); ErrorCode(err) != tc.code {
			t.Errorf("SavedQuery(%q, %d) error = %v, want code %s", tc.name, tc.version, err, tc.code)
		}
	}

	h, err := s.SavedQueryHistory(ctx, "owners", false)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(h.Versions), 2; got != want {
		t.Fatalf("history has %d versions, want %d", got, want)
	}
	if h.Versions[0].Version != 1 || h.Versions[1].Version != 2 || h.Latest().Version != 2 || h.Deleted {
		t.Errorf("history = %+v, want versions 1, 2 oldest first, not deleted", h)
	}
}

func TestSavedQueriesListAndTags(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)
	MustSaveQuery(t, s, SavedQuery{Name: "b-supply", Tags: []string{"supply"}, Query: "{ stats { entities } }"})
	MustSaveQuery(t, s, SavedQuery{Name: "a-owners", Tags: []string{"ownership", "company"}, Query: "{ stats { entities } }"})
	MustSaveQuery(t, s, SavedQuery{Name: "c-both", Tags: []string{"supply", "ownership"}, Query: "{ stats { relationships } }"})
	// A newer version without the tag no longer matches it.
	MustSaveQuery(t, s, SavedQuery{Name: "c-both", Tags: []string{"supply"}, Query: "{ stats { relationships } }"})

	for _, tc := range []struct {
		tag  string
		want string
	}{
		{"", "a-owners b-supply c-both"},
		{"supply", "b-supply c-both"},
		{"ownership", "a-owners"},
		{"none", ""},
	} {
		qs, err := s.SavedQueries(ctx, tc.tag)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, q := range qs {
			names = append(names, q.Name)
		}
		if got := strings.Join(names, " "); got != tc.want {
			t.Errorf("SavedQueries(%q) = %q, want %q", tc.tag, got, tc.want)
		}
	}
}

func TestDeleteAndPurgeSavedQuery(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)
	doc := "{ stats { entities } }"
	MustSaveQuery(t, s, SavedQuery{Name: "q", Query: doc})
	MustSaveQuery(t, s, SavedQuery{Name: "q", Query: doc + " "})
	MustSaveQuery(t, s, SavedQuery{Name: "other", Query: "{ stats { version } }"})

	if err := s.DeleteSavedQuery(ctx, "q", false); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := s.SavedQuery(ctx, "q", 1); ErrorCode(err) != ENOTFOUND {
		t.Errorf("SavedQuery after delete: %v, want NOT_FOUND", err)
	}
	if _, err := s.SavedQueryHistory(ctx, "q", false); ErrorCode(err) != ENOTFOUND {
		t.Errorf("history without includeDeleted after delete: %v, want NOT_FOUND", err)
	}
	h, err := s.SavedQueryHistory(ctx, "q", true)
	if err != nil || !h.Deleted || h.DeletedAt.IsZero() || len(h.Versions) != 2 {
		t.Fatalf("history with includeDeleted = %+v, %v; want 2 versions, deleted", h, err)
	}
	if qs, _ := s.SavedQueries(ctx, ""); len(qs) != 1 || qs[0].Name != "other" {
		t.Errorf("SavedQueries after delete = %v, want only other", qs)
	}
	if _, err := s.SavedQueryByHash(ctx, QueryHash(doc)); ErrorCode(err) != ENOTFOUND {
		t.Errorf("SavedQueryByHash of a deleted query: %v, want NOT_FOUND", err)
	}
	if err := s.DeleteSavedQuery(ctx, "q", false); ErrorCode(err) != ENOTFOUND {
		t.Errorf("second delete: %v, want NOT_FOUND", err)
	}

	// Saving again continues the history.
	v3 := MustSaveQuery(t, s, SavedQuery{Name: "q", Query: doc})
	if v3.Version != 3 {
		t.Errorf("save after delete: version %d, want 3", v3.Version)
	}
	if got, err := s.SavedQueryByHash(ctx, QueryHash(doc)); err != nil || got.Version != 3 {
		t.Errorf("SavedQueryByHash after restore = %+v, %v; want the newest version 3", got, err)
	}

	// Purge removes every version and hash entry.
	if err := s.DeleteSavedQuery(ctx, "q", true); err != nil {
		t.Fatalf("purge: %v", err)
	}
	if _, err := s.SavedQueryHistory(ctx, "q", true); ErrorCode(err) != ENOTFOUND {
		t.Errorf("history after purge: %v, want NOT_FOUND", err)
	}
	if _, err := s.SavedQueryByHash(ctx, QueryHash(doc)); ErrorCode(err) != ENOTFOUND {
		t.Errorf("SavedQueryByHash after purge: %v, want NOT_FOUND", err)
	}
	if err := s.DeleteSavedQuery(ctx, "q", true); ErrorCode(err) != ENOTFOUND {
		t.Errorf("purge of a purged query: %v, want NOT_FOUND", err)
	}
	if v := MustSaveQuery(t, s, SavedQuery{Name: "q", Query: doc}); v.Version != 1 {
		t.Errorf("save after purge: version %d, want 1", v.Version)
	}
	// Nothing of q remains but the new version: no stray Q keys.
	var keys []string
	s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badgerIteratorAll())
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if k := it.Item().Key(); k[0] == famQuery && strings.Contains(string(k), "q") && !strings.Contains(string(k), "other") {
				keys = append(keys, string(k[:2]))
			}
		}
		return nil
	})
	if got, want := strings.Join(keys, " "), "Qh Qn Qv"; got != want {
		t.Errorf("Q keys of q after purge and one save: %q, want %q", got, want)
	}
}

func TestSavedQueryByHashPicksNewest(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)
	doc := "{ stats { entities } }"
	MustSaveQuery(t, s, SavedQuery{Name: "first", Query: doc, SavedAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)})
	MustSaveQuery(t, s, SavedQuery{Name: "second", Query: doc, SavedAt: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)})
	got, err := s.SavedQueryByHash(ctx, QueryHash(doc))
	if err != nil || got.Name != "second" {
		t.Fatalf("SavedQueryByHash = %+v, %v; want second", got, err)
	}
	for _, h := range []string{"", "abc", strings.Repeat("G", 64), strings.ToUpper(QueryHash(doc))} {
		if _, err := s.SavedQueryByHash(ctx, h); ErrorCode(err) != EINVALID {
			t.Errorf("SavedQueryByHash(%q): %v, want INVALID_INPUT", h, err)
		}
	}
	if _, err := s.SavedQueryByHash(ctx, QueryHash("{ other }")); ErrorCode(err) != ENOTFOUND {
		t.Errorf("SavedQueryByHash(unknown): %v, want NOT_FOUND", err)
	}
}

func TestValidateSavedQuery(t *testing.T) {
	ok := SavedQuery{Name: "company-owners", Query: "{ stats { entities } }"}
	for _, tc := range []struct {
		name  string
		edit  func(q *SavedQuery)
		field string // "" when valid
	}{
		{"valid", func(q *SavedQuery) {}, ""},
		{"digits and dashes", func(q *SavedQuery) { q.Name = "0-a-9" }, ""},
		{"64 characters", func(q *SavedQuery) { q.Name = strings.Repeat("a", 64) }, ""},
		{"empty name", func(q *SavedQuery) { q.Name = "" }, "input.name"},
		{"upper case", func(q *SavedQuery) { q.Name = "Owners" }, "input.name"},
		{"leading dash", func(q *SavedQuery) { q.Name = "-owners" }, "input.name"},
		{"underscore", func(q *SavedQuery) { q.Name = "company_owners" }, "input.name"},
		{"slash", func(q *SavedQuery) { q.Name = "a/b" }, "input.name"},
		{"non-ASCII", func(q *SavedQuery) { q.Name = "北方" }, "input.name"},
		{"65 characters", func(q *SavedQuery) { q.Name = strings.Repeat("a", 65) }, "input.name"},
		{"empty query", func(q *SavedQuery) { q.Query = "  " }, "input.query"},
		{"huge query", func(q *SavedQuery) { q.Query = "{" + strings.Repeat(" ", MaxQueryDocumentBytes) + "}" }, "input.query"},
		{"bad UTF-8 query", func(q *SavedQuery) { q.Query = "{ \xff }" }, "input.query"},
		{"long description", func(q *SavedQuery) { q.Description = strings.Repeat("x", 4097) }, "input.description"},
		{"empty tag", func(q *SavedQuery) { q.Tags = []string{"a", ""} }, "input.tags[1]"},
		{"duplicate tag", func(q *SavedQuery) { q.Tags = []string{"a", "b", "a"} }, "input.tags[2]"},
		{"spaced tag", func(q *SavedQuery) { q.Tags = []string{" a"} }, "input.tags[0]"},
		{"control in tag", func(q *SavedQuery) { q.Tags = []string{"a\tb"} }, "input.tags[0]"},
		{"long tag", func(q *SavedQuery) { q.Tags = []string{strings.Repeat("t", 65)} }, "input.tags[0]"},
		{"too many tags", func(q *SavedQuery) {
			for i := range 33 {
				q.Tags = append(q.Tags, strings.Repeat("t", i+1))
			}
		}, "input.tags"},
		{"Chinese tag", func(q *SavedQuery) { q.Tags = []string{"稀土"} }, ""},
		{"duplicate parameter", func(q *SavedQuery) { q.Params = []QueryParam{{Name: "a"}, {Name: "a"}} }, "input.params[1]"},
		{"variables not an object", func(q *SavedQuery) { q.Variables = json.RawMessage(`[1]`) }, "input.variables"},
		{"variables null", func(q *SavedQuery) { q.Variables = json.RawMessage(`null`) }, "input.variables"},
		{"variables object", func(q *SavedQuery) { q.Variables = json.RawMessage(`{"a":1}`) }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := ok
			tc.edit(&q)
			err := ValidateSavedQuery("input.", &q)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("ValidateSavedQuery(%+v) = %v, want nil", q, err)
				}
				return
			}
			var ge *Error
			if !errors.As(err, &ge) || ge.Code != EINVALID || ge.Field != tc.field {
				t.Fatalf("ValidateSavedQuery = %v, want INVALID_INPUT on %s", err, tc.field)
			}
		})
	}
}

func TestPersistedQueries(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)
	doc := "query Stats { stats { entities } }"
	p, err := s.ApprovePersistedQuery(ctx, doc)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Hash, QueryHash(doc); got != want {
		t.Errorf("approved hash %s, want %s", got, want)
	}
	again, err := s.ApprovePersistedQuery(ctx, doc)
	if err != nil || !again.ApprovedAt.Equal(p.ApprovedAt) {
		t.Errorf("approving twice = %+v, %v; want the first approval back", again, err)
	}
	got, err := s.PersistedQuery(ctx, p.Hash)
	if err != nil || got.Query != doc {
		t.Fatalf("PersistedQuery = %+v, %v", got, err)
	}
	s.ApprovePersistedQuery(ctx, "{ stats { version } }")
	all, _ := s.PersistedQueries(ctx)
	if len(all) != 2 || all[0].Query != "{ stats { version } }" {
		t.Errorf("PersistedQueries = %+v, want 2, newest first", all)
	}
	if err := s.RevokePersistedQuery(ctx, p.Hash); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PersistedQuery(ctx, p.Hash); ErrorCode(err) != ENOTFOUND {
		t.Errorf("PersistedQuery after revoke: %v, want NOT_FOUND", err)
	}
	if err := s.RevokePersistedQuery(ctx, p.Hash); ErrorCode(err) != ENOTFOUND {
		t.Errorf("second revoke: %v, want NOT_FOUND", err)
	}
	for _, bad := range []string{"", "  ", "{\xff}"} {
		if _, err := s.ApprovePersistedQuery(ctx, bad); ErrorCode(err) != EINVALID {
			t.Errorf("ApprovePersistedQuery(%q): %v, want INVALID_INPUT", bad, err)
		}
	}
	if err := s.RevokePersistedQuery(ctx, "nothex"); ErrorCode(err) != EINVALID {
		t.Errorf("RevokePersistedQuery(nothex): %v, want INVALID_INPUT", err)
	}
}

func TestSavedQueriesSurviveReopenAndPassCheck(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	MustApply(t, s, smallGraph())
	MustSaveQuery(t, s, SavedQuery{Name: "q", Query: "{ stats { entities } }"})
	MustSaveQuery(t, s, SavedQuery{Name: "q", Query: "{ stats { relationships } }"})
	s.ApprovePersistedQuery(ctx, "{ stats { version } }")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveQuery(ctx, &SavedQuery{Name: "q", Query: "{ x }"}); !errors.Is(err, ErrClosed) {
		t.Errorf("SaveQuery on a closed store: %v, want ErrClosed", err)
	}
	if _, err := s.SavedQuery(ctx, "q", 0); !errors.Is(err, ErrClosed) {
		t.Errorf("SavedQuery on a closed store: %v, want ErrClosed", err)
	}

	s, err = Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	h, err := s.SavedQueryHistory(ctx, "q", false)
	if err != nil || len(h.Versions) != 2 {
		t.Fatalf("history after reopen = %+v, %v", h, err)
	}
	if _, err := s.PersistedQuery(ctx, QueryHash("{ stats { version } }")); err != nil {
		t.Errorf("approved query after reopen: %v", err)
	}
	rep, err := s.Check(ctx)
	if err != nil || len(rep.Problems) != 0 {
		t.Errorf("Check with saved queries = %+v, %v; want no problems", rep, err)
	}
}

func TestQueryHashKeyRoundTrip(t *testing.T) {
	sum := sha256.Sum256([]byte("doc"))
	for _, tc := range []struct {
		name    string
		version int
	}{{"a", 1}, {"company-owners", 70000}, {strings.Repeat("z", 64), 1<<32 - 1}} {
		name, version, ok := parseQueryHashKey(queryHashKey(sum[:], tc.name, tc.version))
		if !ok || name != tc.name || version != tc.version {
			t.Errorf("parseQueryHashKey(queryHashKey(%q, %d)) = %q, %d, %v", tc.name, tc.version, name, version, ok)
		}
	}
	if _, _, ok := parseQueryHashKey([]byte("Qh")); ok {
		t.Error("parseQueryHashKey accepted a short key")
	}
}
