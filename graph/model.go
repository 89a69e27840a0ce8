// Package graph is Lodestone's knowledge graph: the domain types, the Badger store that
// keeps them, and the traversals and analytics that run over it.
//
// The package never imports GraphQL or HTTP. Every write goes through one place
// (Store.Apply), which validates the whole batch, writes it in one Badger transaction that
// keeps every index consistent, and stamps it with the next store version, so that a change
// feed can later emit writes in order. Every read-only traversal runs in one read
// transaction with a visit budget and the caller's deadline.
package graph

import (
	"encoding/json"
	"time"
)

// Entity is a node of the graph: a company, facility, material, country, person…
//
// Sources holds the ids of the Source records that back the entity.
type Entity struct {
	ID          string          `json:"id"`
	Kind        string          `json:"kind"`
	Name        string          `json:"name"`
	Aliases     []string        `json:"aliases,omitempty"`
	Country     string          `json:"country,omitempty"`
	Identifiers []Identifier    `json:"identifiers,omitempty"`
	Properties  json.RawMessage `json:"properties,omitempty"`
	Sources     []string        `json:"sources,omitempty"`
	ValidFrom   Date            `json:"validFrom,omitzero"`
	ValidTo     Date            `json:"validTo,omitzero"`
}

// Identifier is an external identifier of an entity: an LEI, a stock ticker, a national
// registry number, a Wikidata QID…
type Identifier struct {
	Scheme string `json:"scheme"`
	Value  string `json:"value"`
}

// Relationship is a directed edge. For OWNS, Share is the fraction of equity (0..1);
// ShareMin/ShareMax give a disclosed range instead; all three are nil when undisclosed.
// A relationship carries either Share or a range, never both.
type Relationship struct {
	ID       string   `json:"id"`
	Type     string   `json:"type"`
	From     string   `json:"from"`
	To       string   `json:"to"`
	Share    *float64 `json:"share,omitempty"`
	ShareMin *float64 `json:"shareMin,omitempty"`
	ShareMax *float64 `json:"shareMax,omitempty"`
	// ShareMinExclusive and ShareMaxExclusive record that a range bound was exclusive in
	// the source (BODS `exclusiveMinimum`/`exclusiveMaximum`). Arithmetic uses the bound.
	ShareMinExclusive bool            `json:"shareMinExclusive,omitempty"`
	ShareMaxExclusive bool            `json:"shareMaxExclusive,omitempty"`
	Properties        json.RawMessage `json:"properties,omitempty"`
	Sources           []string        `json:"sources,omitempty"`
	ValidFrom         Date            `json:"validFrom,omitzero"`
	ValidTo           Date            `json:"validTo,omitzero"`
	Confidence        *float64        `json:"confidence,omitempty"`
	// Thin marks a relationship a traversal built from its adjacency entry alone (see
	// SubgraphQuery.Thin): Properties, Sources and Confidence are not filled in, and the
	// full record must be read by id when they are wanted.
	Thin bool `json:"-"`
}

// ValidAt reports whether r holds on day d: ValidFrom is unset or ≤ d, and ValidTo is
// unset or > d.
func (r *Relationship) ValidAt(d Date) bool {
	return validAt(r.ValidFrom, r.ValidTo, d)
}

func validAt(from, to, d Date) bool {
	return (from.IsZero() || from.days <= d.days) && (to.IsZero() || to.days > d.days)
}

// ShareBounds returns the share as a closed interval and whether it is known. An exact
// share gives min = max.
func (r *Relationship) ShareBounds() (lo, hi float64, known bool) {
	switch {
	case r.Share != nil:
		return *r.Share, *r.Share, true
	case r.ShareMin != nil && r.ShareMax != nil:
		return *r.ShareMin, *r.ShareMax, true
	}
	return 0, 0, false
}

// Source says where a fact comes from.
type Source struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	Publisher string `json:"publisher,omitempty"`
	URL       string `json:"url,omitempty"`
	Published Date   `json:"published,omitzero"`
}

// Direction selects which relationships of an entity a traversal follows.
type Direction int

// Directions. Out follows relationships whose From is the entity, In those whose To is.
const (
	Both Direction = iota
	Out
	In
)

// String returns the GraphQL enum name of d.
func (d Direction) String() string {
	switch d {
	case Out:
		return "OUT"
	case In:
		return "IN"
	}
	return "BOTH"
}

// Reverse returns the opposite direction (Both stays Both).
func (d Direction) Reverse() Direction {
	switch d {
	case Out:
		return In
	case In:
		return Out
	}
	return Both
}

// Relationship types with a meaning in the analytics. Other types are free strings.
const (
	TypeOwns     = "OWNS"
	TypeSupplies = "SUPPLIES"
	TypeOperates = "OPERATES"
)

