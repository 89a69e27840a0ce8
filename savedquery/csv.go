package savedquery

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// CSV output of a query result, for analysts' spreadsheets.
//
// WriteCSV flattens the first list of a GraphQL result's data (the first array met in a
// depth-first walk that follows the document's field order) into one row per element,
// with a header row:
//
//   - nested objects become dotted columns: {"from": {"name": "x"}} is the column from.name;
//   - lists inside a row are joined with "; ", column by column: the names of a path's
//     entities become one cell "A; B; C" (an item without the column adds an empty
//     part, so that parts line up across columns);
//   - null is an empty cell, booleans are true/false, numbers are written as JSON wrote
//     them, strings as they are;
//   - columns appear in the order they are first met; a row without a column leaves it
//     empty.
//
// Data without any list becomes one row of its flattened fields. Cells are quoted as
// RFC 4180 says (a cell holding a comma, a quote, a line break or leading space is
// quoted, quotes doubled; a line of one empty cell is "" so that readers keep it); rows end with "\n", and line breaks inside cells are kept as
// they are. Text that a spreadsheet would run as a formula is defused, in the header as in
// the values (neutralizeFormula). The text is UTF-8 (no byte-order mark).

// listJoin separates the items of a list inside one cell.
const listJoin = "; "

// orderedObject is a JSON object that remembers its key order.
type orderedObject struct {
	keys []string
	vals map[string]any
}

// decodeOrdered decodes one JSON value, keeping object key order; numbers are
// json.Number.
func decodeOrdered(dec *json.Decoder, depth int) (any, error) {
	if depth > maxNesting {
		return nil, errors.New("the result is nested too deeply for CSV")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			obj := &orderedObject{vals: map[string]any{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := decodeOrdered(dec, depth+1)
				if err != nil {
					return nil, err
				}
				if _, dup := obj.vals[k]; !dup {
					obj.keys = append(obj.keys, k)
				}
				obj.vals[k] = v
			}
			_, err := dec.Token() // }
			return obj, err
		case '[':
			list := []any{}
			for dec.More() {
				v, err := decodeOrdered(dec, depth+1)
				if err != nil {
					return nil, err
				}
				list = append(list, v)
			}
			_, err := dec.Token() // ]
			return list, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	}
	return tok, nil
}

// csvTable is the flattened result: the columns in order and the rows.
type csvTable struct {
	cols  []string
	index map[string]bool
	rows  []*rowBuilder
}

func (t *csvTable) addCol(c string) {
	if !t.index[c] {
		t.index[c] = true
		t.cols = append(t.cols, c)
	}
}

// rowBuilder collects the cells of one row in column order; a cell holds one value per
// list item, joined when the row is done.
type rowBuilder struct {
	cols  []string
	cells map[string][]string
}

func newRow() *rowBuilder { return &rowBuilder{cells: map[string][]string{}} }

// add appends a value to a cell: the first value sets it, later ones (list items) are
// joined to it; without join a later value replaces it.
func (r *rowBuilder) add(col, val string, join bool) {
	old, ok := r.cells[col]
	switch {
	case !ok:
		r.cols = append(r.cols, col)
		r.cells[col] = []string{val}
	case join:
		r.cells[col] = append(old, val)
	default:
		r.cells[col] = []string{val}
	}
}

// cell returns the text of a cell.
func (r *rowBuilder) cell(col string) string { return strings.Join(r.cells[col], listJoin) }

func joinCol(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// flatten adds v's cells to r under prefix.
func flatten(r *rowBuilder, prefix string, v any, depth int) {
	if depth > maxNesting {
		return
	}
	switch x := v.(type) {
	case *orderedObject:
		for _, k := range x.keys {
			flatten(r, joinCol(prefix, k), x.vals[k], depth+1)
		}
	case []any:
		// Each item flattens on its own; their cells join the row's column by column, an
		// item without a column adding an empty part, so that the n-th part of every
		// joined cell comes from the n-th item.
		subs := make([]*rowBuilder, len(x))
		var cols []string
		seen := map[string]bool{}
		for i, item := range x {
			subs[i] = newRow()
			flatten(subs[i], prefix, item, depth+1)
			for _, c := range subs[i].cols {
				if !seen[c] {
					seen[c] = true
					cols = append(cols, c)
				}
			}
		}
		for _, c := range cols {
			for _, sub := range subs {
				r.add(c, sub.cell(c), true)
			}
		}
	default:
		r.add(prefix, scalarText(x), false)
	}
}

func scalarText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return neutralizeFormula(x)
	case bool:
		if x {
			return "true"
		}
		return "false"
	case json.Number:
		return x.String()
	case float64: // not produced by decodeOrdered, which uses json.Number
		return fmt.Sprint(x)
	}
	return fmt.Sprint(v)
}

