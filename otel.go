package main

import (
	"context"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// newTracerProvider returns an OpenTelemetry tracer provider that exports spans over
// OTLP/HTTP, batched, to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (a full URL), else to
// OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces, else to the exporter's default
// (http://localhost:4318/v1/traces). The service is named by OTEL_SERVICE_NAME, else
// "lodestone". The caller must Shutdown the provider to flush the last spans.
func newTracerProvider(ctx context.Context, getenv func(string) string) (*sdktrace.TracerProvider, error) {
	var opts []otlptracehttp.Option
	switch traces, base := getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"), getenv("OTEL_EXPORTER_OTLP_ENDPOINT"); {
	case traces != "":
		opts = append(opts, otlptracehttp.WithEndpointURL(traces))
	case base != "":
		opts = append(opts, otlptracehttp.WithEndpointURL(strings.TrimSuffix(base, "/")+"/v1/traces"))
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("otel: OTLP exporter: %w", err)
	}
	name := getenv("OTEL_SERVICE_NAME")
	if name == "" {
		name = "lodestone"
	}
	res := resource.NewSchemaless(attribute.String("service.name", name), attribute.String("service.version", version))
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)), nil
}

// tracingWanted reports whether `serve` traces: with --otel, or when an OTLP endpoint
// is set in the environment. Off otherwise.
func tracingWanted(flag bool, getenv func(string) string) bool {
	return flag || getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}
