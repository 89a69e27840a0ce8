package ingest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lodestone-kg/lodestone/graph"
)

// CSV import reads neo4j-admin import style files. Each file is a node file (its header
// has an :ID column) or a relationship file (:START_ID and :END_ID); headers name their
// columns "name:type" with the neo4j types (int, long, short, byte, float, double,
// boolean, string, char, date, datetime, localdatetime, time, localtime, duration, point;
// "type[]" for an array whose elements are separated by ";"). :ID(group) and
// :START_ID(group) accept and ignore the id group; :IGNORE columns are skipped.
//
// Node rows become entities: :ID is the id, the first :LABEL the kind (further labels go
// to properties.labels; a "kind" column works too), and the columns name, country,
// aliases, identifiers ("SCHEME:VALUE" elements), sources, validFrom and validTo fill the
// entity's fields; every other column is a typed property. A row whose label is Source is
// a source: :ID, title, publisher, url, published.
//
// Relationship rows: :START_ID is from, :END_ID to, :TYPE the type; the columns id, share,
// shareMin, shareMax, shareMinExclusive, shareMaxExclusive, confidence, sources, validFrom
// and validTo fill the relationship's fields, every other column is a typed property.
// Shares are fractions (0.4 for 40 %). An empty cell means "absent".
type csvColumn struct {
	name  string // property or field name ("" for :ID etc.)
	role  string // "", ":ID", ":LABEL", ":START_ID", ":END_ID", ":TYPE", ":IGNORE"
	typ   string // neo4j type without []
	array bool
	head  string // the header cell as written
}

// field names the column in errors: its property name, or its role (":ID").
func (c *csvColumn) field() string {
	if c.name != "" {
		return c.name
	}
	return c.role
}

var csvTypes = map[string]bool{
	"int": true, "long": true, "short": true, "byte": true, "float": true, "double": true,
	"boolean": true, "string": true, "char": true, "date": true, "datetime": true,
	"localdatetime": true, "time": true, "localtime": true, "duration": true, "point": true,
}

func parseCSVHeader(file string, header []string) ([]csvColumn, error) {
	cols := make([]csvColumn, len(header))
	for i, h := range header {
		if !utf8.ValidString(h) {
			return nil, rowError(file, 1, fmt.Sprintf("column %d", i+1), "the header is not valid UTF-8")
		}
		c := csvColumn{head: h, typ: "string"}
		name, typ, hasType := strings.Cut(h, ":")
		name = strings.TrimSpace(name)
		if hasType {
			typ = strings.TrimSpace(typ)
			if j := strings.IndexByte(typ, '('); j >= 0 && strings.HasSuffix(typ, ")") {
				typ = typ[:j] // an id group: :ID(Company)
			}
			switch strings.ToUpper(typ) {
			case "ID", "LABEL", "START_ID", "END_ID", "TYPE", "IGNORE":
				c.role = ":" + strings.ToUpper(typ)
			default:
				t := strings.ToLower(typ)
				if a, ok := strings.CutSuffix(t, "[]"); ok {
					t, c.array = a, true
				}
				if !csvTypes[t] {
					return nil, rowError(file, 1, h, "%q is not a neo4j-admin type (int, long, float, double, boolean, string, date, datetime, …, or one of them with [])", typ)
				}
				c.typ = t
			}
		}
		c.name = name
		if c.role == "" && c.name == "" {
			return nil, rowError(file, 1, fmt.Sprintf("column %d", i+1), "has no name")
		}
		cols[i] = c
	}
	return cols, nil
}

// decodeCSV reads node and relationship files in the order given.
func decodeCSV(ctx context.Context, env *decodeEnv, inputs []*Input, emit func(*item) error) error {
	for _, in := range inputs {
		if err := decodeCSVFile(ctx, env, in, emit); err != nil {
			return err
		}
	}
	return nil
}

// bomSkipper drops a UTF-8 byte order mark at the start of r.
func bomSkipper(r io.Reader) io.Reader {
	br := bufio.NewReaderSize(r, 64<<10)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	return br
}

