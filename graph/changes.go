package graph

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// The change log (api.md, "Changes and subscriptions"). Every committed write — Apply,
// a bulk load, a saved query saved or deleted, an API key created or revoked, a
// persisted query approved or revoked — appends one Commit in the same Badger transaction
// as the write itself, under
//
//	L       'L' · seq[8]                                   JSON Commit
//
// so that a write that is acknowledged is in the log and one that is not is not. The
// sequence is the store version the write created: it rises by exactly 1 per commit, with
// no gaps. Commits older than the retention are pruned (PruneChanges); the oldest kept
// sequence is then recorded under metaChangesFloor, so that a reader asking for what
// came after a pruned sequence is told so instead of silently missing commits.
const famChange = 'L'

// DefaultChangesRetention is how long `lodestone serve` keeps the change log's commits
// (--changes-retention).
const DefaultChangesRetention = 7 * 24 * time.Hour

// metaChangesFloor holds the sequence through which the log was pruned (0: nothing).
var metaChangesFloor = []byte("Mchanges/floor")

func changeKey(seq uint64) []byte { return u64(newKey(famChange, 8), seq) }

// ChangeOp says what a change did to its item.
type ChangeOp string

// Change operations.
const (
	OpUpsert ChangeOp = "UPSERT"
	OpDelete ChangeOp = "DELETE"
)

// ItemKind is the kind of item a change is about. Clients see the first four; API keys
// and persisted-query approvals are in the log (replicas apply them) but never shown.
type ItemKind string

// Item kinds.
const (
	KindEntityItem       ItemKind = "ENTITY"
	KindRelationshipItem ItemKind = "RELATIONSHIP"
	KindSourceItem       ItemKind = "SOURCE"
	KindSavedQueryItem   ItemKind = "SAVED_QUERY"
	kindAPIKeyItem       ItemKind = "API_KEY"
	kindPersistedItem    ItemKind = "PERSISTED_QUERY"
	kindWebhookItem      ItemKind = "WEBHOOK" // webhooks.go: URL, secret and delivery cursor
)

// Public reports whether clients may see changes of kind k.
func (k ItemKind) Public() bool {
	switch k {
	case KindEntityItem, KindRelationshipItem, KindSourceItem, KindSavedQueryItem:
		return true
	}
	return false
}

// Change is one item a commit changed: its new state for an upsert (Entity,
// Relationship, Source or SavedQuery), its identity for a delete (ID, and for a
// relationship Type, From and To).
type Change struct {
	Op           ChangeOp      `json:"op"`
	Kind         ItemKind      `json:"kind"`
	ID           string        `json:"id"`
	Entity       *Entity       `json:"entity,omitempty"`
	Relationship *Relationship `json:"relationship,omitempty"`
	Source       *Source       `json:"source,omitempty"`
	SavedQuery   *SavedQuery   `json:"savedQuery,omitempty"`
	Type         string        `json:"type,omitempty"`
	From         string        `json:"from,omitempty"`
	To           string        `json:"to,omitempty"`
	// Key and Value are the stored record of an item clients never see (an API key's
	// hash and role, a persisted query's approval); Value is empty for a delete.
	Key   []byte `json:"key,omitempty"`
	Value []byte `json:"value,omitempty"`
}

// Commit is one committed write.
type Commit struct {
	Seq uint64    `json:"seq"`
	At  time.Time `json:"at"`
	// Actor is the id of the API key that made the write, or empty (ActorFrom).
	Actor string `json:"actor,omitempty"`
	// Bulk is true for a bulk load that filled an empty store: it lists no changes, and a
	// follower must re-read the store instead of replaying it.
	Bulk    bool     `json:"bulk,omitempty"`
	Changes []Change `json:"changes"`
}

type actorKey struct{}

// WithActor returns ctx naming the API key id that the writes made with it act for; the
// change log records it as each commit's Actor.
func WithActor(ctx context.Context, keyID string) context.Context {
	return context.WithValue(ctx, actorKey{}, keyID)
}

func actorFrom(ctx context.Context) string {
	id, _ := ctx.Value(actorKey{}).(string)
	return id
}

