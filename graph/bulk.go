package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// BulkStats reports what a bulk load wrote.
type BulkStats struct {
	Sources, Entities, Relationships int
}

// BulkLoad fills an empty store with the records that each calls emit for, much faster
// than Apply: Badger WriteBatch, no per-item reads. Sources and entities must come
// before the relationships and entities that cite them (the order that export and the
// synthetic generator write). Every record is validated as Apply would; progress, when
// not nil, is called every 100,000 records.
//
// A bulk load is atomic in effect: on any error (EINVALID naming the record, a cancelled
// ctx) the store is emptied again. Errors: EINVALID when the store is not empty.
func (s *Store) BulkLoad(ctx context.Context, each func(emit func(Record) error) error, progress func(BulkStats)) (BulkStats, error) {
	defer s.lockWrites()()
	if err := s.checkEmpty(); err != nil {
		return BulkStats{}, err
	}
	b := &bulkLoader{
		wb:      s.db.NewWriteBatch(),
		reg:     s.state.Load().clone(),
		nodes:   map[string]NodeID{},
		rels:    map[string]bool{},
		sources: map[string]bool{},
	}
	w := &writer{reg: b.reg}
	err := each(func(rec Record) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := b.add(w, rec); err != nil {
			return err
		}
		if progress != nil && b.count%100_000 == 0 {
			progress(b.stats)
		}
		return nil
	})
	if err == nil {
		err = b.wb.Flush()
	} else {
		b.wb.Cancel()
	}
	if err == nil {
		err = s.finishBulk(b.reg)
	}
	if err != nil {
		if dropErr := s.db.DropAll(); dropErr != nil {
			return BulkStats{}, fmt.Errorf("%w (and emptying the store again failed: %v)", err, dropErr)
		}
		return BulkStats{}, err
	}
	return b.stats, nil
}

// finishBulk writes the registry, counters and format of a bulk load, and its one
// commit in the change log (Bulk), and publishes them.
func (s *Store) finishBulk(reg *registry) error {
	reg.version++
	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	w := &writer{txn: txn, reg: reg, bulk: true, noLog: s.noChangeLog}
	if err := w.commitMeta(); err != nil {
		return err
	}
	if err := txn.Set(metaFormat, u16(nil, formatVersion)); err != nil {
		return err
	}
	// One commit that says the store was filled whole: followers re-read it.
	if err := w.logCommit(time.Now()); err != nil {
		return err
	}
	if err := txn.Commit(); err != nil {
		return err
	}
	if err := s.db.Sync(); err != nil && !errors.Is(err, badger.ErrInvalidRequest) {
		return err
	}
	s.recent.reset()
	if w.logged != nil {
		s.recent.add(w.logged)
	}
	s.state.Store(reg)
	s.commits.broadcast()
	return nil
}

type bulkLoader struct {
	wb      *badger.WriteBatch
	reg     *registry
	nodes   map[string]NodeID
	rels    map[string]bool
	sources map[string]bool
	count   int
	stats   BulkStats
}

func (b *bulkLoader) set(k, v []byte) error { return b.wb.Set(k, v) }

func (b *bulkLoader) checkSources(prefix string, ids []string) error {
	for i, id := range ids {
		if !b.sources[id] {
			return Invalid(fmt.Sprintf("%ssources[%d]", prefix, i), "no source with id %q before this record", id)
		}
	}
	return nil
}

