package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/graph-gophers/graphql-go"
	"github.com/graph-gophers/graphql-go/ast"
	"github.com/lodestone-kg/lodestone/graph"
	"github.com/lodestone-kg/lodestone/loaders"
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
// with format=csv or Accept: text/csv (savedqueries_csv.go). Status codes: 404 for an
// unknown name or version; 400 for a missing, ill-typed or unknown parameter (the error's
// extensions.field names it) or a variable graphql-go refused; 200 otherwise, with any
// errors the document raised in "errors" (a response with errors is always JSON).

// coerceParams turns query-string parameters into variables of the types q declares.
// A list parameter takes repeated parameters (?c=CN&c=MM), a JSON array (?c=["CN"]) or
// comma-separated values (?c=CN,MM). An empty value is null, except for String and ID.
// "format" is reserved. Errors: INVALID_INPUT whose Field is the parameter's name.
func coerceParams(schema *graphql.Schema, q *graph.SavedQuery, values url.Values) (map[string]any, error) {
	vars := map[string]any{}
	for name, vals := range values {
		if slices.Contains(reservedParams, name) {
			continue
		}
		i := paramIndex(q, name)
		if i < 0 {
			return nil, graph.Invalid(name, "saved query %q has no parameter %q; %s", q.Name, name, describeParams(q))
		}
		p := q.Params[i]
		t, err := parseTypeRef(p.Type)
		if err != nil {
			return nil, err
		}
		v, err := coerceStrings(schema, t, vals, name)
		if err != nil {
			return nil, paramError(name, err)
		}
		vars[name] = v
	}
	return vars, nil
}

func coerceStrings(schema *graphql.Schema, t typeRef, vals []string, name string) (any, error) {
	if t.elem != nil {
		items := vals
		if len(vals) == 1 {
			s := strings.TrimSpace(vals[0])
			switch {
			case s == "":
				return nil, nil
			case strings.HasPrefix(s, "["):
				var list []any
				dec := json.NewDecoder(strings.NewReader(s))
				dec.UseNumber()
				if err := dec.Decode(&list); err != nil {
					return nil, errors.New(name + " is not a JSON array: " + strings.TrimPrefix(err.Error(), "json: "))
				}
				v := normalizeNumbers(list)
				return v, checkValue(schema, t, v, name)
			default:
				items = strings.Split(vals[0], ",")
			}
		}
		out := make([]any, len(items))
		for i, s := range items {
			v, err := coerceString(schema, *t.elem, strings.TrimSpace(s), name)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, checkValue(schema, t, out, name)
	}
	if len(vals) > 1 {
		return nil, errors.New(name + " is given more than once but is not a list")
	}
	v, err := coerceString(schema, t, vals[0], name)
	if err != nil {
		return nil, err
	}
	return v, checkValue(schema, t, v, name)
}

// coerceString reads one query-string value as named type t.
func coerceString(schema *graphql.Schema, t typeRef, s, name string) (any, error) {
	if t.elem != nil {
		return coerceStrings(schema, t, []string{s}, name)
	}
	if s == "" && t.name != "String" && t.name != "ID" {
		return nil, nil
	}
	bad := func(want string) error {
		return errors.New(name + " must be " + want + ", got " + strconv.Quote(truncate(s, 60)))
	}
	switch t.name {
	case "String", "ID", "Date", "Time":
		return s, nil
	case "Int":
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return nil, bad("an Int (a whole number within ±2³¹)")
		}
		return float64(n), nil
	case "Float":
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, bad("a Float (a number)")
		}
		return f, nil
	case "Boolean":
		switch s {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, bad("a Boolean (true or false)")
	}
	switch schema.AST().Types[t.name].(type) {
	case *ast.InputObject:
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return nil, bad("a JSON object (" + t.name + ")")
		}
		return v, nil
	case *ast.ScalarTypeDefinition: // JSON and other custom scalars: JSON when it parses, else the string
		var v any
		if json.Unmarshal([]byte(s), &v) == nil {
			return v, nil
		}
	}
	return s, nil // enums are checked by checkValue
}

// normalizeNumbers turns json.Number into float64, as encoding/json decodes variables.
func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = normalizeNumbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = normalizeNumbers(x[k])
		}
	}
	return v
}

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
		csvOut, err := wantsCSV(query.Get("format"), r.Header.Get("Accept"))
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
		vars, err := coerceParams(schema, q, query)
		if err != nil {
			writeRESTError(w, http.StatusBadRequest, err)
			return
		}
		if r.Method == http.MethodPost {
			body, err := decodeVariablesBody(w, r, cfg.MaxBodyBytes)
			if err != nil {
				writeRESTError(w, http.StatusBadRequest, err)
				return
			}
			for k, v := range body {
				vars[k] = v
			}
		}
		merged, err := mergeVariables(schema, q, vars)
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
		resp, err := runSaved(ctx, schema, q, vars)
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
			if err := writeCSV(&buf, resp.Data); err != nil {
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
		writeJSON(w, http.StatusOK, openAPIDocument(schema, cfg.Version, qs))
	})
}

