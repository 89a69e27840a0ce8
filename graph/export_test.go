package graph

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// exported is what an export emitted, by kind, in the order emitted.
type exported struct {
	sources, entities, relationships []string
	order                            string // one letter per record: s, e or r
}

func exportIDs(tb testing.TB, s *Store, opts ExportOptions) (exported, error) {
	tb.Helper()
	var got exported
	err := s.ExportWith(context.Background(), opts, func(pass int, rec Record) error {
		switch {
		case rec.Source != nil:
			got.sources = append(got.sources, rec.Source.ID)
			got.order += "s"
		case rec.Entity != nil:
			got.entities = append(got.entities, rec.Entity.ID)
			got.order += "e"
		case rec.Relationship != nil:
			got.relationships = append(got.relationships, rec.Relationship.ID)
			got.order += "r"
		}
		return nil
	})
	return got, err
}

// TestExportSubgraph: a subgraph export holds the entities within depth of the seeds,
// the relationships followed to reach or leave them (not one between two entities at
// exactly depth), the sources those cite, and nothing else; sources come first, then
// entities, then relationships.
func TestExportSubgraph(t *testing.T) {
	s := MustOpenStore(t)
	MustApply(t, s, smallGraph())
	for _, tc := range []struct {
		opts          ExportOptions
		entities      string
		relationships string
		sources       string
	}{
		{ExportOptions{Seeds: []string{"nzb"}}, "nzb", "", "src-test"},
		{ExportOptions{Seeds: []string{"nzb"}, Depth: 1}, "nre nzb weld zhaobao", "o1 o2 s1", "src-test"},
		{ExportOptions{Seeds: []string{"nzb"}, Depth: 1, Types: []string{"OWNS", "OWNS", "NO_SUCH_TYPE"}}, "nre nzb zhaobao", "o1 o2", "src-test"},
		{ExportOptions{Seeds: []string{"nzb"}, Depth: 1, Types: []string{"NO_SUCH_TYPE"}}, "nzb", "", "src-test"},
		{ExportOptions{Seeds: []string{"nzb"}, Depth: 2}, "lynas nre nzb weld zhaobao", "OPERATES:lynas->weld o1 o2 s1", "src-test"},
		{ExportOptions{Seeds: []string{"weld"}, Depth: 3, Direction: Out}, "nzb weld", "s1", "src-test"},
		{ExportOptions{Seeds: []string{"nzb"}, Depth: 1, Direction: In, AsOf: MustParseDate("2024-12-15")}, "nre nzb zhaobao", "o1 o2", "src-test"},
		{ExportOptions{Seeds: []string{"lynas"}, Depth: 1}, "lynas weld", "OPERATES:lynas->weld", ""},
		// nzb and weld are both at depth 1: s1 between them is not followed.
		{ExportOptions{Seeds: []string{"nre", "lynas", "nre"}, Depth: 1}, "lynas nre nzb weld", "OPERATES:lynas->weld o1", "src-test"},
	} {
		got, err := exportIDs(t, s, tc.opts)
		if err != nil {
			t.Errorf("ExportWith(%+v): %v", tc.opts, err)
			continue
		}
		join := func(ids []string) string { ids = slices.Clone(ids); slices.Sort(ids); return strings.Join(ids, " ") }
		if join(got.entities) != tc.entities || join(got.relationships) != tc.relationships || join(got.sources) != tc.sources {
			t.Errorf("ExportWith(%+v) = entities %q, relationships %q, sources %q; want %q, %q, %q", tc.opts,
				join(got.entities), join(got.relationships), join(got.sources), tc.entities, tc.relationships, tc.sources)
		}
		if want := strings.Repeat("s", len(got.sources)) + strings.Repeat("e", len(got.entities)) + strings.Repeat("r", len(got.relationships)); got.order != want {
			t.Errorf("ExportWith(%+v) emitted %q, want sources, entities, then relationships", tc.opts, got.order)
		}
	}
	if _, err := exportIDs(t, s, ExportOptions{Seeds: []string{"ghost"}}); ErrorCode(err) != ENOTFOUND {
		t.Errorf("export around an unknown seed: %v, want NOT_FOUND", err)
	}
}

