package server

import "testing"

func TestOperationOf(t *testing.T) {
	for _, c := range []struct {
		doc, name          string
		wantType, wantName string
	}{
		{`{ entity(id: "x") { id } }`, "", "query", ""},
		{`query Owners { owners(of: "x") { share } }`, "", "query", "Owners"},
		{`mutation Add($in: EntityInput!) { upsertEntity(input: $in) { id } }`, "", "mutation", "Add"},
		{`query ($id: ID! = "query Fake {") { entity(id: $id) { id } }`, "", "query", ""},
		{"# mutation Commented\nquery Real { a }", "", "query", "Real"},
		{`query A { a } mutation B { b }`, "B", "mutation", "B"},
		{`query A { a } mutation B { b }`, "", "query", ""},
		{`query A { a } mutation B { b }`, "C", "query", "C"},
		{`fragment F on Entity { id } query WithFragment { entity(id: "x") { ...F } }`, "", "query", "WithFragment"},
		{`fragment query on Query { a } { ...query }`, "", "query", ""},
		{`query @cached Q2 { a }`, "", "query", ""},
		{`query Q3 @cached { a(s: """ } mutation M { """) }`, "", "query", "Q3"},
		{`subscription S { s }`, "", "subscription", "S"},
		{`query Unterminated { a(s: "`, "", "query", "Unterminated"},
	} {
		typ, name := operationOf(c.doc, c.name)
		if typ != c.wantType || name != c.wantName {
			t.Errorf("operationOf(%q, %q) = %q, %q; want %q, %q", c.doc, c.name, typ, name, c.wantType, c.wantName)
		}
		// /graphql names the operation from the document it parsed once (nil when it
		// does not parse); the answer must be the same.
		doc, _ := parseRequest(c.doc)
		typ, name = operationOfParsed(doc, c.doc, c.name)
		if typ != c.wantType || name != c.wantName {
			t.Errorf("operationOfParsed(%q, %q) = %q, %q; want %q, %q", c.doc, c.name, typ, name, c.wantType, c.wantName)
		}
	}
}