func (b *bulkLoader) add(w *writer, rec Record) error {
	b.count++
	prefix := fmt.Sprintf("record %d: ", b.count)
	switch {
	case rec.Source != nil:
		src := rec.Source
		if err := ValidateSource(prefix+"source.", src); err != nil {
			return err
		}
		if src.ID == "" {
			src.ID = SourceID(src)
		}
		raw, err := json.Marshal(src)
		if err != nil {
			return err
		}
		b.sources[src.ID] = true
		b.stats.Sources++
		return b.set(sourceKey(src.ID), raw)

	case rec.Entity != nil:
		e := rec.Entity
		if err := ValidateEntity(prefix+"entity.", e); err != nil {
			return err
		}
		if err := b.checkSources(prefix+"entity.", e.Sources); err != nil {
			return err
		}
		if _, dup := b.nodes[e.ID]; dup {
			return Invalid(prefix+"entity.id", "%q appears twice", e.ID)
		}
		b.reg.nextNID++
		n := NodeID(b.reg.nextNID)
		b.nodes[e.ID] = n
		raw, err := encodeEntity(e)
		if err != nil {
			return err
		}
		if err := b.set(nodeKey(n), raw); err != nil {
			return err
		}
		if err := b.set(nodeIDKey(e.ID), u64(nil, uint64(n))); err != nil {
			return err
		}
		for _, k := range w.entityIndexKeys(n, e) {
			if err := b.set(k, nil); err != nil {
				return err
			}
		}
		w.countEntity(e, +1)
		b.stats.Entities++
		return nil

	case rec.Relationship != nil:
		r := rec.Relationship
		if err := ValidateRelationship(prefix+"relationship.", r); err != nil {
			return err
		}
		if err := b.checkSources(prefix+"relationship.", r.Sources); err != nil {
			return err
		}
		if r.ID == "" {
			r.ID = RelationshipID(r.Type, r.From, r.To)
		}
		if b.rels[r.ID] {
			return Invalid(prefix+"relationship.id", "%q appears twice", r.ID)
		}
		b.rels[r.ID] = true
		from, ok := b.nodes[r.From]
		if !ok {
			return Invalid(prefix+"relationship.from", "no entity with id %q before this record", r.From)
		}
		to, ok := b.nodes[r.To]
		if !ok {
			return Invalid(prefix+"relationship.to", "no entity with id %q before this record", r.To)
		}
		b.reg.nextRID++
		rid := RelID(b.reg.nextRID)
		typ := w.typeID(r.Type)
		raw, err := encodeRelationship(from, to, typ, r)
		if err != nil {
			return err
		}
		h := hotOf(r).encode()
		k := relationshipKeys(rid, from, typ, to)
		for _, kv := range [][2][]byte{
			{k.rec, raw},
			{relIDKey(r.ID), u64(nil, uint64(rid))},
			{k.out, h},
			{k.in, h},
		} {
			if err := b.set(kv[0], kv[1]); err != nil {
				return err
			}
		}
		w.countRelationship(r.Type, +1)
		b.stats.Relationships++
		return nil
	}
	return Invalid(prefix, "holds no source, entity or relationship")
}

// StreamLoad fills an empty store with the records that each calls emit for, through
// Badger's StreamWriter: every key is built in memory, sorted per key family and written
// as SSTables straight into the LSM tree, with no transactions and no compaction. It is
// several times faster than BulkLoad and writes exactly the keys and values that Apply
// would write for the same records applied as one batch in emit order (sources, then
// entities, then relationships: ids are numbered in that order).
//
// Records may come in any order: a relationship may precede its ends and a record the
// sources it cites; they are resolved once every record is in. Every record is validated
// as Apply would (EINVALID with Field "record N: …", N counting from 1 in emit order;
// duplicate entity or relationship ids are refused, a repeated source id keeps the last
// one) and nothing is written before all of them are valid, so on any error the store is
// left as it was. Progress, when not nil, is called every 100,000 records.
//
// A load is atomic whatever its size: the meta keys (version, counters, registries) are
// committed last, in one transaction, after every other key is in the LSM tree. A write
// error empties the store again; a process that dies while writing leaves a store at
// version 0, which the next StreamLoad (a rerun of the import) empties and loads again.
//
// StreamLoad needs an empty store (EINVALID otherwise) that nobody else reads or writes
// while it runs: Badger's StreamWriter replaces the store's transaction oracle when it
// finishes. Use it from the command line on a store no server has open; a running server
// uses BulkLoad. Memory: every key and value is held until the write, outside the Go
// heap on Linux, plus a 24-byte sort key per key; while it runs GOGC is at most 50
// (streamLoadGCPercent). The 1 M-company synthetic graph (1.5 M entities, 3 M
// relationships) peaks at about 3.6 GiB resident when the store is opened with 8 MiB
// tables as lodestone import does (Options.BaseTableSize), 4.5 GiB with Badger's
// default 64 MiB ones (docs/benchmarks.md).
func (s *Store) StreamLoad(ctx context.Context, each func(emit func(Record) error) error, progress func(BulkStats)) (BulkStats, error) {
	defer s.lockWrites()()
	if err := s.checkEmpty(); err != nil {
		return BulkStats{}, err
	}
	defer setGCPercentAtMost(streamLoadGCPercent)()
	l := newStreamLoader(s.state.Load().clone())
	defer l.release()
	l.start(ctx)
	err := each(func(rec Record) error {
		if err := l.add(rec); err != nil {
			return err
		}
		if progress != nil && l.count%100_000 == 0 {
			progress(l.stats)
		}
		return nil
	})
	if werr := l.finish(); werr != nil && (err == nil || errors.Is(err, errStreamFailed)) {
		err = werr
	}
	if err != nil {
		return BulkStats{}, err
	}
	if err := ctx.Err(); err != nil {
		return BulkStats{}, err
	}
	err = s.streamWrite(l)
	if err == nil {
		err = s.finishBulk(l.reg)
	}
	if err != nil {
		if dropErr := s.db.DropAll(); dropErr != nil {
			return BulkStats{}, fmt.Errorf("%w (and emptying the store again failed: %v)", err, dropErr)
		}
		return BulkStats{}, err
	}
	return l.stats, nil
}

