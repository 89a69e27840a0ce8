package ingest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lodestone-kg/lodestone/graph"
)

// FollowTheMoney (FtM) import reads entity JSON lines as OpenSanctions publishes them
// (entities.ftm.json): {"id","schema","properties":{"name":["…"],…},"datasets":[…],
// "referents":[…],"first_seen","last_seen","last_change","target"}, every property a
// list of strings. The mapping follows the FtM schema definitions
// (alephdata/followthemoney, followthemoney/schema/*.yaml):
//
//   - Node schemata (ftmNodeSchemata: LegalEntity, Company, Organization, PublicBody,
//     Person, Asset, Vessel, Airplane, Vehicle, RealEstate, Security, Position,
//     BankAccount, CryptoWallet: what edges and Sanctions point at) become
//     entities: id = the FtM id, kind = the schema, name = the first `name` (the id when
//     there is none), the other names and every `alias` as aliases, the first `country`
//     upper-cased as country (all of them kept in properties.country when there are
//     several or the first is not an ISO 3166-1 alpha-2 code, e.g. "suhh"), and the
//     identifier properties as identifiers, one per value, scheme by ftmIdentifierSchemes:
//     leiCode → LEI, wikidataId → WIKIDATA, registrationNumber → REGISTRATION_NUMBER,
//     innCode → INN, ogrnCode → OGRN, okpoCode → OKPO, swiftBic → SWIFT_BIC,
//     opencorporatesUrl → OPENCORPORATES, taxNumber → TAX_NUMBER, idNumber → ID_NUMBER.
//     Every other property is kept in properties as its list of strings.
//   - Edge schemata (ftmEdgeSchemata) become relationships, id = the FtM id, from the
//     edge's source property to its target property (Ownership: owner → asset, OWNS;
//     Directorship: director → organization, DIRECTORSHIP; Employment, Membership,
//     Family, Associate, Representation, Succession, Debt, Payment, Occupancy,
//     UnknownLink → the schema name in upper snake case). `startDate`/`endDate` are the
//     validity; Ownership's `percentage` is the share: a number of percent ("25",
//     "25.5 %") → share 0.25; a range ("25-50") → shareMin/shareMax; anything else
//     (words, a number outside 0..100) stays in properties.percentage and the share is
//     undisclosed. Other properties are kept as lists.
//   - Dates are ISO prefixes. A start is the first day of its period (2024 → 2024-01-01,
//     2024-05 → 2024-05-01). An end is exclusive in Lodestone (validTo is the first day
//     on which the relationship no longer holds): a full date is taken as written, as the
//     BODS and GLEIF importers do, and a prefix means "until the end of that period", so
//     endDate 2024 → validTo 2025-01-01 and 2024-05 → 2024-06-01. A time after the date is
//     ignored.
//   - A Sanction is not a record: it is added to the entity its `entity` property names,
//     as an element of properties.sanctions ({id, authority, program, startDate, endDate,
//     reason, sourceUrl, datasets, and any other property of the Sanction, each list of
//     values joined with "; "}), "sanction" is added to the entity's properties.topics,
//     and the Sanction's datasets to its sources. Sanctions may come before or after
//     their entity, in any file; a Sanction of an entity that is not in the import but in
//     the store updates the stored entity.
//   - Every dataset id becomes a source with id "ftm:<dataset>" and title <dataset>,
//     cited by the records of that dataset.
//   - first_seen, last_seen, last_change, referents and target are kept in properties as
//     ftm:first_seen, ftm:last_seen, ftm:last_change, ftm:referents and ftm:target.
//   - Other schemata (Address, Identification, Note, Document, ContractAward, …) are
//     skipped.
//
// Edges may come before their ends: like every format, the validator checks
// references against the whole import and the store once all lines are read. A line
// that is not a JSON object of this shape, lacks id or schema, has a date that is not an
// ISO prefix, or an edge without exactly one source and one target value, is EINVALID
// naming the file, the line and the field ("entities.ftm.json line 7:
// properties.startDate").
//
// The decoder streams: it reads the inputs twice (a scan that only parses lines naming
// "Sanction", then the mapping), holding the Sanctions and the dataset ids, never the
// entities.

