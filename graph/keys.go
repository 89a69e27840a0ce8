package graph

import (
	"bytes"
	"encoding/binary"
	"math"
)

// Key layout, format version 2 (formatVersion; Badger's external magic fences it, so a
// binary that expects another layout refuses to open the store instead of misreading it).
//
// Every key starts with one ASCII family byte. Integers are big-endian so that byte order
// is numeric order. NodeID and RelID are uint64 from counters kept under M; type and kind
// ids are uint16 registered under M so names never appear in adjacency keys.
//
//	family  key                                            value
//	M       'M' · ascii name                               meta: format, counters, registries, stats
//	N       'N' · nid[8]                                   0x02 · entity (codec.go)
//	U       'U' · entity id (UTF-8)                        nid[8]
//	E       'E' · rid[8]                                   0x02 · from nid[8] · to nid[8] · type[2] · relationship (codec.go)
//	R       'R' · relationship id (UTF-8)                  rid[8]
//	O       'O' · from nid[8] · type[2] · to nid[8] · rid[8]   hot payload (below)
//	I       'I' · to nid[8] · type[2] · from nid[8] · rid[8]   hot payload (copy)
//	T       'T' · kind[2] · country[2] · nid[8]            empty (country 0x0000 when unset)
//	C       'C' · country[2] · nid[8]                      empty
//	X       'X' · search term · 0x00 · nid[8]              empty
//	F       'F' · normalized full name · 0x00 · nid[8]     empty (names and aliases, for prefix search)
//	K       'K' · scheme · 0x00 · value · 0x00 · nid[8]    empty
//	S       'S' · source id (UTF-8)                        JSON Source
//	Q       'Q' · …                                        saved and persisted queries (savedquery.go)
//	A       'A' · API key id (hex)                         0x02 · JSON APIKey: hash of the secret, role (apikeys.go)
//	W       'W' · webhook id (hex)                         0x02 · JSON Webhook: URL, secret, filter or saved query, delivery cursor (webhooks.go)
//	J       'J' · store version[8]                         0x01 · unix seconds (uvarint) · the keys that write deleted (journal.go)
//
// Q and A are outside the graph: Check, Export and BulkLoad do not read them as graph
// data (Check verifies A records), while Backup copies them with everything else.
//
// J is the deletion journal (journal.go): what each write deleted, so that incremental
// backups carry deletions whose Badger markers compaction has dropped.
//
// Listing an entity's relationships of one type in one direction is a prefix scan of
// O·nid·type or I·nid·type whose values carry everything a traversal needs (hot payload),
// so traversals read no E record until they materialize a result.
const formatVersion uint16 = 2

const (
	famMeta       = 'M'
	famNode       = 'N'
	famNodeID     = 'U'
	famRel        = 'E'
	famRelID      = 'R'
	famOut        = 'O'
	famIn         = 'I'
	famKind       = 'T'
	famCountry    = 'C'
	famTerm       = 'X'
	famFullName   = 'F'
	famIdentifier = 'K'
	famSource     = 'S'
	famJournal    = 'J'
)

// recordVersion is the first byte of N and E values (codec.go).
const recordVersion = 0x02

// Meta keys.
var (
	metaFormat  = []byte("Mformat")
	metaNextNID = []byte("Mseq/node")
	metaNextRID = []byte("Mseq/rel")
	metaVersion = []byte("Mversion")
	metaStats   = []byte("Mstats")
	metaTypes   = []byte("Mtypes") // JSON name → id of relationship types
	metaKinds   = []byte("Mkinds") // JSON name → id of entity kinds
)

func u64(b []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(b, v) }
func u16(b []byte, v uint16) []byte { return binary.BigEndian.AppendUint16(b, v) }

// The key builders below allocate each key once, at its final size: a bulk load builds
// some 40 M of them.

func nodeKey(n NodeID) []byte    { return u64(newKey(famNode, 8), uint64(n)) }
func relKey(r RelID) []byte      { return u64(newKey(famRel, 8), uint64(r)) }
func nodeIDKey(id string) []byte { return append(newKey(famNodeID, len(id)), id...) }
func relIDKey(id string) []byte  { return append(newKey(famRelID, len(id)), id...) }
func sourceKey(id string) []byte { return append(newKey(famSource, len(id)), id...) }

// newKey returns a key of family fam with room for n more bytes.
func newKey(fam byte, n int) []byte { return append(make([]byte, 0, 1+n), fam) }

// appendCountryCode appends the two bytes of country code cc, zero-padded.
func appendCountryCode(b []byte, cc string) []byte {
	var c [2]byte
	copy(c[:], cc)
	return append(b, c[:]...)
}

