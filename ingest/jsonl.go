package ingest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"unicode/utf8"

	"github.com/lodestone-kg/lodestone/graph"
)

// decodeJSONL reads Lodestone's native JSONL (graph.Record per line; see graph.ReadJSONL
// for the rules: a BOM and CRLF are accepted, blank lines skipped). Lines are decoded on
// several goroutines and emitted in file order.
func decodeJSONL(ctx context.Context, env *decodeEnv, inputs []*Input, emit func(*item) error) error {
	for _, in := range inputs {
		if err := decodeJSONLFile(ctx, env, in, emit); err != nil {
			return err
		}
	}
	return nil
}

type jsonlChunk struct {
	first int      // line number of lines[0]
	lines [][]byte // in buf, the reader's copy of the chunk's bytes
	buf   []byte
	items []*item
	done  chan struct{}
}

// jsonlChunkLines is how many lines make a chunk; jsonlChunkBuf is the size of the
// buffers a chunk's lines are copied into (one allocation for many lines, not one each).
const (
	jsonlChunkLines = 2048
	jsonlChunkBuf   = 256 << 10
)

func decodeJSONLFile(ctx context.Context, env *decodeEnv, in *Input, emit func(*item) error) error {
	rc, err := env.open(in)
	if err != nil {
		return err
	}
	defer rc.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	workers := max(1, runtime.GOMAXPROCS(0))
	work := make(chan *jsonlChunk, workers)
	order := make(chan *jsonlChunk, 2*workers)
	readErr := make(chan error, 1)
	for range workers {
		go func() {
			for c := range work {
				c.items = make([]*item, 0, len(c.lines))
				store := make([]item, len(c.lines)) // one allocation for the chunk's items
				for i, b := range c.lines {
					if decodeJSONLLineInto(&store[i], in.Name, c.first+i, b) {
						c.items = append(c.items, &store[i])
					}
				}
				close(c.done)
			}
		}()
	}
	go func() {
		defer close(order)
		defer close(work)
		sc := bufio.NewScanner(rc)
		sc.Buffer(make([]byte, 0, 64<<10), graph.MaxJSONLLine)
		line := 0
		c := &jsonlChunk{first: 1, done: make(chan struct{})}
		flush := func() bool {
			select {
			case work <- c:
			case <-ctx.Done():
				return false
			}
			select {
			case order <- c:
			case <-ctx.Done():
				return false
			}
			c = &jsonlChunk{first: line + 1, done: make(chan struct{})}
			return true
		}
		for sc.Scan() {
			line++
			b := sc.Bytes()
			if cap(c.buf)-len(c.buf) < len(b) {
				c.buf = make([]byte, 0, max(jsonlChunkBuf, len(b)))
			}
			start := len(c.buf)
			c.buf = append(c.buf, b...)
			c.lines = append(c.lines, c.buf[start:len(c.buf):len(c.buf)])
			if len(c.lines) == jsonlChunkLines && !flush() {
				readErr <- ctx.Err()
				return
			}
		}
		if err := sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				err = rowError(in.Name, line+1, "", "is longer than %d bytes", graph.MaxJSONLLine)
			}
			readErr <- err
			return
		}
		if len(c.lines) > 0 && !flush() {
			readErr <- ctx.Err()
			return
		}
		readErr <- nil
	}()
	for c := range order {
		<-c.done
		for _, it := range c.items {
			if err := emit(it); err != nil {
				return err
			}
		}
		env.progress.addRecords(int64(len(c.items)))
	}
	return <-readErr
}

// decodeJSONLLineInto decodes one line into *it, which must be zero; false for a blank
// line.
func decodeJSONLLineInto(it *item, file string, line int, b []byte) bool {
	b = bytes.TrimRight(b, "\r")
	if line == 1 {
		b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return false
	}
	it.file, it.line, it.raw = file, line, b
	if !utf8.Valid(b) {
		it.err = rowError(file, line, "", "is not valid UTF-8 (at byte %d)", invalidUTF8At(b))
		return true
	}
	if decodeRecordFast(b, &it.rec) {
		return true
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&it.rec); err != nil {
		it.err = jsonError(file, line, err)
		return true
	}
	if dec.More() {
		it.err = rowError(file, line, "", "has more than one JSON value")
		return true
	}
	n := 0
	for _, set := range []bool{it.rec.Source != nil, it.rec.Entity != nil, it.rec.Relationship != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		it.err = rowError(file, line, "", `must hold exactly one of "source", "entity" or "relationship"`)
	}
	return true
}

func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// jsonError turns an encoding/json error into a row error naming the field when it can.
func jsonError(file string, line int, err error) *graph.Error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return rowError(file, line, te.Field, "is a JSON %s; want %s", te.Value, jsonTypeName(te.Type.String()))
	case errors.As(err, &se):
		return rowError(file, line, "", "is not valid JSON: %s (at byte %d)", strings.TrimPrefix(se.Error(), "json: "), se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return rowError(file, line, "", "is not valid JSON: it ends in the middle of a value (truncated line?)")
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if f, ok := strings.CutPrefix(msg, "unknown field "); ok {
		return rowError(file, line, strings.Trim(f, `"`), "is not a field of a Lodestone record")
	}
	if strings.Contains(msg, "YYYY-MM-DD") || strings.Contains(msg, "date") {
		return rowError(file, line, "", "%s", msg)
	}
	return rowError(file, line, "", "is not a Lodestone record: %s", msg)
}

func jsonTypeName(goType string) string {
	switch {
	case strings.Contains(goType, "float"), strings.Contains(goType, "int"):
		return "a number"
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.Contains(goType, "RawMessage"):
		return "a JSON object"
	}
	return fmt.Sprintf("an object (%s)", strings.TrimPrefix(goType, "graph."))
}
