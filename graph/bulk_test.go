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
