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
	"strings"
	"unicode/utf8"

	"github.com/lodestone-kg/lodestone/graph"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// BODS import reads Beneficial Ownership Data Standard statements: a JSON array per file
// (a BODS package) or one statement per line (JSON Lines), version 0.4 (validated against
// the normative schema first) or 0.2/0.3 (statementID, statementType, replacesStatements;
// checked field by field). The mapping:
//
//   - An entity record becomes an entity with id = recordId, kind Company
//     (registeredEntity, legalEntity), Arrangement, Government (state, stateBody),
//     AnonymousEntity or UnknownEntity; name, alternateNames as aliases, the country of its
//     jurisdiction (the ISO 3166-1 part of a 3166-2 code), identifiers (scheme XI-LEI is
//     stored as LEI), foundingDate/dissolutionDate as validFrom/validTo, and entityType,
//     subtype, jurisdiction name, statement id and date in properties.
//   - A person record becomes an entity of kind Person: the legal (else first) full name,
//     the other names as aliases, the first nationality as country.
//   - A relationship record becomes one relationship per interest, from interestedParty
//     to subject: OWNS for a shareholding, OWNS_INDIRECT for an indirect shareholding
//     (directOrIndirect "indirect" means intermediaries exist, so it is not a direct stake
//     and must not enter the ownership arithmetic next to the chain that makes it up),
//     CONTROLS for every other interest type (or none). The first interest keeps the
//     recordId as its id, the others get recordId#2, #3…. Shares are percentages in BODS
//     and fractions here: exact → share; minimum/exclusiveMinimum and maximum/
//     exclusiveMaximum → shareMin/shareMax with the exclusive flags (a missing bound is 0 or
//     100 %); 0.2/0.3 boolean exclusiveMinimum/exclusiveMaximum default to false/true.
//     startDate/endDate are the validity; interest type, directOrIndirect,
//     beneficialOwnershipOrControl, details and the record id go to properties.
//   - An unspecified subject or interested party (a reason such as
//     subjectExemptFromDisclosure) becomes an entity of kind Unspecified, id
//     "<recordId>:interested-party" or "<recordId>:subject", named by its description.
//   - Statements about one record apply in statementDate order (then publication date,
//     then input order): "updated" replaces the record, "closed" ends it (validTo = the
//     closing statementDate unless an end date is known); a statement after the close is
//     an error. An update with fewer interests than before deletes the extra
//     relationships (recordId#k) the store holds.
//   - The statement's source and publicationDetails become a source (title = the source
//     description, publisher, url, published = publicationDate) cited by what it states.
//
// Partial dates (YYYY, YYYY-MM) are rounded to the first day, as BODS advises; date-times
// keep their date.
func decodeBODS(ctx context.Context, env *decodeEnv, inputs []*Input, emit func(*item) error) error {
	b := &bodsDecoder{env: env, records: map[string]*bodsRecord{}, legacy: map[string]string{}}
	for _, in := range inputs {
		if err := b.readFile(ctx, in, emit); err != nil {
			return err
		}
	}
	return b.emitAll(ctx, emit)
}

type bodsDecoder struct {
	env     *decodeEnv
	records map[string]*bodsRecord
	order   []*bodsRecord
	legacy  map[string]string // 0.2/0.3 statementID → record id
	seq     int
}

// bodsStatement is one statement, 0.4 or legacy, with the fields the mapping reads.
type bodsStatement struct {
	StatementID        string           `json:"statementId"`
	RecordID           string           `json:"recordId"`
	RecordType         string           `json:"recordType"`
	RecordStatus       string           `json:"recordStatus"`
	RecordDetails      json.RawMessage  `json:"recordDetails"`
	StatementDate      string           `json:"statementDate"`
	PublicationDetails *bodsPublication `json:"publicationDetails"`
	Source             *bodsSource      `json:"source"`
	LegacyID           string           `json:"statementID"`
	StatementType      string           `json:"statementType"`
	ReplacesStatements []string         `json:"replacesStatements"`

	details json.RawMessage // the object the details are read from
	version string          // "0.4" or "legacy"
	file    string          // where the statement is
	line    int
	raw     []byte
	seq     int // input order
}

