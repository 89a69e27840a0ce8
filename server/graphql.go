package server

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/graph-gophers/graphql-go"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"
	"github.com/lodestone-kg/lodestone/graph"
	"github.com/lodestone-kg/lodestone/loaders"
	"go.uber.org/zap"
)

// Media types of GraphQL over HTTP.
const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// graphQLRequest is the body of a GraphQL POST, or the parameters of a GET.
type graphQLRequest struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName"`
	Variables     map[string]any `json:"variables"`
	Extensions    map[string]any `json:"extensions"`

	stored bool // the document was found by its APQ hash (apq.go)
}

// handleGraphQL serves GraphQL over HTTP: POST with a JSON body, or GET with query,
// operationName and variables parameters (queries only: a mutation over GET gets 405).
// A request that is not well-formed gets 400 (413 for a body over the limit, 415 for a
// body that is not JSON, 406 for an Accept header that allows neither JSON media type).
// With Accept: application/graphql-response+json, parse and validation errors get 400;
// with application/json they get 200, as the specification says.
//
// Before a request runs, limits (limits.go) refuses what is over a cap and makes an
// expensive request wait for a slot. Every request is counted in m by operation name and
// outcome (ok, or the code of its first error) and timed; one that takes cfg.SlowQuery or
// longer is logged (slowquery.go).
func handleGraphQL(log *zap.Logger, cfg Config, store *graph.Store, schema *graphql.Schema, limits *guard, m *metrics) http.Handler {
	pq := newPersistedQueries(log, cfg, store) // APQ cache and allow-list (apq.go)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		var req graphQLRequest
		opType, opName, outcome := "invalid", "", graph.EINVALID
		defer func() {
			d := time.Since(start)
			m.observeGraphQL(opName, opType, outcome, d)
			logSlowQuery(log, cfg.SlowQuery, r.Context(), opName, req.Query, outcome, d)
		}()
		media, ok := negotiate(r.Header.Get("Accept"))
		if !ok {
			writeRequestError(w, http.StatusNotAcceptable, "Accept must allow application/json or application/graphql-response+json")
			return
		}
		req, status, msg := decodeGraphQLRequest(w, r, cfg.MaxBodyBytes)
		opName = req.OperationName
		if status != 0 {
			writeRequestError(w, status, msg)
			return
		}
		// Persisted queries (apq.go): fill the query in from an APQ hash, or answer
		// PersistedQueryNotFound; in allow-list mode, refuse what is neither saved nor
		// approved with FORBIDDEN.
		if refused := pq.admit(r.Context(), &req); refused != nil {
			outcome = refused.code
			refused.write(w, media)
			return
		}
		// The document is parsed once, here, for the allow-list, operation naming and the
		// cost estimate (graphql-go parses it again to run it).
		parsed, parseErr := parseRequest(req.Query)
		if refused := pq.allow(r.Context(), &req, parsed); refused != nil {
			outcome = refused.code
			refused.write(w, media)
			return
		}
		execType, execName := operationOfParsed(parsed, req.Query, req.OperationName) // the operation that runs
		opName = execName
		setOperationName(r.Context(), execName)
		if execType == "subscription" {
			// Streams are served by transport_sse.go and transport_ws.go (withStreams).
			refused := limitRefusal(media, "a subscription needs a stream: send it with Accept: text/event-stream (GraphQL over Server-Sent Events), or over a WebSocket with the graphql-transport-ws subprotocol")
			refused.code = graph.EINVALID
			refused.write(w, media)
			return
		}
		// Limits (limits.go): refuse what is too big before anything runs; an expensive
		// request waits for one of the few slots for expensive work.
		estimate, release, refused := limits.admitParsed(r.Context(), media, req.Query, parsed, parseErr, req.OperationName, req.Variables)
		if refused != nil {
			limits.setWorkHeader(w, r.Context(), estimate) // used=0: nothing ran
			refused.write(w, media)
			return
		}
		defer release()

		ctx, cancel := context.WithTimeout(r.Context(), cfg.RequestTimeout)
		defer cancel()
		ctx = limits.work(ctx) // one work budget for every field and alias (graph.Work)
		ctx = loaders.NewContext(ctx, loaders.New(store))
		ctx = withSchema(ctx, schema) // saveQuery and runSavedQuery use it (savedqueries.go)
		if cfg.Limits.NoIntrospection {
			ctx = context.WithValue(ctx, noIntrospectionKey{}, true)
		}
		if r.Method == http.MethodGet {
			ctx = context.WithValue(ctx, getKey{}, true)
		}
		// The last commit the answer can see: taken before a query runs, so that a client
		// that follows the change log from it misses nothing; after a mutation, so that
		// it includes the mutation's own commit.
		seq := store.Seq()
		resp := schema.Exec(ctx, req.Query, req.OperationName, req.Variables)
		if execType == "mutation" {
			seq = store.Seq()
		}
		requestErr, mutationOverGET := publicErrors(ctx, log, resp.Errors)
		outcome = outcomeOf(resp.Errors)
		if !requestErr {
			opType = execType
		}

		status = http.StatusOK
		switch {
		case mutationOverGET:
			w.Header().Set("Allow", "POST")
			status = http.StatusMethodNotAllowed
		case requestErr && media == mediaGraphQLResponse:
			status = http.StatusBadRequest
		}
		body, err := encodeResponse(resp)
		if err != nil {
			log.Error("encode response", zap.String("request_id", requestID(r.Context())), zap.Error(err))
			writeRequestError(w, http.StatusInternalServerError, "internal error")
			return
		}
		limits.setWorkHeader(w, ctx, estimate)
		w.Header().Set(SeqHeader, strconv.FormatUint(seq, 10))
		w.Header().Set("Content-Type", media+"; charset=utf-8")
		w.WriteHeader(status)
		w.Write(body)
	})
}

