package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/lodestone-kg/lodestone/graph"
	"go.uber.org/zap"
)

// Access control. A request carries an API key as "Authorization: Bearer lsk_…"
// (graph/apikeys.go); authenticate resolves it into a principal in the request context,
// and each operation checks the role it needs:
//
//	reader  queries, saved-query runs (/graphql, /queries), GET /export with seeds (a subgraph)
//	writer  the graph mutations (upsert*, delete*, importGraph), saveQuery, deleteSavedQuery
//	admin   POST /admin/import, GET /admin/backup, GET /export of the whole graph,
//	        approvePersistedQuery, revokePersistedQuery
//
// A request without a key gets the anonymous role of the configuration: reader in
// AuthAnonymousReads mode (the default), none in AuthRequired mode (then every request
// but /healthz and /readyz gets 401), admin with AnonymousWrites, which CheckListenAddr
// allows only on a loopback address. A key that is malformed, unknown or revoked always
// gets 401 UNAUTHENTICATED, even where an anonymous request would pass: a client that
// sends a key wants to know that it does not work.

// AuthMode says what a request without an API key may do.
type AuthMode string

// Access modes.
const (
	// AuthAnonymousReads lets requests without a key read (queries, saved queries,
	// subgraph exports); writing needs a key. The default.
	AuthAnonymousReads AuthMode = "anonymous-reads"
	// AuthRequired refuses every request without a key (401), /healthz and /readyz aside.
	AuthRequired AuthMode = "required"
)

// ParseAuthMode reads an access mode; "" is AuthAnonymousReads.
func ParseAuthMode(s string) (AuthMode, error) {
	switch m := AuthMode(strings.TrimSpace(s)); m {
	case "", AuthAnonymousReads:
		return AuthAnonymousReads, nil
	case AuthRequired:
		return m, nil
	}
	return "", fmt.Errorf("auth mode %q: use anonymous-reads or required", s)
}

