package seed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lodestone-kg/lodestone/graph"
)

// The seeded saved queries: the questions analysts ask of the magnet graph, ready to run
// by name (GET /queries/{name}, `lodestone query run NAME`, runSavedQuery). Their
// defaults point at entities of the seed graph, so each runs as it is; every default
// can be overridden. Variables passed to arguments that have defaults carry the same
// defaults, because graphql-go does not fall back to an argument's default when a
// variable is absent.

// Queries returns the seeded saved queries, documents as written here (their parameters
// are derived when they are prepared against the schema).
func Queries() []*graph.SavedQuery {
	vars := func(m map[string]any) json.RawMessage {
		raw, err := json.Marshal(m)
		if err != nil {
			panic(err)
		}
		return raw
	}
	return []*graph.SavedQuery{
		{
			Name:        "company-owners",
			Description: "Owners and ultimate controller of a company: everyone upstream through OWNS, with direct and integrated (look-through) shares, and who controls it.",
			Tags:        []string{"ownership", "company"},
			Variables:   vars(map[string]any{"company": "northern-zhaobao-magnets"}),
			Query: `query CompanyOwners($company: ID!, $threshold: Float = 0, $maxDepth: Int = 10, $asOf: Date) {
  owners(of: $company, threshold: $threshold, maxDepth: $maxDepth, asOf: $asOf) {
    entity { id name kind country }
    direct
    integrated
    integratedMin
    integratedMax
    certain
    depth
    controls
  }
  ultimateController(of: $company, asOf: $asOf) {
    controller { id name kind country }
    share
    paths { length entities { id name } }
  }
}`,
		},
		{
			Name:        "group-holdings",
			Description: "Look-through holdings of a group: everything it owns directly or through its subsidiaries, with integrated shares and control.",
			Tags:        []string{"ownership", "group"},
			Variables:   vars(map[string]any{"group": "baotou-steel"}),
			Query: `query GroupHoldings($group: ID!, $threshold: Float = 0, $maxDepth: Int = 10, $asOf: Date) {
  holdings(of: $group, threshold: $threshold, maxDepth: $maxDepth, asOf: $asOf) {
    entity { id name kind country }
    direct
    integrated
    integratedMin
    integratedMax
    depth
    controls
  }
}`,
		},
		{
			Name:        "country-exposure",
			Description: "A company's exposure to a country: the volume-weighted share of its supply (UPSTREAM) or output (DOWNSTREAM) that runs through the country, the entities there that carry it, and the paths to them.",
			Tags:        []string{"supply", "country", "risk"},
			Variables:   vars(map[string]any{"company": "general-motors", "country": "US"}),
			Query: `query CountryExposure($company: ID!, $country: String!, $direction: SupplyDirection = UPSTREAM, $asOf: Date) {
  exposure(of: $company, country: $country, direction: $direction, asOf: $asOf) {
    share
    entities { id name kind country }
    paths { length entities { id name country } }
  }
}`,
		},
		{
			Name:        "supply-paths-avoiding",
			Description: "Supply paths from a mine to a magnet buyer that avoid the given countries, shortest first, optionally only those carrying one material.",
			Tags:        []string{"supply", "country", "risk"},
			Variables:   vars(map[string]any{"from": "mountain-pass-mine", "to": "general-motors", "avoid": []string{"CN"}}),
			Query: `query SupplyPathsAvoiding($from: ID!, $to: ID!, $avoid: [String!], $material: String, $maxDepth: Int = 8, $first: Int = 10, $asOf: Date) {
  supplyPaths(from: $from, to: $to, avoidCountries: $avoid, material: $material, maxDepth: $maxDepth, first: $first, asOf: $asOf) {
    length
    entities { id name kind country }
    relationships { type properties }
  }
}`,
		},
		{
			Name:        "entities-by-kind-and-country",
			Description: "The entities of a kind (Company, Facility, Material…) in a country (ISO 3166-1 alpha-2), a page at a time.",
			Tags:        []string{"entities", "country"},
			Variables:   vars(map[string]any{"kind": "Facility", "country": "CN"}),
			Query: `query EntitiesByKindAndCountry($kind: String!, $country: String!, $first: Int = 100, $after: String) {
  entities(kind: $kind, country: $country, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id name kind country aliases } }
  }
}`,
		},
	}
}

// LoadQueries saves each seeded query whose name the store has never held: an analyst's
// edits (later versions) and deletions (the history is kept) are left alone. prepare
// validates a query against the live schema and derives its parameters
// (server.PrepareSavedQuery); a query it refuses is skipped and reported in the joined
// error, so that a schema change that breaks one seeded query does not stop the others.
// It returns the names it saved.
func LoadQueries(ctx context.Context, s *graph.Store, prepare func(*graph.SavedQuery) (*graph.SavedQuery, error)) ([]string, error) {
	var saved []string
	var errs []error
	for _, q := range Queries() {
		_, err := s.SavedQueryHistory(ctx, q.Name, true)
		if err == nil {
			continue // held now or before
		}
		if graph.ErrorCode(err) != graph.ENOTFOUND {
			return saved, err
		}
		p, err := prepare(q)
		if err != nil {
			errs = append(errs, fmt.Errorf("seeded query %s: %w", q.Name, err))
			continue
		}
		if _, err := s.SaveQuery(ctx, p); err != nil {
			return saved, err
		}
		saved = append(saved, q.Name)
	}
	return saved, errors.Join(errs...)
}
