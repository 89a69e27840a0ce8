package server

import (
	"encoding/json"
	"testing"

	"github.com/graph-gophers/graphql-go"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"
)

// TestEncodeResponseMatchesMarshal: the fast encoder writes what json.Marshal writes.
func TestEncodeResponseMatchesMarshal(t *testing.T) {
	cases := []*graphql.Response{
		{},
		{Data: json.RawMessage(`{"entity":{"id":"co-1","name":"北方稀土 \"x\""}}`)},
		{Data: json.RawMessage(`null`), Errors: []*gqlerrors.QueryError{{Message: "boom", Path: []any{"entity"}, Extensions: map[string]any{"code": "NOT_FOUND"}}}},
		{Errors: []*gqlerrors.QueryError{{Message: "syntax"}}},
		{Data: json.RawMessage(`{"a":1}`), Extensions: map[string]any{"cost": 3}},
		{Data: json.RawMessage(`{"a":1}`), Errors: []*gqlerrors.QueryError{{Message: "partial"}}, Extensions: map[string]any{"k": "v"}},
	}
	for i, resp := range cases {
		got, err := encodeResponse(resp)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		want, err := json.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("case %d: invalid JSON %s: %v", i, got, err)
		}
		json.Unmarshal(want, &w)
		gb, _ := json.Marshal(g)
		wb, _ := json.Marshal(w)
		if string(gb) != string(wb) {
			t.Errorf("case %d:\n got %s\nwant %s", i, got, want)
		}
	}
}