type getKey struct{}

// isGET reports whether the request came with GET (and so may not run mutations).
func isGET(ctx context.Context) bool {
	v, _ := ctx.Value(getKey{}).(bool)
	return v
}

// negotiate picks the response media type from an Accept header.
func negotiate(accept string) (string, bool) {
	if strings.TrimSpace(accept) == "" {
		return mediaJSON, true
	}
	json := false
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case mediaGraphQLResponse:
			return mediaGraphQLResponse, true
		case mediaJSON, "application/*", "*/*":
			json = true
		}
	}
	return mediaJSON, json
}

// decodeGraphQLRequest reads a GraphQL request from r. On failure it returns the HTTP
// status and a message saying what is wrong.
func decodeGraphQLRequest(w http.ResponseWriter, r *http.Request, maxBody int64) (req graphQLRequest, status int, msg string) {
	if r.Method == http.MethodGet {
		q := r.URL.Query()
		req.Query = q.Get("query")
		req.OperationName = q.Get("operationName")
		for _, p := range []struct {
			name string
			dst  *map[string]any
		}{{"variables", &req.Variables}, {"extensions", &req.Extensions}} {
			if s := q.Get(p.name); s != "" {
				if err := json.Unmarshal([]byte(s), p.dst); err != nil {
					return req, http.StatusBadRequest, "the " + p.name + " parameter must be a JSON object"
				}
			}
		}
	} else {
		ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || (ct != mediaJSON && ct != "application/graphql+json") {
			return req, http.StatusUnsupportedMediaType, "the body must be JSON: send Content-Type: application/json"
		}
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
		if err := dec.Decode(&req); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return req, http.StatusRequestEntityTooLarge, "the body is larger than this server accepts"
			}
			var typeErr *json.UnmarshalTypeError
			if errors.As(err, &typeErr) && typeErr.Field != "" {
				return req, http.StatusBadRequest, "the body's " + typeErr.Field + " has the wrong type (query and operationName are strings, variables an object)"
			}
			if errors.As(err, &typeErr) {
				return req, http.StatusBadRequest, "the body must be one JSON object {\"query\", \"variables\", \"operationName\"}; got a JSON " + typeErr.Value + " (batches are not supported)"
			}
			return req, http.StatusBadRequest, "the body is not a JSON object: " + strings.TrimPrefix(err.Error(), "json: ")
		}
		if dec.More() {
			return req, http.StatusBadRequest, "the body holds more than one JSON value"
		}
	}
	if strings.TrimSpace(req.Query) == "" && !hasPersistedQuery(req.Extensions) { // APQ may send a hash alone
		return req, http.StatusBadRequest, "the request has no query"
	}
	return req, 0, ""
}

// writeRequestError writes a GraphQL-shaped error for a request that never reached
// execution.
func writeRequestError(w http.ResponseWriter, status int, msg string) {
	code := graph.EINVALID
	if status >= 500 {
		code = graph.EINTERNAL
	}
	writeCodedError(w, status, code, msg)
}

// writeCodedError writes a GraphQL-shaped error with extensions.code.
func writeCodedError(w http.ResponseWriter, status int, code, msg string) {
	body, _ := json.Marshal(map[string]any{"errors": []map[string]any{{"message": msg, "extensions": map[string]any{"code": code}}}})
	w.Header().Set("Content-Type", mediaJSON+"; charset=utf-8")
	w.WriteHeader(status)
	w.Write(body)
}

// outcomeOf returns the outcome label of a response with errs: "ok" without errors,
// else the extensions.code of the first error.
func outcomeOf(errs []*gqlerrors.QueryError) string {
	if len(errs) == 0 {
		return "ok"
	}
	if code, ok := errs[0].Extensions["code"].(string); ok {
		return code
	}
	return graph.EINTERNAL
}
