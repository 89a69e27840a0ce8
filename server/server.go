// Package server is Lodestone's HTTP and GraphQL transport: NewServer builds the whole
// HTTP surface (routes.go) over a graph.Store, with the GraphQL schema executed by
// graph-gophers/graphql-go and resolvers that stay thin over the store.
package server

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/graph-gophers/graphql-go"
	gqllog "github.com/graph-gophers/graphql-go/log"
	"github.com/graph-gophers/graphql-go/trace/tracer"
	"github.com/lodestone-kg/lodestone/graph"
	"go.uber.org/zap"
)

// Config configures the HTTP surface. The zero value is usable: every zero field takes
// its default.
type Config struct {
	// CORSOrigins lists the origins browsers may call the API from ("*" for any, without
	// credentials). Empty: no cross-origin access.
	CORSOrigins []string
	// MaxBodyBytes caps a request body (default 1 MiB).
	MaxBodyBytes int64
	// RequestTimeout caps the work of one GraphQL request (default 30 s).
	RequestTimeout time.Duration
	// Version is reported by /healthz.
	Version string
	// SavedQueriesOnly turns on allow-list mode: /graphql runs only saved queries,
	// approved persisted queries and the fields that run saved queries; anything else is
	// refused with FORBIDDEN (see apq.go).
	SavedQueriesOnly bool
	// Auth says what requests without an API key may do (auth.go): AuthAnonymousReads
	// (the default: read, not write) or AuthRequired (nothing).
	Auth AuthMode
	// AnonymousWrites lets requests without a key do everything an admin key may. For
	// local development only: serve refuses it unless the listen address is loopback
	// (CheckListenAddr).
	AnonymousWrites bool
	// Limits caps the work of one GraphQL request (limits.go).
	Limits RequestLimits
	// SlowQuery is the duration from which a GraphQL request is logged at warn level
	// with its operation name, the SHA-256 of its document, its duration, outcome and
	// request id (never the document or the variables). Zero: no slow-query log.
	SlowQuery time.Duration
	// Tracer traces GraphQL requests, validations and fields (OTelTracer); nil: no
	// tracing.
	Tracer tracer.Tracer
	// RateLimit caps the requests of each client (ratelimit.go); the zero value none.
	RateLimit RateLimit
	// WatchInterval is how often, at most, a watched saved query (savedQueryResult) runs
	// again after commits (default DefaultWatchInterval, 1 s).
	WatchInterval time.Duration
}

func (c Config) withDefaults() Config {
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 1 << 20
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 30 * time.Second
	}
	return c
}

// ParseSchema parses the SDL against the resolvers over store, with the options the
// engineering notes recommend. A mismatch between SDL and resolvers is an error here, at
// start-up, not at run time.
// Options in opts come after Lodestone's own.
func ParseSchema(sdl string, store *graph.Store, log *zap.Logger, opts ...graphql.SchemaOpt) (*graphql.Schema, error) {
	if log == nil {
		log = zap.NewNop()
	}
	opts = append([]graphql.SchemaOpt{
		graphql.UseStringDescriptions(),
		graphql.UseFieldResolvers(), // entityResolver and relationshipResolver expose hot scalars as fields
		graphql.MaxDepth(15),
		graphql.MaxQueryLength(64 << 10),
		graphql.MaxSelections(20_000),
		graphql.OverlapValidationLimit(10_000),
		graphql.MaxParallelism(16),
		graphql.RestrictIntrospection(introspectionAllowed), // --no-introspection (limits.go)
		graphql.PanicHandler(panicHandler{}),
		graphql.Logger(gqllog.LoggerFunc(func(ctx context.Context, v any) {
			log.Error("graphql resolver panic", zap.String("request_id", requestID(ctx)), zap.Any("panic", v), zap.Stack("stack"))
		})),
	}, opts...)
	schema, err := graphql.ParseSchema(sdl, NewResolver(store), opts...)
	if err != nil {
		return nil, fmt.Errorf("server: schema: %w", err)
	}
	return schema, nil
}

// NewServer returns the HTTP handler of Lodestone: GraphQL at /graphql (GET and POST),
// /healthz and /readyz, Prometheus metrics at /metrics, with CORS, request ids, access
// logs and panic recovery.
func NewServer(log *zap.Logger, cfg Config, store *graph.Store, sdl string) (http.Handler, error) {
	if log == nil {
		log = zap.NewNop()
	}
	cfg = cfg.withDefaults()
	m := newMetrics(store)
	schema, err := ParseSchema(sdl, store, log, graphql.Tracer(newSchemaTracer(m, cfg.Tracer)))
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	addRoutes(mux, log, cfg, store, schema, m)
	var h http.Handler = mux
	h = rateLimit(cfg.RateLimit, h)
	h = authenticate(log, cfg, store, h)
	h = localOnly(cfg, h) // local-development mode: loopback Host, same-origin writes, JSON admin bodies (devmode.go)
	h = recoverPanics(log, h)
	h = m.instrumentHTTP(mux, h)
	h = accessLog(log, h)
	h = withRequestID(h)
	h = corsFor(cfg.CORSOrigins, h)
	return h, nil
}
