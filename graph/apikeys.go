package graph

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dgraph-io/badger/v4"
)

// API keys live under the key family A, beside the graph but outside it:
//
//	key                 value
//	A · key id (hex)    0x02 · JSON APIKey (the SHA-256 of the secret, never the secret)
//
// A key is given to its holder once, at creation, as a token
//
//	lsk_<id>_<secret>
//
// where id is 8 random bytes and secret 32 random bytes, both in lower-case hex. The
// store keeps only SHA-256(secret). A fast hash is the right choice here, unlike for
// passwords: the secret is 256 bits from crypto/rand, so there is no dictionary to try
// and no brute force that a slow hash (bcrypt, argon2) would slow down in any way that
// matters, while every request pays for the hash. Lookup is by the id in the token;
// the hashes are compared in constant time.
//
// Key changes are written through Store.commit like every other write, so they get a
// store version: a store that holds keys is never "empty" for a bulk load (which would
// wipe it). Export (JSONL and every other format) never reads family A; a backup of the
// whole store (Backup) does, so a backup holds the hashes — never the secrets — and a
// restored store keeps its keys.
const famAPIKey = 'A'

// Role is what an API key may do. Roles are ordered: reader < writer < admin, and each
// may do everything the ones below it may.
type Role string

// Roles.
const (
	// RoleNone is the role of an anonymous request on a server that requires a key for
	// everything; it allows nothing.
	RoleNone Role = ""
	// RoleReader runs queries, saved queries and subgraph exports.
	RoleReader Role = "reader"
	// RoleWriter also writes the graph and saved queries.
	RoleWriter Role = "writer"
	// RoleAdmin also imports, exports the whole graph, backs up, and manages the
	// persisted-query allow-list.
	RoleAdmin Role = "admin"
)

// Roles lists the roles of API keys, lowest first.
var Roles = []Role{RoleReader, RoleWriter, RoleAdmin}

func (r Role) rank() int { return slices.Index(Roles, r) + 1 } // RoleNone and unknown: 0

// Allows reports whether r may do what needs role need.
func (r Role) Allows(need Role) bool { return r.rank() >= need.rank() }

// ParseRole reads a role name (reader, writer or admin). Errors: EINVALID naming "role".
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if r.rank() == 0 {
		return RoleNone, Invalid("role", "%q is not a role; use reader, writer or admin", s)
	}
	return r, nil
}

// APIKey is the stored record of an API key: everything but its secret.
type APIKey struct {
	// ID identifies the key; it is the middle part of its token and is not secret.
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	Role Role   `json:"role"`
	// Hash is the lower-case hex SHA-256 of the secret.
	Hash      string    `json:"sha256"`
	CreatedAt time.Time `json:"createdAt"`
	Revoked   bool      `json:"revoked,omitempty"`
	RevokedAt time.Time `json:"revokedAt,omitzero"`
}

// API key token format.
const (
	apiKeyPrefix    = "lsk_"
	apiKeyIDBytes   = 8
	apiKeySecretLen = 32
	// MaxAPIKeyName caps the name of a key, in bytes.
	MaxAPIKeyName = 200
)

func apiKeyKey(id string) []byte { return append([]byte{famAPIKey}, id...) }

// validKeyID reports whether id has the form of a key id: 16 lower-case hex digits.
func validKeyID(id string) bool {
	b, err := hex.DecodeString(id)
	return err == nil && len(b) == apiKeyIDBytes && strings.ToLower(id) == id
}

// CreateAPIKey creates a key with role and a name (a note for people, may be empty) and
// returns its record and its token, lsk_<id>_<secret>. The token is shown this once: the
// store keeps only a hash of the secret.
//
// Errors: EINVALID for an unknown role or a name longer than MaxAPIKeyName bytes or with
// control characters; ErrClosed.
func (s *Store) CreateAPIKey(ctx context.Context, role Role, name string) (*APIKey, string, error) {
	if role.rank() == 0 {
		return nil, "", Invalid("role", "%q is not a role; use reader, writer or admin", string(role))
	}
	if len(name) > MaxAPIKeyName || !utf8.ValidString(name) || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return nil, "", Invalid("name", "must be at most %d bytes of UTF-8 without control characters", MaxAPIKeyName)
	}
	var id [apiKeyIDBytes]byte
	var secret [apiKeySecretLen]byte
	rand.Read(id[:]) // crypto/rand.Read never fails (Go 1.24+)
	rand.Read(secret[:])
	sum := sha256.Sum256(secret[:])
	k := &APIKey{ID: hex.EncodeToString(id[:]), Name: name, Role: role, Hash: hex.EncodeToString(sum[:]), CreatedAt: time.Now().UTC().Truncate(time.Second)}
	_, err := s.commit(ctx, func(w *writer) error {
		if _, err := w.txn.Get(apiKeyKey(k.ID)); err == nil {
			return errors.New("graph: API key id collision") // 2^-64; never in practice
		}
		return w.setRecord(kindAPIKeyItem, k.ID, apiKeyKey(k.ID), k)
	})
	if err != nil {
		return nil, "", err
	}
	return k, apiKeyPrefix + k.ID + "_" + hex.EncodeToString(secret[:]), nil
}

