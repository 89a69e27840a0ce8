package graph

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dgraph-io/badger/v4"
)

// Saved queries and approved persisted documents live under the key family Q, beside the
// graph but outside it: writing them changes neither the store version, nor the counters,
// nor any graph index, and Check, Export and BulkLoad do not look at them.
//
//	key                                               value
//	Q · 'n' · name                                    0x01 · JSON savedQueryHead
//	Q · 'v' · name · 0x00 · version[4]                0x01 · JSON SavedQuery (one version)
//	Q · 'h' · sha256[32] · name · 0x00 · version[4]   empty: the saved versions of a document
//	Q · 'p' · sha256[32]                              0x01 · JSON PersistedQuery
//
// Names are slugs ([a-z0-9][a-z0-9-]{0,63}), so they hold no 0x00 and a scan of Q·'n'
// lists them in name order; versions are big-endian uint32, so a scan of Q·'v'·name·0x00
// lists one query's versions oldest first. sha256 is the digest of the document text, as
// Apollo's automatic persisted queries compute it.
//
// These keys are written by writeQueries through Store.commit, the funnel Apply uses too:
// every saved-query change is serialized with the graph's writes and gets the next store
// version.
const famQuery = 'Q'

const (
	subQueryHead      = 'n'
	subQueryVersion   = 'v'
	subQueryHash      = 'h'
	subPersistedQuery = 'p'
)

func queryHeadKey(name string) []byte {
	return append([]byte{famQuery, subQueryHead}, name...)
}

func queryVersionPrefix(name string) []byte {
	return append(append([]byte{famQuery, subQueryVersion}, name...), 0)
}

func queryVersionKey(name string, version int) []byte {
	return binary.BigEndian.AppendUint32(queryVersionPrefix(name), uint32(version))
}

func queryHashPrefix(sum []byte) []byte {
	return append([]byte{famQuery, subQueryHash}, sum...)
}

func queryHashKey(sum []byte, name string, version int) []byte {
	k := append(queryHashPrefix(sum), name...)
	return binary.BigEndian.AppendUint32(append(k, 0), uint32(version))
}

// parseQueryHashKey returns the name and version of a Q·'h' key.
func parseQueryHashKey(k []byte) (name string, version int, ok bool) {
	const head = 2 + sha256.Size
	if len(k) < head+1+4 || k[len(k)-5] != 0 {
		return "", 0, false
	}
	return string(k[head : len(k)-5]), int(binary.BigEndian.Uint32(k[len(k)-4:])), true
}

func persistedQueryKey(sum []byte) []byte {
	return append([]byte{famQuery, subPersistedQuery}, sum...)
}

// Limits of saved queries.
const (
	// MaxQueryDocumentBytes caps a saved or persisted document (the GraphQL server's
	// MaxQueryLength).
	MaxQueryDocumentBytes = 64 << 10
	// MaxSavedQueryTags caps the tags of one saved query.
	MaxSavedQueryTags = 32
	// MaxTagBytes caps one tag.
	MaxTagBytes = 64
)

