package server

import (
	"net/http"

	"github.com/graph-gophers/graphql-go"
	"github.com/lodestone-kg/lodestone/graph"
	"go.uber.org/zap"
)

// addRoutes maps the whole HTTP surface.
func addRoutes(mux *http.ServeMux, log *zap.Logger, cfg Config, store *graph.Store, schema *graphql.Schema, m *metrics) {
	gql := handleGraphQL(log, cfg, store, schema, m)
	mux.Handle("GET /graphql", gql)
	mux.Handle("POST /graphql", gql)
	mux.Handle("/graphql", methodNotAllowed("GET, POST"))
	mux.Handle("GET /healthz", handleHealthz(cfg.Version))
	mux.Handle("GET /readyz", handleReadyz(store))
	mux.Handle("GET /metrics", m.handler()) // Prometheus (metrics.go)

	// Saved queries over REST (savedqueries_rest.go).
	mux.Handle("GET /queries", handleListSavedQueries(log, store))
	mux.Handle("/queries", methodNotAllowed("GET"))
	mux.Handle("GET /queries/openapi.json", handleOpenAPI(log, cfg, store, schema))
	saved := handleRunSavedQuery(log, cfg, store, schema)
	mux.Handle("GET /queries/{name}", saved)
	mux.Handle("POST /queries/{name}", saved)
	mux.Handle("/queries/{name}", methodNotAllowed("GET, POST"))
	mux.Handle("GET /queries/{name}/versions/{version}", saved)
	mux.Handle("POST /queries/{name}/versions/{version}", saved)
	mux.Handle("/queries/{name}/versions/{version}", methodNotAllowed("GET, POST"))

	// Data in and out (admin.go): exports for visualizers; import and backup on loopback.
	mux.Handle("GET /export", handleExport(log, store))
	mux.Handle("POST /admin/import", adminOnly(handleImport(log, store, m)))
	mux.Handle("GET /admin/backup", adminOnly(handleBackup(log, store)))
}