func decodeCSVFile(ctx context.Context, env *decodeEnv, in *Input, emit func(*item) error) error {
	rc, err := env.open(in)
	if err != nil {
		return err
	}
	defer rc.Close()
	cr := csv.NewReader(bomSkipper(rc))
	cr.FieldsPerRecord = 0
	header, err := cr.Read()
	if err == io.EOF {
		return rowError(in.Name, 1, "", "the file is empty; a CSV file starts with a header row")
	}
	if err != nil {
		return csvParseError(in.Name, err)
	}
	cols, err := parseCSVHeader(in.Name, header)
	if err != nil {
		return err
	}
	has := map[string]int{}
	for i, c := range cols {
		if c.role != "" {
			has[c.role] = i
		}
	}
	_, isNode := has[":ID"]
	_, hasStart := has[":START_ID"]
	_, hasEnd := has[":END_ID"]
	isRel := hasStart && hasEnd
	switch {
	case isNode && isRel:
		return rowError(in.Name, 1, "", "the header has both :ID and :START_ID/:END_ID; put nodes and relationships in separate files")
	case !isNode && !isRel:
		return rowError(in.Name, 1, "", "the header has neither an :ID column (a node file) nor :START_ID and :END_ID columns (a relationship file)")
	case isRel:
		if _, ok := has[":TYPE"]; !ok {
			return rowError(in.Name, 1, "", "a relationship file needs a :TYPE column")
		}
	}
	n := 0
	for {
		if n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		n++
		row, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		var it *item
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return err
			}
			it = &item{file: in.Name, line: pe.StartLine, raw: csvRaw(row), err: csvParseError(in.Name, err)}
			if errors.Is(pe.Err, csv.ErrFieldCount) {
				it.err = rowError(in.Name, pe.StartLine, "", "has %d fields but the header has %d (a truncated or broken line?)", len(row), len(cols))
			}
		} else {
			// FieldPos only after a record read without error: a broken one may have no
			// fields, and FieldPos(0) would panic.
			line, _ := cr.FieldPos(0)
			if isRel {
				it = csvRelationship(in.Name, line, cols, row)
			} else {
				it = csvNode(in.Name, line, cols, row)
			}
		}
		env.progress.addRecords(1)
		if err := emit(it); err != nil {
			return err
		}
	}
}

func csvParseError(file string, err error) *graph.Error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return rowError(file, pe.StartLine, "", "is not valid CSV: %v", pe.Err)
	}
	return rowError(file, 1, "", "is not valid CSV: %v", err)
}

func csvRaw(row []string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(row)
	w.Flush()
	return bytes.TrimRight(b.Bytes(), "\n")
}

// csvCell is one non-empty cell of a row.
type csvCell struct {
	col *csvColumn
	val string
}

// cells checks the row's cells for UTF-8 and returns the non-empty ones.
func csvCells(file string, line int, cols []csvColumn, row []string) ([]csvCell, *graph.Error) {
	out := make([]csvCell, 0, len(row))
	for i, v := range row {
		c := &cols[i]
		if !utf8.ValidString(v) {
			return nil, rowError(file, line, c.field(), "is not valid UTF-8 (at byte %d)", invalidUTF8At([]byte(v)))
		}
		if v == "" || c.role == ":IGNORE" {
			continue
		}
		out = append(out, csvCell{c, v})
	}
	return out, nil
}

func splitArray(v string) []string {
	parts := strings.Split(v, ";")
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// typedValue converts one cell to the JSON value of its column's type.
func typedValue(file string, line int, c *csvColumn, v string) (any, *graph.Error) {
	if c.array {
		var out []any
		for _, p := range strings.Split(v, ";") {
			x, err := scalarValue(file, line, c, p)
			if err != nil {
				return nil, err
			}
			out = append(out, x)
		}
		return out, nil
	}
	return scalarValue(file, line, c, v)
}

func scalarValue(file string, line int, c *csvColumn, v string) (any, *graph.Error) {
	switch c.typ {
	case "int", "long", "short", "byte":
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return nil, rowError(file, line, c.name, "%q is not an integer", v)
		}
		return n, nil
	case "float", "double":
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, rowError(file, line, c.name, "%q is not a number", v)
		}
		return f, nil
	case "boolean":
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, rowError(file, line, c.name, "%q is not true or false", v)
	case "date":
		if _, err := graph.ParseDate(strings.TrimSpace(v)); err != nil {
			return nil, rowError(file, line, c.name, "%q is not a date of the form YYYY-MM-DD", v)
		}
		return strings.TrimSpace(v), nil
	case "datetime":
		if _, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(v)); err != nil {
			return nil, rowError(file, line, c.name, "%q is not an RFC 3339 date-time", v)
		}
		return strings.TrimSpace(v), nil
	case "char":
		if utf8.RuneCountInString(v) != 1 {
			return nil, rowError(file, line, c.name, "%q is not one character", v)
		}
	}
	return v, nil
}

func cellDate(file string, line int, c *csvColumn, v string) (graph.Date, *graph.Error) {
	d, err := graph.ParseDate(strings.TrimSpace(v))
	if err != nil {
		return graph.Date{}, rowError(file, line, c.name, "%q is not a date of the form YYYY-MM-DD", v)
	}
	return d, nil
}

func cellFloat(file string, line int, c *csvColumn, v string) (*float64, *graph.Error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, rowError(file, line, c.name, "%q is not a number", v)
	}
	return &f, nil
}

func cellBool(file string, line int, c *csvColumn, v string) (bool, *graph.Error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, rowError(file, line, c.name, "%q is not true or false", v)
}

func propsJSON(props map[string]any) json.RawMessage {
	if len(props) == 0 {
		return nil
	}
	b, _ := json.Marshal(props)
	return b
}

