package savedquery

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/graph-gophers/graphql-go"
	"github.com/lodestone-kg/lodestone/graph"
)

// mustSchema parses the repository's schema.graphql, without resolvers: saved queries
// are checked against its types.
func mustSchema(tb testing.TB) *graphql.Schema {
	tb.Helper()
	sdl, err := os.ReadFile("../schema.graphql")
	if err != nil {
		tb.Fatal(err)
	}
	schema, err := graphql.ParseSchema(string(sdl), nil, graphql.UseStringDescriptions())
	if err != nil {
		tb.Fatal(err)
	}
	return schema
}

func TestWriteCSV(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"first list, dotted columns",
			`{"owners":[{"entity":{"id":"a","name":"A"},"direct":0.4,"controls":true},{"entity":{"id":"b","name":"B"},"direct":1e-7,"controls":false}],"other":[1]}`,
			"entity.id,entity.name,direct,controls\na,A,0.4,true\nb,B,1e-7,false\n"},
		{"list found below objects",
			`{"entities":{"totalCount":2,"edges":[{"cursor":"c1","node":{"id":"x"}},{"cursor":"c2","node":{"id":"y"}}]}}`,
			"cursor,node.id\nc1,x\nc2,y\n"},
		{"lists inside a row are joined",
			`{"paths":[{"length":2,"entities":[{"name":"Mine","country":"US"},{"name":"Plant","country":null},{"name":"GM","country":"US"}]}]}`,
			"length,entities.name,entities.country\n2,Mine; Plant; GM,US; ; US\n"},
		{"joined parts line up when items lack a column",
			`{"paths":[{"rels":[{"p":{"m":"a"}},{"p":{"m":"b","note":"n"}},{"p":{"m":"c"}}]}]}`,
			"rels.p.m,rels.p.note\na; b; c,; n; \n"},
		{"list of scalars", `{"aliases":["北方稀土","NRE"]}`, "aliases\n北方稀土\nNRE\n"},
		{"no list: one row", `{"ownership":{"direct":0.2,"integrated":0.5}}`, "ownership.direct,ownership.integrated\n0.2,0.5\n"},
		{"columns met late", `{"xs":[{"a":1},{"a":2,"b":"x"}]}`, "a,b\n1,\n2,x\n"},
		{"null and empty", `{"xs":[{"a":null,"b":""}]}`, "a,b\n,\n"},
		{"empty list", `{"xs":[]}`, ""},
		{"one empty cell is quoted, not a blank line", `{"xs":[null,"a",""]}`, "xs\n\"\"\na\n\"\"\n"},
		{"rows without columns write nothing", `{"xs":[{},[]]}`, ""},
		{"null data", `null`, ""},
		{"quoting", `{"xs":[{"a":"x,y","b":"say \"hi\"","c":"l1\r\nl2","d":" lead"}]}`,
			"a,b,c,d\n\"x,y\",\"say \"\"hi\"\"\",\"l1\r\nl2\",\" lead\"\n"},
		{"formulas are defused, numbers kept", `{"xs":[{"a":"=HYPERLINK(\"http://x\")","b":"+1","c":"-2","d":"@SUM(A1)","e":-0.5,"f":"\tx","g":"a=b"}]}`,
			"a,b,c,d,e,f,g\n\"'=HYPERLINK(\"\"http://x\"\")\",'+1,'-2,'@SUM(A1),-0.5,'\tx,a=b\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteCSV(&buf, json.RawMessage(tt.data)); err != nil {
				t.Fatalf("WriteCSV(%s): %v", tt.data, err)
			}
			if got := buf.String(); got != tt.want {
				t.Errorf("WriteCSV(%s) =\n%q\nwant\n%q", tt.data, got, tt.want)
			}
		})
	}
	if err := WriteCSV(io.Discard, json.RawMessage(`{"a":`)); err == nil {
		t.Error("WriteCSV of broken JSON succeeded")
	}
}

