package graph

import (
	"context"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

func TestCheck(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)
	MustApply(t, s, smallGraph())
	MustApply(t, s, &Batch{Entities: []Entity{{ID: "nzb", Kind: "Company", Name: "Renamed", Country: "MN"}}})
	MustApply(t, s, &Batch{DeleteEntities: []EntityDelete{{ID: "weld", Cascade: true}}})
	rep, err := s.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 0 || rep.Entities != 5 || rep.Relationships != 2 {
		t.Fatalf("Check of a consistent store = %+v", rep)
	}
	// Break the store behind its back, one way at a time.
	for _, tt := range []struct {
		name    string
		corrupt func(txn *badger.Txn) error
		want    string
	}{
		{"missing in-adjacency", func(txn *badger.Txn) error {
			return txn.Delete(adjKey(famIn, 2, s.state.Load().types["OWNS"], 1, 1))
		}, "adjacency entry I missing"},
		{"dangling name index", func(txn *badger.Txn) error { return txn.Set(termKey("ghost", 99), nil) }, "belongs to no entity"},
		{"missing name index", func(txn *badger.Txn) error { return txn.Delete(termKey("renamed", 2)) }, "is missing"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := MustOpenStore(t)
			MustApply(t, s, smallGraph())
			MustApply(t, s, &Batch{Entities: []Entity{{ID: "nzb", Kind: "Company", Name: "Renamed", Country: "MN"}}})
			if err := s.db.Update(tt.corrupt); err != nil {
				t.Fatal(err)
			}
			rep, err := s.Check(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.Join(rep.Problems, "\n"), tt.want) {
				t.Errorf("Check problems = %q, want one containing %q", rep.Problems, tt.want)
			}
		})
	}
}
