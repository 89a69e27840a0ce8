package ingest

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lodestone-kg/lodestone/graph"
)

// GLEIF Level 2 import reads the relationship-record (RR) golden-copy CSV, mapping its
// columns by name (any order; unknown columns are ignored):
//
//   - Relationship.StartNode.NodeID (the child) and Relationship.EndNode.NodeID (the
//     parent) become a relationship from child to parent whose type is
//     Relationship.RelationshipType with "-" as "_" (IS_DIRECTLY_CONSOLIDATED_BY,
//     IS_ULTIMATELY_CONSOLIDATED_BY, IS_INTERNATIONAL_BRANCH_OF, IS_FUND_MANAGED_BY,
//     IS_SUBFUND_OF, IS_FEEDER_TO): consolidation is not OWNS. Its id is derived from type
//     and ends (graph.RelationshipID), so a newer golden copy updates it.
//   - The period whose Relationship.Period.N.periodType is RELATIONSHIP_PERIOD, in
//     whichever slot N it is, gives validFrom/validTo (the date part as written);
//     accounting and filing periods are not validity.
//   - A quantifier with QuantifierUnits PERCENTAGE gives the share (amount / 100).
//   - Status, accounting standard, measurement method and the Registration.* columns
//     are kept in properties.
//   - Each node is resolved to an entity: one with the identifier LEI:<id> (the first,
//     when several carry it), else the entity whose id is the LEI; when neither exists a
//     stub entity (id = LEI, kind Company, name = LEI, identifier LEI, properties.gleifStub)
//     is created. An existing entity is never overwritten; a stub is re-sent unchanged.
//   - Every row cites one source per file: "GLEIF Level 2 relationship records (FILE)".
//
// The literal NULL is read as an empty cell.
const (
	gleifStart     = "Relationship.StartNode.NodeID"
	gleifStartType = "Relationship.StartNode.NodeIDType"
	gleifEnd       = "Relationship.EndNode.NodeID"
	gleifEndType   = "Relationship.EndNode.NodeIDType"
	gleifType      = "Relationship.RelationshipType"
	gleifStatus    = "Relationship.RelationshipStatus"
)

var gleifTypes = map[string]bool{
	"IS_DIRECTLY_CONSOLIDATED_BY": true, "IS_ULTIMATELY_CONSOLIDATED_BY": true,
	"IS_INTERNATIONAL_BRANCH_OF": true, "IS_FUND_MANAGED_BY": true, "IS_SUBFUND_OF": true,
	"IS_FEEDER_TO": true,
}