// openAPIDocument describes qs as OpenAPI 3.1.
func openAPIDocument(schema *graphql.Schema, version string, qs []*graph.SavedQuery) map[string]any {
	if version == "" {
		version = "dev"
	}
	ref := func(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }
	jsonResponse := func(desc string) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{mediaJSON: map[string]any{"schema": ref("GraphQLResponse")}}}
	}
	paths := map[string]any{
		"/queries": map[string]any{"get": map[string]any{
			"operationId": "listSavedQueries",
			"summary":     "List the saved queries",
			"parameters": []any{map[string]any{"name": "tag", "in": "query", "required": false,
				"description": "only the saved queries carrying this tag", "schema": map[string]any{"type": "string"}}},
			"responses": map[string]any{"200": map[string]any{"description": "the saved queries",
				"content": map[string]any{mediaJSON: map[string]any{"schema": map[string]any{"type": "object"}}}}},
		}},
	}
	formatParam := map[string]any{"name": "format", "in": "query", "required": false,
		"description": "json (the default) or csv: the result's first list flattened into CSV (nested objects as dotted columns, lists joined with \"; \")",
		"schema":      map[string]any{"type": "string", "enum": []any{"json", "csv"}}}
	for _, q := range qs {
		var params []any
		props := map[string]any{}
		var required []any
		for _, p := range q.Params {
			s := paramSchema(schema, p)
			param := map[string]any{"name": p.Name, "in": "query", "required": p.Required, "schema": s,
				"description": "GraphQL type " + p.Type}
			if s["type"] == "array" {
				param["style"], param["explode"] = "form", true
			}
			params = append(params, param)
			props[p.Name] = s
			if p.Required {
				required = append(required, p.Name)
			}
		}
		params = append(params, formatParam)
		body := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		if len(required) > 0 {
			body["required"] = required
		}
		responses := map[string]any{
			"200": map[string]any{"description": "the GraphQL response, or CSV with format=csv or Accept: text/csv",
				"content": map[string]any{
					mediaJSON:  map[string]any{"schema": ref("GraphQLResponse")},
					"text/csv": map[string]any{"schema": map[string]any{"type": "string"}},
				}},
			"400": jsonResponse("a parameter is missing, of the wrong type or unknown (extensions.field names it)"),
			"404": jsonResponse("no saved query of this name"),
		}
		summary := q.Description
		if summary == "" {
			summary = "Run the saved query " + q.Name
		}
		op := func(suffix string) map[string]any {
			return map[string]any{
				"operationId": operationID(q.Name) + suffix,
				"summary":     firstLine(summary),
				"description": q.Description + "\n\nVersion " + strconv.Itoa(q.Version) + ". GraphQL document:\n\n```graphql\n" + q.Query + "\n```",
				"tags":        nonNil(q.Tags),
				"responses":   responses,
			}
		}
		get := op("")
		get["parameters"] = params
		post := op("Post")
		post["parameters"] = []any{formatParam}
		post["requestBody"] = map[string]any{"required": len(required) > 0,
			"content": map[string]any{mediaJSON: map[string]any{"schema": body}}}
		paths["/queries/"+q.Name] = map[string]any{"get": get, "post": post}
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "Lodestone saved queries", "version": version,
			"description": "Every saved query of this Lodestone server as an endpoint. Responses are GraphQL responses ({\"data\", \"errors\"})."},
		"paths": paths,
		"components": map[string]any{"schemas": map[string]any{
			"GraphQLResponse": map[string]any{"type": "object", "properties": map[string]any{
				"data": map[string]any{},
				"errors": map[string]any{"type": "array", "items": map[string]any{"type": "object",
					"properties": map[string]any{
						"message":    map[string]any{"type": "string"},
						"extensions": map[string]any{"type": "object", "properties": map[string]any{"code": map[string]any{"type": "string"}, "field": map[string]any{"type": "string"}}},
					}}},
			}},
		}},
	}
}

// paramSchema is the JSON Schema of a parameter's GraphQL type (and its default).
func paramSchema(schema *graphql.Schema, p graph.QueryParam) map[string]any {
	t, err := parseTypeRef(p.Type)
	s := map[string]any{}
	if err == nil {
		s = typeSchema(schema, t, 0)
	}
	if len(p.Default) > 0 {
		var d any
		if json.Unmarshal(p.Default, &d) == nil {
			s["default"] = d
		}
	}
	return s
}

func typeSchema(schema *graphql.Schema, t typeRef, depth int) map[string]any {
	if t.elem != nil {
		return map[string]any{"type": "array", "items": typeSchema(schema, *t.elem, depth+1)}
	}
	switch t.name {
	case "Int":
		return map[string]any{"type": "integer", "format": "int32"}
	case "Float":
		return map[string]any{"type": "number"}
	case "Boolean":
		return map[string]any{"type": "boolean"}
	case "String", "ID":
		return map[string]any{"type": "string"}
	case "Date":
		return map[string]any{"type": "string", "format": "date"}
	case "Time":
		return map[string]any{"type": "string", "format": "date-time"}
	case "JSON":
		return map[string]any{}
	}
	switch nt := schema.AST().Types[t.name].(type) {
	case *ast.EnumTypeDefinition:
		var vals []any
		for _, e := range nt.EnumValuesDefinition {
			vals = append(vals, e.EnumValue)
		}
		return map[string]any{"type": "string", "enum": vals}
	case *ast.InputObject:
		if depth > 4 {
			return map[string]any{"type": "object"}
		}
		props := map[string]any{}
		var required []any
		for _, f := range nt.Values {
			ft, err := parseTypeRef(f.Type.String())
			if err != nil {
				continue
			}
			props[f.Name.Name] = typeSchema(schema, ft, depth+1)
			if ft.nonNull && f.Default == nil {
				required = append(required, f.Name.Name)
			}
		}
		s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		if len(required) > 0 {
			s["required"] = required
		}
		return s
	}
	return map[string]any{"type": "string"}
}

// operationID turns a slug into a lower-camel identifier: company-owners → companyOwners.
func operationID(slug string) string {
	parts := strings.Split(slug, "-")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	id := strings.Join(parts, "")
	if id != "" && id[0] >= '0' && id[0] <= '9' {
		id = "q" + id
	}
	return id
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