// FormatFtM is the FollowTheMoney entity JSON lines format (import and export).
const FormatFtM = "ftm"

// ftmSourcePrefix prefixes the id of a dataset's source.
const ftmSourcePrefix = "ftm:"

// ftmNodeSchemata are the schemata imported as entities.
var ftmNodeSchemata = map[string]bool{
	"LegalEntity": true, "Company": true, "Organization": true, "PublicBody": true, "Person": true,
	"Asset": true, "Vessel": true, "Airplane": true, "Vehicle": true, "RealEstate": true,
	"Security": true, "Position": true, "BankAccount": true, "CryptoWallet": true,
}

// ftmEdge is an edge schema's source and target properties and the relationship type.
type ftmEdge struct{ source, target, typ string }

// ftmEdgeSchemata are the edge schemata imported as relationships, with their `edge:`
// source and target properties from the schema definitions.
var ftmEdgeSchemata = map[string]ftmEdge{
	"Ownership":      {"owner", "asset", graph.TypeOwns},
	"Directorship":   {"director", "organization", "DIRECTORSHIP"},
	"Employment":     {"employee", "employer", "EMPLOYMENT"},
	"Membership":     {"member", "organization", "MEMBERSHIP"},
	"Family":         {"person", "relative", "FAMILY"},
	"Associate":      {"person", "associate", "ASSOCIATE"},
	"Representation": {"agent", "client", "REPRESENTATION"},
	"Succession":     {"predecessor", "successor", "SUCCESSION"},
	"Debt":           {"debtor", "creditor", "DEBT"},
	"Payment":        {"payer", "beneficiary", "PAYMENT"},
	"Occupancy":      {"holder", "post", "OCCUPANCY"},
	"UnknownLink":    {"subject", "object", "UNKNOWN_LINK"},
}

// ftmIdentifierProps are the identifier properties, in the order identifiers are made.
var ftmIdentifierProps = []string{"leiCode", "wikidataId", "registrationNumber", "innCode", "ogrnCode",
	"okpoCode", "swiftBic", "opencorporatesUrl", "taxNumber", "idNumber"}

// ftmIdentifierSchemes names the identifier scheme of each identifier property.
var ftmIdentifierSchemes = map[string]string{
	"leiCode": "LEI", "wikidataId": "WIKIDATA", "registrationNumber": "REGISTRATION_NUMBER",
	"innCode": "INN", "ogrnCode": "OGRN", "okpoCode": "OKPO", "swiftBic": "SWIFT_BIC",
	"opencorporatesUrl": "OPENCORPORATES", "taxNumber": "TAX_NUMBER", "idNumber": "ID_NUMBER",
}

// ftmRecord is one FtM entity line.
type ftmRecord struct {
	ID         string              `json:"id"`
	Schema     string              `json:"schema"`
	Properties map[string][]string `json:"properties"`
	Datasets   []string            `json:"datasets,omitempty"`
	Referents  []string            `json:"referents,omitempty"`
	FirstSeen  string              `json:"first_seen,omitempty"`
	LastSeen   string              `json:"last_seen,omitempty"`
	LastChange string              `json:"last_change,omitempty"`
	Target     *bool               `json:"target,omitempty"`
}

// ftmSanction is a Sanction waiting for its entity.
type ftmSanction struct {
	file     string
	line     int
	raw      []byte
	entity   string
	value    map[string]any
	datasets []string
}

func decodeFtM(ctx context.Context, env *decodeEnv, inputs []*Input, emit func(*item) error) error {
	d := &ftmDecoder{env: env, sanctions: map[string][]*ftmSanction{}, sources: map[string]bool{}}
	for _, in := range inputs {
		if err := d.scanSanctions(ctx, in); err != nil {
			return err
		}
	}
	for _, in := range inputs {
		if err := d.file(ctx, in, emit); err != nil {
			return err
		}
	}
	return d.leftovers(ctx, emit)
}

type ftmDecoder struct {
	env       *decodeEnv
	sanctions map[string][]*ftmSanction // entity id → its Sanctions, in input order
	sources   map[string]bool           // dataset sources emitted
}