func csvNode(file string, line int, cols []csvColumn, row []string) *item {
	it := &item{file: file, line: line, raw: csvRaw(row)}
	cells, gerr := csvCells(file, line, cols, row)
	if gerr != nil {
		it.err = gerr
		return it
	}
	var labels []string
	for _, c := range cells {
		if c.col.role == ":LABEL" {
			labels = append(labels, splitArray(c.val)...)
		}
	}
	if len(labels) > 0 && labels[0] == "Source" {
		return csvSource(it, cells)
	}
	e := &graph.Entity{}
	props := map[string]any{}
	fail := func(err *graph.Error) *item { it.err = err; return it }
	for _, c := range cells {
		col := c.col
		switch {
		case col.role == ":ID":
			e.ID = c.val
		case col.role != "": // :LABEL, read above
		case col.name == "name":
			e.Name = c.val
		case col.name == "kind":
			e.Kind = c.val
		case col.name == "country":
			e.Country = strings.TrimSpace(c.val)
		case col.name == "aliases":
			e.Aliases = splitArray(c.val)
		case col.name == "sources":
			e.Sources = splitArray(c.val)
		case col.name == "identifiers":
			for _, p := range splitArray(c.val) {
				scheme, value, ok := strings.Cut(p, ":")
				if !ok {
					return fail(rowError(file, line, col.name, "%q is not SCHEME:VALUE (e.g. LEI:5493001KJTIIGC8Y1R12)", p))
				}
				e.Identifiers = append(e.Identifiers, graph.Identifier{Scheme: scheme, Value: value})
			}
		case col.name == "validFrom" || col.name == "validTo":
			d, err := cellDate(file, line, col, c.val)
			if err != nil {
				return fail(err)
			}
			if col.name == "validFrom" {
				e.ValidFrom = d
			} else {
				e.ValidTo = d
			}
		default:
			v, err := typedValue(file, line, col, c.val)
			if err != nil {
				return fail(err)
			}
			props[col.name] = v
		}
	}
	if len(labels) > 0 {
		if e.Kind == "" {
			e.Kind = labels[0]
			labels = labels[1:]
		}
		if len(labels) > 0 {
			props["labels"] = labels
		}
	}
	e.Properties = propsJSON(props)
	it.rec.Entity = e
	return it
}

func csvSource(it *item, cells []csvCell) *item {
	s := &graph.Source{}
	for _, c := range cells {
		switch {
		case c.col.role == ":ID":
			s.ID = c.val
		case c.col.role != "":
		case c.col.name == "title":
			s.Title = c.val
		case c.col.name == "publisher":
			s.Publisher = c.val
		case c.col.name == "url":
			s.URL = c.val
		case c.col.name == "published":
			d, err := cellDate(it.file, it.line, c.col, c.val)
			if err != nil {
				it.err = err
				return it
			}
			s.Published = d
		default:
			it.err = rowError(it.file, it.line, c.col.name, "is not a field of a source (title, publisher, url, published)")
			return it
		}
	}
	it.rec.Source = s
	return it
}

func csvRelationship(file string, line int, cols []csvColumn, row []string) *item {
	it := &item{file: file, line: line, raw: csvRaw(row)}
	cells, gerr := csvCells(file, line, cols, row)
	if gerr != nil {
		it.err = gerr
		return it
	}
	r := &graph.Relationship{}
	props := map[string]any{}
	fail := func(err *graph.Error) *item { it.err = err; return it }
	for _, c := range cells {
		col := c.col
		var err *graph.Error
		switch {
		case col.role == ":START_ID":
			r.From = c.val
		case col.role == ":END_ID":
			r.To = c.val
		case col.role == ":TYPE":
			r.Type = strings.TrimSpace(c.val)
		case col.role != "":
		case col.name == "id":
			r.ID = c.val
		case col.name == "share":
			r.Share, err = cellFloat(file, line, col, c.val)
		case col.name == "shareMin":
			r.ShareMin, err = cellFloat(file, line, col, c.val)
		case col.name == "shareMax":
			r.ShareMax, err = cellFloat(file, line, col, c.val)
		case col.name == "confidence":
			r.Confidence, err = cellFloat(file, line, col, c.val)
		case col.name == "shareMinExclusive":
			r.ShareMinExclusive, err = cellBool(file, line, col, c.val)
		case col.name == "shareMaxExclusive":
			r.ShareMaxExclusive, err = cellBool(file, line, col, c.val)
		case col.name == "sources":
			r.Sources = splitArray(c.val)
		case col.name == "validFrom":
			r.ValidFrom, err = cellDate(file, line, col, c.val)
		case col.name == "validTo":
			r.ValidTo, err = cellDate(file, line, col, c.val)
		default:
			var v any
			v, err = typedValue(file, line, col, c.val)
			props[col.name] = v
		}
		if err != nil {
			return fail(err)
		}
	}
	r.Properties = propsJSON(props)
	it.rec.Relationship = r
	return it
}
