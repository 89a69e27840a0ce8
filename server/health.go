package server

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/lodestone-kg/lodestone/graph"
)

// handleHealthz answers 200 while the process is up.
func handleHealthz(version string) http.Handler {
	body, _ := json.Marshal(map[string]string{"status": "ok", "version": version})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
}

// handleReadyz answers 200 when the store answers a read within a second, 503 otherwise.
func handleReadyz(store *graph.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "application/json")
		if err := store.Ping(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"status":"unavailable"}`))
			return
		}
		w.Write([]byte(`{"status":"ready"}`))
	})
}

func methodNotAllowed(allow string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeRequestError(w, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed here; use "+allow)
	})
}
