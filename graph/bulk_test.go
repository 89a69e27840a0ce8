package graph

import (
	"context"
	"testing"
)

func batchRecords(b *Batch) func(emit func(Record) error) error {
	return func(emit func(Record) error) error {
		for i := range b.Sources {
			if err := emit(Record{Source: &b.Sources[i]}); err != nil {
				return err
			}
		}
		for i := range b.Entities {
			if err := emit(Record{Entity: &b.Entities[i]}); err != nil {
				return err
			}
		}
		for i := range b.Relationships {
			if err := emit(Record{Relationship: &b.Relationships[i]}); err != nil {
				return err
			}
		}
		return nil
	}
}

// TestBulkLoadEqualsApply: a bulk load writes exactly the keys and values that Apply
// writes for the same records.
func TestBulkLoadEqualsApply(t *testing.T) {
	applied := MustOpenStore(t)
	MustApply(t, applied, smallGraph())
	bulk := MustOpenStore(t)
	st, err := bulk.BulkLoad(context.Background(), batchRecords(smallGraph()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Entities != 6 || st.Relationships != 4 || st.Sources != 1 {
		t.Errorf("BulkLoad stats = %+v", st)
	}
	if a, b := dump(t, applied), dump(t, bulk); a != b {
		t.Errorf("bulk load and Apply differ:\napply %s\nbulk  %s", a, b)
	}
	if _, err := bulk.BulkLoad(context.Background(), batchRecords(smallGraph()), nil); ErrorCode(err) != EINVALID {
		t.Errorf("second bulk load error = %v, want INVALID_INPUT (store not empty)", err)
	}
}

// TestBulkLoadFailureLeavesEmptyStore: a bad record late in the stream empties the store.
func TestBulkLoadFailureLeavesEmptyStore(t *testing.T) {
	s := MustOpenStore(t)
	b := smallGraph()
	b.Relationships = append(b.Relationships, Relationship{Type: "OWNS", From: "nre", To: "ghost"})
	_, err := s.BulkLoad(context.Background(), batchRecords(b), nil)
	if e, ok := err.(*Error); !ok || e.Code != EINVALID || e.Field != "record 12: relationship.to" {
		t.Fatalf("error = %#v, want INVALID_INPUT on record 12: relationship.to", err)
	}
	if st, _ := s.Stats(context.Background()); st.Entities != 0 || st.Version != 0 {
		t.Errorf("after a failed bulk load stats = %+v", st)
	}
	if got := dump(t, s); got != "" {
		t.Errorf("store not empty after a failed bulk load: %s", got)
	}
	// And it can be loaded afterwards.
	if _, err := s.BulkLoad(context.Background(), batchRecords(smallGraph()), nil); err != nil {
		t.Errorf("bulk load after a failed one: %v", err)
	}
}

// TestExportRoundTrip: Export → BulkLoad into an empty store reproduces every key.
func TestExportRoundTrip(t *testing.T) {
	src := MustOpenStore(t)
	MustApply(t, src, smallGraph())
	dst := MustOpenStore(t)
	_, err := dst.BulkLoad(context.Background(), func(emit func(Record) error) error {
		return src.Export(context.Background(), emit)
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := dump(t, src), dump(t, dst); a != b {
		t.Errorf("export → bulk load differs:\nsrc %s\ndst %s", a, b)
	}
}

// reversed emits b's records relationships first, then entities, then sources.
func reversed(b *Batch) func(emit func(Record) error) error {
	return func(emit func(Record) error) error {
		for i := range b.Relationships {
			if err := emit(Record{Relationship: &b.Relationships[i]}); err != nil {
				return err
			}
		}
		for i := range b.Entities {
			if err := emit(Record{Entity: &b.Entities[i]}); err != nil {
				return err
			}
		}
		for i := range b.Sources {
			if err := emit(Record{Source: &b.Sources[i]}); err != nil {
				return err
			}
		}
		return nil
	}
}

// TestStreamLoadEqualsApply: the StreamWriter path writes exactly the keys and values that
// Apply writes for the same records, whatever order the records come in (ids are numbered
// per kind in emit order, as Apply numbers them in batch order), and the store works
// normally afterwards.
func TestStreamLoadEqualsApply(t *testing.T) {
	ctx := context.Background()
	applied := MustOpenStore(t)
	MustApply(t, applied, smallGraph())
	want := dump(t, applied)
	for _, tc := range []struct {
		name string
		each func(*Batch) func(emit func(Record) error) error
	}{{"batch order", batchRecords}, {"relationships first", reversed}} {
		t.Run(tc.name, func(t *testing.T) {
			s := MustOpenStore(t)
			st, err := s.StreamLoad(ctx, tc.each(smallGraph()), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := (BulkStats{Sources: 1, Entities: 6, Relationships: 4}); st != got {
				t.Errorf("StreamLoad stats = %+v, want %+v", st, got)
			}
			if got := dump(t, s); got != want {
				t.Errorf("stream load and Apply differ:\napply  %s\nstream %s", want, got)
			}
			if s.Version() != 1 {
				t.Errorf("version after stream load = %d, want 1", s.Version())
			}
			// The store takes ordinary writes and reads afterwards.
			MustApply(t, s, &Batch{Entities: []Entity{{ID: "new", Kind: "Company", Name: "New Co"}}})
			if e, err := s.Entity(ctx, "nre"); err != nil || e.Name != smallGraph().Entities[0].Name {
				t.Errorf("Entity(nre) after stream load = %v, %v", e, err)
			}
			if _, err := s.StreamLoad(ctx, batchRecords(smallGraph()), nil); ErrorCode(err) != EINVALID {
				t.Errorf("second stream load error = %v, want INVALID_INPUT (store not empty)", err)
			}
		})
	}
}

// TestStreamLoadRefusesBadInput: every kind of bad record fails the load with an error
// naming the record and field, and leaves the store untouched (only its format marker).
func TestStreamLoadRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		edit  func(b *Batch)
		field string
	}{
		{"unknown end", func(b *Batch) {
			b.Relationships = append(b.Relationships, Relationship{Type: "OWNS", From: "nre", To: "ghost"})
		}, "record 12: relationship.to"},
		{"duplicate entity", func(b *Batch) { b.Entities = append(b.Entities, Entity{ID: "nre", Kind: "Company", Name: "Again"}) }, "record 8: entity.id"},
		{"duplicate relationship", func(b *Batch) { b.Relationships = append(b.Relationships, b.Relationships[0]) }, "record 12: relationship.id"},
		{"share over 1", func(b *Batch) { b.Relationships[1].Share = fptr(1.4) }, "record 9: relationship.share"},
		{"unknown source", func(b *Batch) { b.Entities[2].Sources = []string{"nope"} }, "record 4: entity.sources[0]"},
		{"bad country", func(b *Batch) { b.Entities[5].Country = "Australia" }, "record 7: entity.country"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := MustOpenStore(t)
			before := dump(t, s)
			b := smallGraph()
			tc.edit(b)
			_, err := s.StreamLoad(ctx, batchRecords(b), nil)
			if e, ok := err.(*Error); !ok || e.Code != EINVALID || e.Field != tc.field {
				t.Fatalf("error = %#v, want INVALID_INPUT on %s", err, tc.field)
			}
			if got := dump(t, s); got != before {
				t.Errorf("store changed by a failed stream load:\nbefore %s\nafter  %s", before, got)
			}
			if _, err := s.StreamLoad(ctx, batchRecords(smallGraph()), nil); err != nil {
				t.Errorf("stream load after a failed one: %v", err)
			}
		})
	}
}
