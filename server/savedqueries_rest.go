package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/graph-gophers/graphql-go"
	"github.com/lodestone-kg/lodestone/graph"
	"github.com/lodestone-kg/lodestone/loaders"
	"github.com/lodestone-kg/lodestone/savedquery"
	"go.uber.org/zap"
)

// REST access to saved queries:
//
//	GET  /queries                                  the saved queries (JSON); ?tag= filters
//	GET  /queries/openapi.json                     an OpenAPI 3.1 document, one endpoint per saved query
//	GET  /queries/{name}?param=value…              run the latest version, parameters in the query string
//	POST /queries/{name}                           run it with a JSON object of parameters as the body
//	GET|POST /queries/{name}/versions/{version}    run an older version
//
// A run answers with the standard GraphQL response ({"data": …, "errors": …}), or CSV
// with format=csv or Accept: text/csv (savedquery.WriteCSV). Status codes: 404 for an
// unknown name or version; 400 for a missing, ill-typed or unknown parameter (the error's
// extensions.field names it) or a variable graphql-go refused; 200 otherwise, with any
// errors the document raised in "errors" (a response with errors is always JSON).

// handleRunSavedQuery runs a saved query over REST (see the top of this file), within
// the request limits of limits (cost, expensive slots).
func handleRunSavedQuery(log *zap.Logger, cfg Config, store *graph.Store, schema *graphql.Schema, limits *guard) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if graph.ValidateSavedQueryName("name", name) != nil { // cannot exist: as unknown as any other
			writeRESTError(w, http.StatusNotFound, graph.Errorf(graph.ENOTFOUND, "no saved query named %q; list them with GET /queries", name))
			return
		}
		version := 0
		if v := r.PathValue("version"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				writeRESTError(w, http.StatusBadRequest, graph.Invalid("version", "%q is not a version number (1 or more)", v))
				return
			}
			version = n
		}
		query := r.URL.Query()
		csvOut, err := savedquery.WantsCSV(query.Get("format"), r.Header.Get("Accept"))
		if err != nil {
			writeRESTError(w, http.StatusBadRequest, graph.Invalid("format", "%v", err))
			return
		}
		setOperationName(r.Context(), "saved:"+name)
		ctx, cancel := context.WithTimeout(r.Context(), cfg.RequestTimeout)
		defer cancel()
		ctx = loaders.NewContext(ctx, loaders.New(store))

		q, err := store.SavedQuery(ctx, name, version)
		if err != nil {
			writeRESTError(w, statusOf(log, r, err), err)
			return
		}
		var body func() (map[string]any, error)
		if r.Method == http.MethodPost {
			body = func() (map[string]any, error) { return decodeVariablesBody(w, r, cfg.MaxBodyBytes) }
		}
		merged, err := savedquery.RESTVariables(schema, q, query, body) // checked once, here
		if err != nil {
			writeRESTError(w, statusOf(log, r, err), err)
			return
		}
		estimate, release, refused := limits.admit(ctx, mediaJSON, q.Query, "", merged)
		if refused != nil {
			if refused.status == http.StatusOK {
				refused.status = http.StatusBadRequest // REST: a refused request is a 4xx
			}
			limits.setWorkHeader(w, ctx, estimate) // used=0: nothing ran
			refused.write(w, mediaJSON)
			return
		}
		defer release()
		ctx = limits.work(ctx) // the same work budget as over /graphql (graph.Work)
		resp, err := runMerged(ctx, schema, q, merged)
		if err != nil {
			writeRESTError(w, statusOf(log, r, err), err)
			return
		}
		requestErr, _ := publicErrors(ctx, log, resp.Errors)
		limits.setWorkHeader(w, ctx, estimate)
		status := http.StatusOK
		if requestErr {
			status = http.StatusBadRequest
		}
		if csvOut && len(resp.Errors) == 0 {
			var buf bytes.Buffer
			if err := savedquery.WriteCSV(&buf, resp.Data); err != nil {
				log.Error("encode CSV", zap.String("request_id", requestID(r.Context())), zap.Error(err))
				writeRESTError(w, http.StatusInternalServerError, errors.New("internal error"))
				return
			}
			w.Header().Set("Content-Type", "text/csv; charset=utf-8; header=present")
			w.Header().Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": q.Name + ".csv"}))
			w.Write(buf.Bytes())
			return
		}
		writeJSON(w, status, resp)
	})
}