// ftmLines calls fn with each non-blank line of in (without its line end) and its number.
func ftmLines(ctx context.Context, rc io.Reader, fn func(line int, b []byte) error) error {
	br := bufio.NewReaderSize(rc, 1<<20)
	n := 0
	for {
		b, err := br.ReadBytes('\n')
		if len(b) > 0 {
			n++
			if n&1023 == 0 {
				if cerr := ctx.Err(); cerr != nil {
					return cerr
				}
			}
			if n == 1 {
				b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
			}
			b = bytes.TrimRight(b, "\r\n")
			if len(bytes.TrimSpace(b)) > 0 {
				if ferr := fn(n, b); ferr != nil {
					return ferr
				}
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// scanSanctions is the first pass: it collects the valid Sanctions of in. Errors are
// reported by the second pass.
func (d *ftmDecoder) scanSanctions(ctx context.Context, in *Input) error {
	rc, err := in.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	return ftmLines(ctx, rc, func(line int, b []byte) error {
		if !bytes.Contains(b, []byte(`"Sanction"`)) {
			return nil
		}
		rec, gerr := ftmParse(in.Name, line, b)
		if gerr != nil || rec.Schema != "Sanction" {
			return nil
		}
		s, gerr := ftmSanctionOf(in.Name, line, rec)
		if gerr != nil {
			return nil
		}
		s.raw = append([]byte(nil), b...)
		d.sanctions[s.entity] = append(d.sanctions[s.entity], s)
		return nil
	})
}

// ftmParse decodes one line.
func ftmParse(file string, line int, b []byte) (*ftmRecord, *graph.Error) {
	if !utf8.Valid(b) {
		return nil, rowError(file, line, "", "is not valid UTF-8")
	}
	var rec ftmRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			field := te.Field
			if field == "properties" {
				field = ftmBadProperty(b)
			}
			if field == "" {
				field = "(line)"
			}
			return nil, rowError(file, line, field, "is a JSON %s; FtM wants %s (every property is a list of strings)", te.Value, te.Type)
		}
		return nil, rowError(file, line, "", "is not a JSON object: %v", err)
	}
	if strings.TrimSpace(rec.ID) == "" {
		return nil, rowError(file, line, "id", "is missing; every FtM entity has an id")
	}
	if rec.Schema == "" {
		return nil, rowError(file, line, "schema", "is missing; every FtM entity names its schema")
	}
	return &rec, nil
}

// ftmBadProperty names the first property (in key order) of a line whose value is not a
// list of strings.
func ftmBadProperty(b []byte) string {
	var raw struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if json.Unmarshal(b, &raw) != nil {
		return "properties"
	}
	keys := make([]string, 0, len(raw.Properties))
	for k := range raw.Properties {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var vals []string
		if json.Unmarshal(raw.Properties[k], &vals) != nil {
			return "properties." + k
		}
	}
	return "properties"
}

func ftmSanctionOf(file string, line int, rec *ftmRecord) (*ftmSanction, *graph.Error) {
	ents := nonEmpty(rec.Properties["entity"])
	if len(ents) != 1 {
		return nil, rowError(file, line, "properties.entity", "has %d values; a Sanction names the one entity it sanctions", len(ents))
	}
	v := map[string]any{"id": rec.ID}
	for k, vals := range rec.Properties {
		if k == "entity" {
			continue
		}
		if vals = nonEmpty(vals); len(vals) > 0 {
			v[k] = strings.Join(vals, "; ")
		}
	}
	if len(rec.Datasets) > 0 {
		v["datasets"] = rec.Datasets
	}
	return &ftmSanction{file: file, line: line, entity: ents[0], value: v, datasets: rec.Datasets}, nil
}

// file is the second pass over one input.
func (d *ftmDecoder) file(ctx context.Context, in *Input, emit func(*item) error) error {
	rc, err := d.env.open(in)
	if err != nil {
		return err
	}
	defer rc.Close()
	return ftmLines(ctx, rc, func(line int, b []byte) error {
		d.env.progress.addRecords(1)
		raw := append([]byte(nil), b...)
		fail := func(gerr *graph.Error) error {
			return emit(&item{file: in.Name, line: line, raw: raw, err: gerr})
		}
		rec, gerr := ftmParse(in.Name, line, b)
		if gerr != nil {
			return fail(gerr)
		}
		if rec.Schema == "Sanction" {
			if _, gerr := ftmSanctionOf(in.Name, line, rec); gerr != nil {
				return fail(gerr)
			}
			return d.emitSources(in.Name, line, rec.Datasets, emit)
		}
		if ftmNodeSchemata[rec.Schema] {
			e, gerr := ftmEntity(in.Name, line, rec)
			if gerr != nil {
				return fail(gerr)
			}
			if err := d.emitSources(in.Name, line, rec.Datasets, emit); err != nil {
				return err
			}
			ss := d.sanctions[e.ID]
			delete(d.sanctions, e.ID)
			if err := d.emitSanctionSources(ss, emit); err != nil {
				return err
			}
			ftmAddSanctions(e, ss)
			return emit(&item{file: in.Name, line: line, raw: raw, rec: graph.Record{Entity: e}})
		}
		if edge, ok := ftmEdgeSchemata[rec.Schema]; ok {
			r, gerr := ftmRelationship(in.Name, line, rec, edge)
			if gerr != nil {
				return fail(gerr)
			}
			if err := d.emitSources(in.Name, line, rec.Datasets, emit); err != nil {
				return err
			}
			return emit(&item{file: in.Name, line: line, raw: raw, rec: graph.Record{Relationship: r}})
		}
		return nil // a schema Lodestone does not hold (Address, Note, …)
	})
}

func (d *ftmDecoder) emitSources(file string, line int, datasets []string, emit func(*item) error) error {
	for _, ds := range datasets {
		src := ftmSource(ds)
		if src == nil || d.sources[src.ID] {
			continue
		}
		d.sources[src.ID] = true
		if err := emit(&item{file: file, line: line, rec: graph.Record{Source: src}}); err != nil {
			return err
		}
	}
	return nil
}

func (d *ftmDecoder) emitSanctionSources(ss []*ftmSanction, emit func(*item) error) error {
	for _, s := range ss {
		if err := d.emitSources(s.file, s.line, s.datasets, emit); err != nil {
			return err
		}
	}
	return nil
}

// leftovers applies the Sanctions whose entity was not in the import to the stored
// entity, or reports them.
func (d *ftmDecoder) leftovers(ctx context.Context, emit func(*item) error) error {
	ids := make([]string, 0, len(d.sanctions))
	for id := range d.sanctions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		ss := d.sanctions[id]
		var e *graph.Entity
		if d.env.store != nil {
			got, err := d.env.store.Entity(ctx, id)
			if err != nil && graph.ErrorCode(err) != graph.ENOTFOUND {
				return err
			}
			e = got
		}
		first := ss[0]
		if e == nil {
			if err := emit(&item{file: first.file, line: first.line, raw: first.raw,
				err: rowError(first.file, first.line, "properties.entity", "%q is not an entity in the import or the store; add the sanctioned entity to the import", id)}); err != nil {
				return err
			}
			continue
		}
		if err := d.emitSanctionSources(ss, emit); err != nil {
			return err
		}
		cp := *e
		cp.Aliases = slices.Clone(e.Aliases)
		cp.Identifiers = slices.Clone(e.Identifiers)
		cp.Sources = slices.Clone(e.Sources)
		ftmAddSanctions(&cp, ss)
		if err := emit(&item{file: first.file, line: first.line, raw: first.raw, rec: graph.Record{Entity: &cp}}); err != nil {
			return err
		}
	}
	return nil
}

// ftmSource returns the source of a dataset id.
func ftmSource(dataset string) *graph.Source {
	dataset = strings.TrimSpace(dataset)
	if dataset == "" {
		return nil
	}
	return &graph.Source{ID: ftmSourcePrefix + dataset, Title: dataset}
}

// ftmAddSanctions adds ss to e's properties.sanctions and topics and their datasets to
// its sources, skipping Sanctions it already holds (same id).
func ftmAddSanctions(e *graph.Entity, ss []*ftmSanction) {
	if len(ss) == 0 {
		return
	}
	props := decodeProps(e.Properties)
	if props == nil {
		props = map[string]any{}
	}
	list, _ := props["sanctions"].([]any)
	have := map[string]bool{}
	for _, x := range list {
		if m, ok := x.(map[string]any); ok {
			if id, ok := m["id"].(string); ok {
				have[id] = true
			}
		}
	}
	for _, s := range ss {
		id, _ := s.value["id"].(string)
		if !have[id] {
			have[id] = true
			list = append(list, s.value)
		}
		for _, ds := range s.datasets {
			if src := ftmSource(ds); src != nil && !slices.Contains(e.Sources, src.ID) {
				e.Sources = append(e.Sources, src.ID)
			}
		}
	}
	props["sanctions"] = list
	topics := ftmStrings(props["topics"])
	if !slices.Contains(topics, "sanction") {
		topics = append(topics, "sanction")
	}
	props["topics"] = topics
	e.Properties = propsJSON(props)
}

// ftmStrings reads a property value as a list of strings.
func ftmStrings(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return []string{x}
	case []string:
		return x
	case []any:
		out := make([]string, 0, len(x))
		for _, y := range x {
			if s, ok := y.(string); ok {
				out = append(out, s)
			} else {
				b, _ := json.Marshal(y)
				out = append(out, string(b))
			}
		}
		return out
	}
	b, _ := json.Marshal(v)
	return []string{string(b)}
}

