package ingest

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/lodestone-kg/lodestone/graph"
)

// DefaultBatchSize is the number of records an import writes in one atomic Apply. It is
// also the atomic limit: an import of at most this many records (after rejects) is
// written in one transaction, all or nothing; a larger one is written in batches of this
// size, each atomic, with a checkpoint after each so that a rerun continues where it
// stopped. 2,000 records stay well inside Badger's transaction limit (15 % of the 64 MiB
// memtable, about 10 MiB and 100,000 key writes) even for entities with many names.
const DefaultBatchSize = 2000

// Options configure Import. The zero value (plus Format) validates, then writes through
// Apply.
type Options struct {
	// Format is one of ImportFormats.
	Format string
	// SkipInvalid writes rows that fail validation to Rejects and counts them instead of
	// failing the import.
	SkipInvalid bool
	// Rejects receives one JSON line per rejected row: {"file","line","field","error","raw"}.
	Rejects io.Writer
	// BatchSize is the atomic limit and batch size (DefaultBatchSize when 0).
	BatchSize int
	// Checkpoint is the file where a batched import records its progress; a rerun with
	// the same inputs (same names, sizes and SHA-256) continues after the last batch it
	// names. Empty: a batched import cannot be resumed. It is removed once the import
	// completes.
	Checkpoint string
	// Bulk allows graph.Store.StreamLoad when the store is empty. Only for a store that
	// nobody else uses while the import runs (the command line on a closed store).
	Bulk bool
	// Progress draws progress; nil draws nothing.
	Progress *Progress
}

// Summary reports what an import did.
type Summary struct {
	Format string `json:"format"`
	Files  int    `json:"files"`
	Bytes  int64  `json:"bytes"`
	// Mode is "bulk" (StreamLoad into an empty store), "atomic" (one Apply) or
	// "batched" (several Applies with a checkpoint).
	Mode                 string `json:"mode"`
	Sources              int    `json:"sources"`
	Entities             int    `json:"entities"`
	Relationships        int    `json:"relationships"`
	DeletedRelationships int    `json:"deletedRelationships"`
	Rejected             int    `json:"rejected"`
	Batches              int    `json:"batches"`
	// Resumed is the number of records a checkpoint said were already written.
	Resumed  int           `json:"resumed"`
	Version  uint64        `json:"version"`
	Duration time.Duration `json:"-"`
	Seconds  float64       `json:"seconds"`
}

// String is the one-line summary the command line prints.
func (s *Summary) String() string {
	out := fmt.Sprintf("imported %d file(s) (%s, %s mode) in %.1fs: %s sources, %s entities, %s relationships",
		s.Files, s.Format, s.Mode, s.Duration.Seconds(), groupDigits(int64(s.Sources)), groupDigits(int64(s.Entities)), groupDigits(int64(s.Relationships)))
	if s.DeletedRelationships > 0 {
		out += fmt.Sprintf(", %s relationships deleted", groupDigits(int64(s.DeletedRelationships)))
	}
	if s.Rejected > 0 {
		out += fmt.Sprintf("; %s rows rejected", groupDigits(int64(s.Rejected)))
	}
	if s.Resumed > 0 {
		out += fmt.Sprintf("; resumed after %s records", groupDigits(int64(s.Resumed)))
	}
	if secs := s.Duration.Seconds(); secs > 0 {
		out += fmt.Sprintf(" (%s records/s)", groupDigits(int64(float64(s.Sources+s.Entities+s.Relationships)/secs)))
	}
	return out
}