type bodsPublication struct {
	PublicationDate string `json:"publicationDate"`
	BodsVersion     string `json:"bodsVersion"`
	Publisher       struct {
		Name string `json:"name"`
		URL  string `json:"url"`
	} `json:"publisher"`
}

type bodsSource struct {
	Type        []string `json:"type"`
	Description string   `json:"description"`
	URL         string   `json:"url"`
}

type bodsCountry struct {
	Name string `json:"name"`
	Code string `json:"code"`
}

type bodsIdentifier struct {
	ID         string `json:"id"`
	Scheme     string `json:"scheme"`
	SchemeName string `json:"schemeName"`
}

type bodsDetails struct {
	IsComponent      bool             `json:"isComponent"`
	EntityType       json.RawMessage  `json:"entityType"` // 0.4 object, legacy string
	Name             string           `json:"name"`
	AlternateNames   []string         `json:"alternateNames"`
	Jurisdiction     *bodsCountry     `json:"jurisdiction"`
	Incorporated     *bodsCountry     `json:"incorporatedInJurisdiction"`
	Identifiers      []bodsIdentifier `json:"identifiers"`
	FoundingDate     string           `json:"foundingDate"`
	DissolutionDate  string           `json:"dissolutionDate"`
	URI              string           `json:"uri"`
	PersonType       string           `json:"personType"`
	Names            []bodsName       `json:"names"`
	Nationalities    []bodsCountry    `json:"nationalities"`
	Subject          json.RawMessage  `json:"subject"`
	InterestedParty  json.RawMessage  `json:"interestedParty"`
	Interests        []bodsInterest   `json:"interests"`
	ComponentRecords []string         `json:"componentRecords"`
}

type bodsName struct {
	Type     string `json:"type"`
	FullName string `json:"fullName"`
}

type bodsInterest struct {
	Type                         string          `json:"type"`
	DirectOrIndirect             string          `json:"directOrIndirect"`
	InterestLevel                string          `json:"interestLevel"`
	BeneficialOwnershipOrControl *bool           `json:"beneficialOwnershipOrControl"`
	Details                      string          `json:"details"`
	Share                        json.RawMessage `json:"share"`
	StartDate                    string          `json:"startDate"`
	EndDate                      string          `json:"endDate"`
}

// bodsRecord is one record (entity, person or relationship) and its statements.
type bodsRecord struct {
	id         string
	kind       string // entity, person, relationship
	statements []*bodsStatement
	first      int
}

func (b *bodsDecoder) readFile(ctx context.Context, in *Input, emit func(*item) error) error {
	rc, err := b.env.open(in)
	if err != nil {
		return err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 1<<20)
	if p, err := br.Peek(3); err == nil && bytes.Equal(p, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	first := byte(0)
	for {
		c, err := br.ReadByte()
		if err == io.EOF {
			return rowError(in.Name, 1, "", "the file is empty; a BODS file is a JSON array of statements or one statement per line")
		}
		if err != nil {
			return err
		}
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			first = c
			br.UnreadByte()
			break
		}
	}
	if first == '[' {
		return b.readArray(ctx, in, br, emit)
	}
	if first != '{' {
		return rowError(in.Name, 1, "", "is not BODS: a BODS file is a JSON array of statements or one JSON statement per line")
	}
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 0, 64<<10), graph.MaxJSONLLine)
	line := 0
	for sc.Scan() {
		line++
		raw := bytes.TrimRight(sc.Bytes(), "\r")
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		if err := b.statement(ctx, in.Name, line, bytes.Clone(raw), emit); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return rowError(in.Name, line+1, "", "is longer than %d bytes", graph.MaxJSONLLine)
		}
		return err
	}
	return nil
}