// SavedQuery is one version of a saved query: a named GraphQL document with a
// description, tags, the parameters it declares and default values for them.
type SavedQuery struct {
	// Name is a URL-safe slug: [a-z0-9][a-z0-9-]{0,63}.
	Name string `json:"name"`
	// Version counts the saves of Name, from 1. SaveQuery assigns it.
	Version     int      `json:"version"`
	Description string   `json:"description,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	// Query is the GraphQL document, exactly as saved.
	Query string `json:"query"`
	// Params are the variables the document declares. The store keeps them as given;
	// deriving them from the document (and validating it) is the caller's job, since the
	// store does not parse GraphQL.
	Params []QueryParam `json:"params,omitempty"`
	// Variables are default values of some Params, a JSON object (may be empty).
	Variables json.RawMessage `json:"variables,omitempty"`
	// Hash is the lower-case hex SHA-256 of Query. SaveQuery computes it.
	Hash string `json:"sha256"`
	// SavedAt is when this version was saved; SaveQuery stamps the current time when it
	// is zero.
	SavedAt time.Time `json:"savedAt"`
}

// QueryParam is a variable a saved document declares.
type QueryParam struct {
	Name string `json:"name"`
	// Type is the GraphQL type as written in the document, e.g. "ID!" or "[String!]".
	Type string `json:"type"`
	// Required is true when a caller must give a value: a non-null type without default.
	Required bool `json:"required,omitempty"`
	// Default is the JSON default value (from the saved variables or the document), or
	// empty when there is none.
	Default json.RawMessage `json:"default,omitempty"`
}

// SavedQueryHistory is every version of a saved query, oldest first.
type SavedQueryHistory struct {
	Name string
	// Deleted is true for a deleted query whose history has not been purged;
	// DeletedAt says when.
	Deleted   bool
	DeletedAt time.Time
	Versions  []*SavedQuery
}

// Latest returns the newest version.
func (h *SavedQueryHistory) Latest() *SavedQuery { return h.Versions[len(h.Versions)-1] }

// PersistedQuery is a document approved to run when the server accepts only saved and
// approved documents (the allow-list), and that clients may run by its hash alone.
type PersistedQuery struct {
	// Hash is the lower-case hex SHA-256 of Query.
	Hash       string    `json:"sha256"`
	Query      string    `json:"query"`
	ApprovedAt time.Time `json:"approvedAt"`
}

// savedQueryHead is the per-name record: the latest version and the delete mark.
type savedQueryHead struct {
	Latest    int       `json:"latest"`
	Deleted   bool      `json:"deleted,omitempty"`
	DeletedAt time.Time `json:"deletedAt,omitzero"`
}

// QueryHash returns the lower-case hex SHA-256 of a GraphQL document, the hash of
// Apollo's automatic persisted queries.
func QueryHash(doc string) string {
	sum := sha256.Sum256([]byte(doc))
	return hex.EncodeToString(sum[:])
}

// parseQueryHash decodes a lower-case hex SHA-256.
func parseQueryHash(field, h string) ([]byte, error) {
	sum, err := hex.DecodeString(h)
	if err != nil || len(sum) != sha256.Size || strings.ToLower(h) != h {
		return nil, Invalid(field, "%q is not a SHA-256 hash in lower-case hex (64 characters)", h)
	}
	return sum, nil
}

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// ValidateSavedQueryName checks that name is a slug: 1–64 characters of a–z, 0–9 and
// '-', not starting with '-'. It returns an EINVALID *Error naming field.
func ValidateSavedQueryName(field, name string) error {
	if !slugRE.MatchString(name) {
		return Invalid(field, "%q is not a valid name: use 1–64 lower-case letters, digits and dashes, starting with a letter or digit (e.g. company-owners)", name)
	}
	return nil
}

// ValidateSavedQuery checks q's fields (not its GraphQL: the store cannot parse it):
// the name, a non-empty document of at most MaxQueryDocumentBytes, a description of at
// most 4096 bytes, up to MaxSavedQueryTags distinct tags of 1–MaxTagBytes bytes without
// control characters or surrounding spaces, distinct parameter names, and Variables that
// are a JSON object. Errors are EINVALID naming the field after prefix ("input.").
func ValidateSavedQuery(prefix string, q *SavedQuery) error {
	if err := ValidateSavedQueryName(prefix+"name", q.Name); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(q.Query) == "":
		return Invalid(prefix+"query", "must not be empty")
	case len(q.Query) > MaxQueryDocumentBytes:
		return Invalid(prefix+"query", "is %d bytes long; at most %d are allowed", len(q.Query), MaxQueryDocumentBytes)
	case !utf8.ValidString(q.Query):
		return Invalid(prefix+"query", "is not valid UTF-8")
	}
	if err := validateText(prefix+"description", q.Description, false); err != nil {
		return err
	}
	if len(q.Tags) > MaxSavedQueryTags {
		return Invalid(prefix+"tags", "has %d tags; at most %d are allowed", len(q.Tags), MaxSavedQueryTags)
	}
	for i, t := range q.Tags {
		f := fmt.Sprintf("%stags[%d]", prefix, i)
		switch {
		case t == "":
			return Invalid(f, "must not be empty")
		case len(t) > MaxTagBytes:
			return Invalid(f, "is %d bytes long; tags are at most %d bytes", len(t), MaxTagBytes)
		case !utf8.ValidString(t):
			return Invalid(f, "is not valid UTF-8")
		case strings.TrimSpace(t) != t:
			return Invalid(f, "must not start or end with spaces")
		case strings.IndexFunc(t, unicode.IsControl) >= 0:
			return Invalid(f, "contains a control character")
		case slices.Index(q.Tags, t) < i:
			return Invalid(f, "%q appears twice", t)
		}
	}
	seen := map[string]bool{}
	for i, p := range q.Params {
		if p.Name == "" || seen[p.Name] {
			return Invalid(fmt.Sprintf("%sparams[%d]", prefix, i), "parameter names must be distinct and non-empty")
		}
		seen[p.Name] = true
	}
	if len(q.Variables) > 0 {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(q.Variables, &obj); err != nil || obj == nil {
			return Invalid(prefix+"variables", "must be a JSON object of default values, e.g. {\"threshold\": 0.25}")
		}
	}
	return nil
}

// SaveQuery stores q as the next version of q.Name (version 1 for a new name) and
// returns what was stored: Version and Hash filled in, SavedAt stamped when zero. Saving
// a deleted query restores it, with its history continued. Nothing else in the store
// changes (its version included).
//
// Errors: EINVALID from ValidateSavedQuery; ErrClosed.
func (s *Store) SaveQuery(ctx context.Context, q *SavedQuery) (*SavedQuery, error) {
	if err := ValidateSavedQuery("", q); err != nil {
		return nil, err
	}
	out := *q
	out.Tags = slices.Clone(q.Tags)
	out.Params = slices.Clone(q.Params)
	out.Hash = QueryHash(q.Query)
	if out.SavedAt.IsZero() {
		out.SavedAt = time.Now().UTC()
	}
	sum, _ := hex.DecodeString(out.Hash)
	err := s.writeQueries(ctx, func(w *writer) error {
		txn := w.txn
		var head savedQueryHead
		if _, err := getJSON(txn, queryHeadKey(q.Name), &head); err != nil {
			return err
		}
		head.Latest++
		head.Deleted, head.DeletedAt = false, time.Time{}
		out.Version = head.Latest
		if err := setJSON(txn, queryHeadKey(q.Name), head); err != nil {
			return err
		}
		if err := setJSON(txn, queryVersionKey(q.Name, out.Version), &out); err != nil {
			return err
		}
		w.changed(Change{Op: OpUpsert, Kind: KindSavedQueryItem, ID: q.Name, SavedQuery: &out})
		return txn.Set(queryHashKey(sum, q.Name, out.Version), nil)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// SavedQuery returns version of the saved query name, or its latest version when
// version is 0. Errors: ENOTFOUND when name was never saved, was deleted, or has no such
// version; EINVALID for a malformed name or a negative version.
func (s *Store) SavedQuery(ctx context.Context, name string, version int) (*SavedQuery, error) {
	if err := ValidateSavedQueryName("name", name); err != nil {
		return nil, err
	}
	if version < 0 {
		return nil, Invalid("version", "must be 1 or more")
	}
	var q *SavedQuery
	err := s.viewQueries(ctx, func(txn *badger.Txn) error {
		var head savedQueryHead
		ok, err := getJSON(txn, queryHeadKey(name), &head)
		if err != nil {
			return err
		}
		if !ok || head.Deleted {
			return notFoundQuery(name)
		}
		if version == 0 {
			version = head.Latest
		}
		q = &SavedQuery{}
		ok, err = getJSON(txn, queryVersionKey(name, version), q)
		if err != nil {
			return err
		}
		if !ok {
			return Errorf(ENOTFOUND, "saved query %q has no version %d; its latest is %d", name, version, head.Latest)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return q, nil
}

func notFoundQuery(name string) *Error {
	return Errorf(ENOTFOUND, "no saved query named %q; list them with savedQueries or GET /queries", name)
}

// SavedQueryHistory returns every version of name, oldest first. A deleted query is
// returned only when includeDeleted is set (its history stays until purged).
// Errors: ENOTFOUND, EINVALID for a malformed name.
func (s *Store) SavedQueryHistory(ctx context.Context, name string, includeDeleted bool) (*SavedQueryHistory, error) {
	if err := ValidateSavedQueryName("name", name); err != nil {
		return nil, err
	}
	var h *SavedQueryHistory
	err := s.viewQueries(ctx, func(txn *badger.Txn) error {
		var head savedQueryHead
		ok, err := getJSON(txn, queryHeadKey(name), &head)
		if err != nil {
			return err
		}
		if !ok || (head.Deleted && !includeDeleted) {
			return notFoundQuery(name)
		}
		h = &SavedQueryHistory{Name: name, Deleted: head.Deleted, DeletedAt: head.DeletedAt}
		it := txn.NewIterator(badger.IteratorOptions{Prefix: queryVersionPrefix(name), PrefetchValues: true, PrefetchSize: 16})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			q := &SavedQuery{}
			if err := it.Item().Value(func(v []byte) error { return decodeJSON(v, q) }); err != nil {
				return err
			}
			h.Versions = append(h.Versions, q)
		}
		if len(h.Versions) == 0 {
			return fmt.Errorf("graph: saved query %q has a head but no versions", name)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

// SavedQueries returns the latest version of every saved query that is not deleted, in
// name order; with a tag, only those carrying it.
func (s *Store) SavedQueries(ctx context.Context, tag string) ([]*SavedQuery, error) {
	var out []*SavedQuery
	err := s.viewQueries(ctx, func(txn *badger.Txn) error {
		prefix := []byte{famQuery, subQueryHead}
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 64})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			name := string(it.Item().Key()[len(prefix):])
			var head savedQueryHead
			if err := it.Item().Value(func(v []byte) error { return decodeJSON(v, &head) }); err != nil {
				return err
			}
			if head.Deleted {
				continue
			}
			q := &SavedQuery{}
			ok, err := getJSON(txn, queryVersionKey(name, head.Latest), q)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("graph: saved query %q lacks its latest version %d", name, head.Latest)
			}
			if tag == "" || slices.Contains(q.Tags, tag) {
				out = append(out, q)
			}
		}
		return nil
	})
	return out, err
}

// SavedQueryByHash returns a saved version, of a query that is not deleted, whose
// document has this SHA-256 (lower-case hex); the newest such version when several match.
// Errors: ENOTFOUND; EINVALID for a malformed hash.
func (s *Store) SavedQueryByHash(ctx context.Context, hash string) (*SavedQuery, error) {
	sum, err := parseQueryHash("sha256Hash", hash)
	if err != nil {
		return nil, err
	}
	var found *SavedQuery
	err = s.viewQueries(ctx, func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: queryHashPrefix(sum)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			name, version, ok := parseQueryHashKey(it.Item().Key())
			if !ok {
				continue
			}
			var head savedQueryHead
			if ok, err := getJSON(txn, queryHeadKey(name), &head); err != nil {
				return err
			} else if !ok || head.Deleted {
				continue
			}
			q := &SavedQuery{}
			if ok, err := getJSON(txn, queryVersionKey(name, version), q); err != nil {
				return err
			} else if ok && (found == nil || q.SavedAt.After(found.SavedAt)) {
				found = q
			}
		}
		if found == nil {
			return Errorf(ENOTFOUND, "no saved query has a document with SHA-256 %s", hash)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return found, nil
}

// DeleteSavedQuery deletes the saved query name. Without purge its history is kept
// (SavedQueryHistory with includeDeleted still shows it, and saving the name again
// continues it); with purge every version is removed for good, deleted or not.
// Errors: ENOTFOUND when there is nothing to delete (an unknown name, or without purge
// one already deleted); EINVALID for a malformed name.
func (s *Store) DeleteSavedQuery(ctx context.Context, name string, purge bool) error {
	if err := ValidateSavedQueryName("name", name); err != nil {
		return err
	}
	return s.writeQueries(ctx, func(w *writer) error {
		txn := w.txn
		var head savedQueryHead
		ok, err := getJSON(txn, queryHeadKey(name), &head)
		if err != nil {
			return err
		}
		if !ok || (head.Deleted && !purge) {
			return notFoundQuery(name)
		}
		w.changed(Change{Op: OpDelete, Kind: KindSavedQueryItem, ID: name})
		if !purge {
			head.Deleted, head.DeletedAt = true, time.Now().UTC()
			return setJSON(txn, queryHeadKey(name), head)
		}
		var keys [][]byte
		it := txn.NewIterator(badger.IteratorOptions{Prefix: queryVersionPrefix(name), PrefetchValues: true})
		for it.Rewind(); it.Valid(); it.Next() {
			var q SavedQuery
			if err := it.Item().Value(func(v []byte) error { return decodeJSON(v, &q) }); err != nil {
				it.Close()
				return err
			}
			keys = append(keys, it.Item().KeyCopy(nil))
			if sum, err := hex.DecodeString(q.Hash); err == nil && len(sum) == sha256.Size {
				keys = append(keys, queryHashKey(sum, name, q.Version))
			}
		}
		it.Close()
		keys = append(keys, queryHeadKey(name))
		for _, k := range keys {
			if err := w.del(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// ApprovePersistedQuery puts a document on the allow-list, so that it runs when the
// server accepts only saved and approved documents, and clients may send its hash alone.
// Approving an approved document again is a no-op that returns the first approval.
// The document's GraphQL is not checked here (that is the caller's job).
// Errors: EINVALID for an empty, oversized or non-UTF-8 document.
func (s *Store) ApprovePersistedQuery(ctx context.Context, query string) (*PersistedQuery, error) {
	switch {
	case strings.TrimSpace(query) == "":
		return nil, Invalid("query", "must not be empty")
	case len(query) > MaxQueryDocumentBytes:
		return nil, Invalid("query", "is %d bytes long; at most %d are allowed", len(query), MaxQueryDocumentBytes)
	case !utf8.ValidString(query):
		return nil, Invalid("query", "is not valid UTF-8")
	}
	p := &PersistedQuery{Hash: QueryHash(query), Query: query, ApprovedAt: time.Now().UTC()}
	sum, _ := hex.DecodeString(p.Hash)
	err := s.writeQueries(ctx, func(w *writer) error {
		txn := w.txn
		var old PersistedQuery
		if ok, err := getJSON(txn, persistedQueryKey(sum), &old); err != nil || ok {
			if ok {
				*p = old
			}
			return err
		}
		return w.setRecord(kindPersistedItem, p.Hash, persistedQueryKey(sum), p)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// PersistedQuery returns the approved document with this SHA-256 (lower-case hex).
// Errors: ENOTFOUND; EINVALID for a malformed hash.
func (s *Store) PersistedQuery(ctx context.Context, hash string) (*PersistedQuery, error) {
	sum, err := parseQueryHash("sha256Hash", hash)
	if err != nil {
		return nil, err
	}
	p := &PersistedQuery{}
	err = s.viewQueries(ctx, func(txn *badger.Txn) error {
		ok, err := getJSON(txn, persistedQueryKey(sum), p)
		if err == nil && !ok {
			err = Errorf(ENOTFOUND, "no approved persisted query has SHA-256 %s", hash)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// PersistedQueries returns every approved document, newest approval first.
func (s *Store) PersistedQueries(ctx context.Context) ([]*PersistedQuery, error) {
	var out []*PersistedQuery
	err := s.viewQueries(ctx, func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{famQuery, subPersistedQuery}, PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			p := &PersistedQuery{}
			if err := it.Item().Value(func(v []byte) error { return decodeJSON(v, p) }); err != nil {
				return err
			}
			out = append(out, p)
		}
		return nil
	})
	slices.SortStableFunc(out, func(a, b *PersistedQuery) int { return b.ApprovedAt.Compare(a.ApprovedAt) })
	return out, err
}

// RevokePersistedQuery takes a document off the allow-list.
// Errors: ENOTFOUND when it is not approved; EINVALID for a malformed hash.
func (s *Store) RevokePersistedQuery(ctx context.Context, hash string) error {
	sum, err := parseQueryHash("sha256Hash", hash)
	if err != nil {
		return err
	}
	return s.writeQueries(ctx, func(w *writer) error {
		txn := w.txn
		if _, err := txn.Get(persistedQueryKey(sum)); errors.Is(err, badger.ErrKeyNotFound) {
			return Errorf(ENOTFOUND, "no approved persisted query has SHA-256 %s", hash)
		} else if err != nil {
			return err
		}
		w.changed(Change{Op: OpDelete, Kind: kindPersistedItem, ID: hash, Key: persistedQueryKey(sum)})
		return w.del(persistedQueryKey(sum))
	})
}

// writeQueries runs fn through Store.commit, serialized with Apply, and commits it: fn
// touches only Q keys (deleting them with w.del, so that the deletion journal has them),
// and the store version advances as for any write. Nothing is written when fn fails.
func (s *Store) writeQueries(ctx context.Context, fn func(w *writer) error) error {
	_, err := s.commit(ctx, fn)
	return err
}

// viewQueries runs fn in one read transaction.
func (s *Store) viewQueries(ctx context.Context, fn func(txn *badger.Txn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return ErrClosed
	}
	s.reads.Add(1)
	return s.db.View(fn)
}

// getJSON decodes the record at k into v and reports whether there was one.
func getJSON(txn *badger.Txn, k []byte, v any) (bool, error) {
	item, err := txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, item.Value(func(b []byte) error { return decodeJSON(b, v) })
}

func setJSON(txn *badger.Txn, k []byte, v any) error {
	raw, err := encodeJSONRecord(v)
	if err != nil {
		return err
	}
	return txn.Set(k, raw)
}

func encodeJSONRecord(v any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte(recordVersion)
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// setRecord writes v as setJSON does, at k, and records it in the change log as an item
// of kind (one clients never see) with its stored bytes, for followers to apply.
func (w *writer) setRecord(kind ItemKind, id string, k []byte, v any) error {
	raw, err := encodeJSONRecord(v)
	if err != nil {
		return err
	}
	w.changed(Change{Op: OpUpsert, Kind: kind, ID: id, Key: k, Value: raw})
	return w.txn.Set(k, raw)
}

func decodeJSON(b []byte, v any) error {
	if len(b) == 0 || b[0] != recordVersion {
		return fmt.Errorf("graph: record of unknown version")
	}
	return json.Unmarshal(b[1:], v)
}
