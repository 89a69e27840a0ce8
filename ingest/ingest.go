// Package ingest moves graphs in and out of a graph.Store: importers for Lodestone's
// native JSONL, neo4j-admin style CSV, BODS (Beneficial Ownership Data Standard) 0.2–0.4
// and GLEIF Level 2 relationship records; exporters to JSONL, GraphML, GEXF, Cytoscape.js
// JSON and CSV; and a terminal progress bar.
//
// Every import validates all of its input before it writes anything, and writes only
// through graph.Store.Apply (atomic batches) or graph.Store.StreamLoad (a bulk load into an
// empty store). Errors a person can act on are *graph.Error with Code EINVALID and a Field
// that names the file, the line and the field: "companies.csv line 12: share".
package ingest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/lodestone-kg/lodestone/graph"
)

// Import formats.
const (
	FormatJSONL = "jsonl"
	FormatCSV   = "csv"
	FormatBODS  = "bods"
	FormatGLEIF = "gleif"
)

// ImportFormats lists the formats Import reads.
var ImportFormats = []string{FormatJSONL, FormatCSV, FormatBODS, FormatGLEIF, FormatFtM}

// Input is one file to import. Import reads it more than once (a validation pass, then a
// write pass), so Open must return a fresh reader of the same bytes each time.
type Input struct {
	// Name names the file in error messages (the base name of a path).
	Name string
	// Open returns a reader of the file's bytes from the start.
	Open func() (io.ReadCloser, error)
	// Size is the file's length in bytes (0 when unknown); it drives the progress bar.
	Size int64
}

// FileInput returns the Input of a file on disk, named by its base name.
func FileInput(path string) (*Input, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not a file", path)
	}
	return &Input{
		Name: filepath.Base(path),
		Open: func() (io.ReadCloser, error) { return os.Open(path) },
		Size: fi.Size(),
	}, nil
}

// item is what a decoder makes of its input: one record to write, one relationship to
// delete (a BODS update that dropped an interest), or a row that cannot become a record
// (err set). file and line say where it comes from; raw is the row's text for the rejects
// file.
type item struct {
	file      string
	line      int
	rec       graph.Record
	deleteRel string
	err       *graph.Error
	raw       []byte
}

// lookup is what decoders and the validator may read from the store: GLEIF resolves
// LEIs to existing entities, BODS finds the relationships an update supersedes, the
// validator checks that references resolve. *graph.Store implements it.
type lookup interface {
	EntitiesByIdentifier(ctx context.Context, scheme, value string) ([]*graph.Entity, error)
	Entity(ctx context.Context, id string) (*graph.Entity, error)
	Relationship(ctx context.Context, id string) (*graph.Relationship, error)
	MissingIDs(ctx context.Context, entityIDs, sourceIDs []string) (entities, sources []string, err error)
}

// decoder reads every input and calls emit for each item, in a deterministic order: two
// runs over the same inputs and the same store emit the same items.
type decoder func(ctx context.Context, env *decodeEnv, inputs []*Input, emit func(*item) error) error

type decodeEnv struct {
	store    lookup
	progress *Progress
	// hashes, when not nil, receives each input's SHA-256 (the checkpoint identity).
	hashes map[string][]byte
}

func decoderFor(format string) (decoder, error) {
	switch format {
	case FormatJSONL:
		return decodeJSONL, nil
	case FormatCSV:
		return decodeCSV, nil
	case FormatBODS:
		return decodeBODS, nil
	case FormatGLEIF:
		return decodeGLEIF, nil
	case FormatFtM:
		return decodeFtM, nil
	}
	return nil, graph.Invalid("format", "%q is not an import format; use jsonl, csv, bods, gleif or ftm", format)
}

// open opens in for one pass: its bytes count towards the progress bar and, when env
// collects hashes, into its SHA-256.
func (env *decodeEnv) open(in *Input) (io.ReadCloser, error) {
	rc, err := in.Open()
	if err != nil {
		return nil, err
	}
	cr := &countingReader{r: rc, c: rc, p: env.progress}
	if env.hashes != nil {
		cr.h = sha256.New()
		cr.done = func(sum []byte) { env.hashes[in.Name] = sum }
	}
	return cr, nil
}

type countingReader struct {
	r    io.Reader
	c    io.Closer
	p    *Progress
	h    hash.Hash
	done func([]byte)
	eof  atomic.Bool
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	if n > 0 {
		c.p.addBytes(int64(n))
		if c.h != nil {
			c.h.Write(b[:n])
		}
	}
	if err == io.EOF && c.h != nil && !c.eof.Swap(true) {
		c.done(c.h.Sum(nil))
	}
	return n, err
}

func (c *countingReader) Close() error { return c.c.Close() }

// rowError returns the EINVALID error of a field of a row: "file line N: field".
func rowError(file string, line int, field, format string, args ...any) *graph.Error {
	f := fmt.Sprintf("%s line %d", file, line)
	if field != "" {
		f += ": " + field
	}
	return &graph.Error{Code: graph.EINVALID, Field: f, Message: fmt.Sprintf(format, args...)}
}

// rowPrefix is the prefix given to graph.Validate* so that their fields name the row.
func rowPrefix(file string, line int) string { return fmt.Sprintf("%s line %d: ", file, line) }
