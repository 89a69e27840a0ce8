package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/rs/cors"
	"go.uber.org/zap"
)

// requestInfo is what the middleware knows about a request, filled in as it goes.
type requestInfo struct {
	id string

	mu            sync.Mutex
	operationName string
	operationSet  bool   // operationName was found (it may be "": an anonymous operation)
	keyID         string // the API key the request authenticated with (auth.go)
}

type infoKey struct{}

func info(ctx context.Context) *requestInfo {
	ri, _ := ctx.Value(infoKey{}).(*requestInfo)
	return ri
}

// requestID returns the id of the request ctx belongs to ("" outside a request).
func requestID(ctx context.Context) string {
	if ri := info(ctx); ri != nil {
		return ri.id
	}
	return ""
}

func setOperationName(ctx context.Context, name string) {
	if ri := info(ctx); ri != nil {
		ri.mu.Lock()
		ri.operationName, ri.operationSet = name, true
		ri.mu.Unlock()
	}
}

// operationNameOf returns the name of the operation the request runs, when the GraphQL
// handler has found it (setOperationName).
func operationNameOf(ctx context.Context) (name string, ok bool) {
	if ri := info(ctx); ri != nil {
		ri.mu.Lock()
		defer ri.mu.Unlock()
		return ri.operationName, ri.operationSet
	}
	return "", false
}

// withRequestID gives every request an id: the client's X-Request-Id when it is a
// short printable token, a random one otherwise. It is echoed in the response.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			var b [8]byte
			rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), infoKey{}, &requestInfo{id: id})))
	})
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// statusRecorder remembers the status and size of a response.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// accessLog logs one line per request: method, path, status, duration, operation name,
// the id of the API key used (never the key) and request id (never the query text or
// variables).
func accessLog(log *zap.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		ri := info(r.Context())
		op, key := "", ""
		if ri != nil {
			ri.mu.Lock()
			op, key = ri.operationName, ri.keyID
			ri.mu.Unlock()
		}
		log.Info("request",
			zap.String("method", r.Method), zap.String("path", r.URL.Path),
			zap.Int("status", rec.status), zap.Int("bytes", rec.bytes),
			zap.Duration("duration", time.Since(start)),
			zap.String("operation", op), zap.String("key", key), zap.String("request_id", requestID(r.Context())))
	})
}

// recoverPanics turns a panic in a handler into a 500 with a generic message; the panic
// and its stack go to the log only.
func recoverPanics(log *zap.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			log.Error("handler panic", zap.String("request_id", requestID(r.Context())),
				zap.Any("panic", v), zap.ByteString("stack", debug.Stack()))
			writeRequestError(w, http.StatusInternalServerError, "internal error")
		}()
		next.ServeHTTP(w, r)
	})
}

// corsFor applies CORS for the configured origins; with none, cross-origin requests get
// no CORS headers (browsers refuse them).
func corsFor(origins []string, next http.Handler) http.Handler {
	if len(origins) == 0 {
		return next
	}
	return cors.New(cors.Options{
		AllowedOrigins:   origins,
		AllowedMethods:   []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		AllowedHeaders:   []string{"Content-Type", "Accept", "Authorization", "X-Request-Id"},
		ExposedHeaders:   []string{"X-Request-Id"},
		AllowCredentials: false,
		MaxAge:           600,
	}).Handler(next)
}
