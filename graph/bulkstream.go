package graph

import (
	"cmp"
	"errors"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/ristretto/v2/z"
)

// streamVersion is the Badger version of every bulk-loaded key.
const streamVersion = 1

// minStreamPart is the fewest pairs writeFamilies puts in a part: a smaller family is
// one stream (tests lower it to split small families too).
var minStreamPart = 1 << 18

// streamPart is one stream of a StreamWriter: the pairs of one family from one key up
// to the next part's first key, as a sub-slice of each of the family's sorted runs.
type streamPart struct {
	sf    *streamFamily
	runs  [][]sortKey
	pairs int
}

// writeFamilies sorts the runs of every family, splits the families into parts of
// similar size and writes each part as one stream of one StreamWriter, GOMAXPROCS
// at a time and largest first, so that both cores stay busy to the end; then flushes
// it. A family's memory is released once its last part is written. On error the writer
// is cancelled.
func (s *Store) writeFamilies(fams []*streamFamily) error {
	procs := max(1, runtime.GOMAXPROCS(0))
	type sortJob struct {
		sf *streamFamily
		i  int
	}
	var jobs []sortJob
	total := 0
	for _, sf := range fams {
		sf.runs = make([][]sortKey, len(sf.bufs))
		for i := range sf.bufs {
			jobs = append(jobs, sortJob{sf, i})
		}
		total += sf.pairs
	}
	slices.SortStableFunc(jobs, func(a, b sortJob) int { return cmp.Compare(b.sf.bufs[b.i].len(), a.sf.bufs[a.i].len()) })
	parallel(len(jobs), procs, func(i int) { j := jobs[i]; j.sf.runs[j.i] = j.sf.bufs[j.i].sortedRun() })

	maxPart := max(minStreamPart, total/(4*procs))
	var parts []*streamPart
	for _, sf := range fams {
		ps := sf.split(maxPart)
		sf.left.Store(int32(len(ps)))
		parts = append(parts, ps...)
	}
	slices.SortStableFunc(parts, func(a, b *streamPart) int { return cmp.Compare(b.pairs, a.pairs) })

	sw := s.db.NewStreamWriter()
	if err := sw.Prepare(); err != nil {
		sw.Cancel()
		return err
	}
	errs := make([]error, len(parts))
	parallel(len(parts), procs, func(i int) {
		p := parts[i]
		errs[i] = p.write(sw, uint32(i+1))
		if p.sf.left.Add(-1) == 0 {
			for _, b := range p.sf.bufs {
				b.release()
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		sw.Cancel()
		return err
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	if err := s.db.Sync(); err != nil && !errors.Is(err, badger.ErrInvalidRequest) {
		return err
	}
	return nil
}

// parallel calls fn(0) … fn(n-1) on at most procs goroutines, in order of i, and
// returns when every call has returned.
func parallel(n, procs int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(n, procs) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// split cuts sf's sorted runs into parts of about maxPart pairs at keys of its longest
// run. Every copy of a key falls in one part, and the parts' key ranges follow one
// another without overlap, as the streams of one StreamWriter must.
func (sf *streamFamily) split(maxPart int) []*streamPart {
	n := (sf.pairs + maxPart - 1) / maxPart
	longest := 0
	for i, run := range sf.runs {
		if len(run) > len(sf.runs[longest]) {
			longest = i
		}
	}
	pivotRun, pivotBuf := sf.runs[longest], sf.bufs[longest]
	starts := make([]int, len(sf.runs)) // where the current part starts in each run
	var parts []*streamPart
	for p := 1; p <= n; p++ {
		ends := make([]int, len(sf.runs))
		for i, run := range sf.runs {
			ends[i] = len(run)
			if p < n {
				pivot := &pivotRun[p*len(pivotRun)/n]
				b := sf.bufs[i]
				ends[i] = sort.Search(len(run), func(j int) bool { return compareKeys(b, &run[j], pivotBuf, pivot) >= 0 })
			}
		}
		part := &streamPart{sf: sf, runs: make([][]sortKey, len(sf.runs))}
		for i, run := range sf.runs {
			part.runs[i] = run[starts[i]:ends[i]]
			part.pairs += ends[i] - starts[i]
		}
		starts = ends
		if part.pairs > 0 {
			parts = append(parts, part)
		}
	}
	return parts
}

// write merges p's runs into stream streamID and closes the stream. A key that appears
// twice (an entity listing the same identifier twice) is written once, as Apply would.
//
// The merge picks mergeBatch pairs by their sort keys, then touches where each pair lies
// before copying any: sorted pairs lie all over the buffers, and reading them one by one,
// each after the last was copied, waited for one cache and TLB miss at a time (a tenth
// of the load's CPU); independent loads in a row let the CPU wait for many at once.
func (p *streamPart) write(sw *badger.StreamWriter, streamID uint32) error {
	bufs, runs := p.sf.bufs, slices.Clone(p.runs)
	buf := z.NewBuffer(8<<20, "lodestone.StreamLoad")
	defer buf.Release()
	var last []byte
	var lastKey sortKey
	type picked struct {
		b  *kvBuf
		sk *sortKey
		p  []byte // the pair's block from its offset on
	}
	var batch [mergeBatch]picked
	for {
		n := 0
		for ; n < mergeBatch; n++ {
			best := -1
			for i, run := range runs {
				if len(run) == 0 {
					continue
				}
				if best < 0 || compareKeys(bufs[i], &run[0], bufs[best], &runs[best][0]) < 0 {
					best = i
				}
			}
			if best < 0 {
				break
			}
			batch[n] = picked{b: bufs[best], sk: &runs[best][0]}
			runs[best] = runs[best][1:]
		}
		if n == 0 {
			break
		}
		var touched byte
		for i := range batch[:n] {
			e := batch[i].sk.e
			batch[i].p = batch[i].b.blocks[e.block][e.off:]
			touched |= batch[i].p[0]
		}
		sink.Store(uint32(touched))
		for _, pk := range batch[:n] {
			k, v := splitPair(pk.p)
			// Keys of different prefixes differ: only equal prefixes need the bytes compared.
			if last != nil && pk.sk.hi == lastKey.hi && pk.sk.lo == lastKey.lo && string(k) == string(last) {
				continue
			}
			last, lastKey = k, *pk.sk
			appendKV(buf, k, v, streamID)
		}
		if buf.LenNoPadding() > 4<<20 {
			if err := sw.Write(buf); err != nil {
				return err
			}
			buf.Reset()
		}
	}
	appendStreamDone(buf, streamID)
	return sw.Write(buf)
}

// mergeBatch is how many pairs streamPart.write picks before it reads them.
const mergeBatch = 64

// sink keeps the loads of streamPart.write that only bring pairs into the cache.
var sink atomic.Uint32
