package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/lodestone-kg/lodestone/graph"
	"github.com/lodestone-kg/lodestone/synth"
)

// decodeStd decodes a line as decodeJSONLLine's encoding/json path does.
func decodeStd(b []byte) (graph.Record, error) {
	var rec graph.Record
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err := dec.Decode(&rec)
	if err == nil && dec.More() {
		err = &json.SyntaxError{}
	}
	return rec, err
}

// checkFast fails when decodeRecordFast accepts b but encoding/json refuses it or decodes
// something else; it returns whether the fast path accepted b.
func checkFast(t *testing.T, b []byte) bool {
	t.Helper()
	var fast graph.Record
	if !decodeRecordFast(b, &fast) {
		if fast != (graph.Record{}) {
			t.Errorf("decodeRecordFast(%s) declined but left %+v", b, fast)
		}
		return false
	}
	std, err := decodeStd(b)
	if err != nil {
		t.Fatalf("decodeRecordFast accepted %s, which encoding/json refuses: %v", b, err)
	}
	if !reflect.DeepEqual(fast, std) {
		t.Fatalf("decodeRecordFast(%s)\n= %s\nencoding/json\n= %s", b, show(fast), show(std))
	}
	return true
}

func show(r graph.Record) string {
	raw, _ := json.Marshal(r)
	return string(raw)
}

// TestDecodeRecordFastOnSynth: every line the generator writes takes the fast path and
// decodes exactly as with encoding/json.
func TestDecodeRecordFastOnSynth(t *testing.T) {
	var buf bytes.Buffer
	if err := synth.WriteJSONL(&buf, synth.Config{Companies: 300, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		if !checkFast(t, sc.Bytes()) {
			t.Fatalf("line %d took the slow path: %s", n+1, sc.Bytes())
		}
		n++
	}
	if n < 1000 {
		t.Fatalf("only %d lines generated", n)
	}
}

// TestDecodeRecordFastDeclines: what the fast path does not handle exactly as
// encoding/json goes to encoding/json; what it accepts decodes the same.
func TestDecodeRecordFastDeclines(t *testing.T) {
	for _, tc := range []struct {
		line   string
		accept bool
	}{
		{`{"entity":{"id":"a","kind":"Company","name":"A \"quoted\" \u00e9 name","aliases":[],"identifiers":[]}}`, true},
		{` { "relationship" : { "id" : "r" , "type":"OWNS","from":"a","to":"b","share":1e-2,"shareMinExclusive":true,"confidence":-0,"properties":{"a":[1,{"b":"}]"}],"c":"\"{"}} } `, true},
		{`{"source":{"id":"s","title":"T","published":"2020-02-29"}}`, true},
		{`{"entity":{"ID":"a"}}`, false},                       // encoding/json matches names case-insensitively
		{`{"entity":{"id":"a","id":"b"}}`, false},              // repeated field
		{`{"entity":{"id":"a"},"entity":{"name":"b"}}`, false}, // repeated record: encoding/json merges
		{`{"entity":{"id":"a"},"source":{"id":"s"}}`, false},   // two records
		{`{"entity":{"id":"a","extra":1}}`, false},             // unknown field
		{`{"entity":{"id":null}}`, false},                      // null
		{`{"entity":{"properties":null}}`, false},              // null RawMessage
		{`{"entity":{"properties":"text"}}`, false},            // non-object properties
		{`{"entity":{"properties":{"a":}}}`, false},            // invalid properties
		{`{"entity":{"validFrom":"2020-13-01"}}`, false},       // bad date
		{`{"relationship":{"share":01}}`, false},               // bad number
		{`{"relationship":{"share":1e999}}`, false},            // out of range
		{`{"relationship":{"share":"0.5"}}`, false},            // wrong type
		{`{"entity":{"id":"a"}} {"entity":{"id":"b"}}`, false}, // two values
		{`{"entity":{"id":"a"}`, false},                        // truncated
		{`{"entity":{"name":"tab	inside"}}`, false},            // raw control character
		{`{"entity":{"aliases":["a",]}}`, false},               // trailing comma
		{`{"entity":{"identifiers":[{"scheme":"LEI","value":"X","scheme":"Y"}]}}`, false},
	} {
		if got := checkFast(t, []byte(tc.line)); got != tc.accept {
			t.Errorf("decodeRecordFast(%s) accepted = %v, want %v", tc.line, got, tc.accept)
		}
	}
}

// FuzzDecodeRecordFast: whatever the fast path accepts, encoding/json accepts and decodes
// to the same record.
func FuzzDecodeRecordFast(f *testing.F) {
	for _, s := range []string{
		`{"entity":{"id":"a","kind":"Company","name":"A","aliases":["x"],"country":"CN","identifiers":[{"scheme":"LEI","value":"1"}],"properties":{"k":[1,2]},"sources":["s"],"validFrom":"2020-01-01","validTo":"2021-01-01"}}`,
		`{"relationship":{"id":"r","type":"OWNS","from":"a","to":"b","share":0.5,"shareMin":0.1,"shareMax":0.9,"shareMinExclusive":false,"shareMaxExclusive":true,"confidence":1,"sources":[],"validFrom":"2020-01-01"}}`,
		`{"source":{"id":"s","title":"T \u0041","publisher":"P","url":"https://x","published":"2020-01-01"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !utf8.Valid(b) {
			return // decodeJSONLLine refuses such lines before decoding
		}
		checkFast(t, b)
	})
}