// streamLoadGCPercent is the GOGC of a StreamLoad. Its keys and values live outside the
// Go heap; what the heap holds is a few hundred MiB of records and registries and, while
// writing, Badger's table builders and its short-lived copies of every pair. Each MiB the
// heap grows by costs a page fault per 4 KiB, and on a VM a fault costs ~10 µs: at GOGC
// 50 the 1 M-company load takes some 3 s less wall time than at 100, and at 25 more
// collecting costs more than the faults it saves.
const streamLoadGCPercent = 50

// setGCPercentAtMost lowers GOGC to percent unless it is lower already or off, and
// returns the function that restores it.
func setGCPercentAtMost(percent int) (restore func()) {
	old := debug.SetGCPercent(percent)
	if old < 0 || old <= percent {
		debug.SetGCPercent(old)
		return func() {}
	}
	return func() { debug.SetGCPercent(old) }
}

// streamLoader builds the keys of a StreamLoad. The sequential part (ids, registries,
// counters, duplicate checks) runs on the caller's goroutine; validation and encoding run
// on workers, each filling its own per-family buffers, merged and sorted at the end.
type streamLoader struct {
	reg     *registry
	nodes   *idIndex // entity id → nid - nidBase
	nidBase uint64
	rels    *idIndex          // relationship ids, to refuse a repeated one
	sources map[string][]byte // id → JSON; the last record of an id wins
	count   int
	stats   BulkStats

	// pending relationships wait for their ends; cites wait for their sources.
	pending []pendingRel
	cites   []pendingCite

	jobs    chan []streamJob
	chunk   []streamJob
	results chan *familyBufs
	bufs    []*familyBufs
	errMu   sync.Mutex
	err     *Error // the validation error of the lowest record number seen
	errNo   int
	ctx     context.Context
	workers int
	wg      sync.WaitGroup
}

type streamJob struct {
	no   int
	ent  *Entity
	rel  *Relationship
	nid  NodeID
	rid  RelID
	kind uint16
	typ  uint16
	from NodeID
	to   NodeID
}

type pendingRel struct{ job streamJob }

type pendingCite struct {
	no    int
	field string
	id    string
}

func newStreamLoader(reg *registry) *streamLoader {
	return &streamLoader{
		reg:     reg,
		nodes:   newIDIndex(),
		nidBase: reg.nextNID,
		rels:    newIDIndex(),
		sources: map[string][]byte{},
	}
}

func (l *streamLoader) start(ctx context.Context) {
	l.ctx = ctx
	l.workers = max(1, min(runtime.GOMAXPROCS(0), 8))
	l.jobs = make(chan []streamJob, 2*l.workers)
	l.results = make(chan *familyBufs, l.workers)
	for range l.workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			sw := newStreamWorker()
			for jobs := range l.jobs {
				for i := range jobs {
					l.work(sw, &jobs[i])
				}
			}
			l.results <- sw.fb
		}()
	}
}

func (l *streamLoader) fail(no int, err *Error) {
	l.errMu.Lock()
	defer l.errMu.Unlock()
	if l.err == nil || no < l.errNo {
		l.err, l.errNo = err, no
	}
}

func (l *streamLoader) failed() bool {
	l.errMu.Lock()
	defer l.errMu.Unlock()
	return l.err != nil
}

func (l *streamLoader) send(j streamJob) {
	l.chunk = append(l.chunk, j)
	if len(l.chunk) == 512 {
		l.jobs <- l.chunk
		l.chunk = make([]streamJob, 0, 512)
	}
}

