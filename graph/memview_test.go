package graph

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
)

// memView is an in-memory view for tests of traversals and analytics: the same contract
// as the Badger-backed view, over plain slices. Build one with newMemView.
type memView struct {
	date    Date
	lim     Limits
	ids     map[string]NodeID
	ents    []*Entity       // index NodeID-1
	rels    []*Relationship // index RelID-1
	out, in map[NodeID][]RelID
	visits  int
	// charged counts the units charge was given; past chargeLimit (when not 0) charge
	// reports errBudget.
	charged, chargeLimit int
}

// newMemView returns a view of ents and rels valid on date (Today when zero). It fails
// the test when a relationship names an unknown entity.
func newMemView(tb testing.TB, date Date, lim Limits, ents []*Entity, rels []*Relationship) *memView {
	tb.Helper()
	if date.IsZero() {
		date = Today()
	}
	v := &memView{date: date, lim: lim.WithDefaults(), ids: map[string]NodeID{},
		out: map[NodeID][]RelID{}, in: map[NodeID][]RelID{}}
	for _, e := range ents {
		v.ents = append(v.ents, e)
		v.ids[e.ID] = NodeID(len(v.ents))
	}
	for _, r := range rels {
		f, ok1 := v.ids[r.From]
		t, ok2 := v.ids[r.To]
		if !ok1 || !ok2 {
			tb.Fatalf("relationship %s: unknown end %q or %q", r.ID, r.From, r.To)
		}
		v.rels = append(v.rels, r)
		id := RelID(len(v.rels))
		v.out[f] = append(v.out[f], id)
		v.in[t] = append(v.in[t], id)
	}
	return v
}

// charge counts in-memory work; a memView has no request budget, but tests may set
// chargeLimit to see a solver stop.
func (v *memView) charge(n int) error {
	v.charged += n
	if v.chargeLimit > 0 && v.charged > v.chargeLimit {
		return errBudget
	}
	return nil
}

func (v *memView) lookup(id string) (NodeID, error) {
	n, ok := v.ids[id]
	if !ok {
		return 0, Errorf(ENOTFOUND, "no entity with id %q", id)
	}
	return n, nil
}

func (v *memView) entity(n NodeID) (*Entity, error) {
	if n == 0 || int(n) > len(v.ents) {
		return nil, fmt.Errorf("memView: no node %d", n)
	}
	return v.ents[n-1], nil
}

func (v *memView) relationship(r RelID) (*Relationship, error) {
	if r == 0 || int(r) > len(v.rels) {
		return nil, fmt.Errorf("memView: no relationship %d", r)
	}
	return v.rels[r-1], nil
}

func (v *memView) limits() Limits { return v.lim }

// prefetch does nothing: entity reads a slice.
func (v *memView) prefetch([]NodeID) {}

// wantRelIDs does nothing: memArc leaves arc.ID empty, so subgraphs read records.
func (v *memView) wantRelIDs() {}

func (v *memView) arcs(n NodeID, dir Direction, types []string, fn func(arc) bool) error {
	visit := func(ids []RelID, out bool) (bool, error) {
		for _, id := range ids {
			r := v.rels[id-1]
			if len(types) > 0 && !slices.Contains(types, r.Type) {
				continue
			}
			if !r.ValidAt(v.date) {
				continue
			}
			v.visits++
			if v.visits > v.lim.MaxVisits {
				return false, errBudget
			}
			a := memArc(r, id)
			a.Out = out
			if out {
				a.Other = v.ids[r.To]
			} else {
				a.Other = v.ids[r.From]
			}
			if !fn(a) {
				return false, nil
			}
		}
		return true, nil
	}
	if dir == Out || dir == Both {
		if more, err := visit(v.out[n], true); !more || err != nil {
			return err
		}
	}
	if dir == In || dir == Both {
		if _, err := visit(v.in[n], false); err != nil {
			return err
		}
	}
	return nil
}

// memArc derives the arc fields from a relationship record, as the store's hot payload does.
func memArc(r *Relationship, id RelID) arc {
	a := arc{Rel: id, Type: r.Type}
	a.Min, a.Max, a.Known = r.ShareBounds()
	var props struct {
		VolumeTpa *float64 `json:"volumeTpa"`
		Material  string   `json:"material"`
	}
	if len(r.Properties) > 0 {
		_ = json.Unmarshal(r.Properties, &props)
	}
	if props.VolumeTpa != nil {
		a.Volume, a.HasVolume = *props.VolumeTpa, true
	}
	a.Material = props.Material
	return a
}

// Helpers that make test graphs short to write.

func ent(id, kind, country string) *Entity {
	return &Entity{ID: id, Kind: kind, Name: id, Country: country}
}

func owns(from, to string, share float64) *Relationship {
	return &Relationship{ID: from + ">" + to, Type: TypeOwns, From: from, To: to, Share: &share}
}

func ownsRange(from, to string, lo, hi float64) *Relationship {
	return &Relationship{ID: from + ">" + to, Type: TypeOwns, From: from, To: to, ShareMin: &lo, ShareMax: &hi}
}

func ownsUndisclosed(from, to string) *Relationship {
	return &Relationship{ID: from + ">" + to, Type: TypeOwns, From: from, To: to}
}

func supplies(from, to string, volume float64, material string) *Relationship {
	props := map[string]any{}
	if volume >= 0 {
		props["volumeTpa"] = volume
	}
	if material != "" {
		props["material"] = material
	}
	raw, _ := json.Marshal(props)
	return &Relationship{ID: from + ">" + to, Type: TypeSupplies, From: from, To: to, Properties: raw}
}
