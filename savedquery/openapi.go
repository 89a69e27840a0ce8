package savedquery

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/graph-gophers/graphql-go"
	"github.com/graph-gophers/graphql-go/ast"
	"github.com/lodestone-kg/lodestone/graph"
)

// mediaJSON is the media type of JSON responses.
const mediaJSON = "application/json"

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// OpenAPI describes qs as OpenAPI 3.1.
func OpenAPI(schema *graphql.Schema, version string, qs []*graph.SavedQuery) map[string]any {
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