func (l *streamLoader) cite(no int, record string, ids []string) {
	for i, id := range ids {
		if _, ok := l.sources[id]; !ok {
			l.cites = append(l.cites, pendingCite{no, fmt.Sprintf("%s%ssources[%d]", recordPrefix(no), record, i), id})
		}
	}
}

// add does the sequential part of one record and hands the rest to a worker.
func (l *streamLoader) add(rec Record) error {
	if l.count&1023 == 0 {
		if err := l.ctx.Err(); err != nil {
			return err
		}
		if l.failed() {
			return errStreamFailed
		}
	}
	l.count++
	no := l.count
	switch {
	case rec.Source != nil:
		src := *rec.Source
		if err := ValidateSource(recordPrefix(no)+"source.", &src); err != nil {
			return err
		}
		if src.ID == "" {
			src.ID = SourceID(&src)
		}
		raw, err := json.Marshal(&src)
		if err != nil {
			return err
		}
		l.sources[src.ID] = raw
		l.stats.Sources++
	case rec.Entity != nil:
		e := rec.Entity
		k, added := l.nodes.add(e.ID)
		if !added {
			return Invalid(recordPrefix(no)+"entity.id", "%q appears twice", e.ID)
		}
		l.reg.nextNID = l.nidBase + k
		n := NodeID(l.reg.nextNID)
		w := &writer{reg: l.reg}
		kind := w.kindID(e.Kind)
		w.countEntity(e, +1)
		l.cite(no, "entity.", e.Sources)
		l.stats.Entities++
		l.send(streamJob{no: no, ent: e, nid: n, kind: kind})
	case rec.Relationship != nil:
		r := rec.Relationship
		if r.ID == "" {
			r.ID = RelationshipID(r.Type, r.From, r.To)
		}
		if _, added := l.rels.add(r.ID); !added {
			return Invalid(recordPrefix(no)+"relationship.id", "%q appears twice", r.ID)
		}
		l.reg.nextRID++
		w := &writer{reg: l.reg}
		j := streamJob{no: no, rel: r, rid: RelID(l.reg.nextRID), typ: w.typeID(r.Type)}
		w.countRelationship(r.Type, +1)
		l.cite(no, "relationship.", r.Sources)
		l.stats.Relationships++
		from, okFrom := l.node(r.From)
		to, okTo := l.node(r.To)
		if !okFrom || !okTo {
			l.pending = append(l.pending, pendingRel{j})
			return nil
		}
		j.from, j.to = from, to
		l.send(j)
	default:
		return Invalid(recordPrefix(no), "holds no source, entity or relationship")
	}
	return nil
}

// release gives back the memory of the id indexes and of every buffer that finish
// collected.
func (l *streamLoader) release() {
	l.nodes.release()
	l.rels.release()
	for _, fb := range l.bufs {
		for _, b := range fb.fams {
			if b != nil {
				b.release()
			}
		}
	}
}

// recordPrefix is "record N: ", the start of the Field of a StreamLoad error.
func recordPrefix(no int) string {
	return "record " + strconv.Itoa(no) + ": "
}

// node returns the nid of entity id of this load.
func (l *streamLoader) node(id string) (NodeID, bool) {
	k := l.nodes.get(id)
	return NodeID(l.nidBase + k), k != 0
}

var errStreamFailed = errors.New("graph: stream load: a record is invalid")

// finish resolves what waited for the end, stops the workers and reports the first error.
func (l *streamLoader) finish() error {
	var endErr error
	for _, c := range l.cites {
		if _, ok := l.sources[c.id]; !ok {
			endErr = Invalid(c.field, "no source with id %q in this load", c.id)
			break
		}
	}
	for _, p := range l.pending {
		j := p.job
		var ok bool
		prefix := fmt.Sprintf("record %d: relationship.", j.no)
		if j.from, ok = l.node(j.rel.From); !ok {
			l.fail(j.no, Invalid(prefix+"from", "no entity with id %q in this load", j.rel.From))
			continue
		}
		if j.to, ok = l.node(j.rel.To); !ok {
			l.fail(j.no, Invalid(prefix+"to", "no entity with id %q in this load", j.rel.To))
			continue
		}
		l.send(j)
	}
	if len(l.chunk) > 0 {
		l.jobs <- l.chunk
		l.chunk = nil
	}
	close(l.jobs)
	l.wg.Wait()
	close(l.results)
	for fb := range l.results {
		l.bufs = append(l.bufs, fb)
	}
	if l.err != nil {
		return l.err
	}
	return endErr
}

