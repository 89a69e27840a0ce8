package graph

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// FuzzHotPayload: decoding never panics, and whatever decodes re-encodes to the same bytes
// (a version 1 payload, which has no id, re-encodes as version 2).
func FuzzHotPayload(f *testing.F) {
	f.Add(hotOf(&Relationship{Share: fptr(0.4)}).encode())
	f.Add(hotOf(&Relationship{ShareMin: fptr(0.25), ShareMax: fptr(0.5), ValidFrom: MustParseDate("2024-12-01"),
		Properties: json.RawMessage(`{"volumeTpa":3000,"material":"ndfeb"}`)}).encode())
	f.Add([]byte{1})
	f.Add(append([]byte{1}, make([]byte, 34)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, ok := decodeHot(b)
		if !ok {
			return
		}
		if b[0] == 1 {
			if h.id != "" || !bytes.Equal(h.encode()[:len(b)], append([]byte{hotVersion}, b[1:]...)) {
				t.Errorf("version 1 payload %x decodes to %+v", b, h)
			}
			return
		}
		if got := h.encode(); !bytes.Equal(got, b) {
			t.Errorf("decode(%x) = %+v re-encodes to %x", b, h, got)
		}
	})
}

// FuzzAdjKey: adjacency keys round-trip.
func FuzzAdjKey(f *testing.F) {
	f.Add(uint64(42), uint16(1), uint64(7), uint64(1001))
	f.Fuzz(func(t *testing.T, a uint64, typ uint16, b uint64, r uint64) {
		k := adjKey(famOut, NodeID(a), typ, NodeID(b), RelID(r))
		ga, gt, gb, gr, ok := parseAdjKey(k)
		if !ok || ga != NodeID(a) || gt != typ || gb != NodeID(b) || gr != RelID(r) {
			t.Errorf("parseAdjKey(adjKey(%d,%d,%d,%d)) = %d,%d,%d,%d,%v", a, typ, b, r, ga, gt, gb, gr, ok)
		}
		if !bytes.HasPrefix(k, adjPrefix(famOut, NodeID(a), typ)) {
			t.Error("key does not start with its prefix")
		}
	})
}

// FuzzJournal: a deletion journal entry decodes without panicking whatever its bytes,
// and what decodes encodes back to a value that decodes alike.
func FuzzJournal(f *testing.F) {
	f.Add(encodeJournal(time.Unix(1764000000, 0), [][]byte{nodeIDKey("nzb"), adjKey(famOut, 1, 2, 3, 4), {}}))
	f.Add([]byte{journalFormat, 0x80})
	f.Add([]byte{journalFormat, 1, 5, 'a'})
	f.Fuzz(func(t *testing.T, b []byte) {
		at, keys, ok := decodeJournal(b)
		if !ok {
			return
		}
		// Uvarints may come longer than needed: decoding takes them, encoding writes the
		// shortest form, so compare what the two decode to.
		again, keys2, ok := decodeJournal(encodeJournal(time.Unix(at, 0), keys))
		if !ok || again != at || len(keys2) != len(keys) {
			t.Fatalf("decodeJournal(%x) = %d %q; re-encoded it decodes to %d %q %v", b, at, keys, again, keys2, ok)
		}
		for i := range keys {
			if !bytes.Equal(keys2[i], keys[i]) {
				t.Fatalf("decodeJournal(%x) key %d = %q, after re-encoding %q", b, i, keys[i], keys2[i])
			}
		}
	})
}

// FuzzCursor: any string is either refused as a cursor with INVALID_INPUT or decodes.
func FuzzCursor(f *testing.F) {
	f.Add("")
	f.Add(encodeCursor([]byte{1, 2, 3}))
	f.Add("%%%")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := decodeCursor(s, []byte{famNode})
		if err != nil {
			if ErrorCode(err) != EINVALID {
				t.Errorf("decodeCursor(%q) error %v, want INVALID_INPUT", s, err)
			}
			return
		}
		if k[0] != famNode {
			t.Errorf("decodeCursor(%q) = %x escapes its prefix", s, k)
		}
	})
}

// FuzzReadJSONL: any input either reads or fails with INVALID_INPUT naming a line.
func FuzzReadJSONL(f *testing.F) {
	f.Add(`{"entity":{"id":"a","kind":"Company","name":"A"}}` + "\n")
	f.Add("\xef\xbb\xbf" + `{"source":{"id":"s","title":"T"}}` + "\r\n")
	f.Add(`{"relationship":{"type":"OWNS","from":"a","to":"b","share":1.4}}`)
	f.Add(`{"entity":{}, "source":{}}`)
	f.Fuzz(func(t *testing.T, in string) {
		err := ReadJSONL(strings.NewReader(in), func(int, Record) error { return nil })
		if err == nil {
			return
		}
		e, ok := err.(*Error)
		if !ok || e.Code != EINVALID || !strings.HasPrefix(e.Field, "line ") {
			t.Errorf("ReadJSONL(%q) error %#v, want INVALID_INPUT on a line", in, err)
		}
	})
}

