package server

import (
	"context"
	"time"

	"go.uber.org/zap"
)

// logSlowQuery logs a GraphQL request at warn level when it took threshold or longer
// (never when threshold is zero): its operation name, the SHA-256 of its document, its
// duration, its outcome and the request id. It never logs the document, which may hold
// literal values, nor the variables.
func logSlowQuery(log *zap.Logger, threshold time.Duration, ctx context.Context, operation, doc, outcome string, d time.Duration) {
	if threshold <= 0 || d < threshold {
		return
	}
	log.Warn("slow query",
		zap.String("operation", operation),
		zap.String("query_hash", queryHash(doc)),
		zap.Duration("duration", d),
		zap.String("outcome", outcome),
		zap.String("request_id", requestID(ctx)))
}
