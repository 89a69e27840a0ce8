package server

import (
	"context"
	"errors"

	gqlerrors "github.com/graph-gophers/graphql-go/errors"
	"github.com/lodestone-kg/lodestone/graph"
	"go.uber.org/zap"
)

// errMutationOverGET refuses a mutation sent with GET (GraphQL over HTTP: 405).
var errMutationOverGET = &graph.Error{Code: graph.EINVALID, Message: "mutations must be sent with POST, not GET"}

// publicErrors rewrites the errors of a GraphQL response so that clients see only a code
// (extensions.code), the field concerned (extensions.field) and a safe message; internal
// errors are logged with the request id and shown as "internal error". It reports
// whether the errors are request errors (parse, validation, variable coercion: no
// resolver ran) and whether a mutation was refused over GET.
func publicErrors(ctx context.Context, log *zap.Logger, errs []*gqlerrors.QueryError) (requestError, mutationOverGET bool) {
	for _, qe := range errs {
		if qe.Extensions == nil {
			qe.Extensions = map[string]any{}
		}
		if qe.ResolverError == nil {
			if _, ok := qe.Extensions["code"]; ok { // a panic: already INTERNAL
				continue
			}
			if len(qe.Path) == 0 && ctx.Err() != nil && qe.Message == ctx.Err().Error() {
				// graphql-go's own answer when the context ended during execution: no
				// fault of the request's form, but of the time it took.
				if errors.Is(ctx.Err(), context.DeadlineExceeded) {
					qe.Message, qe.Extensions["code"] = "the request ran out of time", graph.ELIMIT
				} else {
					qe.Message, qe.Extensions["code"] = "the request was canceled", graph.EINTERNAL
				}
				continue
			}
			if len(qe.Path) > 0 {
				// Raised while executing, e.g. a null where the schema promises a value:
				// the data is ours to blame, not the request.
				log.Error("execution error", zap.String("request_id", requestID(ctx)), zap.Any("path", qe.Path), zap.String("message", qe.Message))
				qe.Extensions["code"] = graph.EINTERNAL
				continue
			}
			requestError = true // parse, validation or variable coercion
			qe.Extensions["code"] = graph.EINVALID
			if qe.Rule == "MaxDepthExceeded" { // graphql-go's nesting cap (ParseSchema)
				qe.Extensions["code"] = graph.ELIMIT
			}
			continue
		}
		err := qe.ResolverError
		if errors.Is(err, errMutationOverGET) {
			mutationOverGET = true
		}
		var ge *graph.Error
		switch {
		case errors.As(err, &ge):
			qe.Message = ge.Error()
			qe.Extensions["code"] = ge.Code
			if ge.Field != "" {
				qe.Extensions["field"] = ge.Field
			}
		case errors.Is(err, context.DeadlineExceeded):
			qe.Message = "the request ran out of time"
			qe.Extensions["code"] = graph.ELIMIT
		case errors.Is(err, context.Canceled):
			qe.Message = "the request was canceled"
			qe.Extensions["code"] = graph.EINTERNAL
		default:
			log.Error("resolver failed", zap.String("request_id", requestID(ctx)), zap.Any("path", qe.Path), zap.Error(err))
			qe.Message = "internal error"
			qe.Extensions["code"] = graph.EINTERNAL
		}
	}
	return requestError, mutationOverGET
}

// panicHandler turns a resolver panic into an INTERNAL error without its value; the
// panic itself is logged by the schema's logger.
type panicHandler struct{}

func (panicHandler) MakePanicError(ctx context.Context, value any) *gqlerrors.QueryError {
	return &gqlerrors.QueryError{Message: "internal error", Extensions: map[string]any{"code": graph.EINTERNAL}}
}
