package server

import (
	"container/list"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"sync"

	"github.com/lodestone-kg/lodestone/graph"
	"github.com/lodestone-kg/lodestone/savedquery"
	gqlast "github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"go.uber.org/zap"
)

// Persisted queries: Apollo's automatic persisted queries (APQ) protocol, and the
// allow-list mode (Config.SavedQueriesOnly).
//
// APQ: a client sends extensions.persistedQuery = {"version": 1, "sha256Hash": h}.
//   - Without a query, the server runs the document whose SHA-256 is h: one it has
//     cached, an approved persisted query, or a saved query's document. When it knows
//     none, it answers 200 with the error "PersistedQueryNotFound" (extensions.code
//     PERSISTED_QUERY_NOT_FOUND), and the client retries with the query.
//   - With a query, h must be its SHA-256 (400 INVALID_INPUT otherwise); the document is
//     cached (in memory, bounded, least recently used out) and run.
//
// Allow-list mode runs only documents that are saved (a saved query's exact text, or its
// hash), approved (approvePersistedQuery), or that use nothing but the fields that list,
// show and run saved queries (runSavedQuery, savedQueries, savedQuery). Everything else,
// mutations included, is refused with 403 FORBIDDEN, and APQ registers nothing new.
// REST runs of saved queries (/queries/…) are always allowed.

// Limits of the APQ cache.
const (
	apqCacheEntries = 1000
	apqCacheBytes   = 16 << 20
)

// Error codes of the APQ protocol, as Apollo clients expect them.
const (
	codePersistedQueryNotFound = "PERSISTED_QUERY_NOT_FOUND"
	msgPersistedQueryNotFound  = "PersistedQueryNotFound"
)

// persistedQueries resolves APQ hashes and enforces the allow-list for the GraphQL
// handler.
type persistedQueries struct {
	log       *zap.Logger
	store     *graph.Store
	savedOnly bool
	cache     *apqCache
}

func newPersistedQueries(log *zap.Logger, cfg Config, store *graph.Store) *persistedQueries {
	return &persistedQueries{log: log, store: store, savedOnly: cfg.SavedQueriesOnly,
		cache: newAPQCache(apqCacheEntries, apqCacheBytes)}
}

// refusal is an answer sent instead of running a request.
type refusal struct {
	status  int
	code    string
	message string
	// retryAfter, in seconds, is sent as Retry-After when set.
	retryAfter int
}

// write sends the refusal as a GraphQL response in media.
func (f *refusal) write(w http.ResponseWriter, media string) {
	body, _ := json.Marshal(map[string]any{"errors": []any{map[string]any{
		"message": f.message, "extensions": map[string]any{"code": f.code}}}})
	w.Header().Set("Content-Type", media+"; charset=utf-8")
	if f.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(f.retryAfter))
	}
	w.WriteHeader(f.status)
	w.Write(body)
}

func invalidRequest(msg string) *refusal {
	return &refusal{status: http.StatusBadRequest, code: graph.EINVALID, message: msg}
}

var errForbidden = &refusal{status: http.StatusForbidden, code: graph.EFORBIDDEN,
	message: "this server runs only saved and approved queries: run a saved query (runSavedQuery, or GET /queries/{name}), send a saved or approved document, or ask an operator to approve this one (approvePersistedQuery)"}

// hasPersistedQuery reports whether a request's extensions carry persistedQuery (such a
// request may come without a query).
func hasPersistedQuery(ext map[string]any) bool {
	_, ok := ext["persistedQuery"]
	return ok
}

// admit prepares req to run: it fills req.Query from an APQ hash. It returns nil when
// the request may run (after allow, which enforces the allow-list on the parsed
// document), or the answer to send instead.
func (p *persistedQueries) admit(ctx context.Context, req *graphQLRequest) *refusal {
	if !hasPersistedQuery(req.Extensions) {
		return nil
	}
	pq, ok := req.Extensions["persistedQuery"].(map[string]any)
	if !ok {
		return invalidRequest("extensions.persistedQuery must be an object {\"version\": 1, \"sha256Hash\": \"…\"}")
	}
	if v, _ := pq["version"].(float64); v != 1 {
		return invalidRequest("PersistedQueryNotSupported: only version 1 of persisted queries is supported")
	}
	hash, _ := pq["sha256Hash"].(string)
	if !isQueryHash(hash) {
		return invalidRequest("extensions.persistedQuery.sha256Hash must be the SHA-256 of the query in lower-case hex (64 characters)")
	}
	if req.Query == "" {
		doc, found, err := p.lookup(ctx, hash)
		if err != nil {
			p.log.Error("persisted query lookup", zap.String("request_id", requestID(ctx)), zap.Error(err))
			return &refusal{status: http.StatusInternalServerError, code: graph.EINTERNAL, message: "internal error"}
		}
		if !found {
			return &refusal{status: http.StatusOK, code: codePersistedQueryNotFound, message: msgPersistedQueryNotFound}
		}
		req.Query = doc
		req.stored = true
		return nil
	}
	if graph.QueryHash(req.Query) != hash {
		return invalidRequest("provided sha does not match query: extensions.persistedQuery.sha256Hash must be the SHA-256 of the query text, in lower-case hex")
	}
	if !p.savedOnly {
		p.cache.put(hash, req.Query)
	}
	return nil
}