func ftmEntity(file string, line int, rec *ftmRecord) (*graph.Entity, *graph.Error) {
	e := &graph.Entity{ID: rec.ID, Kind: rec.Schema}
	props := map[string]any{}
	for k, vals := range rec.Properties {
		if vals = nonEmpty(vals); len(vals) > 0 {
			props[k] = vals
		}
	}
	names := nonEmpty(rec.Properties["name"])
	delete(props, "name")
	if len(names) == 0 {
		e.Name = rec.ID
	} else {
		e.Name = names[0]
	}
	seen := map[string]bool{e.Name: true}
	for _, a := range append(slices.Clone(names), nonEmpty(rec.Properties["alias"])...) {
		if !seen[a] {
			seen[a] = true
			e.Aliases = append(e.Aliases, a)
		}
	}
	delete(props, "alias")
	// properties.country keeps the list unless the country field says all of it.
	if cs := nonEmpty(rec.Properties["country"]); len(cs) > 0 {
		cc := strings.ToUpper(cs[0])
		if graph.ValidateEntity("", &graph.Entity{ID: "x", Kind: "x", Name: "x", Country: cc}) == nil {
			e.Country = cc
			if len(cs) == 1 {
				delete(props, "country")
			}
		}
	}
	for _, p := range ftmIdentifierProps {
		for _, v := range nonEmpty(rec.Properties[p]) {
			e.Identifiers = append(e.Identifiers, graph.Identifier{Scheme: ftmIdentifierSchemes[p], Value: v})
		}
		delete(props, p)
	}
	ftmMeta(props, rec)
	e.Properties = propsJSON(props)
	for _, ds := range rec.Datasets {
		if src := ftmSource(ds); src != nil && !slices.Contains(e.Sources, src.ID) {
			e.Sources = append(e.Sources, src.ID)
		}
	}
	if err := graph.ValidateEntity(rowPrefix(file, line), e); err != nil {
		return nil, err.(*graph.Error)
	}
	return e, nil
}

