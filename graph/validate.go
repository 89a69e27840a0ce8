package graph

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxIDBytes is the longest id (entity, relationship, source) the store accepts.
const MaxIDBytes = 256

// ValidateID checks the id rules of api.md: 1–256 bytes of UTF-8, no control characters
// (NUL included), no surrounding spaces. It returns an EINVALID *Error naming field.
func ValidateID(field, id string) error {
	switch {
	case id == "":
		return Invalid(field, "must not be empty")
	case len(id) > MaxIDBytes:
		return Invalid(field, "is %d bytes long; ids are at most %d bytes", len(id), MaxIDBytes)
	case !utf8.ValidString(id):
		return Invalid(field, "is not valid UTF-8")
	case strings.TrimSpace(id) != id:
		return Invalid(field, "must not start or end with spaces")
	}
	if i := strings.IndexFunc(id, unicode.IsControl); i >= 0 {
		return Invalid(field, "contains a control character at byte %d", i)
	}
	return nil
}

func validateText(field, s string, required bool) error {
	switch {
	case required && strings.TrimSpace(s) == "":
		return Invalid(field, "must not be empty")
	case !utf8.ValidString(s):
		return Invalid(field, "is not valid UTF-8")
	case strings.ContainsRune(s, 0):
		return Invalid(field, "contains a NUL character")
	case len(s) > 4096:
		return Invalid(field, "is %d bytes long; at most 4096 are allowed", len(s))
	}
	return nil
}

func validateCountry(field, cc string) error {
	if cc == "" {
		return nil
	}
	if len(cc) != 2 || cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z' {
		return Invalid(field, "%q is not an upper-case ISO 3166-1 alpha-2 code such as CN or US", cc)
	}
	return nil
}

func validateDates(prefix string, from, to Date) error {
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return Invalid(prefix+"validFrom", "%s is after validTo %s", from, to)
	}
	return nil
}