func countryKey(cc string, n NodeID) []byte {
	return u64(appendCountryCode(newKey(famCountry, 2+8), cc), uint64(n))
}

func kindKey(kind uint16, cc string, n NodeID) []byte {
	return u64(appendCountryCode(u16(newKey(famKind, 2+2+8), kind), cc), uint64(n))
}

func termKey(term string, n NodeID) []byte {
	k := append(newKey(famTerm, len(term)+1+8), term...)
	return u64(append(k, 0), uint64(n))
}

// maxFullNameKey bounds the name part of an F key.
const maxFullNameKey = 200

func fullNameKey(name string, n NodeID) []byte {
	if len(name) > maxFullNameKey {
		name = name[:maxFullNameKey]
	}
	k := append(newKey(famFullName, len(name)+1+8), name...)
	return u64(append(k, 0), uint64(n))
}

func identifierKey(scheme, value string, n NodeID) []byte {
	k := append(newKey(famIdentifier, len(scheme)+1+len(value)+1+8), scheme...)
	k = append(append(k, 0), value...)
	return u64(append(k, 0), uint64(n))
}

// adjKey builds an O or I key: fam · a · typ · b · rid, where a is the entity whose
// adjacency it lists and b the other end.
func adjKey(fam byte, a NodeID, typ uint16, b NodeID, r RelID) []byte {
	k := make([]byte, 0, 27)
	k = append(k, fam)
	k = u64(k, uint64(a))
	k = u16(k, typ)
	k = u64(k, uint64(b))
	return u64(k, uint64(r))
}

// relKeys are the three keys that record relationship rid of type typ from → to: its
// record (E · rid), and its entries in the adjacency of both ends (O · from · typ · to ·
// rid and I · to · typ · from · rid), whose values are its hot payload. Every write of a
// relationship (Apply, BulkLoad, StreamLoad) and every removal goes through this one
// encoder. The R key (public id → rid) is not among them: it outlives a rewrite.
type relKeys struct{ rec, out, in []byte }

// relationshipKeys returns the relKeys of relationship rid of type typ from → to.
func relationshipKeys(rid RelID, from NodeID, typ uint16, to NodeID) relKeys {
	return relKeys{rec: relKey(rid), out: adjKey(famOut, from, typ, to, rid), in: adjKey(famIn, to, typ, from, rid)}
}

// all returns the record key and both adjacency keys, in that order.
func (k relKeys) all() [][]byte { return [][]byte{k.rec, k.out, k.in} }

// adjPrefix is the prefix of a's adjacency in family fam, of one type when typ ≠ 0.
func adjPrefix(fam byte, a NodeID, typ uint16) []byte {
	k := u64([]byte{fam}, uint64(a))
	if typ != 0 {
		k = u16(k, typ)
	}
	return k
}

// parseAdjKey splits a 27-byte O or I key.
func parseAdjKey(k []byte) (a NodeID, typ uint16, b NodeID, r RelID, ok bool) {
	if len(k) != 27 {
		return 0, 0, 0, 0, false
	}
	return NodeID(binary.BigEndian.Uint64(k[1:9])), binary.BigEndian.Uint16(k[9:11]),
		NodeID(binary.BigEndian.Uint64(k[11:19])), RelID(binary.BigEndian.Uint64(k[19:27])), true
}

// lastNodeID reads the trailing nid[8] of T, C, X and K keys.
func lastNodeID(k []byte) NodeID {
	if len(k) < 8 {
		return 0
	}
	return NodeID(binary.BigEndian.Uint64(k[len(k)-8:]))
}

// The hot payload: the traversal-critical fields of a relationship, copied into its O and
// I values, with its public id so that a traversal result can name the relationship
// without reading its E record.
//
//	byte  0      payload version (2; version 1 payloads, written before the id was added,
//	             are still read: they end after the material and have no id)
//	byte  1      flags: 1 share known, 2 share is a range, 4 volume known, 8 validFrom set,
//	             16 validTo set, 32 range minimum exclusive, 64 range maximum exclusive
//	bytes 2–5    validFrom, days since 1970-01-01, int32
//	bytes 6–9    validTo, days since 1970-01-01, int32
//	bytes 10–17  share min, float64 bits
//	bytes 18–25  share max, float64 bits
//	bytes 26–33  properties.volumeTpa, float64 bits
//	byte  34     length of properties.material (truncated to 255 bytes)
//	bytes 35–    properties.material
//	then         uvarint length of the relationship id, the id (version 2)
type hot struct {
	flags    byte
	from, to int32
	min, max float64
	volume   float64
	material string
	id       string // "" in a version 1 payload
}