// logCommit writes the commit record of w, which is about to commit as w.reg.version,
// and keeps it in w.logged for the recent-commits cache (which the caller fills once the
// transaction has committed).
func (w *writer) logCommit(at time.Time) error {
	if w.noLog {
		return nil // benchmarks of the log's cost only (Store.noChangeLog)
	}
	c := Commit{Seq: w.reg.version, At: at.UTC(), Actor: w.actor, Bulk: w.bulk, Changes: w.changes}
	if c.Changes == nil {
		c.Changes = []Change{}
	}
	raw, err := json.Marshal(c)
	if err != nil {
		return err
	}
	w.logged = &c
	return w.txn.Set(changeKey(c.Seq), raw)
}

// recentCommits keeps the last commits decoded in memory, so that live followers (a
// thousand subscriptions woken by one commit) read it there instead of each reading and
// decoding it from the store. It holds consecutive sequences only: a commit too large to
// keep, or a restore, empties it, and readers then go to the store.
type recentCommits struct {
	mu   sync.RWMutex
	list []Commit
}

// Limits of recentCommits: how many commits, and the most changes one may have to be kept.
const (
	recentCommitsMax    = 256
	recentCommitChanges = 1000
)

// add keeps c, which follows the last commit kept (or starts the list again).
func (r *recentCommits) add(c *Commit) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(c.Changes) > recentCommitChanges || len(r.list) > 0 && r.list[len(r.list)-1].Seq+1 != c.Seq {
		r.list = nil
		if len(c.Changes) > recentCommitChanges {
			return
		}
	}
	if len(r.list) == recentCommitsMax {
		r.list = append(make([]Commit, 0, recentCommitsMax), r.list[recentCommitsMax/4:]...) // drop the oldest quarter
	}
	r.list = append(r.list, *c)
}

func (r *recentCommits) reset() {
	r.mu.Lock()
	r.list = nil
	r.mu.Unlock()
}

// after returns the kept commits after seq through through, and whether the list covers
// all of them.
func (r *recentCommits) after(seq, through uint64) ([]Commit, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if len(r.list) == 0 || r.list[0].Seq > seq+1 || r.list[len(r.list)-1].Seq < through {
		return nil, false
	}
	i := int(seq + 1 - r.list[0].Seq)
	if seq+1 < r.list[0].Seq {
		i = 0
	}
	if i > len(r.list) {
		return nil, true
	}
	return slices.Clone(r.list[i:]), true
}

// changed records a change of the write for the log.
func (w *writer) changed(c Change) { w.changes = append(w.changes, c) }

// ChangeFilter selects the changes a reader wants; a commit is kept when one of its
// changes matches, and only the matching changes are kept. Empty lists match all.
type ChangeFilter struct {
	// IDs match an entity's id, a relationship's id or either of its ends, a source's id
	// or a saved query's name.
	IDs []string
	// Types match relationship types (a change that is not about a relationship does
	// not match a filter with types).
	Types []string
	// Kinds match item kinds.
	Kinds []ItemKind
}

// Match returns the changes of c that f keeps, public ones only, and whether c is kept.
// An empty filter keeps every commit, so that a reader of the whole log sees every
// sequence (a commit that changed only what clients never see, an API key say, then has
// no changes); a filter keeps the commits with a matching change.
func (f ChangeFilter) Match(c *Commit) (kept []Change, ok bool) {
	empty := len(f.IDs) == 0 && len(f.Types) == 0 && len(f.Kinds) == 0
	if c.Bulk {
		return []Change{}, empty
	}
	kept = []Change{}
	for _, ch := range c.Changes {
		if !ch.Kind.Public() {
			continue
		}
		if len(f.Kinds) > 0 && !slices.Contains(f.Kinds, ch.Kind) {
			continue
		}
		if len(f.Types) > 0 && (ch.Kind != KindRelationshipItem || !slices.Contains(f.Types, ch.relType())) {
			continue
		}
		if len(f.IDs) > 0 && !slices.ContainsFunc(f.IDs, ch.touches) {
			continue
		}
		kept = append(kept, ch)
	}
	return kept, empty || len(kept) > 0
}