// streamWorker is what one worker of a StreamLoad owns: its buffers, and a private
// registry of the kinds it has seen (their ids come from the sequential part), so that
// it never touches the shared registry.
type streamWorker struct {
	fb  *familyBufs
	w   *writer
	num [8]byte // a value being built (fb.add copies it)
}

func newStreamWorker() *streamWorker {
	return &streamWorker{fb: &familyBufs{}, w: &writer{reg: &registry{kinds: map[string]uint16{}}}}
}

// work validates and encodes one entity or relationship into sw's buffers. Validation
// names fields from "entity." or "relationship." on; the record number is put in front
// only when a record is invalid, which saves building it for the millions that are not.
func (l *streamLoader) work(sw *streamWorker, j *streamJob) {
	fb := sw.fb
	if j.ent != nil {
		e := j.ent
		if err := ValidateEntity("entity.", e); err != nil {
			l.fail(j.no, inRecord(j.no, err))
			return
		}
		raw, err := encodeEntity(e)
		if err != nil {
			l.fail(j.no, Invalid(recordPrefix(j.no)+"entity", "%v", err))
			return
		}
		fb.add(famNode, nodeKey(j.nid), raw)
		fb.add(famNodeID, nodeIDKey(e.ID), u64(sw.num[:0], uint64(j.nid)))
		sw.w.reg.kinds[e.Kind] = j.kind
		for _, k := range sw.w.entityIndexKeys(j.nid, e) {
			fb.add(k[0], k, nil)
		}
		return
	}
	r := j.rel
	props, err := validateRelationship("relationship.", r)
	if err != nil {
		l.fail(j.no, inRecord(j.no, err))
		return
	}
	raw, err := encodeRelationship(j.from, j.to, j.typ, r)
	if err != nil {
		l.fail(j.no, Invalid(recordPrefix(j.no)+"relationship", "%v", err))
		return
	}
	h := hotOfProps(r, props).encode()
	k := relationshipKeys(j.rid, j.from, j.typ, j.to)
	fb.add(famRel, k.rec, raw)
	fb.add(famRelID, relIDKey(r.ID), u64(sw.num[:0], uint64(j.rid)))
	fb.add(famOut, k.out, h)
	fb.add(famIn, k.in, h)
}

// inRecord puts "record N: " in front of the Field of err, a validation *Error.
func inRecord(no int, err error) *Error {
	e := err.(*Error)
	e.Field = recordPrefix(no) + e.Field
	return e
}

// streamWrite writes the sources and every worker's families. It writes no meta key: the
// caller commits those afterwards (finishBulk), so that a load interrupted while
// writing leaves a store at version 0, which the next StreamLoad empties and writes again.
func (s *Store) streamWrite(l *streamLoader) error {
	srcs := &kvBuf{}
	defer srcs.release()
	for id, raw := range l.sources {
		srcs.add(sourceKey(id), raw)
	}
	return s.writeFamilies(streamFamilies(l.bufs, map[byte]*kvBuf{famSource: srcs}))
}

// MissingIDs returns, in one read transaction without a time limit, which of the given
// entity and source ids the store does not hold. Importers use it to check the ends and
// citations of the relationships they are about to write.
func (s *Store) MissingIDs(ctx context.Context, entityIDs, sourceIDs []string) (entities, sources []string, err error) {
	if s.closed.Load() {
		return nil, nil, ErrClosed
	}
	err = s.db.View(func(txn *badger.Txn) error {
		for i, ids := range [][]string{entityIDs, sourceIDs} {
			for j, id := range ids {
				if j&1023 == 0 {
					if err := ctx.Err(); err != nil {
						return err
					}
				}
				key := nodeIDKey(id)
				if i == 1 {
					key = sourceKey(id)
				}
				_, err := txn.Get(key)
				if errors.Is(err, badger.ErrKeyNotFound) {
					if i == 0 {
						entities = append(entities, id)
					} else {
						sources = append(sources, id)
					}
					continue
				}
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
	return entities, sources, err
}

// checkEmpty refuses a bulk load into a store that is closed or holds data. The caller
// holds writeMu.
func (s *Store) checkEmpty() error {
	if s.closed.Load() {
		return ErrClosed
	}
	if reg := s.state.Load(); reg.version != 0 || reg.nextNID != 0 {
		return Errorf(EINVALID, "a bulk load needs an empty store; this one is at version %d", reg.version)
	}
	return nil
}
