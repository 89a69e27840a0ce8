package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/graph-gophers/graphql-go"
	"github.com/lodestone-kg/lodestone/graph"
	"github.com/lodestone-kg/lodestone/loaders"
	"go.uber.org/zap"
)

// The graphql-ws protocol (WebSocket subprotocol graphql-transport-ws) on GET /graphql:
// connection_init (its payload may carry {"authorization": "Bearer <key>"}, which browsers
// cannot put in a header), connection_ack, then any number of subscribe messages, each
// answered by next messages and one complete (or one error, for a request that does not
// validate), ping and pong. The close codes are the protocol's: 4400 for a message it
// cannot read, 4401 for a subscribe before the ack, 4403 for a key that is refused,
// 4408 when no connection_init came in time, 4409 for an id already running, 4429 for a
// second connection_init.

const (
	wsSubprotocol  = "graphql-transport-ws"
	wsInitTimeout  = 10 * time.Second
	wsMaxMessage   = 1 << 20
	wsMaxOperation = 100 // subscriptions one connection may run at once
	// wsWriteTimeout is how long a message may wait for a slow client. Nothing is queued
	// for it meanwhile (a subscription reads the log as it sends), so a slow client costs
	// no memory; past the timeout the connection is closed with a reason, and the client
	// resumes from the last seq it received.
	wsWriteTimeout = 10 * time.Second
)

// wsMessage is one message of the protocol, either way.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func handleWebSocket(log *zap.Logger, cfg Config, store *graph.Store, schema *graphql.Schema, limits *guard) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		opts := &websocket.AcceptOptions{Subprotocols: []string{wsSubprotocol}}
		if len(cfg.CORSOrigins) > 0 {
			for _, o := range cfg.CORSOrigins {
				opts.OriginPatterns = append(opts.OriginPatterns, strings.TrimPrefix(strings.TrimPrefix(o, "https://"), "http://"))
			}
		}
		conn, err := websocket.Accept(w, r, opts)
		if err != nil {
			return // Accept has answered the request
		}
		defer conn.CloseNow()
		if conn.Subprotocol() != wsSubprotocol {
			conn.Close(4400, "use the graphql-transport-ws subprotocol (the graphql-ws protocol)")
			return
		}
		conn.SetReadLimit(wsMaxMessage)
		s := &wsSession{log: log, cfg: cfg, store: store, schema: schema, limits: limits, conn: conn,
			ops: map[string]context.CancelFunc{}}
		s.serve(r)
	})
}

type wsSession struct {
	log    *zap.Logger
	cfg    Config
	store  *graph.Store
	schema *graphql.Schema
	limits *guard
	conn   *websocket.Conn

	writeMu sync.Mutex
	mu      sync.Mutex
	ops     map[string]context.CancelFunc
	wg      sync.WaitGroup
}

func (s *wsSession) send(ctx context.Context, m wsMessage) error {
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	wctx, cancel := context.WithTimeout(ctx, wsWriteTimeout)
	defer cancel()
	return s.conn.Write(wctx, websocket.MessageText, raw)
}

func (s *wsSession) serve(r *http.Request) {
	ctx, cancel := context.WithCancel(r.Context())
	defer func() {
		cancel()
		s.wg.Wait()
	}()
	initCtx, initCancel := context.WithTimeout(ctx, wsInitTimeout)
	defer initCancel()
	acked := false
	p := principalFrom(ctx)
	for {
		readCtx := ctx
		if !acked {
			readCtx = initCtx
		}
		typ, raw, err := s.conn.Read(readCtx)
		if err != nil {
			if !acked && errors.Is(initCtx.Err(), context.DeadlineExceeded) {
				s.conn.Close(4408, "connection initialisation timeout")
			}
			return
		}
		var m wsMessage
		if typ != websocket.MessageText || json.Unmarshal(raw, &m) != nil || m.Type == "" {
			s.conn.Close(4400, "the message is not a graphql-ws JSON message")
			return
		}
		switch m.Type {
		case "connection_init":
			if acked {
				s.conn.Close(4429, "too many initialisation requests")
				return
			}
			var payload struct {
				Authorization string `json:"authorization"`
			}
			json.Unmarshal(m.Payload, &payload)
			if payload.Authorization != "" {
				scheme, token, _ := strings.Cut(payload.Authorization, " ")
				key, err := s.store.Authenticate(ctx, strings.TrimSpace(token))
				if !strings.EqualFold(scheme, "Bearer") || err != nil {
					s.conn.Close(4403, "forbidden: the authorization is not a valid API key")
					return
				}
				p = principal{key: key, role: key.Role}
				ctx = graph.WithActor(ctx, key.ID)
			}
			if p.role == graph.RoleNone {
				s.conn.Close(4403, "forbidden: this server requires an API key (connection_init payload {\"authorization\": \"Bearer <key>\"})")
				return
			}
			ctx = context.WithValue(ctx, principalKey{}, p)
			acked = true
			if err := s.send(ctx, wsMessage{Type: "connection_ack"}); err != nil {
				return
			}
		case "ping":
			if err := s.send(ctx, wsMessage{Type: "pong", Payload: m.Payload}); err != nil {
				return
			}
		case "pong":
		case "subscribe":
			if !acked {
				s.conn.Close(4401, "unauthorized: send connection_init first")
				return
			}
			if m.ID == "" {
				s.conn.Close(4400, "a subscribe message needs an id")
				return
			}
			s.mu.Lock()
			_, running := s.ops[m.ID]
			full := len(s.ops) >= wsMaxOperation
			s.mu.Unlock()
			if running {
				s.conn.Close(4409, "subscriber for "+m.ID+" already exists")
				return
			}
			if full {
				s.send(ctx, wsMessage{ID: m.ID, Type: "error", Payload: errorPayload(graph.ELIMIT, "this connection already runs the most subscriptions it may; complete one first")})
				continue
			}
			var req graphQLRequest
			if err := json.Unmarshal(m.Payload, &req); err != nil || strings.TrimSpace(req.Query) == "" {
				s.conn.Close(4400, "a subscribe payload is {\"query\", \"variables\", \"operationName\"}")
				return
			}
			opCtx, opCancel := context.WithCancel(ctx)
			s.mu.Lock()
			s.ops[m.ID] = opCancel
			s.mu.Unlock()
			s.wg.Add(1)
			go func(id string) {
				defer s.wg.Done()
				defer s.finish(id)
				s.run(opCtx, id, req)
			}(m.ID)
		case "complete":
			s.mu.Lock()
			if c := s.ops[m.ID]; c != nil {
				c()
			}
			s.mu.Unlock()
		default:
			s.conn.Close(4400, "unknown message type "+m.Type)
			return
		}
	}
}