// FuzzWriteCSV checks that any JSON flattens into CSV that reads back with one cell per
// column in every row, and with every row: a header and one line per row of the table.
func FuzzWriteCSV(f *testing.F) {
	for _, s := range []string{`{"a":[{"b":{"c":[1,2]},"d":"x,\"y\"\n"}]}`, `[]`, `[[1],[2,[3]]]`, `{"a":{"b":null}}`, `"s"`, `{"北":["方"]}`,
		`{"x":[""]}`, `{"x":[null]}`, `{"x":[[]]}`, `{"x":[{}]}`, `{"": [{"": ""}]}`, `{"a":1,"a":2}`,
		strings.Repeat(`{"a":`, 200) + "1" + strings.Repeat("}", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		if !json.Valid([]byte(data)) {
			return
		}
		var buf bytes.Buffer
		if err := WriteCSV(&buf, json.RawMessage(data)); err != nil {
			return // nesting too deep, for instance
		}
		table, err := tableOf(json.RawMessage(data))
		if err != nil {
			t.Fatalf("WriteCSV(%s) succeeded but tableOf fails: %v", data, err)
		}
		recs, err := csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
		if err != nil {
			t.Fatalf("WriteCSV(%s) wrote unreadable CSV %q: %v", data, buf.String(), err)
		}
		for i, r := range recs {
			if len(r) != len(recs[0]) {
				t.Fatalf("WriteCSV(%s): row %d has %d cells, header %d", data, i, len(r), len(recs[0]))
			}
		}
		want := 0
		if len(table.cols) > 0 {
			want = 1 + len(table.rows)
		}
		if len(recs) != want {
			t.Fatalf("WriteCSV(%s) = %q reads back as %d lines, want %d (a header and %d rows)", data, buf.String(), len(recs), want, len(table.rows))
		}
	})
}

// TestWriteCSVHeaderFormulas: column names come from the data when a JSON scalar (an
// entity's properties, a runSavedQuery result) holds the rows, so the header cells are
// defused as the values are.
func TestWriteCSVHeaderFormulas(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"object keys become columns",
			`{"runSavedQuery":{"xs":[{"=HYPERLINK(\"http://x\")":1,"+a":"b","-c":2,"@SUM(A1)":3,"\tt":4,"\rr":5,"ok":6}]}}`,
			"\"'=HYPERLINK(\"\"http://x\"\")\",'+a,'-c,'@SUM(A1),'\tt,\"'\rr\",ok\n1,b,2,3,4,5,6\n"},
		{"the key of a list of scalars names the column", `{"entity":{"properties":{"=1+1":["x","=2"]}}}`,
			"'=1+1\nx\n'=2\n"},
		{"dotted columns keep their first segment's text", `{"xs":[{"properties":{"=a":"v"}}]}`,
			"properties.=a\nv\n"},
		{"a top-level scalar list is named value", `["=x"]`, "value\n'=x\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteCSV(&buf, json.RawMessage(tt.data)); err != nil {
				t.Fatalf("WriteCSV(%s): %v", tt.data, err)
			}
			if got := buf.String(); got != tt.want {
				t.Errorf("WriteCSV(%s) =\n%q\nwant\n%q", tt.data, got, tt.want)
			}
		})
	}
}

func TestCoerceParams(t *testing.T) {
	schema := mustSchema(t)
	q := &graph.SavedQuery{Name: "q", Params: []graph.QueryParam{
		{Name: "s", Type: "String"}, {Name: "id", Type: "ID!"}, {Name: "i", Type: "Int"}, {Name: "f", Type: "Float"},
		{Name: "b", Type: "Boolean"}, {Name: "d", Type: "Date"}, {Name: "dir", Type: "Direction"}, {Name: "l", Type: "[String!]"},
		{Name: "li", Type: "[Int]"}, {Name: "j", Type: "JSON"}, {Name: "in", Type: "IdentifierInput"},
	}}
	tests := []struct {
		query string
		want  string // JSON of the variables, or "error <field>"
	}{
		{"s=&id=", `{"id":"","s":""}`},
		{"s=a,b&id=北方", `{"id":"北方","s":"a,b"}`},
		{"i=-12&f=0.25&b=true", `{"b":true,"f":0.25,"i":-12}`},
		{"i=&f=&b=", `{"b":null,"f":null,"i":null}`},
		{"d=2025-07-10&dir=OUT", `{"d":"2025-07-10","dir":"OUT"}`},
		{"l=CN&l=MM", `{"l":["CN","MM"]}`},
		{"l=CN,MM", `{"l":["CN","MM"]}`},
		{"l=" + url.QueryEscape(`["a,b"]`), `{"l":["a,b"]}`},
		{"li=1,2", `{"li":[1,2]}`},
		{"li=[1,null]", `{"li":[1,null]}`},
		{"j=" + url.QueryEscape(`{"a":[1]}`) + "&format=csv", `{"j":{"a":[1]}}`},
		{"j=plain", `{"j":"plain"}`},
		{"in=" + url.QueryEscape(`{"scheme":"LEI","value":"X"}`), `{"in":{"scheme":"LEI","value":"X"}}`},
		{"i=1.5", "error i"},
		{"i=99999999999", "error i"},
		{"f=NaN", "error f"},
		{"f=abc", "error f"},
		{"b=yes", "error b"},
		{"d=2025-02-30", "error d"},
		{"dir=up", "error dir"},
		{"li=1,x", "error li"},
		{"l=[1]", "error l"},
		{"l=[oops", "error l"},
		{"in=" + url.QueryEscape(`{"scheme":"LEI"}`), "error in"},
		{"in=" + url.QueryEscape(`{"scheme":"LEI","value":"X","extra":1}`), "error in"},
		{"in=notjson", "error in"},
		{"s=a&s=b", "error s"},
		{"zzz=1", "error zzz"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			values, _ := url.ParseQuery(tt.query)
			vars, err := CoerceParams(schema, q, values)
			got := ""
			if err != nil {
				var ge *graph.Error
				if !errors.As(err, &ge) || ge.Code != graph.EINVALID {
					t.Fatalf("CoerceParams(%s) error %v is not INVALID_INPUT", tt.query, err)
				}
				got = "error " + ge.Field
			} else {
				raw, _ := json.Marshal(vars)
				got = string(raw)
			}
			if got != tt.want {
				t.Errorf("CoerceParams(%s) = %s (%v), want %s", tt.query, got, err, tt.want)
			}
		})
	}
}