// Import reads inputs in opts.Format and writes them to store, upserting by id.
//
// Every input is validated before anything is written: each row must map to a valid
// record, entity and relationship ids must be unique across the inputs, and every
// relationship end and cited source must be in the inputs or the store. The first bad
// row fails the import with an EINVALID *graph.Error whose Field names the file, line
// and field ("companies.csv line 12: share") and the store is unchanged; with
// SkipInvalid, bad rows (and the rows that depend on them) go to Rejects instead.
//
// Up to opts.BatchSize records are written in one atomic Apply; more are written in
// batches (see DefaultBatchSize and Options.Checkpoint), or with StreamLoad into an
// empty store when opts.Bulk allows. Errors: EINVALID as above or for an unknown format
// or a checkpoint that does not match the store; ctx's error; store errors.
func Import(ctx context.Context, store *graph.Store, inputs []*Input, opts Options) (*Summary, error) {
	start := time.Now()
	dec, err := decoderFor(opts.Format)
	if err != nil {
		return nil, err
	}
	if len(inputs) == 0 {
		return nil, graph.Invalid("files", "name at least one file to import")
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	sum := &Summary{Format: opts.Format, Files: len(inputs)}
	for _, in := range inputs {
		sum.Bytes += in.Size
	}
	finish := func() (*Summary, error) {
		sum.Duration = time.Since(start)
		sum.Seconds = sum.Duration.Seconds()
		sum.Version = store.Version()
		return sum, nil
	}
	empty := store.Version() == 0
	if opts.Bulk && empty && !opts.SkipInvalid {
		if err := bulkImport(ctx, store, dec, inputs, nil, opts, sum); err != nil {
			return nil, err
		}
		return finish()
	}

	v := newValidator(opts)
	env := &decodeEnv{store: store, progress: opts.Progress, hashes: map[string][]byte{}}
	opts.Progress.Start("validating", sum.Bytes)
	err = dec(ctx, env, inputs, v.item)
	opts.Progress.Finish()
	if err != nil {
		return nil, err
	}
	if err := v.finish(ctx, store); err != nil {
		return nil, err
	}
	sum.Rejected = v.rejectedCount
	switch {
	case opts.Bulk && empty:
		if err := bulkImport(ctx, store, dec, inputs, v.rejected, opts, sum); err != nil {
			return nil, err
		}
	case v.keep:
		if err := atomicImport(ctx, store, v, sum); err != nil {
			return nil, err
		}
	default:
		if err := batchedImport(ctx, store, dec, inputs, v, env.hashes, opts, sum); err != nil {
			return nil, err
		}
	}
	return finish()
}

// validator is the first pass: it checks every item and remembers what the write pass
// needs (ids, rejected rows, and the items themselves while they fit in one batch).
type validator struct {
	opts     Options
	entities map[string]string // id → "file line N" of its first row
	rels     map[string]string
	sources  map[string]bool
	srcItems []*item
	pending  []pendingRef
	rejected map[string]bool // itemKey of rejected rows
	// kept holds every valid item while there are at most BatchSize (keep true).
	kept          []*item
	keep          bool
	count         int
	rejectedCount int
}

func newValidator(opts Options) *validator {
	return &validator{opts: opts, entities: map[string]string{}, rels: map[string]string{}, sources: map[string]bool{},
		rejected: map[string]bool{}, keep: true}
}

type pendingRef struct {
	it    *item
	field string
	id    string
	src   bool
}

// itemKey identifies an item across passes.
func itemKey(it *item) string {
	switch {
	case it.rec.Source != nil:
		return fmt.Sprintf("%s\x00%d\x00s\x00%s", it.file, it.line, it.rec.Source.ID)
	case it.rec.Entity != nil:
		return fmt.Sprintf("%s\x00%d\x00e\x00%s", it.file, it.line, it.rec.Entity.ID)
	case it.rec.Relationship != nil:
		return fmt.Sprintf("%s\x00%d\x00r\x00%s", it.file, it.line, it.rec.Relationship.ID)
	}
	return fmt.Sprintf("%s\x00%d\x00d\x00%s", it.file, it.line, it.deleteRel)
}

// normalize fills the ids Apply would derive, so that both passes key items alike.
func normalize(it *item) {
	if s := it.rec.Source; s != nil && s.ID == "" {
		s.ID = graph.SourceID(s)
	}
	if r := it.rec.Relationship; r != nil && r.ID == "" && r.Type != "" && r.From != "" && r.To != "" {
		r.ID = graph.RelationshipID(r.Type, r.From, r.To)
	}
}

// reject records a bad item, or returns its error when rows may not be skipped.
func (v *validator) reject(it *item, err *graph.Error) error {
	if !v.opts.SkipInvalid {
		return err
	}
	if it.err == nil || it.err != err {
		it.err = err
	}
	v.rejected[itemKey(it)] = true
	v.rejectedCount++
	if v.opts.Rejects != nil {
		line, _ := json.Marshal(map[string]any{"file": it.file, "line": it.line, "field": err.Field, "error": err.Error(), "raw": string(it.raw)})
		if _, werr := v.opts.Rejects.Write(append(line, '\n')); werr != nil {
			return werr
		}
	}
	return nil
}

func (v *validator) item(it *item) error {
	if it.err != nil {
		return v.reject(it, it.err)
	}
	normalize(it)
	p := rowPrefix(it.file, it.line)
	where := fmt.Sprintf("%s line %d", it.file, it.line)
	var cites []string
	switch {
	case it.rec.Source != nil:
		if err := graph.ValidateSource(p, it.rec.Source); err != nil {
			return v.reject(it, err.(*graph.Error))
		}
		v.sources[it.rec.Source.ID] = true
		v.srcItems = append(v.srcItems, it)
		return nil
	case it.rec.Entity != nil:
		e := it.rec.Entity
		if err := graph.ValidateEntity(p, e); err != nil {
			return v.reject(it, err.(*graph.Error))
		}
		if prev, dup := v.entities[e.ID]; dup {
			return v.reject(it, rowError(it.file, it.line, "id", "entity %q appears twice (also at %s)", e.ID, prev))
		}
		v.entities[e.ID] = where
		cites = e.Sources
	case it.rec.Relationship != nil:
		r := it.rec.Relationship
		if err := graph.ValidateRelationship(p, r); err != nil {
			return v.reject(it, err.(*graph.Error))
		}
		if prev, dup := v.rels[r.ID]; dup {
			return v.reject(it, rowError(it.file, it.line, "id", "relationship %q appears twice (also at %s)", r.ID, prev))
		}
		v.rels[r.ID] = where
		cites = r.Sources
		v.pending = append(v.pending, pendingRef{it, "from", r.From, false}, pendingRef{it, "to", r.To, false})
	case it.deleteRel != "":
	default:
		return v.reject(it, rowError(it.file, it.line, "", "holds no record"))
	}
	for i, s := range cites {
		v.pending = append(v.pending, pendingRef{it, fmt.Sprintf("sources[%d]", i), s, true})
	}
	v.count++
	if v.keep {
		v.kept = append(v.kept, it)
		if v.count > v.opts.BatchSize {
			v.keep, v.kept = false, nil
		}
	}
	return nil
}

// finish checks the references that could not be checked row by row: cited sources,
// then relationship ends, against the inputs and the store.
func (v *validator) finish(ctx context.Context, store lookup) error {
	if v.keep && v.count+len(v.srcItems) > v.opts.BatchSize {
		v.keep, v.kept = false, nil
	}
	for _, wantSrc := range []bool{true, false} {
		var ask []string
		asked := map[string]bool{}
		for _, p := range v.pending {
			if p.src != wantSrc || v.rejected[itemKey(p.it)] {
				continue
			}
			inFile := v.sources[p.id]
			if !wantSrc {
				_, inFile = v.entities[p.id]
			}
			if !inFile && !asked[p.id] {
				asked[p.id] = true
				ask = append(ask, p.id)
			}
		}
		var missing []string
		var err error
		if len(ask) > 0 {
			if wantSrc {
				_, missing, err = store.MissingIDs(ctx, nil, ask)
			} else {
				missing, _, err = store.MissingIDs(ctx, ask, nil)
			}
			if err != nil {
				return err
			}
		}
		gone := map[string]bool{}
		for _, id := range missing {
			gone[id] = true
		}
		for _, p := range v.pending {
			if p.src != wantSrc || !gone[p.id] || v.rejected[itemKey(p.it)] {
				continue
			}
			what := "an entity"
			hint := "add it to the import or create it first"
			if wantSrc {
				what, hint = "a source", "add the source record to the import"
			}
			if err := v.reject(p.it, rowError(p.it.file, p.it.line, p.field, "%q is not %s in the import or the store; %s", p.id, what, hint)); err != nil {
				return err
			}
			v.count--
			if e := p.it.rec.Entity; e != nil {
				delete(v.entities, e.ID) // its relationships go too (checked next)
			}
		}
	}
	if v.keep && len(v.rejected) > 0 {
		kept := v.kept[:0]
		for _, it := range v.kept {
			if !v.rejected[itemKey(it)] {
				kept = append(kept, it)
			}
		}
		v.kept = kept
	}
	return nil
}

// origins remembers where each item of a batch came from, to name the row in an error
// that Apply returns.
type origins struct {
	src, ent, rel, del []*item
}

func (o *origins) add(b *graph.Batch, it *item) {
	switch {
	case it.rec.Source != nil:
		b.Sources = append(b.Sources, *it.rec.Source)
		o.src = append(o.src, it)
	case it.rec.Entity != nil:
		b.Entities = append(b.Entities, *it.rec.Entity)
		o.ent = append(o.ent, it)
	case it.rec.Relationship != nil:
		b.Relationships = append(b.Relationships, *it.rec.Relationship)
		o.rel = append(o.rel, it)
	case it.deleteRel != "":
		b.DeleteRelationships = append(b.DeleteRelationships, it.deleteRel)
		o.del = append(o.del, it)
	}
}

var batchField = regexp.MustCompile(`^(sources|entities|relationships|deleteRelationships)\[(\d+)\]\.?(.*)$`)

// rowOf rewrites an Apply error about "entities[3].name" into one about the row.
func (o *origins) rowOf(err error) error {
	var ge *graph.Error
	if !errors.As(err, &ge) {
		return err
	}
	m := batchField.FindStringSubmatch(ge.Field)
	if m == nil {
		return err
	}
	i, _ := strconv.Atoi(m[2])
	list := map[string][]*item{"sources": o.src, "entities": o.ent, "relationships": o.rel, "deleteRelationships": o.del}[m[1]]
	if i >= len(list) {
		return err
	}
	it := list[i]
	out := rowError(it.file, it.line, m[3], "%s", ge.Message)
	out.Code = ge.Code
	return out
}

func atomicImport(ctx context.Context, store *graph.Store, v *validator, sum *Summary) error {
	sum.Mode = "atomic"
	b := &graph.Batch{}
	o := &origins{}
	for _, it := range v.srcItems {
		if !v.rejected[itemKey(it)] {
			o.add(b, it)
		}
	}
	for _, it := range v.kept {
		o.add(b, it)
	}
	if b.Len() == 0 {
		return nil
	}
	if _, err := store.Apply(ctx, b); err != nil {
		return o.rowOf(err)
	}
	sum.Batches = 1
	sum.count(b)
	return nil
}

func (s *Summary) count(b *graph.Batch) {
	s.Sources += len(b.Sources)
	s.Entities += len(b.Entities)
	s.Relationships += len(b.Relationships)
	s.DeletedRelationships += len(b.DeleteRelationships)
}

// bulkImport streams the inputs into an empty store with StreamLoad, skipping rejected
// rows. StreamLoad's errors name "record N"; they are rewritten to name the row.
func bulkImport(ctx context.Context, store *graph.Store, dec decoder, inputs []*Input, rejected map[string]bool, opts Options, sum *Summary) error {
	sum.Mode = "bulk"
	type origin struct {
		file int32
		line int32
	}
	var orig []origin
	files := map[string]int32{}
	var names []string
	env := &decodeEnv{store: store, progress: opts.Progress}
	opts.Progress.Start("loading", sum.Bytes)
	st, err := store.StreamLoad(ctx, func(emit func(graph.Record) error) error {
		return dec(ctx, env, inputs, func(it *item) error {
			if it.err != nil {
				if rejected != nil {
					return nil
				}
				return it.err
			}
			if it.deleteRel != "" {
				return nil // nothing to delete in an empty store
			}
			if rejected != nil {
				normalize(it)
				if rejected[itemKey(it)] {
					return nil
				}
			}
			fi, ok := files[it.file]
			if !ok {
				fi = int32(len(names))
				files[it.file] = fi
				names = append(names, it.file)
			}
			orig = append(orig, origin{fi, int32(it.line)})
			return emit(it.rec)
		})
	}, nil)
	opts.Progress.Finish()
	if err != nil {
		var ge *graph.Error
		if errors.As(err, &ge) {
			var n int
			var rest string
			if _, scanErr := fmt.Sscanf(ge.Field, "record %d:", &n); scanErr == nil && n >= 1 && n <= len(orig) {
				if i := len(fmt.Sprintf("record %d: ", n)); i <= len(ge.Field) {
					rest = ge.Field[i:]
				}
				// Drop StreamLoad's "entity." / "relationship." / "source." prefix.
				for _, p := range []string{"entity.", "relationship.", "source."} {
					if len(rest) >= len(p) && rest[:len(p)] == p {
						rest = rest[len(p):]
						break
					}
				}
				o := orig[n-1]
				out := rowError(names[o.file], int(o.line), rest, "%s", ge.Message)
				out.Code = ge.Code
				return out
			}
		}
		return err
	}
	sum.Sources, sum.Entities, sum.Relationships = st.Sources, st.Entities, st.Relationships
	sum.Batches = 1
	return nil
}

// checkpoint is the progress of a batched import, written after every batch.
type checkpoint struct {
	Format       string            `json:"format"`
	Inputs       []checkpointInput `json:"inputs"`
	Done         int               `json:"done"`
	StoreVersion uint64            `json:"storeVersion"`
	Updated      time.Time         `json:"updated"`
}

type checkpointInput struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

func (c *checkpoint) sameInputs(o *checkpoint) bool {
	if c.Format != o.Format || len(c.Inputs) != len(o.Inputs) {
		return false
	}
	for i := range c.Inputs {
		if c.Inputs[i] != o.Inputs[i] {
			return false
		}
	}
	return true
}

func writeCheckpoint(path string, c *checkpoint) error {
	raw, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(raw, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// batchedImport writes sources, then entities, then relationships, then deletes, in
// batches of opts.BatchSize, each one Apply, recording a checkpoint after each.
func batchedImport(ctx context.Context, store *graph.Store, dec decoder, inputs []*Input, v *validator, hashes map[string][]byte, opts Options, sum *Summary) error {
	sum.Mode = "batched"
	cp := &checkpoint{Format: opts.Format}
	for _, in := range inputs {
		cp.Inputs = append(cp.Inputs, checkpointInput{Name: in.Name, Size: in.Size, SHA256: hex.EncodeToString(hashes[in.Name])})
	}
	skip := 0
	if opts.Checkpoint != "" {
		if raw, err := os.ReadFile(opts.Checkpoint); err == nil {
			var old checkpoint
			if json.Unmarshal(raw, &old) == nil && old.sameInputs(cp) {
				if store.Version() < old.StoreVersion {
					return graph.Invalid("checkpoint", "%s says %d records were written up to store version %d, but the store is at version %d (restored or replaced?); delete the checkpoint to import from the start",
						filepath.Base(opts.Checkpoint), old.Done, old.StoreVersion, store.Version())
				}
				skip = old.Done
				sum.Resumed = skip
			}
		} else if !os.IsNotExist(err) {
			return err
		}
	}
	done := 0
	b := &graph.Batch{}
	o := &origins{}
	var flushErr error
	apply := func() error {
		if b.Len() == 0 {
			return nil
		}
		if err := applySplit(ctx, store, b, o, sum); err != nil {
			return err
		}
		sum.count(b)
		if opts.Checkpoint != "" && len(b.DeleteRelationships) == 0 {
			cp.Done, cp.StoreVersion, cp.Updated = done, store.Version(), time.Now().UTC()
			if err := writeCheckpoint(opts.Checkpoint, cp); err != nil {
				return err
			}
		}
		b, o = &graph.Batch{}, &origins{}
		return nil
	}
	add := func(it *item) error {
		done++
		if done <= skip {
			return nil
		}
		o.add(b, it)
		if b.Len() >= opts.BatchSize {
			return apply()
		}
		return nil
	}
	for _, it := range v.srcItems {
		if !v.rejected[itemKey(it)] {
			if err := add(it); err != nil {
				return err
			}
		}
	}
	if err := apply(); err != nil {
		return err
	}
	var deletes []*item
	env := &decodeEnv{store: store, progress: opts.Progress}
	for _, phase := range []string{"entities", "relationships"} {
		opts.Progress.Start("writing "+phase[:3], sum.Bytes)
		err := dec(ctx, env, inputs, func(it *item) error {
			if it.err != nil {
				return nil
			}
			normalize(it)
			if v.rejected[itemKey(it)] {
				return nil
			}
			switch {
			case phase == "entities" && it.rec.Entity != nil, phase == "relationships" && it.rec.Relationship != nil:
				return add(it)
			case phase == "relationships" && it.deleteRel != "":
				deletes = append(deletes, it)
			}
			return nil
		})
		if err == nil {
			err = apply()
		}
		opts.Progress.Finish()
		if err != nil {
			return err
		}
	}
	for _, it := range deletes {
		o.add(b, it)
		if b.Len() >= opts.BatchSize {
			if flushErr = apply(); flushErr != nil {
				return flushErr
			}
		}
	}
	if err := apply(); err != nil {
		return err
	}
	if opts.Checkpoint != "" {
		if err := os.Remove(opts.Checkpoint); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}

// applySplit applies b, splitting it in halves while Badger finds it too large for one
// transaction.
func applySplit(ctx context.Context, store *graph.Store, b *graph.Batch, o *origins, sum *Summary) error {
	_, err := store.Apply(ctx, b)
	if err == nil {
		sum.Batches++
		return nil
	}
	if graph.ErrorCode(err) != graph.ELIMIT || b.Len() < 2 {
		return o.rowOf(err)
	}
	// Split by kind order: the halves keep sources/entities before relationships.
	var items []*item
	for _, l := range [][]*item{o.src, o.ent, o.rel, o.del} {
		items = append(items, l...)
	}
	half := len(items) / 2
	for _, part := range [][]*item{items[:half], items[half:]} {
		pb, po := &graph.Batch{}, &origins{}
		for _, it := range part {
			po.add(pb, it)
		}
		if err := applySplit(ctx, store, pb, po, sum); err != nil {
			return err
		}
	}
	return nil
}