// readArray reads a JSON array of statements, tracking the line each starts on.
func (b *bodsDecoder) readArray(ctx context.Context, in *Input, r io.Reader, emit func(*item) error) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if !utf8.Valid(data) {
		at := invalidUTF8At(data)
		return rowError(in.Name, 1+bytes.Count(data[:at], []byte("\n")), "", "is not valid UTF-8 (at byte %d of the file)", at)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	lineAt := func(off int64) int { return 1 + bytes.Count(data[:min(int(off), len(data))], []byte("\n")) }
	if _, err := dec.Token(); err != nil {
		return rowError(in.Name, 1, "", "is not valid JSON: %v", err)
	}
	for dec.More() {
		off := dec.InputOffset()
		for off < int64(len(data)) && strings.IndexByte(" \t\r\n,", data[off]) >= 0 {
			off++
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return rowError(in.Name, lineAt(se.Offset), "", "is not valid JSON: %s", strings.TrimPrefix(se.Error(), "json: "))
			}
			return rowError(in.Name, lineAt(int64(len(data))), "", "is not valid JSON: the array ends in the middle of a statement (truncated file?)")
		}
		if err := b.statement(ctx, in.Name, lineAt(off), raw, emit); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return rowError(in.Name, lineAt(int64(len(data))), "", "is not valid JSON: the array is not closed (truncated file?)")
	}
	return nil
}

// statement checks one statement and files it under its record; a bad statement is
// emitted as a rejected item.
func (b *bodsDecoder) statement(ctx context.Context, file string, line int, raw []byte, emit func(*item) error) error {
	b.env.progress.addRecords(1)
	reject := func(field, format string, args ...any) error {
		return emit(&item{file: file, line: line, raw: raw, err: rowError(file, line, field, format, args...)})
	}
	if !utf8.Valid(raw) {
		return reject("", "is not valid UTF-8 (at byte %d)", invalidUTF8At(raw))
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return emit(&item{file: file, line: line, raw: raw, err: jsonError(file, line, err)})
	}
	st := &bodsStatement{file: file, line: line, raw: raw}
	_, isLegacy := probe["statementID"]
	if _, ok := probe["statementType"]; ok {
		isLegacy = true
	}
	if !isLegacy {
		sch, err := statementSchema()
		if err != nil {
			return err
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			return reject("", "is not valid JSON: %v", err)
		}
		if err := sch.Validate(inst); err != nil {
			field, msg := schemaError(err)
			return reject(field, "%s (BODS 0.4 schema)", msg)
		}
	}
	if err := json.Unmarshal(raw, st); err != nil {
		return emit(&item{file: file, line: line, raw: raw, err: jsonError(file, line, err)})
	}
	b.seq++
	st.seq = b.seq
	if isLegacy {
		return b.legacyStatement(ctx, st, reject)
	}
	st.version = "0.4"
	st.details = st.RecordDetails
	return b.file(st.RecordID, st.RecordType, st, reject)
}

var legacyTypes = map[string]string{
	"entityStatement": "entity", "personStatement": "person", "ownershipOrControlStatement": "relationship",
}

// legacyStatement files a 0.2/0.3 statement: identity is the statementID, carried over
// from the statements it replaces (in this input or, failing that, in the store).
func (b *bodsDecoder) legacyStatement(ctx context.Context, st *bodsStatement, reject func(string, string, ...any) error) error {
	st.version = "legacy"
	st.details = st.raw
	kind, ok := legacyTypes[st.StatementType]
	switch {
	case st.LegacyID == "":
		return reject("statementID", "is missing (a BODS 0.2/0.3 statement needs statementID and statementType)")
	case !ok:
		return reject("statementType", "%q is not entityStatement, personStatement or ownershipOrControlStatement", st.StatementType)
	case kind == "relationship" && st.StatementDate == "":
		return reject("statementDate", "is missing")
	}
	id := st.LegacyID
	for _, old := range st.ReplacesStatements {
		if rid, ok := b.legacy[old]; ok {
			id = rid
			break
		}
		if b.env.store != nil {
			if _, err := b.env.store.Entity(ctx, old); err == nil {
				id = old
				break
			}
			if _, err := b.env.store.Relationship(ctx, old); err == nil {
				id = old
				break
			}
		}
	}
	b.legacy[st.LegacyID] = id
	if len(st.ReplacesStatements) > 0 {
		st.RecordStatus = "updated"
	}
	st.StatementID = st.LegacyID
	return b.file(id, kind, st, reject)
}

