package server

import (
	"context"
	"fmt"
	"testing"

	graphql "github.com/graph-gophers/graphql-go"
)

// BenchmarkGraphQLFloorSubgraph measures what graphql-go alone takes to write the answer
// of the 3-hop subgraph benchmark (200 entities with id and name, 199 relationships with
// id, type, from { id } and to { id }) from resolvers that are plain struct fields: no
// store, no HTTP, no tracer. It is the floor under BenchmarkHTTPSubgraph3Hop and the
// `bench` command's subgraph class that no change to Lodestone's own code can go below.
func BenchmarkGraphQLFloorSubgraph(b *testing.B) {
	const sdl = `schema { query: Query }
type Query { subgraph: FloorSubgraph! }
type FloorSubgraph { entities: [FloorEntity!]! relationships: [FloorRelationship!]! }
type FloorEntity { id: ID! name: String! }
type FloorRelationship { id: ID! type: String! from: FloorEntity! to: FloorEntity! }`
	type entity struct {
		ID   outID  `graphql:"id"`
		Name string `graphql:"name"`
	}
	type relationship struct {
		ID   outID   `graphql:"id"`
		Type string  `graphql:"type"`
		From *entity `graphql:"from"`
		To   *entity `graphql:"to"`
	}
	type subgraph struct {
		Entities      []*entity       `graphql:"entities"`
		Relationships []*relationship `graphql:"relationships"`
	}
	sg := &subgraph{}
	for i := range 200 {
		sg.Entities = append(sg.Entities, &entity{outID(fmt.Sprintf("co-%07d", i)), fmt.Sprintf("Company %d Holdings Ltd", i)})
	}
	for i := range 199 {
		sg.Relationships = append(sg.Relationships, &relationship{outID(fmt.Sprintf("rel-%07d", i)), "OWNS", sg.Entities[i/2], sg.Entities[i+1]})
	}
	root := &struct {
		Subgraph *subgraph `graphql:"subgraph"`
	}{sg}
	schema := graphql.MustParseSchema(sdl, root, graphql.UseFieldResolvers())
	const query = `{ subgraph { entities { id name } relationships { id type from { id } to { id } } } }`
	ctx := context.Background()
	for b.Loop() {
		if r := schema.Exec(ctx, query, "", nil); len(r.Errors) > 0 {
			b.Fatal(r.Errors)
		}
	}
}