// hubBatch is a hub owning n leaves.
func hubBatch(n int) *Batch {
	b := &Batch{Entities: []Entity{{ID: "hub", Kind: "Company", Name: "Hub"}}}
	for i := range n {
		id := fmt.Sprintf("leaf-%04d", i)
		b.Entities = append(b.Entities, Entity{ID: id, Kind: "Company", Name: "Leaf " + id})
		b.Relationships = append(b.Relationships, Relationship{Type: TypeOwns, From: "hub", To: id, Share: fptr(0.01)})
	}
	return b
}

// TestExportBoundedCaps: a bounded subgraph export beyond a cap (entities, visits, depth,
// time) is refused with LIMIT_EXCEEDED before its first record; the same export
// unbounded (an admin's) is whole.
func TestExportBoundedCaps(t *testing.T) {
	for _, tc := range []struct {
		name    string
		limits  Limits
		opts    ExportOptions
		field   string
		message string
	}{
		{"entities", Limits{MaxSubgraph: 100}, ExportOptions{Seeds: []string{"hub"}, Depth: 1}, "seeds", "more than 100 entities"},
		{"seeds alone", Limits{MaxSubgraph: 1}, ExportOptions{Seeds: []string{"leaf-0001", "leaf-0002"}}, "seeds", "more than 1 entities"},
		{"visits", Limits{MaxVisits: 500}, ExportOptions{Seeds: []string{"leaf-0001"}, Depth: 2}, "seeds", "more than 500 relationships"},
		{"depth", Limits{MaxDepth: 2}, ExportOptions{Seeds: []string{"leaf-0001"}, Depth: 3}, "depth", "above this server's cap of 2"},
		{"time", Limits{Timeout: time.Nanosecond}, ExportOptions{Seeds: []string{"hub"}, Depth: 1}, "seeds", "takes longer than 1ns"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(Options{InMemory: true, Limits: tc.limits})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			MustApply(t, s, hubBatch(1100))
			opts := tc.opts
			opts.Bounded = true
			emitted := 0
			err = s.ExportWith(context.Background(), opts, func(int, Record) error { emitted++; return nil })
			var e *Error
			if !errors.As(err, &e) || e.Code != ELIMIT || e.Field != tc.field || !strings.Contains(e.Message, tc.message) || emitted != 0 {
				t.Errorf("bounded ExportWith(%+v) with %+v = %v after %d records; want LIMIT_EXCEEDED on %s saying %q before any record", opts, tc.limits, err, emitted, tc.field, tc.message)
			}
			opts.Bounded = false
			got, err := exportIDs(t, s, opts)
			if err != nil || len(got.entities) == 0 {
				t.Errorf("unbounded ExportWith(%+v) = %d entities, %v", opts, len(got.entities), err)
			}
		})
	}
}

// TestExportStopsWithItsContext: a context cancelled during an export (a client that
// hung up) stops it before the next record.
func TestExportStopsWithItsContext(t *testing.T) {
	s := MustOpenStore(t)
	MustApply(t, s, hubBatch(300))
	for _, opts := range []ExportOptions{{}, {Seeds: []string{"hub"}, Depth: 1}} {
		ctx, cancel := context.WithCancel(context.Background())
		emitted := 0
		err := s.ExportWith(ctx, opts, func(int, Record) error {
			emitted++
			cancel()
			return nil
		})
		cancel()
		if !errors.Is(err, context.Canceled) || emitted != 1 {
			t.Errorf("ExportWith(%+v) cancelled at the first record = %v after %d records, want context.Canceled after 1", opts, err, emitted)
		}
	}
}
