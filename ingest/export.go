package ingest

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lodestone-kg/lodestone/graph"
)

// Export formats.
const (
	FormatGraphML   = "graphml"
	FormatGEXF      = "gexf"
	FormatCytoscape = "cytoscape"
)

// ExportFormats lists the formats Export writes.
var ExportFormats = []string{FormatJSONL, FormatGraphML, FormatGEXF, FormatCytoscape, FormatCSV, FormatFtM}

// ContentType returns the media type of an export format (csv is a zip archive of
// sources.csv, entities.csv and relationships.csv when written to one stream).
func ContentType(format string) string {
	switch format {
	case FormatJSONL, FormatFtM:
		return "application/x-ndjson"
	case FormatGraphML:
		return "application/graphml+xml"
	case FormatGEXF:
		return "application/gexf+xml"
	case FormatCytoscape:
		return "application/json"
	case FormatCSV:
		return "application/zip"
	}
	return "application/octet-stream"
}

// FileExtension returns the usual file name extension of an export format.
func FileExtension(format string) string {
	switch format {
	case FormatCytoscape:
		return "cyjs.json"
	case FormatCSV:
		return "csv.zip"
	}
	return format
}

// ExportSummary counts what an export wrote.
type ExportSummary struct {
	Sources, Entities, Relationships int
	Bytes                            int64
	Duration                         time.Duration
}

// Export writes the records sel selects (the whole graph by default) to w in format:
//
//   - jsonl: Lodestone's native format, one record per line (graph.Record); importing it
//     into an empty store gives an identical graph.
//   - graphml: GraphML for Gephi, NetworkX (read_graphml), yEd: a directed graph whose node
//     and edge ids are the entity and relationship ids, with typed attributes (<key
//     attr.type>): label, kind, name, country, aliases, identifiers, sources, validFrom,
//     validTo on nodes; label, type, share, shareMin, shareMax, shareMinExclusive,
//     shareMaxExclusive, confidence, weight (the share, or its midpoint), validFrom,
//     validTo, sources on edges; and every top-level property as an attribute of its own,
//     typed long, double, boolean or string (nested values as JSON text; a property
//     whose name is taken is called "properties.NAME"). Lists are joined with "; ".
//   - gexf: GEXF 1.2 for Gephi and NetworkX (read_gexf), with the same attributes.
//   - cytoscape: a JSON array of elements, exactly what Cytoscape.js cy.add() takes:
//     {"group":"nodes","data":{"id","label",…}} then {"group":"edges","data":{"id",
//     "source","target","label",…}}, properties kept as nested JSON.
//   - csv: a zip archive of neo4j-admin import CSV files (sources.csv, entities.csv,
//     relationships.csv) that `lodestone import --format csv` reads back; see ExportCSVDir.
//   - ftm: FollowTheMoney entity JSON lines that `import --format ftm` reads back; see exportFtM.
//
// Every format but jsonl reads the snapshot twice (once to learn the attribute types).
// The output streams: Export holds one record at a time, a 1 MiB buffer and the
// attribute types seen, never the records or the encoded file, and writes nothing to w
// before ExportWith has found its selection, so that an error of the selection
// (ENOTFOUND, and ELIMIT for sel.Bounded beyond the caps) comes before the first byte.
// An error after it (of w, or ctx ending) leaves w with an incomplete file.
// Errors: EINVALID for an unknown format; those of graph.Store.ExportWith and of w.
func Export(ctx context.Context, store *graph.Store, w io.Writer, format string, sel graph.ExportOptions) (*ExportSummary, error) {
	start := time.Now()
	cw := &countWriter{w: w}
	bw := bufio.NewWriterSize(cw, 1<<20)
	sum := &ExportSummary{}
	var err error
	switch format {
	case FormatJSONL:
		sel.Passes = 1
		err = store.ExportWith(ctx, sel, func(_ int, rec graph.Record) error {
			sum.add(rec)
			return graph.WriteJSONL(bw, rec)
		})
	case FormatGraphML, FormatGEXF, FormatCytoscape:
		err = exportXMLish(ctx, store, bw, format, sel, sum)
	case FormatFtM:
		err = exportFtM(ctx, store, bw, sel, sum)
	case FormatCSV:
		zw := zip.NewWriter(bw)
		err = exportCSV(ctx, store, sel, sum, func(name string) (io.Writer, error) {
			return zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: start})
		})
		if err == nil {
			err = zw.Close()
		}
	default:
		return nil, graph.Invalid("format", "%q is not an export format; use jsonl, graphml, gexf, cytoscape, csv or ftm", format)
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return nil, err
	}
	sum.Bytes, sum.Duration = cw.n, time.Since(start)
	return sum, nil
}