var (
	gleifPeriodCol     = regexp.MustCompile(`^Relationship\.Period\.(\d+)\.(startDate|endDate|periodType)$`)
	gleifQuantifierCol = regexp.MustCompile(`^Relationship\.Quantifiers\.(\d+)\.(MeasurementMethod|QuantifierAmount|QuantifierUnits)$`)
	gleifQualifierCol  = regexp.MustCompile(`^Relationship\.Qualifiers\.(\d+)\.(QualifierDimension|QualifierCategory)$`)
	gleifDate          = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}`)
)

// gleifStubKind etc. describe the entities created for LEIs the store does not know.
const gleifStubKind = "Company"

func decodeGLEIF(ctx context.Context, env *decodeEnv, inputs []*Input, emit func(*item) error) error {
	g := &gleifDecoder{env: env, ids: map[string]string{}}
	for _, in := range inputs {
		if err := g.file(ctx, in, emit); err != nil {
			return err
		}
	}
	return nil
}

// gleifDecoder reads GLEIF RR golden-copy files, one after the other, resolving LEIs to
// entities across all of them.
type gleifDecoder struct {
	env *decodeEnv
	ids map[string]string // LEI → entity id ("" while a stub is pending)
}

// file decodes one golden-copy CSV: its header (gleifHeader), a source naming the file,
// then one relationship per row (row). A row that cannot be read is emitted as an item
// with its error, naming the file, the line and the column; ctx is checked every 1,024
// rows. It returns emit's first error, a read error, or ctx's.
func (g *gleifDecoder) file(ctx context.Context, in *Input, emit func(*item) error) error {
	rc, err := g.env.open(in)
	if err != nil {
		return err
	}
	defer rc.Close()
	cr := csv.NewReader(bomSkipper(rc))
	header, err := cr.Read()
	if err == io.EOF {
		return rowError(in.Name, 1, "", "the file is empty; a GLEIF RR golden copy starts with a header row")
	}
	if err != nil {
		return csvParseError(in.Name, err)
	}
	cols, err := gleifHeader(in.Name, header)
	if err != nil {
		return err
	}
	src := gleifSource(in.Name)
	if err := emit(&item{file: in.Name, line: 1, rec: graph.Record{Source: src}}); err != nil {
		return err
	}
	n := 0
	for {
		if n++; n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		row, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		g.env.progress.addRecords(1)
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return err
			}
			it := &item{file: in.Name, line: pe.StartLine, raw: csvRaw(row), err: csvParseError(in.Name, err)}
			if errors.Is(pe.Err, csv.ErrFieldCount) {
				it.err = rowError(in.Name, pe.StartLine, "", "has %d fields but the header has %d (a truncated or broken line?)", len(row), len(header))
			}
			if err := emit(it); err != nil {
				return err
			}
			continue
		}
		// FieldPos only after a record read without error: a broken one may have no
		// fields, and FieldPos(0) would panic.
		line, _ := cr.FieldPos(0)
		if err := g.row(ctx, in.Name, line, cols, gleifRecord(row), src.ID, emit); err != nil {
			return err
		}
	}
}

// gleifColumns is where a golden copy's header puts each column: by name, and the
// numbered slots of periods, quantifiers and qualifiers (-1 for a column it lacks).
type gleifColumns struct {
	header  []string
	byName  map[string]int
	periods map[int]*gleifPeriodSlot
	quants  map[int]*gleifQuantSlot
	quals   map[int][2]int // dimension, category
}

// gleifPeriodSlot holds the columns of Relationship.Period.N.
type gleifPeriodSlot struct{ start, end, typ int }

// gleifQuantSlot holds the columns of Relationship.Quantifiers.N.
type gleifQuantSlot struct{ method, amount, units int }

// gleifHeader reads the header row of file: the columns by name and the numbered slots.
// It refuses, naming file, a header without the start, end and type columns.
func gleifHeader(file string, header []string) (*gleifColumns, error) {
	c := &gleifColumns{header: header, byName: map[string]int{}, periods: map[int]*gleifPeriodSlot{},
		quants: map[int]*gleifQuantSlot{}, quals: map[int][2]int{}}
	for i, h := range header {
		h = strings.TrimSpace(h)
		c.byName[h] = i
		if m := gleifPeriodCol.FindStringSubmatch(h); m != nil {
			n, _ := strconv.Atoi(m[1])
			if c.periods[n] == nil {
				c.periods[n] = &gleifPeriodSlot{-1, -1, -1}
			}
			switch m[2] {
			case "startDate":
				c.periods[n].start = i
			case "endDate":
				c.periods[n].end = i
			default:
				c.periods[n].typ = i
			}
		}
		if m := gleifQuantifierCol.FindStringSubmatch(h); m != nil {
			n, _ := strconv.Atoi(m[1])
			if c.quants[n] == nil {
				c.quants[n] = &gleifQuantSlot{-1, -1, -1}
			}
			switch m[2] {
			case "MeasurementMethod":
				c.quants[n].method = i
			case "QuantifierAmount":
				c.quants[n].amount = i
			default:
				c.quants[n].units = i
			}
		}
		if m := gleifQualifierCol.FindStringSubmatch(h); m != nil {
			n, _ := strconv.Atoi(m[1])
			q, ok := c.quals[n]
			if !ok {
				q = [2]int{-1, -1}
			}
			if m[2] == "QualifierDimension" {
				q[0] = i
			} else {
				q[1] = i
			}
			c.quals[n] = q
		}
	}
	for _, need := range []string{gleifStart, gleifEnd, gleifType} {
		if _, ok := c.byName[need]; !ok {
			return nil, rowError(file, 1, "", "the header has no %s column; is this a GLEIF RR golden-copy CSV?", need)
		}
	}
	return c, nil
}

// gleifSource is the source every relationship of file cites.
func gleifSource(file string) *graph.Source {
	src := &graph.Source{Title: fmt.Sprintf("GLEIF Level 2 relationship records (%s)", file), Publisher: "GLEIF",
		URL: "https://www.gleif.org/en/lei-data/gleif-golden-copy"}
	src.ID = graph.SourceID(src)
	return src
}

// gleifRecord is one record of a golden copy.
type gleifRecord []string

// get returns the trimmed cell i, "" for a missing cell or GLEIF's NULL.
func (r gleifRecord) get(i int) string {
	if i < 0 || i >= len(r) {
		return ""
	}
	v := strings.TrimSpace(r[i])
	if v == "NULL" {
		return ""
	}
	return v
}

// named returns the cell of the column name, as get does ("" when there is none).
func (r gleifRecord) named(c *gleifColumns, name string) string {
	i, ok := c.byName[name]
	if !ok {
		return ""
	}
	return r.get(i)
}

// gleifFault is what is wrong with a row: the column and the message.
type gleifFault struct{ field, msg string }

func gleifFaultf(field, format string, args ...any) *gleifFault {
	return &gleifFault{field: field, msg: fmt.Sprintf(format, args...)}
}

// row decodes one row into a relationship citing source and emits it, after a stub
// entity for each end whose LEI the store and the files so far do not know. A row
// that is wrong is emitted as an item with its error, and nothing else of it; row
// returns only emit's errors and resolve's.
func (g *gleifDecoder) row(ctx context.Context, file string, line int, cols *gleifColumns, row gleifRecord, source string, emit func(*item) error) error {
	it := &item{file: file, line: line, raw: csvRaw(row)}
	reject := func(f *gleifFault) error {
		it.err = rowError(file, line, f.field, "%s", f.msg)
		return emit(it)
	}
	r := &graph.Relationship{Sources: []string{source}}
	props := map[string]any{}
	for _, step := range []func() *gleifFault{
		func() *gleifFault { return cols.checkUTF8(row) },
		func() *gleifFault { return cols.relationshipType(row, r) },
		func() *gleifFault { return cols.validity(row, r) },
		func() *gleifFault { return cols.quantity(row, r, props) },
	} {
		if f := step(); f != nil {
			return reject(f)
		}
	}
	cols.properties(row, props)
	r.Properties = propsJSON(props)
	for _, end := range []struct {
		id, idType, field string
		dst               *string
	}{{row.named(cols, gleifStart), row.named(cols, gleifStartType), gleifStart, &r.From}, {row.named(cols, gleifEnd), row.named(cols, gleifEndType), gleifEnd, &r.To}} {
		if end.id == "" {
			return reject(gleifFaultf(end.field, "is empty"))
		}
		id, stub, err := g.resolve(ctx, end.id, end.idType, source)
		if err != nil {
			return err
		}
		if stub != nil {
			if err := emit(&item{file: file, line: line, rec: graph.Record{Entity: stub}, raw: it.raw}); err != nil {
				return err
			}
		}
		*end.dst = id
	}
	it.rec.Relationship = r
	return emit(it)
}

// checkUTF8 names the first column of row that is not valid UTF-8.
func (c *gleifColumns) checkUTF8(row gleifRecord) *gleifFault {
	for i, v := range row {
		if !utf8.ValidString(v) {
			return gleifFaultf(c.header[i], "is not valid UTF-8")
		}
	}
	return nil
}

// relationshipType sets r.Type from the row's RelationshipType (IS_FUND-MANAGED_BY is
// written IS_FUND_MANAGED_BY), refusing a type GLEIF does not define.
func (c *gleifColumns) relationshipType(row gleifRecord, r *graph.Relationship) *gleifFault {
	v := row.named(c, gleifType)
	typ := strings.ToUpper(strings.ReplaceAll(v, "-", "_"))
	if !gleifTypes[typ] {
		return gleifFaultf(gleifType, "%q is not a GLEIF relationship type (IS_DIRECTLY_CONSOLIDATED_BY, IS_ULTIMATELY_CONSOLIDATED_BY, IS_INTERNATIONAL_BRANCH_OF, IS_FUND-MANAGED_BY, IS_SUBFUND_OF, IS_FEEDER_TO)", v)
	}
	r.Type = typ
	return nil
}

// validity sets r.ValidFrom and r.ValidTo from the first period slot, in slot order,
// whose type is RELATIONSHIP_PERIOD; other periods are ignored.
func (c *gleifColumns) validity(row gleifRecord, r *graph.Relationship) *gleifFault {
	for _, p := range sortedKeys(c.periods) {
		s := c.periods[p]
		if !strings.EqualFold(row.get(s.typ), "RELATIONSHIP_PERIOD") {
			continue
		}
		for _, d := range []struct {
			idx int
			dst *graph.Date
			sub string
		}{{s.start, &r.ValidFrom, "startDate"}, {s.end, &r.ValidTo, "endDate"}} {
			v := row.get(d.idx)
			if v == "" {
				continue
			}
			day, err := gleifDay(v)
			if err != nil {
				return gleifFaultf(fmt.Sprintf("Relationship.Period.%d.%s", p, d.sub), "%q is not a date (YYYY-MM-DD, optionally with a time)", v)
			}
			*d.dst = day
		}
		return nil
	}
	return nil
}

// quantity sets r.Share from the first quantifier slot, in slot order, that holds a
// percentage (0..100); a quantifier in other units is kept in props as "amount units",
// and the measurement method of any quantifier read as props.measurementMethod.
func (c *gleifColumns) quantity(row gleifRecord, r *graph.Relationship, props map[string]any) *gleifFault {
	for _, q := range sortedKeys(c.quants) {
		s := c.quants[q]
		amount, units := row.get(s.amount), row.get(s.units)
		if amount == "" {
			continue
		}
		field := fmt.Sprintf("Relationship.Quantifiers.%d.QuantifierAmount", q)
		f, err := strconv.ParseFloat(amount, 64)
		if err != nil {
			return gleifFaultf(field, "%q is not a number", amount)
		}
		if m := row.get(s.method); m != "" {
			props["measurementMethod"] = m
		}
		if units != "" && !strings.EqualFold(units, "PERCENTAGE") {
			props["quantifier"] = amount + " " + units
			continue
		}
		if f < 0 || f > 100 {
			return gleifFaultf(field, "%s %% is outside 0..100 %%", amount)
		}
		share := f / 100
		r.Share = &share
		return nil
	}
	return nil
}

// properties copies into props the first qualifier's accounting standard, the
// relationship status and the registration columns.
func (c *gleifColumns) properties(row gleifRecord, props map[string]any) {
	for _, q := range sortedKeys(c.quals) {
		if v := row.get(c.quals[q][1]); v != "" {
			props["accountingStandard"] = v
			break
		}
	}
	if s := row.named(c, gleifStatus); s != "" {
		props["relationshipStatus"] = s
	}
	for _, name := range []string{"InitialRegistrationDate", "LastUpdateDate", "RegistrationStatus", "NextRenewalDate", "ManagingLOU", "ValidationSources", "ValidationDocuments", "ValidationReference"} {
		if v := row.named(c, "Registration."+name); v != "" {
			props["registration"+name] = v
		}
	}
}

// gleifDay reads the date part of a GLEIF date or date-time ("2012-11-29T00:00:00.000Z").
func gleifDay(v string) (graph.Date, error) {
	if !gleifDate.MatchString(v) || (len(v) > 10 && v[10] != 'T' && v[10] != ' ') {
		return graph.Date{}, fmt.Errorf("not a date")
	}
	return graph.ParseDate(v[:10])
}

// resolve returns the entity id of a GLEIF node, and a stub entity to write when the
// store has none (only the first time an LEI is seen in this import).
func (g *gleifDecoder) resolve(ctx context.Context, id, idType, source string) (string, *graph.Entity, error) {
	if got, ok := g.ids[id]; ok {
		return got, nil, nil
	}
	scheme := "LEI"
	if idType != "" && !strings.EqualFold(idType, "LEI") {
		scheme = idType
	}
	if g.env.store != nil {
		ents, err := g.env.store.EntitiesByIdentifier(ctx, scheme, id)
		if err != nil {
			return "", nil, err
		}
		for _, e := range ents {
			if !isGLEIFStub(e) {
				g.ids[id] = e.ID
				return e.ID, nil, nil
			}
		}
		e, err := g.env.store.Entity(ctx, id)
		if err != nil && graph.ErrorCode(err) != graph.ENOTFOUND {
			return "", nil, err
		}
		if e != nil && !isGLEIFStub(e) {
			g.ids[id] = e.ID
			return e.ID, nil, nil
		}
	}
	g.ids[id] = id
	return id, &graph.Entity{ID: id, Kind: gleifStubKind, Name: id,
		Identifiers: []graph.Identifier{{Scheme: scheme, Value: id}},
		Properties:  []byte(`{"gleifStub":true}`), Sources: []string{source}}, nil
}

func isGLEIFStub(e *graph.Entity) bool {
	return strings.Contains(string(e.Properties), `"gleifStub":true`)
}

func sortedKeys[V any](m map[int]V) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
