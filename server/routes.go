package server

import (
	"net/http"

	"github.com/graph-gophers/graphql-go"
	"github.com/lodestone-kg/lodestone/graph"
	"github.com/lodestone-kg/lodestone/web"
	"go.uber.org/zap"
)

// addRoutes maps the whole HTTP surface.
func addRoutes(mux *http.ServeMux, log *zap.Logger, cfg Config, store *graph.Store, schema *graphql.Schema, m *metrics) {
	limits := newGuard(cfg.Limits, schema, store) // shared by /graphql and /queries (limits.go)
	// Large answers are gzipped for clients that accept it (compress.go); streams
	// (subscriptions over SSE or graphql-ws) go out as they come.
	gql := withStreams(compressLarge(handleGraphQL(log, cfg, store, schema, limits, m)),
		handleSSE(log, cfg, store, schema, limits), handleWebSocket(log, cfg, store, schema, limits))
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
	saved := compressLarge(handleRunSavedQuery(log, cfg, store, schema, limits))
	mux.Handle("GET /queries/{name}", saved)
	mux.Handle("POST /queries/{name}", saved)
	mux.Handle("/queries/{name}", methodNotAllowed("GET, POST"))
	mux.Handle("GET /queries/{name}/versions/{version}", saved)
	mux.Handle("POST /queries/{name}/versions/{version}", saved)
	mux.Handle("/queries/{name}/versions/{version}", methodNotAllowed("GET, POST"))

	// Data in and out (admin.go): exports for visualizers (the whole graph: admin, checked
	// inside); import and backup need an admin key (auth.go).
	mux.Handle("GET /export", compressLarge(handleExport(log, store, limits)))
	mux.Handle("POST /admin/import", requireRoleHandler(graph.RoleAdmin, "an import", handleImport(log, store, m)))
	mux.Handle("GET /admin/backup", requireRoleHandler(graph.RoleAdmin, "a backup", handleBackup(log, store)))

	// API keys on a running server (keys.go): admin only.
	mux.Handle("GET /admin/keys", requireRoleHandler(graph.RoleAdmin, "listing API keys", handleListKeys(log, store)))
	mux.Handle("POST /admin/keys", requireRoleHandler(graph.RoleAdmin, "creating an API key", handleCreateKey(log, store)))
	mux.Handle("/admin/keys", methodNotAllowed("GET, POST"))
	mux.Handle("POST /admin/keys/{id}/revoke", requireRoleHandler(graph.RoleAdmin, "revoking an API key", handleRevokeKey(log, store)))
	mux.Handle("/admin/keys/{id}/revoke", methodNotAllowed("POST"))

	// Webhooks (webhooks.go): admin only; StartWebhooks delivers them.
	mux.Handle("GET /admin/webhooks", requireRoleHandler(graph.RoleAdmin, "listing webhooks", handleListWebhooks(log, store)))
	mux.Handle("POST /admin/webhooks", requireRoleHandler(graph.RoleAdmin, "registering a webhook", handleCreateWebhook(log, store, schema)))
	mux.Handle("/admin/webhooks", methodNotAllowed("GET, POST"))
	mux.Handle("DELETE /admin/webhooks/{id}", requireRoleHandler(graph.RoleAdmin, "deleting a webhook", handleDeleteWebhook(log, store)))
	mux.Handle("/admin/webhooks/{id}", methodNotAllowed("DELETE"))

	// The explorer (web/): the page at /, its files under /ui/, GraphiQL at /graphiql.
	explorer := web.Handler()
	mux.Handle("GET /{$}", explorer)
	mux.Handle("GET /ui/", explorer)
	mux.Handle("GET /graphiql", explorer)
	mux.Handle("GET /favicon.ico", explorer) // icon.svg, for browsers that ask before reading <link rel=icon>
}