func (ch *Change) relType() string {
	if ch.Relationship != nil {
		return ch.Relationship.Type
	}
	return ch.Type
}

func (ch *Change) touches(id string) bool {
	if ch.ID == id {
		return true
	}
	if r := ch.Relationship; r != nil {
		return r.From == id || r.To == id
	}
	return ch.Kind == KindRelationshipItem && (ch.From == id || ch.To == id)
}

// Seq returns the sequence of the last commit (the store version).
func (s *Store) Seq() uint64 { return s.state.Load().version }

// commitSignal wakes the readers waiting for the next commit (WaitCommit): its channel is
// closed, and replaced, at every commit.
type commitSignal struct {
	mu sync.Mutex
	ch chan struct{}
}

func (c *commitSignal) wait() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ch == nil {
		c.ch = make(chan struct{})
	}
	return c.ch
}

func (c *commitSignal) broadcast() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ch != nil {
		close(c.ch)
		c.ch = nil
	}
}

// WaitCommit blocks until the store holds a commit after seq and returns the last
// sequence, or returns ctx's error. It is how subscriptions and webhooks follow the log
// live without polling.
func (s *Store) WaitCommit(ctx context.Context, seq uint64) (uint64, error) {
	for {
		wake := s.commits.wait()
		if last := s.Seq(); last > seq {
			return last, nil
		}
		if s.closed.Load() {
			return 0, ErrClosed
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// ChangesQuery asks for the commits after After, at most First of them, filtered.
type ChangesQuery struct {
	After  uint64
	First  int
	Filter ChangeFilter
}

// ChangesPage is a page of commits.
type ChangesPage struct {
	Commits []Commit
	// HasNext is true when more commits matching the filter follow.
	HasNext bool
	// Seq is the last commit of the store when the page was read.
	Seq uint64
	// Through is the sequence the page read through: every commit up to it either is in
	// Commits or did not match. A reader that goes on asks for the commits after it.
	Through uint64
}

// maxChangesScanned bounds the commits one page reads that the filter drops: a filter
// that matches rarely answers a short page (HasNext true) instead of reading the whole log.
const maxChangesScanned = 100_000

// Changes returns the commits after q.After that match q.Filter, oldest first, at most
// q.First of them. Errors: ELIMIT when First is above the server's cap; EINVALID (field
// "after") when commits after q.After were pruned, naming the oldest sequence still kept.
func (s *Store) Changes(ctx context.Context, q ChangesQuery) (*ChangesPage, error) {
	if err := checkCount("first", q.First, s.limits.MaxFirst); err != nil {
		return nil, err
	}
	page := &ChangesPage{Commits: []Commit{}}
	if s.changesFromMemory(q, page) {
		return page, nil
	}
	err := s.read(ctx, Date{}, func(v *txnView) error {
		floor, err := changesFloor(v.txn)
		if err != nil {
			return err
		}
		if q.After < floor {
			return &Error{Code: EINVALID, Field: "after", Message: fmt.Sprintf("the change log no longer holds the commits after %d: it was pruned through %d, and the oldest sequence still kept is %d; start again from a full read (the store is at %d)", q.After, floor, floor+1, v.reg.version)}
		}
		page.Seq = v.reg.version
		it := v.txn.NewIterator(badger.IteratorOptions{Prefix: []byte{famChange}, PrefetchValues: true, PrefetchSize: 64})
		defer it.Close()
		scanned := 0
		p := pager{q: q, page: page, handled: q.After}
		for it.Seek(changeKey(q.After + 1)); it.Valid(); it.Next() {
			if scanned++; scanned > maxChangesScanned {
				p.cut()
				return nil
			}
			if err := v.charge(1); err != nil {
				return overBudget(err, "changes")
			}
			var c Commit
			if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &c) }); err != nil {
				return fmt.Errorf("graph: change %x: %w", it.Item().Key(), err)
			}
			if p.add(c) {
				return nil
			}
		}
		p.finish(v.reg.version)
		return nil
	})
	return page, err
}