// FuzzSearchText: normalization and term splitting never panic and stay valid UTF-8.
func FuzzSearchText(f *testing.F) {
	for _, s := range []string{"北方稀土", "Société Générale", "ＡＢＣ　ｄｅｆ", "\xff\xfe", "a\x00b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := normalize(s)
		if utf8.ValidString(s) && !utf8.ValidString(n) {
			t.Errorf("normalize(%q) = %q is not valid UTF-8", s, n)
		}
		for _, term := range indexTerms(s) {
			if term == "" || strings.ContainsRune(term, 0) && !strings.ContainsRune(s, 0) {
				t.Errorf("indexTerms(%q) has bad term %q", s, term)
			}
		}
		_ = queryTerms(s)
		_ = matchScore(n, n)
	})
}

// FuzzNormalizeASCII: the ASCII fast path agrees with the general path.
func FuzzNormalizeASCII(f *testing.F) {
	f.Add("  Northern  RARE\tEarth ")
	f.Add("a\x00b\x1fc")
	f.Fuzz(func(t *testing.T, s string) {
		fast, ok := normalizeASCII(s)
		if !ok {
			return
		}
		slow := strings.Join(strings.Fields(folder.String(s)), " ")
		if fast != slow {
			t.Errorf("normalizeASCII(%q) = %q, general path %q", s, fast, slow)
		}
	})
}

// FuzzNormalizeASCIIHan: the ASCII-and-Han fast path agrees with the general path.
func FuzzNormalizeASCIIHan(f *testing.F) {
	f.Add("丰源电机89888有限公司  Co. ")
	f.Add("㐀 中国\tBEI 龥")
	f.Fuzz(func(t *testing.T, s string) {
		fast, ok := normalizeASCIIHan(s)
		if !ok {
			return
		}
		tr := transform.Chain(norm.NFKD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
		out, _, err := transform.String(tr, s)
		if err != nil {
			out = s
		}
		if slow := strings.Join(strings.Fields(folder.String(out)), " "); fast != slow {
			t.Errorf("normalizeASCIIHan(%q) = %q, general path %q", s, fast, slow)
		}
	})
}

// FuzzWordsASCII: the ASCII fast path of words agrees with the general path.
func FuzzWordsASCII(f *testing.F) {
	fuzzWordsFastPath(f, "wordsASCII", wordsASCII, "northern rare-earth (group) 600111 co., ltd.", "a\x00b_c~9")
}

// fuzzWordsFastPath checks that fast, a fast path of words, agrees with the general path
// on every input it accepts.
func fuzzWordsFastPath(f *testing.F, name string, fast func(string) ([]string, bool), seeds ...string) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := fast(s)
		if !ok {
			return
		}
		if slow := wordsUnicode(s); !slices.Equal(got, slow) {
			t.Errorf("%s(%q) = %q, general path %q", name, s, got, slow)
		}
	})
}

// FuzzRecordCodec: records round-trip, and arbitrary bytes never panic the decoders.
func FuzzRecordCodec(f *testing.F) {
	e := Entity{ID: "nre", Kind: "Company", Name: "北方稀土", Country: "CN", Aliases: []string{"a", "b"},
		Identifiers: []Identifier{{"SSE", "600111"}}, Properties: json.RawMessage(`{"x":1}`), Sources: []string{"s"},
		ValidFrom: MustParseDate("1997-09-24")}
	eb, _ := encodeEntity(&e)
	f.Add(eb)
	r := Relationship{ID: "o", Type: "OWNS", From: "a", To: "b", ShareMin: fptr(0.25), ShareMax: fptr(0.5), ShareMaxExclusive: true,
		Confidence: fptr(0.7), ValidTo: MustParseDate("1960-01-01")}
	rb, _ := encodeRelationship(1, 2, 3, &r)
	f.Add(rb)
	f.Fuzz(func(t *testing.T, b []byte) {
		if e, err := decodeEntity(b); err == nil {
			again, _ := encodeEntity(e)
			if e2, err := decodeEntity(again); err != nil || !reflect.DeepEqual(e, e2) {
				t.Errorf("entity %+v does not round-trip: %+v, %v", e, e2, err)
			}
		}
		if from, to, typ, r, err := decodeRelationship(b); err == nil {
			// Compared as bytes, not with reflect.DeepEqual: arbitrary bytes may decode to a
			// NaN share or confidence, which round-trips bit for bit but is never equal to itself.
			again, _ := encodeRelationship(from, to, typ, r)
			f2, t2, typ2, r2, err := decodeRelationship(again)
			if err != nil {
				t.Fatalf("relationship %+v does not decode again: %v", r, err)
			}
			if third, _ := encodeRelationship(f2, t2, typ2, r2); !bytes.Equal(third, again) {
				t.Errorf("relationship %+v does not round-trip: %+v", r, r2)
			}
		}
	})
}

