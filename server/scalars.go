package server

import (
	"encoding/json"
	"fmt"

	"github.com/lodestone-kg/lodestone/graph"
)

// Date is the GraphQL Date scalar: a calendar day written YYYY-MM-DD.
type Date struct{ graph.Date }

// ImplementsGraphQLType maps Date to the schema's Date scalar.
func (Date) ImplementsGraphQLType(name string) bool { return name == "Date" }

// UnmarshalGraphQL reads a YYYY-MM-DD string; anything else is refused.
func (d *Date) UnmarshalGraphQL(input any) error {
	s, ok := input.(string)
	if !ok {
		return fmt.Errorf("a Date must be a string YYYY-MM-DD, got %T", input)
	}
	v, err := graph.ParseDate(s)
	if err != nil {
		return err
	}
	d.Date = v
	return nil
}

// MarshalJSON writes "YYYY-MM-DD".
func (d Date) MarshalJSON() ([]byte, error) { return d.Date.MarshalJSON() }

// dateOrNil returns nil for the zero date, so that it resolves to null.
func dateOrNil(d graph.Date) *Date {
	if d.IsZero() {
		return nil
	}
	return &Date{d}
}

// dateArg returns the graph.Date of an optional argument (zero when absent).
func dateArg(d *Date) graph.Date {
	if d == nil {
		return graph.Date{}
	}
	return d.Date
}

// JSON is the GraphQL JSON scalar: any JSON value, kept as raw bytes.
type JSON struct{ raw json.RawMessage }

// ImplementsGraphQLType maps JSON to the schema's JSON scalar.
func (JSON) ImplementsGraphQLType(name string) bool { return name == "JSON" }

// UnmarshalGraphQL accepts any input value (an object literal or a variable's value).
func (j *JSON) UnmarshalGraphQL(input any) error {
	raw, err := json.Marshal(input)
	if err != nil {
		return fmt.Errorf("not a JSON value: %v", err)
	}
	j.raw = raw
	return nil
}

// MarshalJSON writes the value as it was stored.
func (j JSON) MarshalJSON() ([]byte, error) {
	if len(j.raw) == 0 {
		return []byte("null"), nil
	}
	return j.raw, nil
}

func jsonOrNil(raw json.RawMessage) *JSON {
	if len(raw) == 0 {
		return nil
	}
	return &JSON{raw: raw}
}

// outID is an ID the server writes, as graphql.ID is, but without a MarshalJSON method:
// graphql-go encodes every scalar leaf with encoding/json, which writes a plain string
// kind directly and runs a Marshaler's output through a second validating pass. A
// subgraph writes hundreds of ids, so entities and relationships carry theirs as outID.
// The two encode to equal JSON (encoding/json also escapes <, > and &).
type outID string

// ImplementsGraphQLType maps outID to the schema's ID scalar.
func (outID) ImplementsGraphQLType(name string) bool { return name == "ID" }

// UnmarshalGraphQL satisfies graphql-go's scalar contract; outID is only ever output.
func (id *outID) UnmarshalGraphQL(input any) error {
	s, ok := input.(string)
	if !ok {
		return fmt.Errorf("an ID must be a string, got %T", input)
	}
	*id = outID(s)
	return nil
}
