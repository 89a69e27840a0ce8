package graph

// NodeID is the store's internal number for an entity. It never leaves the package.
type NodeID uint64

// RelID is the store's internal number for a relationship. It never leaves the package.
type RelID uint64

// arc is one relationship as seen from one of its ends during a traversal: the fields a
// traversal needs without reading the relationship's full record.
type arc struct {
	Rel   RelID
	Type  string
	Other NodeID // the entity at the other end
	// Min and Max: the share interval (Min = Max for an exact share; 0 when unknown).
	Min, Max float64
	// Volume is properties.volumeTpa (0 when absent or not a number).
	Volume float64
	// Material is properties.material ("" when absent).
	Material string
	// ID is the relationship's public id, "" when the store's payload predates it (then
	// only its record names it) or the view was not asked for ids (view.wantRelIDs).
	ID string
	// validFrom, validTo and flags are the hot payload's, for thinRelationship.
	validFrom, validTo int32
	Out                bool // true when the traversed entity is the relationship's From
	Known              bool // the share is disclosed
	HasVolume          bool // Volume is set
	flags              byte
}

// thinRelationship builds the relationship a reached from the hot payload alone, given
// the public ids of its ends, or returns nil when the payload has no public id. The
// result has every field except Properties, Sources and Confidence, and is marked Thin.
func thinRelationship(a arc, from, to string) *Relationship {
	if a.ID == "" {
		return nil
	}
	r := &Relationship{ID: a.ID, Type: a.Type, From: from, To: to, Thin: true}
	if a.Known {
		lo, hi := a.Min, a.Max
		if a.flags&hotRange == 0 {
			r.Share = &lo
		} else {
			r.ShareMin, r.ShareMax = &lo, &hi
			r.ShareMinExclusive = a.flags&hotMinExcl != 0
			r.ShareMaxExclusive = a.flags&hotMaxExcl != 0
		}
	}
	if a.flags&hotFrom != 0 {
		r.ValidFrom = DateFromDays(a.validFrom)
	}
	if a.flags&hotTo != 0 {
		r.ValidTo = DateFromDays(a.validTo)
	}
	return r
}

// Mid returns the midpoint of the share interval (0 when unknown).
func (a arc) Mid() float64 { return (a.Min + a.Max) / 2 }

// view is what traversals and analytics read: one consistent snapshot of the graph,
// restricted to the relationships valid on one date, with a visit budget and a deadline.
// A view is used by one goroutine only.
type view interface {
	// lookup returns the NodeID of the entity with the given id, or an ENOTFOUND *Error.
	lookup(id string) (NodeID, error)
	// entity returns the full record of n.
	entity(n NodeID) (*Entity, error)
	// prefetch tells the view that entity will be asked for each of ns: it may read them
	// ahead, all at once.
	prefetch(ns []NodeID)
	// relationship returns the full record of r.
	relationship(r RelID) (*Relationship, error)
	// arcs calls fn for each relationship touching n in direction dir (Both: both), of one
	// of types (any type when types is empty), valid on the view's date, until fn returns
	// false. Each arc counts against the visit budget; arcs returns errBudget once the
	// budget or the deadline is exhausted.
	arcs(n NodeID, dir Direction, types []string, fn func(arc) bool) error
	// charge counts n units of in-memory work (solver steps, candidates scored) against
	// the request's work budget (Work); it returns errBudget once that budget, the
	// deadline or the request's context is gone. Long loops that read nothing call it so
	// that they stop in time too.
	charge(n int) error
	// limits returns the caps in force.
	limits() Limits
	// wantRelIDs makes later arcs carry the relationships' public ids (arc.ID) where the
	// store has them; without it arc.ID may be empty, which saves an allocation per arc.
	wantRelIDs()
}

// buildPath materializes the walk that starts at start and follows arcs in order.
func buildPath(v view, start NodeID, arcs []arc) (Path, error) {
	p := Path{
		Entities:      make([]*Entity, 0, len(arcs)+1),
		Relationships: make([]*Relationship, 0, len(arcs)),
	}
	e, err := v.entity(start)
	if err != nil {
		return Path{}, err
	}
	p.Entities = append(p.Entities, e)
	share, allKnown := 1.0, len(arcs) > 0
	for _, a := range arcs {
		r, err := v.relationship(a.Rel)
		if err != nil {
			return Path{}, err
		}
		e, err := v.entity(a.Other)
		if err != nil {
			return Path{}, err
		}
		p.Relationships = append(p.Relationships, r)
		p.Entities = append(p.Entities, e)
		if a.Type != TypeOwns || !a.Known {
			allKnown = false
		}
		share *= a.Mid()
	}
	if allKnown {
		p.Share = &share
	}
	return p, nil
}