// isQueryHash reports whether h is a SHA-256 in lower-case hex.
func isQueryHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// lookup finds the document with this hash: cached (not in allow-list mode, which
// caches nothing), approved, or saved.
func (p *persistedQueries) lookup(ctx context.Context, hash string) (string, bool, error) {
	if doc, ok := p.cache.get(hash); ok {
		return doc, true, nil
	}
	pq, err := p.store.PersistedQuery(ctx, hash)
	switch graph.ErrorCode(err) {
	case "":
		return pq.Query, true, nil
	case graph.ENOTFOUND, graph.EINVALID:
	default:
		return "", false, err
	}
	sq, err := p.store.SavedQueryByHash(ctx, hash)
	switch graph.ErrorCode(err) {
	case "":
		return sq.Query, true, nil
	case graph.ENOTFOUND, graph.EINVALID:
		return "", false, nil
	}
	return "", false, err
}

// allow enforces the allow-list, in allow-list mode, on a request that admit let
// through: parsed is its document (nil when it does not parse). A document admit found
// by its hash is saved or approved (the allow-list mode caches nothing).
func (p *persistedQueries) allow(ctx context.Context, req *graphQLRequest, parsed *gqlast.QueryDocument) *refusal {
	if !p.savedOnly || req.stored || savedOnlyOperations(parsed) {
		return nil
	}
	_, found, err := p.lookup(ctx, graph.QueryHash(req.Query))
	if err != nil {
		p.log.Error("allow-list lookup", zap.String("request_id", requestID(ctx)), zap.Error(err))
		return &refusal{status: http.StatusInternalServerError, code: graph.EINTERNAL, message: "internal error"}
	}
	if !found {
		return errForbidden
	}
	return nil
}

// onlySavedQueryFields reports whether every operation of the document src is a query
// that selects only fields that list, show or run saved queries (savedOnlyOperations).
func onlySavedQueryFields(src string) bool {
	doc, err := parser.ParseQuery(&gqlast.Source{Input: src})
	return err == nil && savedOnlyOperations(doc)
}

// savedOnlyOperations reports whether every operation of doc (nil when it does not
// parse) is a query that selects only fields that list, show or run saved queries (no
// fragments at the top level).
func savedOnlyOperations(doc *gqlast.QueryDocument) bool {
	if doc == nil || len(doc.Operations) == 0 {
		return false
	}
	for _, op := range doc.Operations {
		fields := savedquery.TopFields(op)
		if op.Operation != gqlast.Query || len(fields) == 0 {
			return false
		}
		for _, f := range fields {
			if !slices.Contains(savedOnlyFields, f) {
				return false
			}
		}
	}
	return true
}

// apqCache is a least-recently-used map from hash to document, bounded in entries and
// bytes. It is safe for concurrent use.
type apqCache struct {
	mu                   sync.Mutex
	maxEntries, maxBytes int
	bytes                int
	order                *list.List // front: most recently used; values are *apqEntry
	byHash               map[string]*list.Element
}

type apqEntry struct{ hash, doc string }

func newAPQCache(maxEntries, maxBytes int) *apqCache {
	return &apqCache{maxEntries: maxEntries, maxBytes: maxBytes, order: list.New(), byHash: map[string]*list.Element{}}
}

func (c *apqCache) get(hash string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byHash[hash]
	if !ok {
		return "", false
	}
	c.order.MoveToFront(e)
	return e.Value.(*apqEntry).doc, true
}

func (c *apqCache) put(hash, doc string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byHash[hash]; ok {
		c.order.MoveToFront(e)
		return
	}
	if len(doc) > c.maxBytes {
		return
	}
	c.byHash[hash] = c.order.PushFront(&apqEntry{hash, doc})
	c.bytes += len(doc)
	for c.order.Len() > c.maxEntries || c.bytes > c.maxBytes {
		old := c.order.Back()
		ent := old.Value.(*apqEntry)
		c.order.Remove(old)
		delete(c.byHash, ent.hash)
		c.bytes -= len(ent.doc)
	}
}

func (c *apqCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
