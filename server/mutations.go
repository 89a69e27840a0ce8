package server

import (
	"context"
	"fmt"
	"strings"

	"github.com/graph-gophers/graphql-go"
	"github.com/lodestone-kg/lodestone/graph"
)

// Input types of the mutations. Optional fields are pointers (graphql-go's rule).

type entityInput struct {
	ID          graphql.ID
	Kind        string
	Name        string
	Aliases     *[]string
	Country     *string
	Identifiers *[]struct{ Scheme, Value string }
	Properties  *JSON
	Sources     *[]sourceInput
	ValidFrom   *Date
	ValidTo     *Date
}

type relationshipInput struct {
	ID         *graphql.ID
	Type       string
	From       graphql.ID
	To         graphql.ID
	Share      *float64
	ShareMin   *float64
	ShareMax   *float64
	Properties *JSON
	Sources    *[]sourceInput
	ValidFrom  *Date
	ValidTo    *Date
	Confidence *float64
}

type sourceInput struct {
	ID        *graphql.ID
	Title     string
	Publisher *string
	URL       *string
	Published *Date
}

// batchBuilder turns mutation inputs into one graph.Batch, collecting the cited sources
// once each.
type batchBuilder struct {
	b       graph.Batch
	sources map[string]bool
}

func (bb *batchBuilder) addSources(prefix string, in *[]sourceInput) ([]string, error) {
	if in == nil {
		return nil, nil
	}
	ids := make([]string, 0, len(*in))
	for i, si := range *in {
		s := graph.Source{Title: si.Title, Publisher: deref(si.Publisher), URL: deref(si.URL), Published: dateArg(si.Published)}
		if si.ID != nil {
			s.ID = string(*si.ID)
		}
		if err := graph.ValidateSource(fmt.Sprintf("%ssources[%d].", prefix, i), &s); err != nil {
			return nil, err
		}
		if s.ID == "" {
			s.ID = graph.SourceID(&s)
		}
		if bb.sources == nil {
			bb.sources = map[string]bool{}
		}
		if !bb.sources[s.ID] {
			bb.sources[s.ID] = true
			bb.b.Sources = append(bb.b.Sources, s)
		}
		ids = append(ids, s.ID)
	}
	return ids, nil
}

func (bb *batchBuilder) addEntity(prefix string, in *entityInput) error {
	e := graph.Entity{ID: string(in.ID), Kind: in.Kind, Name: in.Name, Country: deref(in.Country),
		ValidFrom: dateArg(in.ValidFrom), ValidTo: dateArg(in.ValidTo)}
	if in.Aliases != nil {
		e.Aliases = *in.Aliases
	}
	if in.Identifiers != nil {
		for _, id := range *in.Identifiers {
			e.Identifiers = append(e.Identifiers, graph.Identifier{Scheme: id.Scheme, Value: id.Value})
		}
	}
	if in.Properties != nil {
		e.Properties = in.Properties.raw
	}
	srcs, err := bb.addSources(prefix, in.Sources)
	if err != nil {
		return err
	}
	e.Sources = srcs
	if err := graph.ValidateEntity(prefix, &e); err != nil {
		return err
	}
	bb.b.Entities = append(bb.b.Entities, e)
	return nil
}

func (bb *batchBuilder) addRelationship(prefix string, in *relationshipInput) error {
	r := graph.Relationship{Type: in.Type, From: string(in.From), To: string(in.To),
		Share: in.Share, ShareMin: in.ShareMin, ShareMax: in.ShareMax, Confidence: in.Confidence,
		ValidFrom: dateArg(in.ValidFrom), ValidTo: dateArg(in.ValidTo)}
	if in.ID != nil {
		r.ID = string(*in.ID)
	}
	if in.Properties != nil {
		r.Properties = in.Properties.raw
	}
	srcs, err := bb.addSources(prefix, in.Sources)
	if err != nil {
		return err
	}
	r.Sources = srcs
	if err := graph.ValidateRelationship(prefix, &r); err != nil {
		return err
	}
	bb.b.Relationships = append(bb.b.Relationships, r)
	return nil
}