// ftmMeta keeps a record's statement metadata in props.
func ftmMeta(props map[string]any, rec *ftmRecord) {
	if len(rec.Referents) > 0 {
		props["ftm:referents"] = rec.Referents
	}
	for k, v := range map[string]string{"ftm:first_seen": rec.FirstSeen, "ftm:last_seen": rec.LastSeen, "ftm:last_change": rec.LastChange} {
		if v != "" {
			props[k] = v
		}
	}
	if rec.Target != nil {
		props["ftm:target"] = *rec.Target
	}
}

func ftmRelationship(file string, line int, rec *ftmRecord, edge ftmEdge) (*graph.Relationship, *graph.Error) {
	r := &graph.Relationship{ID: rec.ID, Type: edge.typ}
	props := map[string]any{}
	for k, vals := range rec.Properties {
		if vals = nonEmpty(vals); len(vals) > 0 {
			props[k] = vals
		}
	}
	for _, end := range []struct {
		prop string
		dst  *string
	}{{edge.source, &r.From}, {edge.target, &r.To}} {
		vals := nonEmpty(rec.Properties[end.prop])
		if len(vals) != 1 {
			return nil, rowError(file, line, "properties."+end.prop, "has %d values; a %s names exactly one %s", len(vals), rec.Schema, end.prop)
		}
		*end.dst = vals[0]
		delete(props, end.prop)
	}
	for _, d := range []struct {
		prop string
		end  bool
		dst  *graph.Date
	}{{"startDate", false, &r.ValidFrom}, {"endDate", true, &r.ValidTo}} {
		vals := nonEmpty(rec.Properties[d.prop])
		if len(vals) == 0 {
			continue
		}
		day, err := ftmDate(vals[0], d.end)
		if err != nil {
			return nil, rowError(file, line, "properties."+d.prop, "%q is not an ISO date or prefix (2024, 2024-05, 2024-05-17)", vals[0])
		}
		*d.dst = day
		if len(vals) == 1 {
			delete(props, d.prop)
		}
	}
	if pcs := nonEmpty(rec.Properties["percentage"]); len(pcs) == 1 && edge.typ == graph.TypeOwns {
		if lo, hi, ok := ftmPercentage(pcs[0]); ok {
			if lo == hi {
				r.Share = &lo
			} else {
				r.ShareMin, r.ShareMax = &lo, &hi
			}
			delete(props, "percentage")
		}
	}
	ftmMeta(props, rec)
	r.Properties = propsJSON(props)
	for _, ds := range rec.Datasets {
		if src := ftmSource(ds); src != nil && !slices.Contains(r.Sources, src.ID) {
			r.Sources = append(r.Sources, src.ID)
		}
	}
	if err := graph.ValidateRelationship(rowPrefix(file, line), r); err != nil {
		return nil, err.(*graph.Error)
	}
	return r, nil
}