// APIKeys lists every key, revoked ones included, oldest first.
func (s *Store) APIKeys(ctx context.Context) ([]*APIKey, error) {
	var keys []*APIKey
	err := s.viewQueries(ctx, func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{famAPIKey}, PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var k APIKey
			if err := it.Item().Value(func(b []byte) error { return decodeJSON(b, &k) }); err != nil {
				return err
			}
			keys = append(keys, &k)
		}
		return nil
	})
	slices.SortStableFunc(keys, func(a, b *APIKey) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return keys, err
}

// RevokeAPIKey revokes the key id for good and returns its record; requests with it are
// refused from then on. Revoking a revoked key changes nothing. Errors: ENOTFOUND for an
// unknown id; EINVALID for one that is not a key id.
func (s *Store) RevokeAPIKey(ctx context.Context, id string) (*APIKey, error) {
	id = strings.TrimPrefix(id, apiKeyPrefix)
	if !validKeyID(id) {
		return nil, Invalid("id", "%q is not a key id (16 hex digits, as `lodestone keys list` shows)", id)
	}
	var k APIKey
	_, err := s.commit(ctx, func(w *writer) error {
		ok, err := getJSON(w.txn, apiKeyKey(id), &k)
		if err != nil {
			return err
		}
		if !ok {
			return Errorf(ENOTFOUND, "there is no API key %s", id)
		}
		if k.Revoked {
			return nil
		}
		k.Revoked, k.RevokedAt = true, time.Now().UTC().Truncate(time.Second)
		return w.setRecord(kindAPIKeyItem, id, apiKeyKey(id), &k)
	})
	if err != nil {
		return nil, err
	}
	return &k, nil
}

// Authenticate returns the record of the key whose token this is. Errors:
// EUNAUTHENTICATED when the token is malformed, unknown, wrong or revoked (the message
// says which, without revealing anything about other keys); ErrClosed.
func (s *Store) Authenticate(ctx context.Context, token string) (*APIKey, error) {
	rest, ok := strings.CutPrefix(token, apiKeyPrefix)
	id, secretHex, ok2 := strings.Cut(rest, "_")
	secret, err := hex.DecodeString(secretHex)
	if !ok || !ok2 || !validKeyID(id) || err != nil || len(secret) != apiKeySecretLen {
		return nil, Errorf(EUNAUTHENTICATED, "the API key is malformed; keys look like lsk_<16 hex digits>_<64 hex digits>, as `lodestone keys create` printed it")
	}
	var k APIKey
	found := false
	err = s.viewQueries(ctx, func(txn *badger.Txn) error {
		var err error
		found, err = getJSON(txn, apiKeyKey(id), &k)
		return err
	})
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(secret)
	want, _ := hex.DecodeString(k.Hash)
	if !found || subtle.ConstantTimeCompare(sum[:], want) != 1 {
		return nil, Errorf(EUNAUTHENTICATED, "the API key is not valid; ask an administrator for a key (`lodestone keys create`)")
	}
	if k.Revoked {
		return nil, Errorf(EUNAUTHENTICATED, "the API key %s was revoked on %s; ask an administrator for a new one", k.ID, k.RevokedAt.Format(time.DateOnly))
	}
	return &k, nil
}

// checkAPIKeys verifies that every API key record decodes, is stored under its own id
// and has a known role and a SHA-256 hash.
func checkAPIKeys(txn *badger.Txn, problem func(format string, args ...any)) error {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{famAPIKey}, PrefetchValues: true})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		id := string(it.Item().Key()[1:])
		var k APIKey
		if err := it.Item().Value(func(b []byte) error { return decodeJSON(b, &k) }); err != nil {
			problem("API key %q: undecodable record: %v", id, err)
			continue
		}
		sum, err := hex.DecodeString(k.Hash)
		switch {
		case k.ID != id || !validKeyID(id):
			problem("API key %q: record says id %q", id, k.ID)
		case k.Role.rank() == 0:
			problem("API key %q: unknown role %q", id, k.Role)
		case err != nil || len(sum) != sha256.Size:
			problem("API key %q: the hash is not a SHA-256", id)
		}
	}
	return nil
}
