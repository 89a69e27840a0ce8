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

type gleifDecoder struct {
	env *decodeEnv
	ids map[string]string // LEI → entity id ("" while a stub is pending)
}

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
	col := map[string]int{}
	type slot struct{ start, end, typ int }
	periods := map[int]*slot{}
	type qslot struct{ method, amount, units int }
	quants := map[int]*qslot{}
	quals := map[int][2]int{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		col[h] = i
		if m := gleifPeriodCol.FindStringSubmatch(h); m != nil {
			n, _ := strconv.Atoi(m[1])
			if periods[n] == nil {
				periods[n] = &slot{-1, -1, -1}
			}
			switch m[2] {
			case "startDate":
				periods[n].start = i
			case "endDate":
				periods[n].end = i
			default:
				periods[n].typ = i
			}
		}
		if m := gleifQuantifierCol.FindStringSubmatch(h); m != nil {
			n, _ := strconv.Atoi(m[1])
			if quants[n] == nil {
				quants[n] = &qslot{-1, -1, -1}
			}
			switch m[2] {
			case "MeasurementMethod":
				quants[n].method = i
			case "QuantifierAmount":
				quants[n].amount = i
			default:
				quants[n].units = i
			}
		}
		if m := gleifQualifierCol.FindStringSubmatch(h); m != nil {
			n, _ := strconv.Atoi(m[1])
			q, ok := quals[n]
			if !ok {
				q = [2]int{-1, -1}
			}
			if m[2] == "QualifierDimension" {
				q[0] = i
			} else {
				q[1] = i
			}
			quals[n] = q
		}
	}
	for _, need := range []string{gleifStart, gleifEnd, gleifType} {
		if _, ok := col[need]; !ok {
			return rowError(in.Name, 1, "", "the header has no %s column; is this a GLEIF RR golden-copy CSV?", need)
		}
	}
	src := &graph.Source{Title: fmt.Sprintf("GLEIF Level 2 relationship records (%s)", in.Name), Publisher: "GLEIF",
		URL: "https://www.gleif.org/en/lei-data/gleif-golden-copy"}
	src.ID = graph.SourceID(src)
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
		get := func(i int) string {
			if i < 0 || i >= len(row) {
				return ""
			}
			v := strings.TrimSpace(row[i])
			if v == "NULL" {
				return ""
			}
			return v
		}
		byName := func(name string) string {
			i, ok := col[name]
			if !ok {
				return ""
			}
			return get(i)
		}
		it := &item{file: in.Name, line: line, raw: csvRaw(row)}
		fail := func(field, format string, args ...any) error {
			it.err = rowError(in.Name, line, field, format, args...)
			return emit(it)
		}
		bad := ""
		for i, v := range row {
			if !utf8.ValidString(v) {
				bad = header[i]
				break
			}
		}
		if bad != "" {
			if err := fail(bad, "is not valid UTF-8"); err != nil {
				return err
			}
			continue
		}
		r := &graph.Relationship{Sources: []string{src.ID}}
		typ := strings.ToUpper(strings.ReplaceAll(byName(gleifType), "-", "_"))
		if !gleifTypes[typ] {
			if err := fail(gleifType, "%q is not a GLEIF relationship type (IS_DIRECTLY_CONSOLIDATED_BY, IS_ULTIMATELY_CONSOLIDATED_BY, IS_INTERNATIONAL_BRANCH_OF, IS_FUND-MANAGED_BY, IS_SUBFUND_OF, IS_FEEDER_TO)", byName(gleifType)); err != nil {
				return err
			}
			continue
		}
		r.Type = typ
		props := map[string]any{}
		var rowErr error
		for _, p := range sortedKeys(periods) {
			s := periods[p]
			if !strings.EqualFold(get(s.typ), "RELATIONSHIP_PERIOD") {
				continue
			}
			for _, d := range []struct {
				idx int
				dst *graph.Date
				sub string
			}{{s.start, &r.ValidFrom, "startDate"}, {s.end, &r.ValidTo, "endDate"}} {
				v := get(d.idx)
				if v == "" {
					continue
				}
				day, err := gleifDay(v)
				if err != nil {
					rowErr = fail(fmt.Sprintf("Relationship.Period.%d.%s", p, d.sub), "%q is not a date (YYYY-MM-DD, optionally with a time)", v)
					break
				}
				*d.dst = day
			}
			break
		}
		if it.err != nil {
			if rowErr != nil {
				return rowErr
			}
			continue
		}
		for _, q := range sortedKeys(quants) {
			s := quants[q]
			amount, units := get(s.amount), get(s.units)
			if amount == "" {
				continue
			}
			field := fmt.Sprintf("Relationship.Quantifiers.%d.QuantifierAmount", q)
			f, err := strconv.ParseFloat(amount, 64)
			if err != nil {
				rowErr = fail(field, "%q is not a number", amount)
				break
			}
			if m := get(s.method); m != "" {
				props["measurementMethod"] = m
			}
			if units != "" && !strings.EqualFold(units, "PERCENTAGE") {
				props["quantifier"] = amount + " " + units
				continue
			}
			if f < 0 || f > 100 {
				rowErr = fail(field, "%s %% is outside 0..100 %%", amount)
				break
			}
			share := f / 100
			r.Share = &share
			break
		}
		if it.err != nil {
			if rowErr != nil {
				return rowErr
			}
			continue
		}
		for _, q := range sortedKeys(quals) {
			if c := get(quals[q][1]); c != "" {
				props["accountingStandard"] = c
				break
			}
		}
		if s := byName(gleifStatus); s != "" {
			props["relationshipStatus"] = s
		}
		for _, c := range []string{"InitialRegistrationDate", "LastUpdateDate", "RegistrationStatus", "NextRenewalDate", "ManagingLOU", "ValidationSources", "ValidationDocuments", "ValidationReference"} {
			if v := byName("Registration." + c); v != "" {
				props["registration"+c] = v
			}
		}
		r.Properties = propsJSON(props)
		var err2 error
		for _, end := range []struct {
			id, idType, field string
			dst               *string
		}{{byName(gleifStart), byName(gleifStartType), gleifStart, &r.From}, {byName(gleifEnd), byName(gleifEndType), gleifEnd, &r.To}} {
			if end.id == "" {
				err2 = fail(end.field, "is empty")
				break
			}
			id, stub, err := g.resolve(ctx, end.id, end.idType, src.ID)
			if err != nil {
				return err
			}
			if stub != nil {
				if err := emit(&item{file: in.Name, line: line, rec: graph.Record{Entity: stub}, raw: it.raw}); err != nil {
					return err
				}
			}
			*end.dst = id
		}
		if it.err != nil {
			if err2 != nil {
				return err2
			}
			continue
		}
		it.rec.Relationship = r
		if err := emit(it); err != nil {
			return err
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