// finish forgets operation id.
func (s *wsSession) finish(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.ops[id]; c != nil {
		c()
		delete(s.ops, id)
	}
}

// run executes one operation and sends its results, then complete (unless the client
// completed it first).
func (s *wsSession) run(ctx context.Context, id string, req graphQLRequest) {
	doc, parseErr := parseRequest(req.Query) // once, for naming and the estimate
	execType, _ := operationOfParsed(doc, req.Query, req.OperationName)
	_, release, refused := s.limits.admitParsed(ctx, mediaJSON, req.Query, doc, parseErr, req.OperationName, req.Variables)
	if refused != nil {
		s.send(ctx, wsMessage{ID: id, Type: "error", Payload: errorPayload(refused.code, refused.message)})
		return
	}
	if execType != "subscription" {
		defer release()
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.RequestTimeout)
		defer cancel()
		ctx = s.limits.work(ctx)
	}
	ctx = loaders.NewContext(ctx, loaders.New(s.store))
	ctx = withSchema(ctx, s.schema)
	ctx = withWatchInterval(ctx, s.cfg.WatchInterval)
	ctx = withStreamGuard(ctx, s.limits)
	if s.cfg.Limits.NoIntrospection {
		ctx = context.WithValue(ctx, noIntrospectionKey{}, true)
	}
	var results <-chan any
	if execType == "subscription" {
		ch, err := s.schema.Subscribe(ctx, req.Query, req.OperationName, req.Variables)
		release()
		if err != nil {
			s.log.Error("subscribe", zap.Error(err))
			s.send(ctx, wsMessage{ID: id, Type: "error", Payload: errorPayload(graph.EINTERNAL, "internal error")})
			return
		}
		results = ch
	} else {
		one := make(chan any, 1)
		one <- s.schema.Exec(ctx, req.Query, req.OperationName, req.Variables)
		close(one)
		results = one
	}
	first := true
	for v := range results {
		resp, _ := v.(*graphql.Response)
		if resp == nil {
			continue
		}
		requestErr, _ := publicErrors(ctx, s.log, resp.Errors)
		if first && requestErr && len(resp.Data) == 0 {
			// A request that did not validate: the protocol's error message, no complete.
			raw, _ := json.Marshal(resp.Errors)
			s.send(ctx, wsMessage{ID: id, Type: "error", Payload: raw})
			return
		}
		first = false
		body, err := encodeResponse(resp)
		if err != nil {
			s.log.Error("encode", zap.Error(err))
			return
		}
		if err := s.send(ctx, wsMessage{ID: id, Type: "next", Payload: body}); err != nil {
			if ctx.Err() == nil {
				// The client did not take a message within the write timeout: nothing is
				// buffered for it; it resumes from the last seq it saw.
				s.conn.Close(websocket.StatusPolicyViolation, "the client read too slowly; reconnect and resume the subscription with after = the last seq received")
			}
			return
		}
	}
	if ctx.Err() == nil || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		s.send(context.WithoutCancel(ctx), wsMessage{ID: id, Type: "complete"})
	}
}

// errorPayload is the payload of an error message: a list of GraphQL errors.
func errorPayload(code, message string) json.RawMessage {
	raw, _ := json.Marshal([]map[string]any{{"message": message, "extensions": map[string]any{"code": code}}})
	return raw
}