// KindPerson is the entity kind that beneficial ownership always treats as top-level.
const KindPerson = "Person"

// Subgraph is a flat, de-duplicated set of entities and relationships in which both ends
// of every relationship are among the entities: what a graph visualizer draws as is.
type Subgraph struct {
	Entities      []*Entity
	Relationships []*Relationship
	// Truncated is true when a cap (result limit, visit budget or deadline) stopped the
	// traversal before it was complete.
	Truncated bool
}

// Path is a walk from Entities[0] to Entities[len-1]; Relationships[i] links Entities[i]
// and Entities[i+1] (in either direction, as the traversal allowed).
type Path struct {
	Entities      []*Entity
	Relationships []*Relationship
	// Share is the product of the OWNS shares along the path at their midpoints; nil
	// unless every relationship is an OWNS with a known share.
	Share *float64
}

// Length is the number of relationships on the path.
func (p *Path) Length() int { return len(p.Relationships) }

// Stake is one entity's position upstream (owners) or downstream (holdings) of another.
type Stake struct {
	Entity *Entity
	// Direct is the summed share of the direct OWNS relationships between the two (0 when
	// none is known); Integrated the look-through share over every ownership walk, at range
	// midpoints, with IntegratedMin/IntegratedMax as bounds.
	Direct, Integrated, IntegratedMin, IntegratedMax float64
	// Certain is true when IntegratedMin is at or above the query's threshold.
	Certain bool
	// Depth is the length of the shortest OWNS walk between the two.
	Depth int
	// Controls is true when the owner controls the owned entity (semantics.md).
	Controls bool
}

// Ownership is the answer to "how much of target does owner hold".
type Ownership struct {
	Direct, Integrated, IntegratedMin, IntegratedMax float64
	Controls                                         bool
	Paths                                            []Path
}

// Control names the ultimate controller of an entity.
type Control struct {
	Controller *Entity
	Share      float64
	Paths      []Path
}

// Exposure is the volume-weighted fraction of an entity's supply that runs through a
// country, with the entities in that country that carry it and a shortest path to each.
type Exposure struct {
	Share    float64
	Entities []*Entity
	Paths    []Path
}

// Stats counts what the store holds.
type Stats struct {
	Entities      int
	Relationships int
	ByKind        map[string]int
	ByType        map[string]int
	StoreBytes    int64
	// Version is the store version: the number of write batches applied so far.
	Version uint64
}

// Limits bound every read. The zero value means "use the default" for each field.
type Limits struct {
	// MaxFirst caps first/limit arguments of lists (default 1,000).
	MaxFirst int
	// MaxSubgraph caps the limit of subgraph and supplyChain, and the answers of owners,
	// holdings, beneficialOwners and exposure, which ELIMIT past it (default 10,000).
	MaxSubgraph int
	// MaxDepth caps depth and maxDepth arguments (default 12).
	MaxDepth int
	// MaxVisits caps the relationships one traversal may examine (default 200,000).
	MaxVisits int
	// Timeout caps the wall time of one traversal (default 750 ms, so that a hostile
	// traversal answers within a second); the request context's
	// deadline applies too.
	Timeout time.Duration
}

// Defaults for Limits.
const (
	DefaultMaxFirst    = 1000
	DefaultMaxSubgraph = 10000
	DefaultMaxDepth    = 12
	DefaultMaxVisits   = 200_000
	DefaultTimeout     = 750 * time.Millisecond
)

// WithDefaults returns l with every zero field set to its default.
func (l Limits) WithDefaults() Limits {
	if l.MaxFirst <= 0 {
		l.MaxFirst = DefaultMaxFirst
	}
	if l.MaxSubgraph <= 0 {
		l.MaxSubgraph = DefaultMaxSubgraph
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxVisits <= 0 {
		l.MaxVisits = DefaultMaxVisits
	}
	if l.Timeout <= 0 {
		l.Timeout = DefaultTimeout
	}
	return l
}

// Record is one line of Lodestone's native JSONL format, which import reads and export
// writes: exactly one of its fields is set. Entities and relationships name their sources
// by id; a file may hold the source records before or after the facts that cite them.
//
//	{"source":{"id":"src-metalnomist-2024-12","title":"…","publisher":"Metalnomist","published":"2024-12-01"}}
//	{"entity":{"id":"baotou-steel","kind":"Company","name":"Baotou Iron and Steel (Group) Co., Ltd.","country":"CN","sources":["src-…"]}}
//	{"relationship":{"id":"…","type":"OWNS","from":"baotou-steel","to":"china-northern-rare-earth","share":0.3671,"sources":["src-…"]}}
type Record struct {
	Source       *Source       `json:"source,omitempty"`
	Entity       *Entity       `json:"entity,omitempty"`
	Relationship *Relationship `json:"relationship,omitempty"`
}
