package savedquery

import (
	"encoding/json"
	"errors"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/graph-gophers/graphql-go"
	"github.com/graph-gophers/graphql-go/ast"
	"github.com/lodestone-kg/lodestone/graph"
)

// RESTVariables returns the variables of a REST run of q, each value checked once:
// the query-string parameters (CoerceParams), overlaid by those body returns (body may
// be nil; it is called after the parameters are read), merged over q's default
// variables (MergeVariables). Errors: INVALID_INPUT whose Field is the parameter's
// name, or body's error.
func RESTVariables(schema *graphql.Schema, q *graph.SavedQuery, values url.Values, body func() (map[string]any, error)) (map[string]any, error) {
	vars, err := CoerceParams(schema, q, values)
	if err != nil {
		return nil, err
	}
	checked := make(map[string]bool, len(vars))
	for k := range vars {
		checked[k] = true
	}
	if body != nil {
		b, err := body()
		if err != nil {
			return nil, err
		}
		for k, v := range b {
			vars[k] = v
			delete(checked, k)
		}
	}
	return merge(schema, q, vars, checked)
}

// CoerceParams turns query-string parameters into variables of the types q declares.
// A list parameter takes repeated parameters (?c=CN&c=MM), a JSON array (?c=["CN"]) or
// comma-separated values (?c=CN,MM). An empty value is null, except for String and ID.
// "format" is reserved. Errors: INVALID_INPUT whose Field is the parameter's name.
func CoerceParams(schema *graphql.Schema, q *graph.SavedQuery, values url.Values) (map[string]any, error) {
	vars := map[string]any{}
	for name, vals := range values {
		if slices.Contains(ReservedParams, name) {
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
