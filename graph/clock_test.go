package graph

import (
	"context"
	"testing"
	"time"
)

// TestOptionsNowIsToday checks that a read asked for no date reads the graph as of the
// day the store's clock (Options.Now) says, not the machine's.
func TestOptionsNowIsToday(t *testing.T) {
	tests := []struct {
		now  string
		want float64
	}{
		{"2020-06-01", 0.5}, // within the stake's validity
		{"2022-06-01", 0},   // after it ended
	}
	for _, tt := range tests {
		now := MustParseDate(tt.now).Time()
		s, err := Open(Options{InMemory: true, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		b := &Batch{
			Entities: []Entity{{ID: "a", Kind: "Company", Name: "A"}, {ID: "b", Kind: "Company", Name: "B"}},
			Relationships: []Relationship{{ID: "ab", Type: "OWNS", From: "a", To: "b", Share: fptr(0.5),
				ValidFrom: MustParseDate("2020-01-01"), ValidTo: MustParseDate("2020-12-31")}},
		}
		if _, err := s.Apply(context.Background(), b); err != nil {
			t.Fatal(err)
		}
		o, err := s.Ownership(context.Background(), "a", "b", Date{})
		if err != nil {
			t.Fatal(err)
		}
		if o.Direct != tt.want {
			t.Errorf("with Now = %s: Ownership(a, b).Direct = %v, want %v", tt.now, o.Direct, tt.want)
		}
		s.Close()
	}
}