func (b *bodsDecoder) file(id, kind string, st *bodsStatement, reject func(string, string, ...any) error) error {
	rec := b.records[id]
	if rec == nil {
		rec = &bodsRecord{id: id, kind: kind, first: st.seq}
		b.records[id] = rec
		b.order = append(b.order, rec)
	}
	if rec.kind != kind {
		return reject("recordType", "record %q was a %s and cannot become a %s", id, rec.kind, kind)
	}
	rec.statements = append(rec.statements, st)
	return nil
}

// emitAll maps every record's current state to graph records: sources, entities,
// relationships, then the deletes of superseded relationships.
func (b *bodsDecoder) emitAll(ctx context.Context, emit func(*item) error) error {
	var sources, entities, rels, deletes []*item
	seenSrc := map[string]bool{}
	// Records are emitted by kind, each kind in order of first appearance.
	slices.SortStableFunc(b.order, func(x, y *bodsRecord) int { return x.first - y.first })
	for _, rec := range b.order {
		slices.SortStableFunc(rec.statements, func(x, y *bodsStatement) int {
			if c := strings.Compare(bodsDay(x.StatementDate), bodsDay(y.StatementDate)); c != 0 {
				return c
			}
			if c := strings.Compare(pubDate(x), pubDate(y)); c != 0 {
				return c
			}
			return x.seq - y.seq
		})
		var cur *bodsStatement
		var closedBy *bodsStatement
		var bad *item
		for _, st := range rec.statements {
			if closedBy != nil {
				bad = &item{file: st.file, line: st.line, raw: st.raw, err: rowError(st.file, st.line, "recordStatus",
					"record %q was closed by the statement at %s line %d; no statement may follow a close", rec.id, closedBy.file, closedBy.line)}
				break
			}
			cur = st
			if st.RecordStatus == "closed" {
				closedBy = st
			}
		}
		if bad != nil {
			if err := emit(bad); err != nil {
				return err
			}
			continue
		}
		src := bodsSourceOf(cur)
		if src != nil && !seenSrc[src.ID] {
			seenSrc[src.ID] = true
			sources = append(sources, &item{file: cur.file, line: cur.line, raw: cur.raw, rec: graph.Record{Source: src}})
		}
		ents, rs, err := b.mapRecord(rec, cur, closedBy != nil, src)
		if err != nil {
			if e, ok := err.(*graph.Error); ok {
				if err := emit(&item{file: cur.file, line: cur.line, raw: cur.raw, err: e}); err != nil {
					return err
				}
				continue
			}
			return err
		}
		entities = append(entities, ents...)
		rels = append(rels, rs...)
		if rec.kind == "relationship" && b.env.store != nil {
			n := max(1, len(rs))
			for k := n + 1; ; k++ {
				id := fmt.Sprintf("%s#%d", rec.id, k)
				if _, err := b.env.store.Relationship(ctx, id); err != nil {
					if graph.ErrorCode(err) == graph.ENOTFOUND {
						break
					}
					return err
				}
				deletes = append(deletes, &item{file: cur.file, line: cur.line, raw: cur.raw, deleteRel: id})
			}
		}
	}
	for _, list := range [][]*item{sources, entities, rels, deletes} {
		for _, it := range list {
			if err := emit(it); err != nil {
				return err
			}
		}
	}
	return nil
}