func TestParseTypeRef(t *testing.T) {
	for _, s := range []string{"String", "ID!", "[String!]", "[[Int]!]!", "Direction"} {
		got, err := parseTypeRef(s)
		if err != nil || got.String() != s {
			t.Errorf("parseTypeRef(%q) = %v, %v; want it to print back", s, got, err)
		}
	}
	for _, s := range []string{"", "[String", "String!!", "String) { x } query($w: Int", "1x"} {
		if got, err := parseTypeRef(s); err == nil {
			t.Errorf("parseTypeRef(%q) = %v, want an error", s, got)
		}
	}
}

// TestPrepareDefaults: parameters come from the document's variable definitions, their
// defaults written as the document writes them (numbers keep their text).
func TestPrepareDefaults(t *testing.T) {
	q, err := Prepare(mustSchema(t), &graph.SavedQuery{Name: "owners-of",
		Query: `query($id: ID!, $min: Float = 1.0, $dir: Direction = OUT, $ids: [ID!] = ["a", "b"], $n: Int) {
			entity(id: $id) { id }
			subgraph(ids: $ids, direction: $dir, limit: $n) { truncated }
			owners(of: $id, threshold: $min) { direct }
		}`,
		Variables: json.RawMessage(`{"n": 3}`)})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(q.Params)
	want := `[{"name":"id","type":"ID!","required":true},{"name":"min","type":"Float","default":1.0},{"name":"dir","type":"Direction","default":"OUT"},{"name":"ids","type":"[ID!]","default":["a","b"]},{"name":"n","type":"Int","default":3}]`
	if string(got) != want {
		t.Errorf("Prepare params = %s\nwant %s", got, want)
	}
}

// TestRESTVariables: query-string parameters, overlaid by the body's, merged over the
// saved defaults; what the body gives is checked too.
func TestRESTVariables(t *testing.T) {
	schema := mustSchema(t)
	q := &graph.SavedQuery{Name: "q", Variables: json.RawMessage(`{"n": 5}`), Params: []graph.QueryParam{
		{Name: "id", Type: "ID!", Required: true}, {Name: "n", Type: "Int", Default: json.RawMessage(`5`)}, {Name: "dir", Type: "Direction"},
	}}
	body := func(b map[string]any) func() (map[string]any, error) {
		return func() (map[string]any, error) { return b, nil }
	}
	tests := []struct {
		query string
		body  map[string]any
		want  string // JSON of the variables, or "error <field>"
	}{
		{"id=x", nil, `{"id":"x","n":5}`},
		{"id=x&n=7", nil, `{"id":"x","n":7}`},
		{"id=x&n=7", map[string]any{"n": 8.0, "dir": "IN"}, `{"dir":"IN","id":"x","n":8}`},
		{"id=x", map[string]any{"n": "eight"}, "error n"},
		{"id=x", map[string]any{"dir": "UP"}, "error dir"},
		{"n=x", nil, "error n"},
		{"", nil, "error id"},
	}
	for _, tt := range tests {
		values, _ := url.ParseQuery(tt.query)
		var b func() (map[string]any, error)
		if tt.body != nil {
			b = body(tt.body)
		}
		vars, err := RESTVariables(schema, q, values, b)
		got := ""
		if err != nil {
			var ge *graph.Error
			if !errors.As(err, &ge) || ge.Code != graph.EINVALID {
				t.Fatalf("RESTVariables(%s, %v) error %v is not INVALID_INPUT", tt.query, tt.body, err)
			}
			got = "error " + ge.Field
		} else {
			raw, _ := json.Marshal(vars)
			got = string(raw)
		}
		if got != tt.want {
			t.Errorf("RESTVariables(%s, %v) = %s (%v), want %s", tt.query, tt.body, got, err, tt.want)
		}
	}
}