func validateProperties(field string, raw json.RawMessage) error {
	if len(raw) == 0 {
		return nil
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || trimmed[0] != '{' || !json.Valid(trimmed) {
		return Invalid(field, "must be a JSON object")
	}
	return nil
}

func validateFraction(field string, x *float64) error {
	if x == nil {
		return nil
	}
	if math.IsNaN(*x) || *x < 0 || *x > 1 {
		return Invalid(field, "%v is outside 0..1 (shares and confidence are fractions: 40 %% is 0.4)", *x)
	}
	return nil
}

// ValidateEntity checks e against the rules of api.md. prefix names e in error fields
// (e.g. "input." or "entities[3]."). It does not check that cited sources exist.
func ValidateEntity(prefix string, e *Entity) error {
	if err := ValidateID("id", e.ID); err != nil {
		return inField(prefix, err)
	}
	if err := validateText("kind", e.Kind, true); err != nil {
		return inField(prefix, err)
	}
	if err := validateText("name", e.Name, true); err != nil {
		return inField(prefix, err)
	}
	for i, a := range e.Aliases {
		if err := validateText("", a, true); err != nil {
			return inField(fmt.Sprintf("%saliases[%d]", prefix, i), err)
		}
	}
	if err := validateCountry("country", e.Country); err != nil {
		return inField(prefix, err)
	}
	for i, id := range e.Identifiers {
		if err := validateText("scheme", id.Scheme, true); err != nil {
			return inField(fmt.Sprintf("%sidentifiers[%d].", prefix, i), err)
		}
		if err := validateText("value", id.Value, true); err != nil {
			return inField(fmt.Sprintf("%sidentifiers[%d].", prefix, i), err)
		}
	}
	if err := validateProperties("properties", e.Properties); err != nil {
		return inField(prefix, err)
	}
	for i, s := range e.Sources {
		if err := ValidateID("", s); err != nil {
			return inField(fmt.Sprintf("%ssources[%d]", prefix, i), err)
		}
	}
	return validateDates(prefix, e.ValidFrom, e.ValidTo)
}

// ValidateRelationship checks r against the rules of api.md; r.ID may be empty (the store
// derives it). It does not check that the ends or sources exist.
func ValidateRelationship(prefix string, r *Relationship) error {
	_, err := validateRelationship(prefix, r)
	return err
}

// validateRelationship is ValidateRelationship that also returns what it read of r's
// properties (nil without any), for hotOfProps: a bulk load parses them once.
func validateRelationship(prefix string, r *Relationship) (*relProperties, error) {
	if r.ID != "" {
		if err := ValidateID("id", r.ID); err != nil {
			return nil, inField(prefix, err)
		}
	}
	if !validType(r.Type) {
		return nil, Invalid(prefix+"type", "%q is not a relationship type: use upper-case letters, digits and _ (e.g. OWNS, SUPPLIES)", r.Type)
	}
	if err := ValidateID("from", r.From); err != nil {
		return nil, inField(prefix, err)
	}
	if err := ValidateID("to", r.To); err != nil {
		return nil, inField(prefix, err)
	}
	if r.From == r.To && r.Type == TypeOwns {
		return nil, Invalid(prefix+"to", "an entity cannot own itself")
	}
	for _, f := range []struct {
		name string
		v    *float64
	}{{"share", r.Share}, {"shareMin", r.ShareMin}, {"shareMax", r.ShareMax}, {"confidence", r.Confidence}} {
		if err := validateFraction(f.name, f.v); err != nil {
			return nil, inField(prefix, err)
		}
	}
	switch {
	case r.Share != nil && (r.ShareMin != nil || r.ShareMax != nil):
		return nil, Invalid(prefix+"share", "give either share or shareMin and shareMax, not both")
	case (r.ShareMin == nil) != (r.ShareMax == nil):
		return nil, Invalid(prefix+"shareMin", "a share range needs both shareMin and shareMax")
	case r.ShareMin != nil && *r.ShareMin > *r.ShareMax:
		return nil, Invalid(prefix+"shareMin", "%v is greater than shareMax %v", *r.ShareMin, *r.ShareMax)
	}
	if err := validateProperties("properties", r.Properties); err != nil {
		return nil, inField(prefix, err)
	}
	props := relProps(r.Properties)
	if props != nil && props.badVolume {
		return nil, Invalid(prefix+"properties.volumeTpa", "must be a number of tonnes a year, 0 or more")
	}
	for i, s := range r.Sources {
		if err := ValidateID("", s); err != nil {
			return nil, inField(fmt.Sprintf("%ssources[%d]", prefix, i), err)
		}
	}
	if err := validateDates(prefix, r.ValidFrom, r.ValidTo); err != nil {
		return nil, err
	}
	return props, nil
}

// ValidateSource checks s; s.ID may be empty (the store derives it from the content).
func ValidateSource(prefix string, s *Source) error {
	if s.ID != "" {
		if err := ValidateID("id", s.ID); err != nil {
			return inField(prefix, err)
		}
	}
	if err := validateText("title", s.Title, true); err != nil {
		return inField(prefix, err)
	}
	if err := validateText("publisher", s.Publisher, false); err != nil {
		return inField(prefix, err)
	}
	return validateText(prefix+"url", s.URL, false)
}

func validType(t string) bool {
	if t == "" || len(t) > 64 || t[0] < 'A' || t[0] > 'Z' {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// RelationshipID returns the id the store gives a relationship sent without one: derived
// from its type and ends, so that re-sending the same fact updates it.
func RelationshipID(typ, from, to string) string {
	id := typ + ":" + from + "->" + to
	if len(id) <= MaxIDBytes {
		return id
	}
	sum := sha256.Sum256([]byte(from + "\x00" + to))
	return typ + ":" + hex.EncodeToString(sum[:16])
}

// SourceID returns the id the store gives a source sent without one: derived from its
// content, so that the same source cited twice is stored once.
func SourceID(s *Source) string {
	sum := sha256.Sum256([]byte(s.Title + "\x00" + s.Publisher + "\x00" + s.URL + "\x00" + s.Published.String()))
	return "src-" + hex.EncodeToString(sum[:8])
}

// relProperties are the relationship properties with a meaning in the analytics.
type relProperties struct {
	VolumeTpa *float64
	Material  string
	badVolume bool
}

// inField puts prefix in front of the Field of err, an *Error of a check that was given
// only the end of the field's name: the loops above format a field's full name only for
// an invalid record, not for every alias, identifier and source of the millions of a
// bulk load.
func inField(prefix string, err error) error {
	if e, ok := err.(*Error); ok {
		e.Field = prefix + e.Field
	}
	return err
}

// relProps reads volumeTpa and material from a relationship's properties; nil when there
// are none. A volumeTpa that is not a non-negative number is flagged bad.
func relProps(raw json.RawMessage) *relProperties {
	if len(raw) == 0 {
		return nil
	}
	if p, ok := relPropsFlat(raw); ok {
		return p
	}
	return relPropsJSON(raw)
}

// relPropsJSON is relProps through encoding/json.
func relPropsJSON(raw json.RawMessage) *relProperties {
	var m struct {
		VolumeTpa json.RawMessage `json:"volumeTpa"`
		Material  json.RawMessage `json:"material"`
	}
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	p := &relProperties{}
	if len(m.Material) > 0 && m.Material[0] == '"' {
		_ = json.Unmarshal(m.Material, &p.Material) // a JSON string: it decodes
	}
	if len(m.VolumeTpa) > 0 && string(m.VolumeTpa) != "null" {
		var v float64
		if json.Unmarshal(m.VolumeTpa, &v) != nil || v < 0 || math.IsInf(v, 0) {
			p.badVolume = true
		} else {
			p.VolumeTpa = &v
		}
	}
	return p
}

// relPropsFlat is relProps for the common case of a flat object whose keys are plain
// ASCII and whose values are scalars, without reflection (relProps through
// encoding/json was some 2 s of the 1 M-company load). ok is false for anything else
// (nesting, escapes, a key that only case-folds to volumeTpa or material, a repeated
// one), and relProps decodes raw with encoding/json instead; when ok, p is what that
// would return (TestRelPropsFlat). raw is valid JSON (validateProperties).
func relPropsFlat(raw []byte) (p *relProperties, ok bool) {
	i := 0
	ws := func() {
		for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
			i++
		}
	}
	// str reads a string without escapes or non-ASCII bytes and returns its contents.
	str := func() ([]byte, bool) {
		if i >= len(raw) || raw[i] != '"' {
			return nil, false
		}
		start := i + 1
		for j := start; j < len(raw); j++ {
			switch c := raw[j]; {
			case c == '"':
				i = j + 1
				return raw[start:j], true
			case c == '\\' || c >= 0x80:
				return nil, false
			}
		}
		return nil, false
	}
	ws()
	if i >= len(raw) || raw[i] != '{' {
		return nil, false
	}
	i++
	p = &relProperties{}
	var material, volume []byte // raw values
	ws()
	if i < len(raw) && raw[i] == '}' {
		i++
	} else {
		for {
			ws()
			key, ok := str()
			if !ok {
				return nil, false
			}
			ws()
			if i >= len(raw) || raw[i] != ':' {
				return nil, false
			}
			i++
			ws()
			start := i
			if i < len(raw) && raw[i] == '"' {
				if _, ok := str(); !ok {
					return nil, false
				}
			} else {
				for i < len(raw) && raw[i] != ',' && raw[i] != '}' && raw[i] != ' ' && raw[i] != '\t' && raw[i] != '\n' && raw[i] != '\r' {
					if raw[i] == '{' || raw[i] == '[' || raw[i] == '"' {
						return nil, false
					}
					i++
				}
			}
			val := raw[start:i]
			switch {
			case string(key) == "material" && material == nil:
				material = val
			case string(key) == "volumeTpa" && volume == nil:
				volume = val
			case strings.EqualFold(string(key), "material") || strings.EqualFold(string(key), "volumeTpa"):
				return nil, false
			}
			ws()
			if i < len(raw) && raw[i] == ',' {
				i++
				continue
			}
			if i < len(raw) && raw[i] == '}' {
				i++
				break
			}
			return nil, false
		}
	}
	ws()
	if i != len(raw) || len(volume) == 0 && volume != nil || len(material) == 0 && material != nil {
		return nil, false
	}
	if len(material) > 0 && material[0] == '"' {
		p.Material = string(material[1 : len(material)-1])
	}
	if len(volume) > 0 && string(volume) != "null" {
		if volume[0] != '-' && (volume[0] < '0' || volume[0] > '9') {
			p.badVolume = true // a string or a boolean: not a number
			return p, true
		}
		v, err := strconv.ParseFloat(string(volume), 64)
		if err != nil || v < 0 || math.IsInf(v, 0) {
			p.badVolume = true
		} else {
			p.VolumeTpa = &v
		}
	}
	return p, true
}
