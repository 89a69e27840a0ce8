package server

import (
	"context"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/graph-gophers/graphql-go"
	"github.com/lodestone-kg/lodestone/graph"
	"github.com/lodestone-kg/lodestone/loaders"
	"go.uber.org/zap"
)

// GraphQL over Server-Sent Events, distinct connections mode (the graphql-sse protocol):
// a POST or GET to /graphql with Accept: text/event-stream gets a text/event-stream
// answer of "next" events, each one execution result, then one "complete" event. A
// subscription streams until it ends or the client goes; a query or mutation sends its
// one result. The request is decoded, authenticated and costed as on the ordinary path;
// a subscription gives its expensive slot back once it is running (it may last hours)
// and each of its reads has a work budget of its own.

// sseHeartbeat is how often an idle stream sends a comment, so that proxies and clients
// see it alive and a closed connection is noticed.
const sseHeartbeat = 15 * time.Second

// sseWriteTimeout is how long an event may wait for a slow reader.
const sseWriteTimeout = 10 * time.Second

// wantsEventStream reports whether r asks for text/event-stream.
func wantsEventStream(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "text/event-stream" {
			return true
		}
	}
	return false
}

// withStreams sends requests for a stream (Accept: text/event-stream, or a WebSocket
// upgrade) to the streaming transports and the rest to next.
func withStreams(next, sse, ws http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && strings.EqualFold(r.Header.Get("Upgrade"), "websocket"):
			ws.ServeHTTP(w, r)
		case wantsEventStream(r):
			sse.ServeHTTP(w, r)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func handleSSE(log *zap.Logger, cfg Config, store *graph.Store, schema *graphql.Schema, limits *guard) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, status, msg := decodeGraphQLRequest(w, r, cfg.MaxBodyBytes)
		if status != 0 {
			writeRequestError(w, status, msg)
			return
		}
		doc, parseErr := parseRequest(req.Query) // once, for naming and the estimate
		execType, _ := operationOfParsed(doc, req.Query, req.OperationName)
		if execType == "mutation" && r.Method == http.MethodGet {
			w.Header().Set("Allow", "POST")
			writeRequestError(w, http.StatusMethodNotAllowed, "mutations must be sent with POST, not GET")
			return
		}
		estimate, release, refused := limits.admitParsed(r.Context(), mediaJSON, req.Query, doc, parseErr, req.OperationName, req.Variables)
		if refused != nil {
			limits.setWorkHeader(w, r.Context(), estimate)
			refused.write(w, mediaJSON)
			return
		}
		ctx := r.Context()
		if execType != "subscription" {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, cfg.RequestTimeout)
			defer cancel()
			ctx = limits.work(ctx)
		}
		ctx = loaders.NewContext(ctx, loaders.New(store))
		ctx = withSchema(ctx, schema)
		ctx = withWatchInterval(ctx, cfg.WatchInterval)
		ctx = withStreamGuard(ctx, limits)
		if cfg.Limits.NoIntrospection {
			ctx = context.WithValue(ctx, noIntrospectionKey{}, true)
		}
		if r.Method == http.MethodGet {
			ctx = context.WithValue(ctx, getKey{}, true)
		}
		seq := store.Seq()
		var results <-chan any
		if execType == "subscription" {
			ch, err := schema.Subscribe(ctx, req.Query, req.OperationName, req.Variables)
			if err != nil {
				release()
				writeRequestError(w, http.StatusInternalServerError, "internal error")
				log.Error("subscribe", zap.String("request_id", requestID(ctx)), zap.Error(err))
				return
			}
			release() // running: the stream's reads have budgets of their own
			results = ch
		} else {
			defer release()
			one := make(chan any, 1)
			one <- schema.Exec(ctx, req.Query, req.OperationName, req.Variables)
			close(one)
			results = one
		}

		rc := http.NewResponseController(w)
		rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
		w.Header().Set(SeqHeader, strconv.FormatUint(seq, 10))
		w.WriteHeader(http.StatusOK)
		rc.Flush()
		heartbeat := time.NewTicker(sseHeartbeat)
		defer heartbeat.Stop()
		for {
			select {
			case v, ok := <-results:
				if !ok {
					rc.SetWriteDeadline(time.Now().Add(sseWriteTimeout))
					w.Write([]byte("event: complete\ndata:\n\n"))
					rc.Flush()
					return
				}
				resp, _ := v.(*graphql.Response)
				if resp == nil {
					continue
				}
				publicErrors(ctx, log, resp.Errors)
				body, err := encodeResponse(resp)
				if err != nil {
					log.Error("encode event", zap.String("request_id", requestID(ctx)), zap.Error(err))
					return
				}
				// Nothing is queued for a slow reader (the subscription reads the log as it
				// sends); one that does not take an event within sseWriteTimeout is
				// disconnected, and resumes from the last seq it received.
				rc.SetWriteDeadline(time.Now().Add(sseWriteTimeout))
				if err := writeEvent(w, "next", body); err != nil {
					return
				}
				rc.Flush()
			case <-heartbeat.C:
				rc.SetWriteDeadline(time.Now().Add(sseWriteTimeout))
				if _, err := w.Write([]byte(":\n\n")); err != nil {
					return
				}
				rc.Flush()
			case <-r.Context().Done():
				return
			}
		}
	})
}

// writeEvent writes one Server-Sent Event; data is one line of JSON (encoding/json never
// writes a raw line break inside a JSON text).
func writeEvent(w http.ResponseWriter, event string, data []byte) error {
	var b []byte
	b = append(b, "event: "...)
	b = append(b, event...)
	b = append(b, "\ndata: "...)
	b = append(b, data...)
	b = append(b, "\n\n"...)
	_, err := w.Write(b)
	return err
}