func pubDate(st *bodsStatement) string {
	if st.PublicationDetails == nil {
		return ""
	}
	return bodsDay(st.PublicationDetails.PublicationDate)
}

var bodsPartialDate = regexp.MustCompile(`^(\d{4})(-(\d{2}))?(-(\d{2}))?`)

// bodsDay returns the YYYY-MM-DD of a BODS date, partial date or date-time ("" when none).
func bodsDay(s string) string {
	m := bodsPartialDate.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return ""
	}
	y, mo, d := m[1], m[3], m[5]
	if mo == "" {
		mo = "01"
	}
	if d == "" {
		d = "01"
	}
	return y + "-" + mo + "-" + d
}

func bodsDate(file string, line int, field, s string) (graph.Date, *graph.Error) {
	if strings.TrimSpace(s) == "" {
		return graph.Date{}, nil
	}
	d, err := graph.ParseDate(bodsDay(s))
	if err != nil {
		return graph.Date{}, rowError(file, line, field, "%q is not a date (YYYY-MM-DD, YYYY-MM or YYYY)", s)
	}
	return d, nil
}

func bodsSourceOf(st *bodsStatement) *graph.Source {
	if st.Source == nil && st.PublicationDetails == nil {
		return nil
	}
	src := &graph.Source{}
	if st.Source != nil {
		src.Title = st.Source.Description
		src.URL = st.Source.URL
	}
	if p := st.PublicationDetails; p != nil {
		src.Publisher = p.Publisher.Name
		if src.URL == "" {
			src.URL = p.Publisher.URL
		}
		if d, err := graph.ParseDate(bodsDay(p.PublicationDate)); err == nil {
			src.Published = d
		}
	}
	if src.Title == "" {
		kinds := "BODS statements"
		if st.Source != nil && len(st.Source.Type) > 0 {
			kinds = "BODS statements (" + strings.Join(st.Source.Type, ", ") + ")"
		}
		src.Title = kinds
		if src.Publisher != "" {
			src.Title += " published by " + src.Publisher
		}
	}
	if len(src.Title) > 4096 {
		src.Title = src.Title[:4096]
	}
	src.ID = graph.SourceID(src)
	return src
}

var bodsEntityKinds = map[string]string{
	"registeredEntity": "Company", "legalEntity": "Company", "arrangement": "Arrangement",
	"anonymousEntity": "AnonymousEntity", "unknownEntity": "UnknownEntity",
	"state": "Government", "stateBody": "Government",
}

