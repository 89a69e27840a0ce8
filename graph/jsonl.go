package graph

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// MaxJSONLLine is the longest line ReadJSONL accepts.
const MaxJSONLLine = 4 << 20

// ReadJSONL reads Lodestone's native JSONL format (see Record) and calls fn for each
// record with its 1-based line number. Blank lines are skipped; a UTF-8 byte order mark
// and CRLF line ends are accepted. A malformed line stops the read with an EINVALID
// *Error whose field is "line N" and whose message says what is wrong.
func ReadJSONL(r io.Reader, fn func(line int, rec Record) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxJSONLLine)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimRight(sc.Bytes(), "\r")
		if line == 1 {
			b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
		}
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		rec, err := decodeRecord(b)
		if err != nil {
			return &Error{Code: EINVALID, Field: fmt.Sprintf("line %d", line), Message: err.Error()}
		}
		if err := fn(line, rec); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return &Error{Code: EINVALID, Field: fmt.Sprintf("line %d", line+1), Message: fmt.Sprintf("is longer than %d bytes", MaxJSONLLine)}
		}
		return err
	}
	return nil
}

func decodeRecord(b []byte) (Record, error) {
	var rec Record
	if !utf8.Valid(b) {
		return rec, errors.New("is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		return rec, fmt.Errorf("is not a Lodestone record: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return rec, errors.New("has more than one JSON value")
	}
	n := 0
	for _, set := range []bool{rec.Source != nil, rec.Entity != nil, rec.Relationship != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return rec, errors.New(`must hold exactly one of "source", "entity" or "relationship"`)
	}
	return rec, nil
}

// WriteJSONL writes one record as a line of JSONL.
func WriteJSONL(w io.Writer, rec Record) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// Add appends rec to the batch.
func (b *Batch) Add(rec Record) {
	switch {
	case rec.Source != nil:
		b.Sources = append(b.Sources, *rec.Source)
	case rec.Entity != nil:
		b.Entities = append(b.Entities, *rec.Entity)
	case rec.Relationship != nil:
		b.Relationships = append(b.Relationships, *rec.Relationship)
	}
}