const (
	hotShare    = 1
	hotRange    = 2
	hotVolume   = 4
	hotFrom     = 8
	hotTo       = 16
	hotMinExcl  = 32
	hotMaxExcl  = 64
	hotVersion  = 2
	hotFixedLen = 35
)

func (h hot) encode() []byte {
	mat := h.material
	if len(mat) > 255 {
		mat = mat[:255]
	}
	b := make([]byte, 0, hotFixedLen+len(mat)+binary.MaxVarintLen64+len(h.id))
	b = append(b, hotVersion, h.flags)
	b = binary.BigEndian.AppendUint32(b, uint32(h.from))
	b = binary.BigEndian.AppendUint32(b, uint32(h.to))
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(h.min))
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(h.max))
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(h.volume))
	b = append(b, byte(len(mat)))
	b = append(b, mat...)
	b = binary.AppendUvarint(b, uint64(len(h.id)))
	return append(b, h.id...)
}

// decodeHot reads a version 1 or 2 payload; ok is false for anything else.
func decodeHot(b []byte) (h hot, ok bool) { return decodeHotID(b, true) }

// decodeHotID is decodeHot that leaves id empty, saving its allocation, unless withID.
func decodeHotID(b []byte, withID bool) (h hot, ok bool) {
	if len(b) < hotFixedLen || (b[0] != 1 && b[0] != hotVersion) || len(b) < hotFixedLen+int(b[34]) {
		return hot{}, false
	}
	end := hotFixedLen + int(b[34])
	h = hot{
		flags:    b[1],
		from:     int32(binary.BigEndian.Uint32(b[2:6])),
		to:       int32(binary.BigEndian.Uint32(b[6:10])),
		min:      math.Float64frombits(binary.BigEndian.Uint64(b[10:18])),
		max:      math.Float64frombits(binary.BigEndian.Uint64(b[18:26])),
		volume:   math.Float64frombits(binary.BigEndian.Uint64(b[26:34])),
		material: string(b[hotFixedLen:end]),
	}
	rest := b[end:]
	if b[0] == 1 {
		return h, len(rest) == 0
	}
	n, w := binary.Uvarint(rest)
	if w <= 0 || uint64(len(rest)-w) != n || (w > 1 && rest[w-1] == 0) { // 0 ends an overlong uvarint
		return hot{}, false
	}
	if withID {
		h.id = string(rest[w:])
	}
	return h, true
}

// hotMatches reports whether payload b is r's hot payload: the current encoding, or the
// version 1 one (no id, no exclusive-bound flags) that older binaries wrote.
func hotMatches(b []byte, r *Relationship) bool {
	want := hotOf(r)
	if bytes.Equal(b, want.encode()) {
		return true
	}
	got, ok := decodeHot(b)
	if !ok || b[0] != 1 {
		return false
	}
	want.id, want.flags = "", want.flags&^(hotMinExcl|hotMaxExcl)
	if len(want.material) > 255 {
		want.material = want.material[:255]
	}
	return got == want
}

// validOn reports whether the relationship holds on day d.
func (h hot) validOn(d int32) bool {
	return (h.flags&hotFrom == 0 || h.from <= d) && (h.flags&hotTo == 0 || h.to > d)
}

// hotOf derives the hot payload of r; volume and material come from its properties.
func hotOf(r *Relationship) hot { return hotOfProps(r, relProps(r.Properties)) }

// hotOfProps is hotOf with r's properties already read (relProps).
func hotOfProps(r *Relationship, p *relProperties) hot {
	h := hot{id: r.ID}
	if lo, hi, ok := r.ShareBounds(); ok {
		h.flags |= hotShare
		h.min, h.max = lo, hi
		if r.Share == nil {
			h.flags |= hotRange
			if r.ShareMinExclusive {
				h.flags |= hotMinExcl
			}
			if r.ShareMaxExclusive {
				h.flags |= hotMaxExcl
			}
		}
	}
	if !r.ValidFrom.IsZero() {
		h.flags |= hotFrom
		h.from = r.ValidFrom.days
	}
	if !r.ValidTo.IsZero() {
		h.flags |= hotTo
		h.to = r.ValidTo.days
	}
	if p != nil {
		if p.VolumeTpa != nil {
			h.flags |= hotVolume
			h.volume = *p.VolumeTpa
		}
		h.material = p.Material
	}
	return h
}

// arcOf turns a hot payload seen from one end into an arc.
func (h hot) arc(r RelID, typ string, other NodeID, out bool) arc {
	return arc{Rel: r, Type: typ, Other: other, Out: out,
		Known: h.flags&hotShare != 0, Min: h.min, Max: h.max,
		Volume: h.volume, HasVolume: h.flags&hotVolume != 0, Material: h.material,
		ID: h.id, flags: h.flags, validFrom: h.from, validTo: h.to}
}
