package graph

import "context"

// The traversal and analytics entry points. Each runs in one read transaction over the
// relationships valid on AsOf (today when zero), within the store's Limits: a visit
// budget and a deadline (the earlier of the request's and the traversal timeout).
// Unknown ids are ENOTFOUND; arguments above a cap are ELIMIT, never clamped; a traversal
// that runs out of budget returns Truncated results where its type has the field
// (Subgraph) and ELIMIT where a partial answer would be wrong.

// SubgraphQuery asks for the neighbourhood of IDs up to Depth hops.
type SubgraphQuery struct {
	IDs       []string
	Depth     int
	Types     []string
	Direction Direction
	Limit     int
	AsOf      Date
	// Thin lets the result's relationships be built from their adjacency entries
	// (Relationship.Thin, without Properties, Sources and Confidence) instead of read
	// from their records: for callers that do not need those fields.
	Thin bool
}

// Subgraph returns the k-hop neighbourhood of q.IDs (the start entities always included).
func (s *Store) Subgraph(ctx context.Context, q SubgraphQuery) (*Subgraph, error) {
	var out *Subgraph
	err := s.read(ctx, q.AsOf, func(v *txnView) (err error) {
		out, err = subgraphOf(v, q.IDs, q.Depth, q.Types, q.Direction, q.Limit, q.Thin)
		return err
	})
	return out, err
}

// PathQuery asks for paths between two entities.
type PathQuery struct {
	From, To  string
	Types     []string
	Direction Direction
	MaxDepth  int
	First     int
	AsOf      Date
}

// ShortestPath returns a shortest path from q.From to q.To within q.MaxDepth, or nil.
func (s *Store) ShortestPath(ctx context.Context, q PathQuery) (*Path, error) {
	var out *Path
	err := s.read(ctx, q.AsOf, func(v *txnView) (err error) {
		out, err = shortestPathOf(v, q.From, q.To, q.Types, q.Direction, q.MaxDepth)
		return err
	})
	return out, err
}

// Paths returns up to q.First simple paths from q.From to q.To, shortest first.
func (s *Store) Paths(ctx context.Context, q PathQuery) ([]Path, error) {
	var out []Path
	err := s.read(ctx, q.AsOf, func(v *txnView) (err error) {
		out, err = pathsOf(v, q.From, q.To, q.Types, q.Direction, q.MaxDepth, q.First)
		return err
	})
	return out, err
}

// StakeQuery asks for the owners or holdings of an entity.
type StakeQuery struct {
	Of        string
	Threshold float64
	MaxDepth  int
	AsOf      Date
}

// Owners returns everyone upstream of q.Of (semantics.md, owners).
func (s *Store) Owners(ctx context.Context, q StakeQuery) ([]Stake, error) {
	var out []Stake
	err := s.read(ctx, q.AsOf, func(v *txnView) (err error) {
		out, err = ownersOf(v, q.Of, q.Threshold, q.MaxDepth)
		return err
	})
	return out, err
}

// Holdings returns everyone downstream of q.Of.
func (s *Store) Holdings(ctx context.Context, q StakeQuery) ([]Stake, error) {
	var out []Stake
	err := s.read(ctx, q.AsOf, func(v *txnView) (err error) {
		out, err = holdingsOf(v, q.Of, q.Threshold, q.MaxDepth)
		return err
	})
	return out, err
}

// Ownership returns owner's direct and integrated share of target, whether it controls
// it, and the ownership paths between them.
func (s *Store) Ownership(ctx context.Context, owner, target string, asOf Date) (*Ownership, error) {
	var out *Ownership
	err := s.read(ctx, asOf, func(v *txnView) (err error) {
		out, err = ownershipOf(v, owner, target)
		return err
	})
	return out, err
}

// UltimateController returns the controller of of that nobody controls, or nil.
func (s *Store) UltimateController(ctx context.Context, of string, asOf Date) (*Control, error) {
	var out *Control
	err := s.read(ctx, asOf, func(v *txnView) (err error) {
		out, err = ultimateControllerOf(v, of)
		return err
	})
	return out, err
}

// BeneficialOwners returns the top-level owners of of at or above threshold, with the
// ultimate controller if any.
func (s *Store) BeneficialOwners(ctx context.Context, of string, threshold float64, asOf Date) ([]Stake, error) {
	var out []Stake
	err := s.read(ctx, asOf, func(v *txnView) (err error) {
		out, err = beneficialOwnersOf(v, of, threshold)
		return err
	})
	return out, err
}

// SupplyQuery asks for the supply chain of an entity.
type SupplyQuery struct {
	Of       string
	Upstream bool
	Material string
	MaxDepth int
	AsOf     Date
	// Thin is SubgraphQuery.Thin.
	Thin bool
}

// SupplyChain returns the SUPPLIES neighbourhood of q.Of (and the facilities it operates).
func (s *Store) SupplyChain(ctx context.Context, q SupplyQuery) (*Subgraph, error) {
	var out *Subgraph
	err := s.read(ctx, q.AsOf, func(v *txnView) (err error) {
		out, err = supplyChainOf(v, q.Of, q.Upstream, q.Material, q.MaxDepth, q.Thin)
		return err
	})
	return out, err
}

// SupplyPathQuery asks for supply paths between two entities.
type SupplyPathQuery struct {
	From, To       string
	Material       string
	AvoidCountries []string
	MaxDepth       int
	First          int
	AsOf           Date
}

// SupplyPaths returns supply paths with the flow of material from q.From to q.To.
func (s *Store) SupplyPaths(ctx context.Context, q SupplyPathQuery) ([]Path, error) {
	var out []Path
	err := s.read(ctx, q.AsOf, func(v *txnView) (err error) {
		out, err = supplyPathsOf(v, q.From, q.To, q.Material, q.AvoidCountries, q.MaxDepth, q.First)
		return err
	})
	return out, err
}

// Exposure returns the volume-weighted share of of's supply (or output) that runs
// through country.
func (s *Store) Exposure(ctx context.Context, of, country string, upstream bool, asOf Date) (*Exposure, error) {
	var out *Exposure
	err := s.read(ctx, asOf, func(v *txnView) (err error) {
		out, err = exposureOf(v, of, country, upstream)
		return err
	})
	return out, err
}