var (
	ftmDateRe    = regexp.MustCompile(`^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:[T ].*)?$`)
	ftmPercentRe = regexp.MustCompile(`^\s*(\d+(?:[.,]\d+)?)\s*%?\s*(?:(?:-|–|to)\s*(\d+(?:[.,]\d+)?)\s*%?\s*)?$`)
)

// ftmDate reads an ISO date or prefix: the first day of its period, or for an end the
// first day after the period (a full date is taken as written).
func ftmDate(s string, end bool) (graph.Date, error) {
	m := ftmDateRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return graph.Date{}, fmt.Errorf("not a date")
	}
	if m[3] != "" {
		return graph.ParseDate(m[1] + "-" + m[2] + "-" + m[3])
	}
	y, _ := strconv.Atoi(m[1])
	mo := 1
	if m[2] != "" {
		mo, _ = strconv.Atoi(m[2])
		if mo < 1 || mo > 12 {
			return graph.Date{}, fmt.Errorf("not a month")
		}
	}
	if end {
		if m[2] == "" {
			y++
		} else if mo++; mo > 12 {
			y, mo = y+1, 1
		}
	}
	return graph.ParseDate(fmt.Sprintf("%04d-%02d-01", y, mo))
}

// ftmPercentage reads a percentage as fractions: "25" → 0.25, 0.25; "25-50" → 0.25, 0.5.
// ok is false for anything else, or values outside 0..100 %.
func ftmPercentage(s string) (lo, hi float64, ok bool) {
	m := ftmPercentRe.FindStringSubmatch(s)
	if m == nil {
		return 0, 0, false
	}
	parse := func(v string) (float64, bool) {
		f, err := strconv.ParseFloat(strings.ReplaceAll(v, ",", "."), 64)
		return f / 100, err == nil && f >= 0 && f <= 100
	}
	lo, ok = parse(m[1])
	if !ok {
		return 0, 0, false
	}
	hi = lo
	if m[2] != "" {
		if hi, ok = parse(m[2]); !ok || hi < lo {
			return 0, 0, false
		}
	}
	return lo, hi, true
}