// mapRecord maps the current statement of a record. Its errors are *graph.Error for bad
// input.
func (b *bodsDecoder) mapRecord(rec *bodsRecord, st *bodsStatement, closed bool, src *graph.Source) (ents, rels []*item, err error) {
	file, line := st.file, st.line
	var d bodsDetails
	if err := json.Unmarshal(st.details, &d); err != nil {
		return nil, nil, jsonError(file, line, err)
	}
	field := func(f string) string {
		if st.version == "0.4" {
			return "recordDetails." + f
		}
		return f
	}
	var sources []string
	if src != nil {
		sources = []string{src.ID}
	}
	props := map[string]any{"bodsRecordId": rec.id, "bodsStatementId": st.StatementID}
	if st.StatementDate != "" {
		props["statementDate"] = st.StatementDate
	}
	if st.RecordStatus != "" {
		props["recordStatus"] = st.RecordStatus
	}
	if d.IsComponent {
		props["isComponent"] = true
	}
	mk := func(e *graph.Entity) *item {
		return &item{file: file, line: line, raw: st.raw, rec: graph.Record{Entity: e}}
	}
	switch rec.kind {
	case "entity":
		e := &graph.Entity{ID: rec.id, Name: strings.TrimSpace(d.Name), Aliases: nonEmpty(d.AlternateNames), Sources: sources}
		typ, sub := "", ""
		var obj struct{ Type, Subtype, Details string }
		if json.Unmarshal(d.EntityType, &obj) == nil {
			typ, sub = obj.Type, obj.Subtype
		} else {
			json.Unmarshal(d.EntityType, &typ)
		}
		e.Kind = bodsEntityKinds[typ]
		if e.Kind == "" {
			e.Kind = "Company"
		}
		props["entityType"] = typ
		if sub != "" {
			props["entitySubtype"] = sub
		}
		j := d.Jurisdiction
		if j == nil {
			j = d.Incorporated
		}
		if j != nil {
			e.Country = countryOf(j.Code)
			if j.Name != "" {
				props["jurisdiction"] = j.Name
			}
		}
		if e.Name == "" {
			e.Name = map[string]string{"anonymousEntity": "Anonymous entity", "unknownEntity": "Unknown entity"}[typ]
			if e.Name == "" {
				e.Name = "Unnamed entity " + rec.id
			}
		}
		e.Identifiers = bodsIdentifiers(d.Identifiers)
		if d.URI != "" {
			props["uri"] = d.URI
		}
		var gerr *graph.Error
		if e.ValidFrom, gerr = bodsDate(file, line, field("foundingDate"), d.FoundingDate); gerr != nil {
			return nil, nil, gerr
		}
		if e.ValidTo, gerr = bodsDate(file, line, field("dissolutionDate"), d.DissolutionDate); gerr != nil {
			return nil, nil, gerr
		}
		if closed && e.ValidTo.IsZero() {
			e.ValidTo, _ = bodsDate(file, line, "statementDate", st.StatementDate)
		}
		if !e.ValidFrom.IsZero() && !e.ValidTo.IsZero() && e.ValidTo.Before(e.ValidFrom) {
			e.ValidFrom = graph.Date{}
		}
		e.Properties = propsJSON(props)
		return []*item{mk(e)}, nil, nil

	case "person":
		e := &graph.Entity{ID: rec.id, Kind: graph.KindPerson, Sources: sources}
		for _, n := range d.Names { // the legal name, else the first
			if fn := strings.TrimSpace(n.FullName); fn != "" && (e.Name == "" || n.Type == "legal") {
				e.Name = fn
				if n.Type == "legal" {
					break
				}
			}
		}
		for _, n := range d.Names {
			if fn := strings.TrimSpace(n.FullName); fn != "" && fn != e.Name && !slices.Contains(e.Aliases, fn) {
				e.Aliases = append(e.Aliases, fn)
			}
		}
		if e.Name == "" {
			e.Name = map[string]string{"anonymousPerson": "Anonymous person", "unknownPerson": "Unknown person"}[d.PersonType]
			if e.Name == "" {
				e.Name = "Unnamed person " + rec.id
			}
		}
		for _, n := range d.Nationalities {
			if c := countryOf(n.Code); c != "" {
				e.Country = c
				break
			}
		}
		if d.PersonType != "" {
			props["personType"] = d.PersonType
		}
		e.Identifiers = bodsIdentifiers(d.Identifiers)
		if closed {
			e.ValidTo, _ = bodsDate(file, line, "statementDate", st.StatementDate)
		}
		e.Properties = propsJSON(props)
		return []*item{mk(e)}, nil, nil
	}

	// A relationship record.
	ends := [2]string{}
	for i, end := range []struct {
		raw  json.RawMessage
		name string
	}{{d.Subject, "subject"}, {d.InterestedParty, "interestedParty"}} {
		id, unspec, gerr := b.party(file, line, field(end.name), end.raw)
		if gerr != nil {
			return nil, nil, gerr
		}
		if unspec != nil {
			suffix := ":subject"
			if i == 1 {
				suffix = ":interested-party"
			}
			unspec.ID = rec.id + suffix
			unspec.Sources = sources
			ents = append(ents, mk(unspec))
			id = unspec.ID
		}
		ends[i] = id
	}
	interests := d.Interests
	if len(interests) == 0 {
		interests = []bodsInterest{{}}
	}
	for i, in := range interests {
		f := field(fmt.Sprintf("interests[%d]", i))
		r := &graph.Relationship{ID: rec.id, From: ends[1], To: ends[0], Sources: sources}
		if i > 0 {
			r.ID = fmt.Sprintf("%s#%d", rec.id, i+1)
		}
		typ := kebabToCamel(in.Type)
		doi := in.DirectOrIndirect
		if doi == "" {
			doi = map[string]string{"direct": "direct", "indirect": "indirect", "unknown": "unknown"}[kebabToCamel(in.InterestLevel)]
		}
		switch {
		case typ == "shareholding" && doi == "indirect":
			r.Type = "OWNS_INDIRECT"
		case typ == "shareholding":
			r.Type = graph.TypeOwns
		default:
			r.Type = "CONTROLS"
		}
		rp := map[string]any{"bodsRecordId": rec.id, "bodsStatementId": st.StatementID}
		if typ != "" {
			rp["interestType"] = typ
		}
		if doi != "" {
			rp["directOrIndirect"] = doi
		}
		if in.BeneficialOwnershipOrControl != nil {
			rp["beneficialOwnershipOrControl"] = *in.BeneficialOwnershipOrControl
		}
		if in.Details != "" {
			rp["details"] = in.Details
		}
		if d.IsComponent {
			rp["isComponent"] = true
		}
		if len(d.ComponentRecords) > 0 {
			rp["componentRecords"] = d.ComponentRecords
		}
		if st.RecordStatus != "" {
			rp["recordStatus"] = st.RecordStatus
		}
		if gerr := bodsShare(file, line, f+".share", in.Share, st.version != "0.4", r); gerr != nil {
			return nil, nil, gerr
		}
		var gerr *graph.Error
		if r.ValidFrom, gerr = bodsDate(file, line, f+".startDate", in.StartDate); gerr != nil {
			return nil, nil, gerr
		}
		if r.ValidTo, gerr = bodsDate(file, line, f+".endDate", in.EndDate); gerr != nil {
			return nil, nil, gerr
		}
		if closed && r.ValidTo.IsZero() {
			r.ValidTo, _ = bodsDate(file, line, "statementDate", st.StatementDate)
			if !r.ValidFrom.IsZero() && r.ValidTo.Before(r.ValidFrom) {
				r.ValidTo = r.ValidFrom
			}
		}
		r.Properties = propsJSON(rp)
		rels = append(rels, &item{file: file, line: line, raw: st.raw, rec: graph.Record{Relationship: r}})
	}
	return ents, rels, nil
}