// changesFromMemory answers q from the recent commits when they cover everything after
// q.After up to the store's sequence, and the log was not pruned past q.After; it reports
// whether it did. It pages and filters exactly as the read from the store does.
func (s *Store) changesFromMemory(q ChangesQuery, page *ChangesPage) bool {
	seq := s.Seq()
	if q.After < s.changesFloor.Load() || q.After > seq {
		return false
	}
	list, ok := s.recent.after(q.After, seq)
	if !ok {
		return false
	}
	page.Seq = seq
	p := pager{q: q, page: page, handled: q.After}
	for _, c := range list {
		if p.add(c) {
			return true
		}
	}
	p.finish(seq)
	return true
}

// pager fills a ChangesPage from commits in sequence order, filtered and cut at First,
// keeping Through right: what the store's and the memory's readers of the log share.
type pager struct {
	q       ChangesQuery
	page    *ChangesPage
	handled uint64 // every commit up to it is in the page or did not match
}

// add takes the next commit and reports whether the page is full (HasNext set: c and
// what follows are for the next page).
func (p *pager) add(c Commit) (full bool) {
	kept, match := p.q.Filter.Match(&c)
	if !match {
		p.handled = c.Seq
		return false
	}
	if len(p.page.Commits) == p.q.First {
		p.page.HasNext, p.page.Through = true, p.handled
		return true
	}
	c.Changes = kept
	p.page.Commits = append(p.page.Commits, c)
	p.handled = c.Seq
	return false
}

// cut ends the page early, before a commit that was not looked at (HasNext).
func (p *pager) cut() { p.page.HasNext, p.page.Through = true, p.handled }

// finish ends a page that read to the end of the log, which holds every commit up to
// seq (and maybe one committed since).
func (p *pager) finish(seq uint64) { p.page.Through = max(p.handled, seq) }

// changesFloor returns the sequence through which the log was pruned.
func changesFloor(txn *badger.Txn) (uint64, error) {
	item, err := txn.Get(metaChangesFloor)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var floor uint64
	err = item.Value(func(b []byte) error {
		if len(b) != 8 {
			return errors.New("graph: malformed change log floor")
		}
		floor = binary.BigEndian.Uint64(b)
		return nil
	})
	return floor, err
}

// loadChangesFloor reads the log's floor into memory (at open, after a prune or a
// restore), for changesFromMemory.
func (s *Store) loadChangesFloor() error {
	return s.db.View(func(txn *badger.Txn) error {
		floor, err := changesFloor(txn)
		if err == nil {
			s.changesFloor.Store(floor)
		}
		return err
	})
}

// PruneChanges deletes the commits older than cutoff (by their time), in transactions of
// at most 1,000, and records the last sequence deleted as the log's floor. It returns how
// many it deleted. Only the serving process prunes (lodestone serve --changes-retention).
func (s *Store) PruneChanges(cutoff time.Time) (int, error) {
	total := 0
	for {
		n, more, err := s.pruneChangesOnce(cutoff)
		total += n
		if err != nil || !more {
			return total, err
		}
	}
}

func (s *Store) pruneChangesOnce(cutoff time.Time) (n int, more bool, err error) {
	defer s.lockWrites()()
	if s.closed.Load() {
		return 0, false, ErrClosed
	}
	err = s.db.Update(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{famChange}, PrefetchValues: true})
		defer it.Close()
		var last uint64
		var keys [][]byte
		for it.Rewind(); it.Valid(); it.Next() {
			var c struct {
				Seq uint64    `json:"seq"`
				At  time.Time `json:"at"`
			}
			if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &c) }); err != nil {
				return err
			}
			if !c.At.Before(cutoff) || c.Seq >= s.state.Load().version {
				break // the newest commit stays, so that the floor never passes the store
			}
			if len(keys) == 1000 {
				more = true
				break
			}
			keys = append(keys, it.Item().KeyCopy(nil))
			last = c.Seq
		}
		it.Close()
		for _, k := range keys {
			// The log's own pruning, like the journal's: these keys are not graph data
			// and incremental backups need no marker for them (Changes checks the floor).
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		n = len(keys)
		if n == 0 {
			return nil
		}
		return txn.Set(metaChangesFloor, u64(nil, last))
	})
	if err == nil && n > 0 {
		s.loadChangesFloor()
	}
	return n, more, err
}
