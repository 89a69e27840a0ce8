package graph

import (
	"encoding/binary"
	"errors"
	"math"
)

// Record codec. Entity (N) and relationship (E) values are a compact binary encoding,
// not JSON: a traversal that materializes 200 entities and 200 relationships spent a
// sixth of its time in encoding/json. The layout, after the record version byte:
//
//	string   uvarint length · UTF-8 bytes
//	list     uvarint count · items
//	date     0x00 (unset) | 0x01 · zig-zag varint days since 1970-01-01
//	float?   0x00 (unset) | 0x01 · IEEE-754 bits, 8 bytes big-endian
//
//	entity        id · kind · name · country · list of aliases · list of (scheme · value)
//	              · properties (string of raw JSON) · list of source ids · validFrom · validTo
//	relationship  header: from nid[8] · to nid[8] · type[2]; then id · type · from · to
//	              · share? · shareMin? · shareMax? · flags (1 min exclusive, 2 max exclusive)
//	              · properties · list of source ids · validFrom · validTo · confidence?
//
// Properties stay raw JSON bytes: they are free-form and only ever passed through.

var errRecord = errors.New("graph: malformed record")

type encoder struct{ b []byte }

func (e *encoder) str(s string) {
	e.b = binary.AppendUvarint(e.b, uint64(len(s)))
	e.b = append(e.b, s...)
}

func (e *encoder) strs(ss []string) {
	e.b = binary.AppendUvarint(e.b, uint64(len(ss)))
	for _, s := range ss {
		e.str(s)
	}
}

func (e *encoder) date(d Date) {
	if d.IsZero() {
		e.b = append(e.b, 0)
		return
	}
	e.b = append(e.b, 1)
	e.b = binary.AppendVarint(e.b, int64(d.days))
}

func (e *encoder) float(f *float64) {
	if f == nil {
		e.b = append(e.b, 0)
		return
	}
	e.b = append(e.b, 1)
	e.b = binary.BigEndian.AppendUint64(e.b, math.Float64bits(*f))
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errRecord
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) str() string {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.err = errRecord
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) strs() []string {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.err = errRecord
		return nil
	}
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.str()
	}
	return out
}

func (d *decoder) byte() byte {
	if d.err != nil || len(d.b) == 0 {
		d.err = errRecord
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) date() Date {
	if d.byte() == 0 || d.err != nil {
		return Date{}
	}
	v, n := binary.Varint(d.b)
	if n <= 0 || v < math.MinInt32 || v > math.MaxInt32 {
		d.err = errRecord
		return Date{}
	}
	d.b = d.b[n:]
	return Date{days: int32(v), set: true}
}

func (d *decoder) float() *float64 {
	if d.byte() == 0 || d.err != nil {
		return nil
	}
	if len(d.b) < 8 {
		d.err = errRecord
		return nil
	}
	f := math.Float64frombits(binary.BigEndian.Uint64(d.b))
	d.b = d.b[8:]
	return &f
}

func encodeEntity(e *Entity) ([]byte, error) {
	enc := encoder{b: make([]byte, 0, 128+len(e.Properties))}
	enc.b = append(enc.b, recordVersion)
	enc.str(e.ID)
	enc.str(e.Kind)
	enc.str(e.Name)
	enc.str(e.Country)
	enc.strs(e.Aliases)
	enc.b = binary.AppendUvarint(enc.b, uint64(len(e.Identifiers)))
	for _, id := range e.Identifiers {
		enc.str(id.Scheme)
		enc.str(id.Value)
	}
	enc.str(string(e.Properties))
	enc.strs(e.Sources)
	enc.date(e.ValidFrom)
	enc.date(e.ValidTo)
	return enc.b, nil
}

func decodeEntity(v []byte) (*Entity, error) {
	if len(v) == 0 || v[0] != recordVersion {
		return nil, errors.New("graph: entity record of unknown version")
	}
	d := decoder{b: v[1:]}
	e := &Entity{ID: d.str(), Kind: d.str(), Name: d.str(), Country: d.str(), Aliases: d.strs()}
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		return nil, errRecord
	}
	for range n {
		e.Identifiers = append(e.Identifiers, Identifier{Scheme: d.str(), Value: d.str()})
	}
	if p := d.str(); p != "" {
		e.Properties = []byte(p)
	}
	e.Sources = d.strs()
	e.ValidFrom = d.date()
	e.ValidTo = d.date()
	if d.err != nil || len(d.b) != 0 {
		return nil, errRecord
	}
	return e, nil
}

func encodeRelationship(from, to NodeID, typ uint16, r *Relationship) ([]byte, error) {
	enc := encoder{b: make([]byte, 0, 96+len(r.Properties))}
	enc.b = append(enc.b, recordVersion)
	enc.b = u64(enc.b, uint64(from))
	enc.b = u64(enc.b, uint64(to))
	enc.b = u16(enc.b, typ)
	enc.str(r.ID)
	enc.str(r.Type)
	enc.str(r.From)
	enc.str(r.To)
	enc.float(r.Share)
	enc.float(r.ShareMin)
	enc.float(r.ShareMax)
	var flags byte
	if r.ShareMinExclusive {
		flags |= 1
	}
	if r.ShareMaxExclusive {
		flags |= 2
	}
	enc.b = append(enc.b, flags)
	enc.str(string(r.Properties))
	enc.strs(r.Sources)
	enc.date(r.ValidFrom)
	enc.date(r.ValidTo)
	enc.float(r.Confidence)
	return enc.b, nil
}

func decodeRelationship(v []byte) (from, to NodeID, typ uint16, r *Relationship, err error) {
	if len(v) < 19 || v[0] != recordVersion {
		return 0, 0, 0, nil, errors.New("graph: relationship record of unknown version")
	}
	d := decoder{b: v[19:]}
	r = &Relationship{ID: d.str(), Type: d.str(), From: d.str(), To: d.str(),
		Share: d.float(), ShareMin: d.float(), ShareMax: d.float()}
	flags := d.byte()
	r.ShareMinExclusive, r.ShareMaxExclusive = flags&1 != 0, flags&2 != 0
	if p := d.str(); p != "" {
		r.Properties = []byte(p)
	}
	r.Sources = d.strs()
	r.ValidFrom = d.date()
	r.ValidTo = d.date()
	r.Confidence = d.float()
	if d.err != nil || len(d.b) != 0 {
		return 0, 0, 0, nil, errRecord
	}
	return NodeID(binary.BigEndian.Uint64(v[1:9])), NodeID(binary.BigEndian.Uint64(v[9:17])),
		binary.BigEndian.Uint16(v[17:19]), r, nil
}