// party reads a subject or interestedParty: a record id (0.4), a legacy
// describedBy…Statement reference, or an unspecified record (returned as an entity to
// create, without id).
func (b *bodsDecoder) party(file string, line int, field string, raw json.RawMessage) (string, *graph.Entity, *graph.Error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil, rowError(file, line, field, "is missing")
	}
	var id string
	if json.Unmarshal(raw, &id) == nil {
		return id, nil, nil
	}
	var obj struct {
		Reason      string `json:"reason"`
		Description string `json:"description"`
		Entity      string `json:"describedByEntityStatement"`
		Person      string `json:"describedByPersonStatement"`
		Unspecified *struct {
			Reason      string `json:"reason"`
			Description string `json:"description"`
		} `json:"unspecified"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return "", nil, rowError(file, line, field, "is neither a record id nor an unspecified record")
	}
	for _, ref := range []string{obj.Entity, obj.Person} {
		if ref != "" {
			if rid, ok := b.legacy[ref]; ok {
				return rid, nil, nil
			}
			return ref, nil, nil
		}
	}
	if obj.Unspecified != nil {
		obj.Reason, obj.Description = obj.Unspecified.Reason, obj.Unspecified.Description
	}
	if obj.Reason == "" && obj.Description == "" {
		return "", nil, rowError(file, line, field, "is neither a record id nor an unspecified record")
	}
	name := strings.TrimSpace(obj.Description)
	if name == "" {
		name = "Unspecified (" + obj.Reason + ")"
	}
	if len(name) > 4096 {
		name = name[:4096]
	}
	p := map[string]any{}
	if obj.Reason != "" {
		p["unspecifiedReason"] = obj.Reason
	}
	if obj.Description != "" {
		p["description"] = obj.Description
	}
	return "", &graph.Entity{Kind: "Unspecified", Name: name, Properties: propsJSON(p)}, nil
}

// bodsShare sets r's share from a BODS share object (percent).
func bodsShare(file string, line int, field string, raw json.RawMessage, legacy bool, r *graph.Relationship) *graph.Error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return rowError(file, line, field, "must be an object with exact, minimum, maximum…")
	}
	num := func(k string) (*float64, *graph.Error) {
		v, ok := m[k]
		if !ok || string(v) == "null" {
			return nil, nil
		}
		var f float64
		if err := json.Unmarshal(v, &f); err != nil {
			return nil, rowError(file, line, field+"."+k, "%s is not a number", v)
		}
		if f < 0 || f > 100 {
			return nil, rowError(file, line, field+"."+k, "%v %% is outside 0..100 %%", f)
		}
		f /= 100
		return &f, nil
	}
	exact, err := num("exact")
	if err != nil {
		return err
	}
	if exact != nil {
		r.Share = exact
		return nil
	}
	lo, err := num("minimum")
	if err != nil {
		return err
	}
	hi, err := num("maximum")
	if err != nil {
		return err
	}
	if legacy {
		flag := func(k string, def bool) bool {
			var b bool
			if v, ok := m[k]; ok && json.Unmarshal(v, &b) == nil {
				return b
			}
			return def
		}
		r.ShareMinExclusive = lo != nil && flag("exclusiveMinimum", false)
		r.ShareMaxExclusive = hi != nil && flag("exclusiveMaximum", true)
	} else {
		if lo == nil {
			if lo, err = num("exclusiveMinimum"); err != nil {
				return err
			}
			r.ShareMinExclusive = lo != nil
		}
		if hi == nil {
			if hi, err = num("exclusiveMaximum"); err != nil {
				return err
			}
			r.ShareMaxExclusive = hi != nil
		}
	}
	if lo == nil && hi == nil {
		return nil
	}
	zero, hundred := 0.0, 1.0
	if lo == nil {
		lo = &zero
	}
	if hi == nil {
		hi = &hundred
	}
	if *lo > *hi {
		return rowError(file, line, field, "minimum %v %% is greater than maximum %v %%", *lo*100, *hi*100)
	}
	r.ShareMin, r.ShareMax = lo, hi
	return nil
}

func bodsIdentifiers(ids []bodsIdentifier) []graph.Identifier {
	var out []graph.Identifier
	for _, id := range ids {
		scheme := id.Scheme
		if scheme == "" {
			scheme = id.SchemeName
		}
		if scheme == "XI-LEI" {
			scheme = "LEI"
		}
		if strings.TrimSpace(id.ID) == "" || strings.TrimSpace(scheme) == "" {
			continue
		}
		out = append(out, graph.Identifier{Scheme: scheme, Value: id.ID})
	}
	return out
}

// countryOf returns the ISO 3166-1 alpha-2 part of a 3166-1 or 3166-2 code ("" otherwise).
func countryOf(code string) string {
	code = strings.TrimSpace(code)
	if len(code) < 2 || (len(code) > 2 && code[2] != '-') {
		return ""
	}
	c := code[:2]
	if c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' {
		return ""
	}
	return c
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// kebabToCamel turns 0.2 codes (voting-rights) into 0.3+ codes (votingRights).
func kebabToCamel(s string) string {
	if !strings.Contains(s, "-") {
		return s
	}
	parts := strings.Split(s, "-")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}