// apply writes the batch. Store errors name fields by batch position
// ("relationships[0].from"); single-item mutations rename that prefix to "input.".
func (m *mutationResolver) apply(ctx context.Context, b *graph.Batch, single string) (*graph.Applied, error) {
	if isGET(ctx) {
		return nil, errMutationOverGET
	}
	a, err := m.store.Apply(ctx, b)
	if ge, ok := err.(*graph.Error); ok && single != "" && strings.HasPrefix(ge.Field, single) {
		ge.Field = "input." + strings.TrimPrefix(ge.Field, single)
	}
	return a, err
}

func (m *mutationResolver) UpsertEntity(ctx context.Context, args struct{ Input entityInput }) (*entityResolver, error) {
	if err := mutationAllowed(ctx, "upsertEntity", graph.RoleWriter); err != nil {
		return nil, err
	}
	var bb batchBuilder
	if err := bb.addEntity("input.", &args.Input); err != nil {
		return nil, err
	}
	if _, err := m.apply(ctx, &bb.b, "entities[0]."); err != nil {
		return nil, err
	}
	e := bb.b.Entities[0]
	return newEntityResolver(&e, m.Resolver), nil
}

func (m *mutationResolver) UpsertRelationship(ctx context.Context, args struct{ Input relationshipInput }) (*relationshipResolver, error) {
	if err := mutationAllowed(ctx, "upsertRelationship", graph.RoleWriter); err != nil {
		return nil, err
	}
	var bb batchBuilder
	if err := bb.addRelationship("input.", &args.Input); err != nil {
		return nil, err
	}
	a, err := m.apply(ctx, &bb.b, "relationships[0].")
	if err != nil {
		return nil, err
	}
	rel := bb.b.Relationships[0]
	rel.ID = a.Relationships[0]
	return newRelationshipResolver(&rel, m.Resolver, ctx, nil), nil
}

func (m *mutationResolver) DeleteEntity(ctx context.Context, args struct {
	ID      graphql.ID
	Cascade bool
}) (bool, error) {
	if err := mutationAllowed(ctx, "deleteEntity", graph.RoleWriter); err != nil {
		return false, err
	}
	b := &graph.Batch{DeleteEntities: []graph.EntityDelete{{ID: string(args.ID), Cascade: args.Cascade}}}
	if _, err := m.apply(ctx, b, ""); err != nil {
		return false, err
	}
	return true, nil
}

func (m *mutationResolver) DeleteRelationship(ctx context.Context, args struct{ ID graphql.ID }) (bool, error) {
	if err := mutationAllowed(ctx, "deleteRelationship", graph.RoleWriter); err != nil {
		return false, err
	}
	if _, err := m.apply(ctx, &graph.Batch{DeleteRelationships: []string{string(args.ID)}}, ""); err != nil {
		return false, err
	}
	return true, nil
}

func (m *mutationResolver) ImportGraph(ctx context.Context, args struct {
	Entities      *[]entityInput
	Relationships *[]relationshipInput
}) (*importResult, error) {
	if err := mutationAllowed(ctx, "importGraph", graph.RoleWriter); err != nil {
		return nil, err
	}
	var bb batchBuilder
	if args.Entities != nil {
		for i := range *args.Entities {
			if err := bb.addEntity(fmt.Sprintf("entities[%d].", i), &(*args.Entities)[i]); err != nil {
				return nil, err
			}
		}
	}
	if args.Relationships != nil {
		for i := range *args.Relationships {
			if err := bb.addRelationship(fmt.Sprintf("relationships[%d].", i), &(*args.Relationships)[i]); err != nil {
				return nil, err
			}
		}
	}
	a, err := m.apply(ctx, &bb.b, "")
	if err != nil {
		return nil, err
	}
	return &importResult{entities: len(a.Entities), relationships: len(a.Relationships)}, nil
}

type importResult struct{ entities, relationships int }

func (r *importResult) Entities() int32      { return int32(r.entities) }
func (r *importResult) Relationships() int32 { return int32(r.relationships) }