// neutralizeFormula defuses CSV formula injection (OWASP "CSV Injection"): a text cell
// that a spreadsheet would read as a formula — one starting with =, +, -, @, a tab or a
// carriage return — gets a leading apostrophe, which spreadsheets show as text. Only
// strings are changed; JSON numbers such as -0.5 are written as they are.
func neutralizeFormula(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// firstList returns the first array met in a depth-first walk of v, and the key it
// was found under ("" at the top).
func firstList(v any, key string, depth int) ([]any, string, bool) {
	if depth > maxNesting {
		return nil, "", false
	}
	switch x := v.(type) {
	case []any:
		return x, key, true
	case *orderedObject:
		for _, k := range x.keys {
			if l, lk, ok := firstList(x.vals[k], k, depth+1); ok {
				return l, lk, true
			}
		}
	}
	return nil, "", false
}

// tableOf flattens data as WriteCSV describes.
func tableOf(data json.RawMessage) (*csvTable, error) {
	t := &csvTable{index: map[string]bool{}}
	if len(bytes.TrimSpace(data)) == 0 {
		return t, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	root, err := decodeOrdered(dec, 0)
	if err != nil {
		return nil, fmt.Errorf("server: decode result for CSV: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("server: the result holds more than one JSON value")
	}
	list, key, ok := firstList(root, "", 0)
	if !ok {
		if root == nil {
			return t, nil
		}
		list, key = []any{root}, "value"
	}
	if key == "" {
		key = "value"
	}
	for _, item := range list {
		r := newRow()
		switch item.(type) {
		case *orderedObject:
			flatten(r, "", item, 0)
		default: // a list of scalars or lists: one column named after the list
			flatten(r, key, item, 0)
		}
		for _, c := range r.cols {
			t.addCol(c)
		}
		t.rows = append(t.rows, r)
	}
	return t, nil
}

// WriteCSV writes data (the data of a GraphQL response) as CSV to w. A table without
// columns (rows of empty objects or lists) writes nothing.
func WriteCSV(w io.Writer, data json.RawMessage) error {
	t, err := tableOf(data)
	if err != nil {
		return err
	}
	if len(t.cols) == 0 {
		return nil
	}
	cw := csv.NewWriter(w)
	// Column names are text too, and can come from the data: the keys of a JSON scalar
	// (an entity's properties) become columns.
	header := make([]string, len(t.cols))
	for i, c := range t.cols {
		header[i] = neutralizeFormula(c)
	}
	if err := writeRecord(w, cw, header); err != nil {
		return err
	}
	rec := make([]string, len(t.cols))
	for _, row := range t.rows {
		for i, c := range t.cols {
			rec[i] = row.cell(c)
		}
		if err := writeRecord(w, cw, rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeRecord writes one CSV line. encoding/csv writes a lone empty cell as a blank
// line, which CSV readers skip (the row would vanish), so that line is written as "".
func writeRecord(w io.Writer, cw *csv.Writer, rec []string) error {
	if len(rec) != 1 || rec[0] != "" {
		return cw.Write(rec)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\"\"\n")
	return err
}

// WantsCSV reports whether a request asks for CSV: format=csv, or no format and an
// Accept header that names text/csv. It fails for a format other than json or csv.
func WantsCSV(format, accept string) (bool, error) {
	switch strings.ToLower(format) {
	case "csv":
		return true, nil
	case "json":
		return false, nil
	case "":
		for _, part := range strings.Split(accept, ",") {
			mt, _, _ := strings.Cut(strings.TrimSpace(part), ";")
			if strings.EqualFold(strings.TrimSpace(mt), "text/csv") {
				return true, nil
			}
		}
		return false, nil
	}
	return false, fmt.Errorf("format %q is not supported; use json or csv", format)
}
