package server

import (
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/lodestone-kg/lodestone/graph"
	"go.uber.org/zap"
)

// API keys managed on a running server (admin role; routes.go): the same operations as
// `lodestone keys` on a stopped one, taking effect at once, since every request looks its
// key up in the store.
//
//	GET  /admin/keys               {"keys":[KeyInfo…]}, oldest first, revoked ones too
//	POST /admin/keys               {"role":"reader","name":"…"} → 201 {"key":KeyInfo,"token":"lsk_…"}
//	POST /admin/keys/{id}/revoke   {"key":KeyInfo}
//
// The token is in the answer to its creation only; no answer holds a secret or its hash.
// The POSTs take JSON (Content-Type application/json; a revocation needs no body) and
// answer 415 INVALID_INPUT to a body of any other type, whatever the mode: a web page
// cannot send JSON to another origin without a CORS preflight (jsonBodyError, devmode.go).

// KeyInfo is an API key as the admin endpoints show it (never its secret or hash).
type KeyInfo struct {
	ID        string     `json:"id"`
	Name      string     `json:"name,omitempty"`
	Role      graph.Role `json:"role"`
	CreatedAt time.Time  `json:"createdAt"`
	Revoked   bool       `json:"revoked"`
	RevokedAt *time.Time `json:"revokedAt,omitempty"`
}

// NewKeyInfo is k as the admin endpoints show it.
func NewKeyInfo(k *graph.APIKey) KeyInfo {
	info := KeyInfo{ID: k.ID, Name: k.Name, Role: k.Role, CreatedAt: k.CreatedAt, Revoked: k.Revoked}
	if k.Revoked {
		at := k.RevokedAt
		info.RevokedAt = &at
	}
	return info
}

// APIKey is the record i shows (without its hash).
func (i KeyInfo) APIKey() *graph.APIKey {
	k := &graph.APIKey{ID: i.ID, Name: i.Name, Role: i.Role, CreatedAt: i.CreatedAt, Revoked: i.Revoked}
	if i.RevokedAt != nil {
		k.RevokedAt = *i.RevokedAt
	}
	return k
}

// maxKeyRequestBytes caps the body of POST /admin/keys.
const maxKeyRequestBytes = 4 << 10

func handleListKeys(log *zap.Logger, store *graph.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keys, err := store.APIKeys(r.Context())
		if err != nil {
			writeAdminFailure(w, r, log, err)
			return
		}
		out := make([]KeyInfo, len(keys))
		for i, k := range keys {
			out[i] = NewKeyInfo(k)
		}
		writeJSON(w, http.StatusOK, map[string]any{"keys": out})
	})
}

func handleCreateKey(log *zap.Logger, store *graph.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e := jsonBodyError(r); e != nil {
			writeAdminError(w, http.StatusUnsupportedMediaType, e)
			return
		}
		var req struct {
			Role string `json:"role"`
			Name string `json:"name"`
		}
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxKeyRequestBytes))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeAdminError(w, http.StatusBadRequest, graph.Invalid("body", "must be a JSON object {\"role\": \"reader|writer|admin\", \"name\": \"…\"} of at most %d bytes: %v", maxKeyRequestBytes, err))
			return
		}
		if dec.Decode(&struct{}{}) != io.EOF {
			writeAdminError(w, http.StatusBadRequest, graph.Invalid("body", "must hold one JSON object"))
			return
		}
		role, err := graph.ParseRole(req.Role)
		if err != nil {
			writeAdminError(w, http.StatusBadRequest, graph.Invalid("role", "%q is not a role; use reader, writer or admin", req.Role))
			return
		}
		k, token, err := store.CreateAPIKey(r.Context(), role, req.Name)
		if err != nil {
			writeAdminFailure(w, r, log, err)
			return
		}
		log.Info("api key created", zap.String("request_id", requestID(r.Context())), zap.String("id", k.ID),
			zap.String("role", string(k.Role)), zap.String("by", actingKeyID(r)))
		writeJSON(w, http.StatusCreated, map[string]any{"key": NewKeyInfo(k), "token": token})
	})
}

func handleRevokeKey(log *zap.Logger, store *graph.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e := jsonBodyError(r); e != nil {
			writeAdminError(w, http.StatusUnsupportedMediaType, e)
			return
		}
		k, err := store.RevokeAPIKey(r.Context(), r.PathValue("id"))
		if err != nil {
			writeAdminFailure(w, r, log, err)
			return
		}
		log.Info("api key revoked", zap.String("request_id", requestID(r.Context())), zap.String("id", k.ID),
			zap.String("role", string(k.Role)), zap.String("by", actingKeyID(r)))
		writeJSON(w, http.StatusOK, map[string]any{"key": NewKeyInfo(k)})
	})
}
