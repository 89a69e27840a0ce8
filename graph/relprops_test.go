package graph

import (
	"encoding/json"
	"reflect"
	"testing"
)

// relPropsCases are property objects of relationships, valid JSON all.
var relPropsCases = []string{
	`{}`, ` { } `, `{"material":"rare-earth-concentrate","volumeTpa":1421}`,
	`{"volumeTpa":0}`, `{"volumeTpa":-0}`, `{"volumeTpa":-1}`, `{"volumeTpa":1e400}`, `{"volumeTpa":2.5e3}`,
	`{"volumeTpa":null}`, `{"volumeTpa":"12"}`, `{"volumeTpa":true}`, `{"volumeTpa":false}`, `{"volumeTpa":{}}`, `{"volumeTpa":[1]}`,
	`{"material":null}`, `{"material":7}`, `{"material":""}`, `{"material":"a\"b"}`, `{"material":"café"}`, `{"material":{"x":1}}`,
	`{"Material":"x"}`, `{"VOLUMETPA":5}`, `{"volumeTpa":1,"volumeTpa":2}`, `{"material":"a","material":"b"}`,
	`{"other":{"nested":[1,2,{"volumeTpa":-1}]},"volumeTpa":3}`, `{"other":"x","n":1.5,"t":true,"z":null}`,
	"{\n\t\"material\" : \"ore\" ,\r\n \"volumeTpa\" : 10 \n}", `{"vol\u0075meTpa":-3}`, `{"é":1,"volumeTpa":4}`,
}

// TestRelPropsFlat: wherever the flat fast path answers, it answers as encoding/json does.
func TestRelPropsFlat(t *testing.T) {
	fast := 0
	for _, c := range relPropsCases {
		if !json.Valid([]byte(c)) {
			t.Fatalf("case %s is not valid JSON", c)
		}
		want := relPropsJSON(json.RawMessage(c))
		got, ok := relPropsFlat([]byte(c))
		if !ok {
			continue
		}
		fast++
		if !reflect.DeepEqual(got, want) {
			t.Errorf("relPropsFlat(%s) = %+v; encoding/json gives %+v", c, got, want)
		}
	}
	if fast < 15 {
		t.Errorf("the fast path answered %d cases; want most of them", fast)
	}
}

// FuzzRelPropsFlat: for any valid JSON object, the fast path agrees with encoding/json.
func FuzzRelPropsFlat(f *testing.F) {
	for _, c := range relPropsCases {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, c string) {
		if !json.Valid([]byte(c)) {
			return
		}
		got, ok := relPropsFlat([]byte(c))
		if want := relPropsJSON(json.RawMessage(c)); ok && !reflect.DeepEqual(got, want) {
			t.Errorf("relPropsFlat(%q) = %+v; encoding/json gives %+v", c, got, want)
		}
	})
}
