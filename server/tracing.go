package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	gqlerrors "github.com/graph-gophers/graphql-go/errors"
	"github.com/graph-gophers/graphql-go/introspection"
	"github.com/graph-gophers/graphql-go/trace/noop"
	gqlotel "github.com/graph-gophers/graphql-go/trace/otel"
	"github.com/graph-gophers/graphql-go/trace/tracer"
	"github.com/lodestone-kg/lodestone/graph"
	oteltrace "go.opentelemetry.io/otel/trace"
)

// OTelTracer returns the graphql-go OpenTelemetry tracer over tp, for Config.Tracer: one
// span per request ("GraphQL Request", with the operation name), per validation and per
// non-trivial field ("Field: GraphQL field: Type.field"). Lodestone hands it neither the variables nor the
// field arguments, and only the SHA-256 of the query document, so spans carry no values
// a client sent.
func OTelTracer(tp oteltrace.TracerProvider) tracer.Tracer {
	return &gqlotel.Tracer{Tracer: tp.Tracer("github.com/lodestone-kg/lodestone/server")}
}

// schemaTracer is the graphql-go tracer of the server's schema. For every non-trivial
// field it counts the store work of the field's resolver (graph.TraversalStats) into the
// metrics, and it passes requests and fields on to an inner tracer (OpenTelemetry, or
// the no-op tracer) with the variables and arguments left out and the query document
// replaced by its hash.
type schemaTracer struct {
	m     *metrics
	inner tracer.Tracer
}

func newSchemaTracer(m *metrics, inner tracer.Tracer) *schemaTracer {
	if inner == nil {
		inner = noop.Tracer{}
	}
	return &schemaTracer{m: m, inner: inner}
}

func (t *schemaTracer) TraceQuery(ctx context.Context, query, operationName string, _ map[string]any, varTypes map[string]*introspection.Type) (context.Context, tracer.QueryFinishFunc) {
	// Name the span after the operation that runs: the handler has found it already;
	// elsewhere (a schema used without the handler) find it here.
	if name, ok := operationNameOf(ctx); ok {
		operationName = name
	} else {
		_, operationName = operationOf(query, operationName)
	}
	return t.inner.TraceQuery(ctx, queryHash(query), operationName, nil, varTypes)
}

func (t *schemaTracer) TraceField(ctx context.Context, label, typeName, fieldName string, trivial bool, _ map[string]any) (context.Context, tracer.FieldFinishFunc) {
	if trivial {
		return t.inner.TraceField(ctx, label, typeName, fieldName, trivial, nil)
	}
	ts := &graph.TraversalStats{}
	ctx, finish := t.inner.TraceField(graph.WithTraversalStats(ctx, ts), label, typeName, fieldName, trivial, nil)
	return ctx, func(err *gqlerrors.QueryError) {
		finish(err)
		t.m.observeField(typeName+"."+fieldName, ts)
	}
}

// TraceValidation passes validation on to the inner tracer when it traces validation.
func (t *schemaTracer) TraceValidation(ctx context.Context) tracer.ValidationFinishFunc {
	if vt, ok := t.inner.(tracer.ValidationTracer); ok {
		return vt.TraceValidation(ctx)
	}
	return func([]*gqlerrors.QueryError) {}
}

// queryHash returns "sha256:<hex>" of a query document: what logs and spans show
// instead of the document, which may hold literal values.
func queryHash(query string) string {
	sum := sha256.Sum256([]byte(query))
	return "sha256:" + hex.EncodeToString(sum[:])
}