func TestRecordCodecRoundTrip(t *testing.T) {
	for _, e := range []Entity{
		{ID: "a", Kind: "K", Name: "N"},
		{ID: "nre", Kind: "Company", Name: "北方稀土", Country: "CN", Aliases: []string{"x"}, Identifiers: []Identifier{{"SSE", "600111"}, {"LEI", "L"}},
			Properties: json.RawMessage(`{"capacityTpa":3000}`), Sources: []string{"s1", "s2"}, ValidFrom: MustParseDate("1961-01-01"), ValidTo: MustParseDate("2099-12-31")},
	} {
		b, _ := encodeEntity(&e)
		got, err := decodeEntity(b)
		if err != nil || !reflect.DeepEqual(*got, e) {
			t.Errorf("entity round trip = %+v, %v, want %+v", got, err, e)
		}
	}
	for _, r := range []Relationship{
		{ID: "r", Type: "OWNS", From: "a", To: "b"},
		{ID: "r2", Type: "OWNS", From: "a", To: "b", Share: fptr(0.123456789), Confidence: fptr(1), Sources: []string{"s"},
			Properties: json.RawMessage(`{"volumeTpa":1}`), ValidFrom: MustParseDate("2024-12-01")},
		{ID: "r3", Type: "OWNS", From: "a", To: "b", ShareMin: fptr(0.75), ShareMax: fptr(1), ShareMaxExclusive: true, ShareMinExclusive: true},
	} {
		b, _ := encodeRelationship(7, 8, 9, &r)
		from, to, typ, got, err := decodeRelationship(b)
		if err != nil || from != 7 || to != 8 || typ != 9 || !reflect.DeepEqual(*got, r) {
			t.Errorf("relationship round trip = %+v (%d %d %d), %v, want %+v", got, from, to, typ, err, r)
		}
	}
}

// FuzzIndexKeys: for texts the store accepts (valid UTF-8 without NUL), an identifier or
// term key starts with the lookup prefix of its own scheme/value or term and no other,
// and every index key ends in its entity's NodeID.
func FuzzIndexKeys(f *testing.F) {
	f.Add("LEI", "5493001KJTIIGC8Y1R12", "LEI", "5493001KJTIIGC8Y1R1", uint64(7))
	f.Add("a", "b\x01c", "a\x01b", "c", uint64(1<<63))
	f.Add("北方", "稀土", "北方稀", "土", uint64(0))
	f.Fuzz(func(t *testing.T, scheme, value, scheme2, value2 string, n uint64) {
		for _, s := range []string{scheme, value, scheme2, value2} {
			if validateText("x", s, false) != nil {
				return
			}
		}
		lookup := func(scheme, value string) []byte { // as EntitiesByIdentifier builds it
			return append(append(append(append([]byte{famIdentifier}, scheme...), 0), value...), 0)
		}
		k := identifierKey(scheme, value, NodeID(n))
		same := scheme == scheme2 && value == value2
		if got := bytes.HasPrefix(k, lookup(scheme2, value2)); got != same {
			t.Errorf("identifierKey(%q, %q) has the prefix of (%q, %q): %v, want %v", scheme, value, scheme2, value2, got, same)
		}
		tk := termKey(value, NodeID(n))
		if got := bytes.HasPrefix(tk, append(append([]byte{famTerm}, value2...), 0)); got != (value == value2) {
			t.Errorf("termKey(%q) has the exact-term prefix of %q: %v", value, value2, got)
		}
		for _, key := range [][]byte{k, tk, fullNameKey(value, NodeID(n)), kindKey(uint16(n), scheme, NodeID(n)), countryKey(scheme, NodeID(n))} {
			if got := lastNodeID(key); got != NodeID(n) {
				t.Errorf("lastNodeID(%x) = %d, want %d", key, got, n)
			}
		}
	})
}

// FuzzParseDate: whatever parses prints back as the same text and survives JSON.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2024-02-29", "2025-02-29", "0000-01-01", "9999-12-31", "2024-1-01", "+002024-01-01", "2024-01-01T00:00:00Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err != nil {
			return
		}
		if got := d.String(); got != s {
			t.Fatalf("ParseDate(%q).String() = %q", s, got)
		}
		b, _ := json.Marshal(d)
		var back Date
		if err := json.Unmarshal(b, &back); err != nil || back != d {
			t.Fatalf("date %q through JSON %s = %v, %v", s, b, back, err)
		}
	})
}