// ExportCSVDir writes the records sel selects as neo4j-admin import CSV files into dir
// (created when missing): sources.csv (:ID, :LABEL = Source, title, publisher, url,
// published:date), entities.csv (:ID, :LABEL = kind, name, country, aliases:string[],
// identifiers:string[] as SCHEME:VALUE, sources:string[], validFrom:date, validTo:date,
// then one typed column per property) and relationships.csv (id, :START_ID, :END_ID,
// :TYPE, share:double, shareMin:double, shareMax:double, shareMinExclusive:boolean,
// shareMaxExclusive:boolean, confidence:double, sources:string[], validFrom:date,
// validTo:date, then the properties).
func ExportCSVDir(ctx context.Context, store *graph.Store, dir string, sel graph.ExportOptions) (*ExportSummary, error) {
	start := time.Now()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	sum := &ExportSummary{}
	var files []*os.File
	var bufs []*bufio.Writer
	cw := &countWriter{}
	err := exportCSV(ctx, store, sel, sum, func(name string) (io.Writer, error) {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		files = append(files, f)
		bw := bufio.NewWriterSize(io.MultiWriter(f, cw), 1<<20)
		bufs = append(bufs, bw)
		return bw, nil
	})
	for i, f := range files {
		if ferr := bufs[i].Flush(); err == nil {
			err = ferr
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return nil, err
	}
	sum.Bytes, sum.Duration = cw.n, time.Since(start)
	return sum, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.w == nil {
		c.n += int64(len(p))
		return len(p), nil
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func (s *ExportSummary) add(rec graph.Record) {
	switch {
	case rec.Source != nil:
		s.Sources++
	case rec.Entity != nil:
		s.Entities++
	case rec.Relationship != nil:
		s.Relationships++
	}
}

// attrType is the type of one attribute, widened as values are seen.
type attrType int

const (
	attrNone attrType = iota
	attrLong
	attrDouble
	attrBool
	attrString
)

func widen(t attrType, v any) attrType {
	var n attrType
	switch x := v.(type) {
	case nil:
		return t
	case bool:
		n = attrBool
	case json.Number:
		if _, err := x.Int64(); err == nil {
			n = attrLong
		} else {
			n = attrDouble
		}
	default:
		n = attrString
	}
	switch {
	case t == attrNone || t == n:
		return n
	case (t == attrLong && n == attrDouble) || (t == attrDouble && n == attrLong):
		return attrDouble
	}
	return attrString
}

// schema collects the property attributes of nodes and edges in the first pass.
type schema struct {
	node, edge map[string]attrType
}

func newSchema() *schema {
	return &schema{node: map[string]attrType{}, edge: map[string]attrType{}}
}

func decodeProps(raw json.RawMessage) map[string]any {
	if len(raw) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil {
		return nil
	}
	return m
}

func (s *schema) observe(rec graph.Record) {
	switch {
	case rec.Entity != nil:
		for k, v := range decodeProps(rec.Entity.Properties) {
			s.node[k] = widen(s.node[k], v)
		}
	case rec.Relationship != nil:
		for k, v := range decodeProps(rec.Relationship.Properties) {
			s.edge[k] = widen(s.edge[k], v)
		}
	}
}

// attr is one declared attribute.
type attr struct {
	id, name string // id in the file, name shown to users
	typ      attrType
	prop     string // the property it comes from ("" for a fixed field)
}

var (
	nodeFields = []attr{{name: "label", typ: attrString}, {name: "kind", typ: attrString}, {name: "name", typ: attrString},
		{name: "country", typ: attrString}, {name: "aliases", typ: attrString}, {name: "identifiers", typ: attrString},
		{name: "sources", typ: attrString}, {name: "validFrom", typ: attrString}, {name: "validTo", typ: attrString}}
	edgeFields = []attr{{name: "label", typ: attrString}, {name: "type", typ: attrString}, {name: "share", typ: attrDouble},
		{name: "shareMin", typ: attrDouble}, {name: "shareMax", typ: attrDouble}, {name: "shareMinExclusive", typ: attrBool},
		{name: "shareMaxExclusive", typ: attrBool}, {name: "confidence", typ: attrDouble}, {name: "weight", typ: attrDouble},
		{name: "validFrom", typ: attrString}, {name: "validTo", typ: attrString}, {name: "sources", typ: attrString}}
)

// attrs returns the fixed attributes and then one per property, sorted by name.
func attrs(fixed []attr, props map[string]attrType, idPrefix string) []attr {
	out := slices.Clone(fixed)
	taken := map[string]bool{}
	for _, a := range fixed {
		taken[a.name] = true
	}
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		name := k
		if taken[name] {
			name = "properties." + k
		}
		out = append(out, attr{name: name, typ: props[k], prop: k})
	}
	for i := range out {
		out[i].id = fmt.Sprintf("%s%d", idPrefix, i)
	}
	return out
}

// values returns the attribute values of an entity or relationship, by attribute index,
// as text ("" = absent).
func nodeValues(as []attr, e *graph.Entity) []string {
	ids := make([]string, len(e.Identifiers))
	for i, id := range e.Identifiers {
		ids[i] = id.Scheme + ":" + id.Value
	}
	fixed := map[string]string{"label": e.Name, "kind": e.Kind, "name": e.Name, "country": e.Country,
		"aliases": strings.Join(e.Aliases, "; "), "identifiers": strings.Join(ids, "; "), "sources": strings.Join(e.Sources, "; "),
		"validFrom": e.ValidFrom.String(), "validTo": e.ValidTo.String()}
	return fillValues(as, fixed, decodeProps(e.Properties))
}

func edgeValues(as []attr, r *graph.Relationship) []string {
	f := func(x *float64) string {
		if x == nil {
			return ""
		}
		return strconv.FormatFloat(*x, 'g', -1, 64)
	}
	b := func(x bool) string {
		if !x {
			return ""
		}
		return "true"
	}
	weight := ""
	if lo, hi, ok := r.ShareBounds(); ok {
		weight = strconv.FormatFloat((lo+hi)/2, 'g', -1, 64)
	}
	fixed := map[string]string{"label": r.Type, "type": r.Type, "share": f(r.Share), "shareMin": f(r.ShareMin), "shareMax": f(r.ShareMax),
		"shareMinExclusive": b(r.ShareMinExclusive), "shareMaxExclusive": b(r.ShareMaxExclusive), "confidence": f(r.Confidence),
		"weight": weight, "validFrom": r.ValidFrom.String(), "validTo": r.ValidTo.String(), "sources": strings.Join(r.Sources, "; ")}
	return fillValues(as, fixed, decodeProps(r.Properties))
}

func fillValues(as []attr, fixed map[string]string, props map[string]any) []string {
	out := make([]string, len(as))
	for i, a := range as {
		if a.prop == "" {
			out[i] = fixed[a.name]
			continue
		}
		out[i] = propText(props[a.prop])
	}
	return out
}

// propText writes a property value as attribute text: scalars as themselves, anything
// nested as JSON.
func propText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		return x.String()
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func xmlText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

func graphmlType(t attrType) string {
	return map[attrType]string{attrLong: "long", attrDouble: "double", attrBool: "boolean"}[t] + map[bool]string{true: "string"}[t == attrString || t == attrNone]
}

func gexfType(t attrType) string {
	return map[attrType]string{attrLong: "long", attrDouble: "double", attrBool: "boolean"}[t] + map[bool]string{true: "string"}[t == attrString || t == attrNone]
}

// exportXMLish writes GraphML, GEXF or Cytoscape JSON.
func exportXMLish(ctx context.Context, store *graph.Store, w *bufio.Writer, format string, sel graph.ExportOptions, sum *ExportSummary) error {
	sch := newSchema()
	passes := 2
	if format == FormatCytoscape {
		passes = 1
	}
	sel.Passes = passes
	var nodeAttrs, edgeAttrs []attr
	started, inEdges := false, false
	first := true
	var cyBuf []byte // one element at a time (cytoscape.go)
	return finishWith(store.ExportWith(ctx, sel, func(pass int, rec graph.Record) error {
		if pass < passes-1 {
			sch.observe(rec)
			return nil
		}
		if !started {
			started = true
			nodeAttrs = attrs(nodeFields, sch.node, "n")
			edgeAttrs = attrs(edgeFields, sch.edge, "e")
			writeHeader(w, format, nodeAttrs, edgeAttrs)
		}
		sum.add(rec)
		switch {
		case rec.Entity != nil:
			e := rec.Entity
			switch format {
			case FormatGraphML:
				fmt.Fprintf(w, "    <node id=\"%s\">", xmlText(e.ID))
				for i, v := range nodeValues(nodeAttrs, e) {
					if v != "" {
						fmt.Fprintf(w, "<data key=\"%s\">%s</data>", nodeAttrs[i].id, xmlText(v))
					}
				}
				w.WriteString("</node>\n")
			case FormatGEXF:
				fmt.Fprintf(w, "      <node id=\"%s\" label=\"%s\"><attvalues>", xmlText(e.ID), xmlText(e.Name))
				for i, v := range nodeValues(nodeAttrs, e) {
					if v != "" && (nodeAttrs[i].name != "label" || nodeAttrs[i].prop != "") {
						fmt.Fprintf(w, "<attvalue for=\"%s\" value=\"%s\"/>", nodeAttrs[i].id, xmlText(v))
					}
				}
				w.WriteString("</attvalues></node>\n")
			case FormatCytoscape:
				cyBuf = AppendCytoscapeNode(cyBuf[:0], e)
				return cyElement(w, &first, cyBuf)
			}
		case rec.Relationship != nil:
			r := rec.Relationship
			switch format {
			case FormatGraphML:
				fmt.Fprintf(w, "    <edge id=\"%s\" source=\"%s\" target=\"%s\">", xmlText(r.ID), xmlText(r.From), xmlText(r.To))
				for i, v := range edgeValues(edgeAttrs, r) {
					if v != "" {
						fmt.Fprintf(w, "<data key=\"%s\">%s</data>", edgeAttrs[i].id, xmlText(v))
					}
				}
				w.WriteString("</edge>\n")
			case FormatGEXF:
				if !inEdges {
					inEdges = true
					w.WriteString("    </nodes>\n    <edges>\n")
				}
				weight := ""
				if lo, hi, ok := r.ShareBounds(); ok {
					weight = fmt.Sprintf(" weight=\"%s\"", strconv.FormatFloat((lo+hi)/2, 'g', -1, 64))
				}
				fmt.Fprintf(w, "      <edge id=\"%s\" source=\"%s\" target=\"%s\" label=\"%s\"%s><attvalues>", xmlText(r.ID), xmlText(r.From), xmlText(r.To), xmlText(r.Type), weight)
				for i, v := range edgeValues(edgeAttrs, r) {
					if v != "" && (edgeAttrs[i].name != "weight" || edgeAttrs[i].prop != "") {
						fmt.Fprintf(w, "<attvalue for=\"%s\" value=\"%s\"/>", edgeAttrs[i].id, xmlText(v))
					}
				}
				w.WriteString("</attvalues></edge>\n")
			case FormatCytoscape:
				cyBuf = AppendCytoscapeEdge(cyBuf[:0], r)
				return cyElement(w, &first, cyBuf)
			}
		}
		return nil
	}), func() error {
		if !started {
			nodeAttrs = attrs(nodeFields, sch.node, "n")
			edgeAttrs = attrs(edgeFields, sch.edge, "e")
			writeHeader(w, format, nodeAttrs, edgeAttrs)
		}
		switch format {
		case FormatGraphML:
			w.WriteString("  </graph>\n</graphml>\n")
		case FormatGEXF:
			if !inEdges {
				w.WriteString("    </nodes>\n    <edges>\n")
			}
			w.WriteString("    </edges>\n  </graph>\n</gexf>\n")
		case FormatCytoscape:
			w.WriteString("\n]\n")
		}
		return nil
	})
}

func finishWith(err error, fn func() error) error {
	if err != nil {
		return err
	}
	return fn()
}

// cyElement writes one element (cytoscape.go), a comma and a line break before each
// but the first.
func cyElement(w *bufio.Writer, first *bool, element []byte) error {
	if !*first {
		w.WriteString(",\n")
	}
	*first = false
	_, err := w.Write(element)
	return err
}

func writeHeader(w *bufio.Writer, format string, nodeAttrs, edgeAttrs []attr) {
	switch format {
	case FormatGraphML:
		w.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">
`)
		for _, set := range []struct {
			kind string
			as   []attr
		}{{"node", nodeAttrs}, {"edge", edgeAttrs}} {
			for _, a := range set.as {
				fmt.Fprintf(w, "  <key id=\"%s\" for=\"%s\" attr.name=\"%s\" attr.type=\"%s\"/>\n", a.id, set.kind, xmlText(a.name), graphmlType(a.typ))
			}
		}
		w.WriteString("  <graph id=\"lodestone\" edgedefault=\"directed\">\n")
	case FormatGEXF:
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<gexf xmlns="http://www.gexf.net/1.2draft" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.gexf.net/1.2draft http://www.gexf.net/1.2draft/gexf.xsd" version="1.2">
  <meta lastmodifieddate="%s"><creator>Lodestone</creator></meta>
  <graph defaultedgetype="directed" mode="static">
`, time.Now().UTC().Format(time.DateOnly))
		for _, set := range []struct {
			class string
			as    []attr
		}{{"node", nodeAttrs}, {"edge", edgeAttrs}} {
			fmt.Fprintf(w, "    <attributes class=\"%s\">\n", set.class)
			for _, a := range set.as {
				if a.prop == "" && (set.class == "node" && a.name == "label" || set.class == "edge" && a.name == "weight") {
					continue // GEXF has its own label and weight
				}
				fmt.Fprintf(w, "      <attribute id=\"%s\" title=\"%s\" type=\"%s\"/>\n", a.id, xmlText(a.name), gexfType(a.typ))
			}
			w.WriteString("    </attributes>\n")
		}
		w.WriteString("    <nodes>\n")
	case FormatCytoscape:
		w.WriteString("[\n")
	}
}

// exportCSV writes the three CSV files, asking create for each.
func exportCSV(ctx context.Context, store *graph.Store, sel graph.ExportOptions, sum *ExportSummary, create func(name string) (io.Writer, error)) error {
	sch := newSchema()
	sel.Passes = 2
	var cw *csv.Writer
	var nodeProps, edgeProps []attr
	open := func(name string, header []string) error {
		if cw != nil {
			cw.Flush()
			if err := cw.Error(); err != nil {
				return err
			}
		}
		w, err := create(name)
		if err != nil {
			return err
		}
		cw = csv.NewWriter(w)
		return cw.Write(header)
	}
	csvHeader := func(fixed []string, props []attr) []string {
		h := slices.Clone(fixed)
		for _, a := range props {
			t := map[attrType]string{attrLong: ":long", attrDouble: ":double", attrBool: ":boolean"}[a.typ]
			h = append(h, a.name+t)
		}
		return h
	}
	entHeader := []string{":ID", ":LABEL", "name", "country", "aliases:string[]", "identifiers:string[]", "sources:string[]", "validFrom:date", "validTo:date"}
	relHeader := []string{"id", ":START_ID", ":END_ID", ":TYPE", "share:double", "shareMin:double", "shareMax:double", "shareMinExclusive:boolean", "shareMaxExclusive:boolean", "confidence:double", "sources:string[]", "validFrom:date", "validTo:date"}
	stages := []string{"sources.csv", "entities.csv", "relationships.csv"}
	stage := -1
	entH := func() []string { return csvHeader(entHeader, nodeProps) }
	relH := func() []string { return csvHeader(relHeader, edgeProps) }
	srcH := func() []string { return []string{":ID", ":LABEL", "title", "publisher", "url", "published:date"} }
	// advance opens the files up to stage to (in order, so that a zip holds all three).
	advance := func(to int) error {
		for stage < to {
			stage++
			if err := open(stages[stage], []func() []string{srcH, entH, relH}[stage]()); err != nil {
				return err
			}
		}
		return nil
	}
	f := func(x *float64) string {
		if x == nil {
			return ""
		}
		return strconv.FormatFloat(*x, 'g', -1, 64)
	}
	b := func(x bool) string {
		if !x {
			return ""
		}
		return "true"
	}
	propCells := func(as []attr, raw json.RawMessage) []string {
		props := decodeProps(raw)
		out := make([]string, len(as))
		for i, a := range as {
			out[i] = propText(props[a.prop])
		}
		return out
	}
	err := store.ExportWith(ctx, sel, func(pass int, rec graph.Record) error {
		if pass == 0 {
			sch.observe(rec)
			return nil
		}
		if nodeProps == nil && edgeProps == nil {
			nodeProps = attrs(nil, sch.node, "")
			edgeProps = attrs(nil, sch.edge, "")
			for _, as := range [][]attr{nodeProps, edgeProps} {
				for i := range as {
					if slices.Contains([]string{"id", "name", "kind", "country", "aliases", "identifiers", "sources", "validFrom", "validTo", "share", "shareMin", "shareMax", "shareMinExclusive", "shareMaxExclusive", "confidence", "labels"}, as[i].name) {
						as[i].name = "properties." + as[i].name
					}
				}
			}
		}
		sum.add(rec)
		switch {
		case rec.Source != nil:
			s := rec.Source
			if err := advance(0); err != nil {
				return err
			}
			return cw.Write([]string{s.ID, "Source", s.Title, s.Publisher, s.URL, s.Published.String()})
		case rec.Entity != nil:
			e := rec.Entity
			if err := advance(1); err != nil {
				return err
			}
			ids := make([]string, len(e.Identifiers))
			for i, id := range e.Identifiers {
				ids[i] = id.Scheme + ":" + id.Value
			}
			row := []string{e.ID, e.Kind, e.Name, e.Country, strings.Join(e.Aliases, ";"), strings.Join(ids, ";"), strings.Join(e.Sources, ";"), e.ValidFrom.String(), e.ValidTo.String()}
			return cw.Write(append(row, propCells(nodeProps, e.Properties)...))
		case rec.Relationship != nil:
			r := rec.Relationship
			if err := advance(2); err != nil {
				return err
			}
			row := []string{r.ID, r.From, r.To, r.Type, f(r.Share), f(r.ShareMin), f(r.ShareMax), b(r.ShareMinExclusive), b(r.ShareMaxExclusive), f(r.Confidence), strings.Join(r.Sources, ";"), r.ValidFrom.String(), r.ValidTo.String()}
			return cw.Write(append(row, propCells(edgeProps, r.Properties)...))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := advance(2); err != nil {
		return err
	}
	if cw != nil {
		cw.Flush()
		return cw.Error()
	}
	return nil
}