// CheckListenAddr refuses a configuration that would accept anonymous writes from
// beyond the machine: AnonymousWrites with an address that is not loopback (":8080"
// listens on every interface; "localhost:8080", "127.0.0.1:8080" and "[::1]:8080" are
// loopback). Secure by default: a server reachable from the network writes only for
// holders of a key.
func (c Config) CheckListenAddr(addr string) error {
	if !c.AnonymousWrites {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return fmt.Errorf("--allow-anonymous-writes is for local development and needs a loopback --addr (e.g. 127.0.0.1:8080), not %q; "+
		"on a network give clients API keys instead (lodestone keys create --role writer)", addr)
}

// anonymousRole is the role of a request without a key.
func (c Config) anonymousRole() graph.Role {
	switch {
	case c.AnonymousWrites:
		return graph.RoleAdmin
	case c.Auth == AuthRequired:
		return graph.RoleNone
	}
	return graph.RoleReader
}

// principal is who a request acts for: a key, or nobody (key nil) with the anonymous
// role.
type principal struct {
	key  *graph.APIKey
	role graph.Role
}

type principalKey struct{}

// principalFrom returns the principal of ctx. Outside a request that went through
// authenticate (the in-process API of the command line, tests of resolvers), there is
// none and the caller acts as admin: whoever can run code on the store owns it.
func principalFrom(ctx context.Context) principal {
	if p, ok := ctx.Value(principalKey{}).(principal); ok {
		return p
	}
	return principal{role: graph.RoleAdmin}
}

// actingKeyID is the id of the key r authenticated with ("" without one).
func actingKeyID(r *http.Request) string {
	if k := principalFrom(r.Context()).key; k != nil {
		return k.ID
	}
	return ""
}

// requireRole returns nil when the request may do what needs role need; otherwise
// UNAUTHENTICATED for a request without a key, FORBIDDEN for a key whose role is too
// low. what names the operation in the message.
func requireRole(ctx context.Context, need graph.Role, what string) error {
	p := principalFrom(ctx)
	if p.role.Allows(need) {
		return nil
	}
	if p.key == nil {
		return graph.Errorf(graph.EUNAUTHENTICATED, "%s needs an API key with the %s role: send it as \"Authorization: Bearer <key>\" (an administrator creates one with `lodestone keys create --role %s`)", what, need, need)
	}
	return graph.Errorf(graph.EFORBIDDEN, "%s needs the %s role; this API key (%s) has the %s role", what, need, p.key.ID, p.role)
}

// isWebSocketUpgrade reports whether r opens a WebSocket on /graphql.
func isWebSocketUpgrade(r *http.Request) bool {
	return r.URL.Path == "/graphql" && r.Method == http.MethodGet && strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// mutationAllowed is the check at the top of every mutation resolver: POST only, and
// the role the mutation needs.
func mutationAllowed(ctx context.Context, field string, need graph.Role) error {
	if isGET(ctx) {
		return errMutationOverGET
	}
	return requireRole(ctx, need, field)
}

// authenticate resolves the request's API key into its principal. A malformed, unknown
// or revoked key gets 401 UNAUTHENTICATED with WWW-Authenticate: Bearer; so does a
// request without a key when the anonymous role allows nothing (AuthRequired). Health
// probes and the explorer's static files pass without a key (publicPath).
func authenticate(log *zap.Logger, cfg Config, store *graph.Store, next http.Handler) http.Handler {
	anon := cfg.anonymousRole()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if publicPath(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		p := principal{role: anon}
		if h := r.Header.Get("Authorization"); h != "" {
			scheme, token, _ := strings.Cut(h, " ")
			if !strings.EqualFold(scheme, "Bearer") {
				writeAuthError(w, r, http.StatusUnauthorized, graph.Errorf(graph.EUNAUTHENTICATED, "the Authorization header must be \"Bearer <API key>\""))
				return
			}
			key, err := store.Authenticate(r.Context(), strings.TrimSpace(token))
			if err != nil {
				var ge *graph.Error
				if !errors.As(err, &ge) {
					log.Error("authenticate", zap.String("request_id", requestID(r.Context())), zap.Error(err))
					ge = &graph.Error{Code: graph.EINTERNAL, Message: "internal error"}
					writeAuthError(w, r, http.StatusInternalServerError, ge)
					return
				}
				writeAuthError(w, r, http.StatusUnauthorized, ge)
				return
			}
			p = principal{key: key, role: key.Role}
		} else if anon == graph.RoleNone && isWebSocketUpgrade(r) {
			// Browsers cannot give a WebSocket a header: the graphql-ws transport takes
			// the key from connection_init and refuses the connection without one.
		} else if anon == graph.RoleNone {
			writeAuthError(w, r, http.StatusUnauthorized, graph.Errorf(graph.EUNAUTHENTICATED, "this server requires an API key: send it as \"Authorization: Bearer <key>\""))
			return
		}
		if ri := info(r.Context()); ri != nil && p.key != nil {
			ri.mu.Lock()
			ri.keyID = p.key.ID
			ri.mu.Unlock()
		}
		ctx := context.WithValue(r.Context(), principalKey{}, p)
		if p.key != nil {
			ctx = graph.WithActor(ctx, p.key.ID) // the change log names the key of each write
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// publicPath reports whether path is served to anyone, key or not: the health probes and
// the explorer's static files (the page at /, /ui/…, /graphiql), which hold no data — the
// page asks for a key itself when the API answers 401.
func publicPath(path string) bool {
	return path == "/healthz" || path == "/readyz" || path == "/" || path == "/graphiql" || path == "/favicon.ico" || strings.HasPrefix(path, "/ui/")
}

// requireRoleHandler lets through only requests whose principal has role need
// (401 without a key, 403 with a key of a lower role); what names the operation.
func requireRoleHandler(need graph.Role, what string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := requireRole(r.Context(), need, what); err != nil {
			ge := err.(*graph.Error)
			status := http.StatusForbidden
			if ge.Code == graph.EUNAUTHENTICATED {
				status = http.StatusUnauthorized
			}
			writeAuthError(w, r, status, ge)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// writeAuthError answers a refused request: 401 comes with WWW-Authenticate: Bearer
// (RFC 6750). The body has the shape of the endpoint: {"error":{…}} for /admin and
// /export, a GraphQL response ({"errors":[…]}) elsewhere.
func writeAuthError(w http.ResponseWriter, r *http.Request, status int, e *graph.Error) {
	if status == http.StatusUnauthorized {
		challenge := `Bearer realm="lodestone"`
		if r.Header.Get("Authorization") != "" {
			challenge += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
	}
	if strings.HasPrefix(r.URL.Path, "/admin/") || r.URL.Path == "/export" {
		writeAdminError(w, status, e)
		return
	}
	writeCodedError(w, status, e.Code, e.Message)
}
