package server

import (
	"net/http"

	"github.com/graph-gophers/graphql-go"
	"github.com/lodestone-kg/lodestone/graph"
	"go.uber.org/zap"
)

// addRoutes maps the whole HTTP surface.
func addRoutes(mux *http.ServeMux, log *zap.Logger, cfg Config, store *graph.Store, schema *graphql.Schema) {
	gql := handleGraphQL(log, cfg, store, schema)
	mux.Handle("GET /graphql", gql)
	mux.Handle("POST /graphql", gql)
	mux.Handle("/graphql", methodNotAllowed("GET, POST"))
	mux.Handle("GET /healthz", handleHealthz(cfg.Version))
	mux.Handle("GET /readyz", handleReadyz(store))
}