// decodeVariablesBody reads a POST body that is a JSON object of parameter values (an
// empty body is no parameters).
func decodeVariablesBody(w http.ResponseWriter, r *http.Request, maxBody int64) (map[string]any, error) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return nil, graph.Invalid("body", "the body could not be read or is larger than this server accepts")
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != mediaJSON && mt != "text/plain") {
			return nil, graph.Invalid("body", "send the parameters as a JSON object with Content-Type: application/json")
		}
	}
	var vars map[string]any
	if err := json.Unmarshal(raw, &vars); err != nil || vars == nil {
		return nil, graph.Invalid("body", "the body must be a JSON object of parameter values, e.g. {\"company\": \"mp-materials\"}")
	}
	return vars, nil
}

// statusOf maps an error to an HTTP status: 404 NOT_FOUND, 400 INVALID_INPUT,
// 403 FORBIDDEN, 500 for the rest (logged).
func statusOf(log *zap.Logger, r *http.Request, err error) int {
	switch graph.ErrorCode(err) {
	case graph.ENOTFOUND:
		return http.StatusNotFound
	case graph.EINVALID:
		return http.StatusBadRequest
	case graph.EFORBIDDEN:
		return http.StatusForbidden
	case graph.ELIMIT:
		return http.StatusBadRequest
	}
	log.Error("saved query", zap.String("request_id", requestID(r.Context())), zap.Error(err))
	return http.StatusInternalServerError
}

// writeRESTError writes a GraphQL-shaped error: the message and code of a *graph.Error
// (and its field), "internal error" for anything else.
func writeRESTError(w http.ResponseWriter, status int, err error) {
	e := map[string]any{"message": "internal error", "extensions": map[string]any{"code": graph.EINTERNAL}}
	var ge *graph.Error
	if errors.As(err, &ge) {
		ext := map[string]any{"code": ge.Code}
		if ge.Field != "" {
			ext["field"] = ge.Field
		}
		e = map[string]any{"message": ge.Error(), "extensions": ext}
	}
	writeJSON(w, status, map[string]any{"errors": []any{e}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}`)
	}
	w.Header().Set("Content-Type", mediaJSON+"; charset=utf-8")
	w.WriteHeader(status)
	w.Write(body)
}

// savedQueryInfo is a saved query as GET /queries lists it.
type savedQueryInfo struct {
	Name        string             `json:"name"`
	Version     int                `json:"version"`
	Description string             `json:"description,omitempty"`
	Tags        []string           `json:"tags"`
	Parameters  []graph.QueryParam `json:"parameters"`
	Path        string             `json:"path"`
	Sha256Hash  string             `json:"sha256Hash"`
	SavedAt     string             `json:"savedAt"`
}

func infoOf(q *graph.SavedQuery) savedQueryInfo {
	params := q.Params
	if params == nil {
		params = []graph.QueryParam{}
	}
	return savedQueryInfo{Name: q.Name, Version: q.Version, Description: q.Description, Tags: nonNil(q.Tags),
		Parameters: params, Path: "/queries/" + q.Name, Sha256Hash: q.Hash, SavedAt: q.SavedAt.UTC().Format("2006-01-02T15:04:05Z07:00")}
}

// handleListSavedQueries answers GET /queries[?tag=…] with {"queries": [...]}.
func handleListSavedQueries(log *zap.Logger, store *graph.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		qs, err := store.SavedQueries(r.Context(), r.URL.Query().Get("tag"))
		if err != nil {
			writeRESTError(w, statusOf(log, r, err), err)
			return
		}
		out := make([]savedQueryInfo, len(qs))
		for i, q := range qs {
			out[i] = infoOf(q)
		}
		writeJSON(w, http.StatusOK, map[string]any{"queries": out})
	})
}

// handleOpenAPI answers GET /queries/openapi.json: an OpenAPI 3.1 document describing
// every saved query as an endpoint (GET with query parameters, POST with a JSON body),
// built from the store at each request.
func handleOpenAPI(log *zap.Logger, cfg Config, store *graph.Store, schema *graphql.Schema) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		qs, err := store.SavedQueries(r.Context(), "")
		if err != nil {
			writeRESTError(w, statusOf(log, r, err), err)
			return
		}
		writeJSON(w, http.StatusOK, savedquery.OpenAPI(schema, cfg.Version, qs))
	})
}
