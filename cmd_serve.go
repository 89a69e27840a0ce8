package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	gqltracer "github.com/graph-gophers/graphql-go/trace/tracer"
	"github.com/lodestone-kg/lodestone/graph"
	"github.com/lodestone-kg/lodestone/seed"
	"github.com/lodestone-kg/lodestone/server"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// serveConfig is the configuration of `lodestone serve`.
type serveConfig struct {
	memLimitMiB    int64
	cacheMiB       int64
	addr           string
	data           string
	inMemory       bool
	seed           bool
	corsOrigins    string
	logFormat      string
	logLevel       string
	maxBody        int64
	requestTimeout time.Duration
	savedOnly      bool
	limits         graph.Limits
	auth           string
	anonWrites     bool
	reqLimits      server.RequestLimits
	rateLimit      server.RateLimit
	journalRetain  time.Duration
	changesRetain  time.Duration
	slowQuery      time.Duration
	watchInterval  time.Duration
	hooksPrivate   bool // --webhook-allow-private
	otel           bool
}

func (c *serveConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&c.addr, "addr", ":8080", "address to listen on (LODESTONE_ADDR)")
	fs.StringVar(&c.data, "data", "./data", "folder of the Badger store (LODESTONE_DATA)")
	fs.BoolVar(&c.inMemory, "in-memory", false, "keep the store in memory only; nothing survives a restart (LODESTONE_IN_MEMORY)")
	fs.BoolVar(&c.seed, "seed", true, "load the embedded seed graph into an empty store (LODESTONE_SEED)")
	fs.StringVar(&c.corsOrigins, "cors-origins", "", "comma-separated origins allowed to call the API from browsers, or * (LODESTONE_CORS_ORIGINS)")
	fs.StringVar(&c.logFormat, "log-format", "json", "log format: json or console (LODESTONE_LOG_FORMAT)")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn, error (LODESTONE_LOG_LEVEL)")
	fs.Int64Var(&c.maxBody, "max-body", 1<<20, "largest request body in bytes (LODESTONE_MAX_BODY)")
	fs.DurationVar(&c.requestTimeout, "request-timeout", 30*time.Second, "time limit of one GraphQL request (LODESTONE_REQUEST_TIMEOUT)")
	fs.BoolVar(&c.savedOnly, "saved-queries-only", false, "allow-list mode: /graphql runs only saved queries and approved persisted queries; anything else is FORBIDDEN (LODESTONE_SAVED_QUERIES_ONLY)")
	fs.StringVar(&c.auth, "auth", string(server.AuthAnonymousReads), "who may do what without an API key: anonymous-reads (read, not write) or required (nothing) (LODESTONE_AUTH)")
	fs.BoolVar(&c.anonWrites, "allow-anonymous-writes", false, "local development only: requests without a key may do everything; refused unless --addr is loopback (LODESTONE_ALLOW_ANONYMOUS_WRITES)")
	fs.IntVar(&c.reqLimits.MaxCost, "max-cost", server.DefaultMaxCost, "work budget of one request in work units: its cost estimate may not exceed it, nor the work it does (LODESTONE_MAX_COST)")
	fs.DurationVar(&c.reqLimits.WorkTime, "work-time", server.DefaultWorkTime, "time all the store reads of one request may take together (at most --traversal-timeout) (LODESTONE_WORK_TIME)")
	fs.IntVar(&c.reqLimits.MaxAliases, "max-aliases", server.DefaultMaxAliases, "aliased fields one GraphQL document may hold (LODESTONE_MAX_ALIASES)")
	fs.IntVar(&c.reqLimits.ExpensiveCost, "expensive-cost", server.DefaultExpensiveCost, "cost estimate from which a request counts as expensive (LODESTONE_EXPENSIVE_COST)")
	fs.IntVar(&c.reqLimits.MaxExpensive, "max-expensive", 0, "expensive requests and exports running at once; 0: one less than the number of CPUs, at least 1 (LODESTONE_MAX_EXPENSIVE)")
	fs.Float64Var(&c.rateLimit.PerSecond, "rate-limit", 0, "requests a second each client (API key, or IP address without one) may make; over it: 429 with Retry-After (0: no limit) (LODESTONE_RATE_LIMIT)")
	fs.IntVar(&c.rateLimit.Burst, "rate-burst", 0, "requests a client may make at once after being idle; 0: twice --rate-limit (LODESTONE_RATE_BURST)")
	fs.BoolVar(&c.reqLimits.NoIntrospection, "no-introspection", false, "refuse GraphQL introspection (__schema, __type) (LODESTONE_NO_INTROSPECTION)")
	fs.IntVar(&c.limits.MaxFirst, "max-first", graph.DefaultMaxFirst, "cap of first/limit arguments (LODESTONE_MAX_FIRST)")
	fs.IntVar(&c.limits.MaxSubgraph, "max-subgraph", graph.DefaultMaxSubgraph, "result cap: the most entities a subgraph or supplyChain lists, and the longest answer of owners, holdings, beneficialOwners and exposure (LODESTONE_MAX_SUBGRAPH)")
	fs.IntVar(&c.limits.MaxDepth, "max-depth", graph.DefaultMaxDepth, "cap of depth/maxDepth arguments (LODESTONE_MAX_DEPTH)")
	fs.IntVar(&c.limits.MaxVisits, "max-visits", graph.DefaultMaxVisits, "relationships one traversal may examine (LODESTONE_MAX_VISITS)")
	fs.DurationVar(&c.watchInterval, "watch-interval", server.DefaultWatchInterval, "how often, at most, a watched saved query (savedQueryResult) runs again after commits that change graph data (LODESTONE_WATCH_INTERVAL)")
	fs.BoolVar(&c.hooksPrivate, "webhook-allow-private", false, "let webhooks reach loopback, private and link-local addresses, refused by default (LODESTONE_WEBHOOK_ALLOW_PRIVATE)")
	fs.DurationVar(&c.slowQuery, "slow-query", time.Second, "log GraphQL requests that take this long or longer, by operation name and document hash (0: off) (LODESTONE_SLOW_QUERY)")
	fs.BoolVar(&c.otel, "otel", false, "trace GraphQL requests with OpenTelemetry over OTLP/HTTP; also on when OTEL_EXPORTER_OTLP_ENDPOINT is set (LODESTONE_OTEL)")
	fs.DurationVar(&c.limits.Timeout, "traversal-timeout", graph.DefaultTimeout, "time limit of one traversal (LODESTONE_TRAVERSAL_TIMEOUT)")
	fs.DurationVar(&c.changesRetain, "changes-retention", graph.DefaultChangesRetention, "how long the change log keeps a commit; clients resume the changes query within this time (0: keep everything) (LODESTONE_CHANGES_RETENTION)")
	fs.DurationVar(&c.journalRetain, "journal-retention", graph.DefaultJournalRetention, "how long the deletion journal keeps what writes deleted; an incremental backup must follow the one before it within this time (0: keep everything) (LODESTONE_JOURNAL_RETENTION)")
	fs.Int64Var(&c.cacheMiB, "cache", graph.DefaultCacheSize>>20, "MiB of decoded entities and adjacency lists kept for reads, retired by every write (0: none) (LODESTONE_CACHE)")
	fs.Int64Var(&c.memLimitMiB, "memory-limit", defaultMemoryLimitMiB, "soft limit of the Go runtime's memory in MiB: near it the collector works harder (0: none; GOMEMLIMIT, when set, wins) (LODESTONE_MEMORY_LIMIT)")
}

func newLogger(format, level string, w io.Writer) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("log level: %w", err)
	}
	encCfg := zap.NewProductionEncoderConfig()
	encCfg.EncodeTime = zapcore.ISO8601TimeEncoder
	var enc zapcore.Encoder
	switch format {
	case "json":
		enc = zapcore.NewJSONEncoder(encCfg)
	case "console":
		encCfg.EncodeLevel = zapcore.CapitalLevelEncoder
		enc = zapcore.NewConsoleEncoder(encCfg)
	default:
		return nil, fmt.Errorf("log format %q: use json or console", format)
	}
	return zap.New(zapcore.NewCore(enc, zapcore.AddSync(w), lvl)), nil
}

// runServe serves the API until ctx ends or the process gets SIGINT/SIGTERM, then shuts
// down gracefully: in-flight requests finish (up to 10 s), then the store closes cleanly.
func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg serveConfig
	fs := newFlagSet("serve", stderr)
	cfg.register(fs)
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	log, err := newLogger(cfg.logFormat, cfg.logLevel, stderr)
	if err != nil {
		return err
	}
	defer log.Sync()
	authMode, err := server.ParseAuthMode(cfg.auth)
	if err != nil {
		return err
	}
	srvCfg := server.Config{
		MaxBodyBytes: cfg.maxBody, RequestTimeout: cfg.requestTimeout, Version: version,
		SavedQueriesOnly: cfg.savedOnly, Auth: authMode, AnonymousWrites: cfg.anonWrites, Limits: cfg.reqLimits,
		RateLimit: cfg.rateLimit, WatchInterval: cfg.watchInterval,
	}
	if cfg.rateLimit.PerSecond < 0 || cfg.rateLimit.Burst < 0 || math.IsNaN(cfg.rateLimit.PerSecond) || math.IsInf(cfg.rateLimit.PerSecond, 0) {
		return fmt.Errorf("--rate-limit %g and --rate-burst %d: use numbers of 0 or more", cfg.rateLimit.PerSecond, cfg.rateLimit.Burst)
	}
	if cfg.changesRetain < 0 {
		return fmt.Errorf("--changes-retention %s: use a duration of 0 (keep everything) or more", cfg.changesRetain)
	}
	if cfg.journalRetain < 0 {
		return fmt.Errorf("--journal-retention %s: use a duration of 0 (keep everything) or more", cfg.journalRetain)
	}
	// Secure by default: refuse anonymous writes beyond loopback before touching the store.
	if err := srvCfg.CheckListenAddr(cfg.addr); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	setMemoryLimit(cfg.memLimitMiB, os.Getenv("GOMEMLIMIT"))

	store, err := graph.Open(graph.Options{Dir: cfg.data, InMemory: cfg.inMemory, Limits: cfg.limits, Logger: log, CacheSize: cacheBytes(cfg.cacheMiB), JournalRetention: cfg.journalRetain, ChangesRetention: cfg.changesRetain})
	if err != nil {
		return err
	}
	defer func() {
		if err := store.Close(); err != nil {
			log.Error("close store", zap.Error(err))
		}
	}()
	if cfg.seed {
		loaded, err := seed.Load(ctx, store)
		if err != nil {
			return fmt.Errorf("load seed graph: %w", err)
		}
		if loaded {
			st, _ := store.Stats(ctx)
			log.Info("loaded the seed graph", zap.Int("entities", st.Entities), zap.Int("relationships", st.Relationships))
		}
		// The seeded saved queries, validated against the live schema (seed/queries.go).
		schema, err := server.ParseSchema(schemaSDL, store, log)
		if err != nil {
			return err
		}
		saved, err := seed.LoadQueries(ctx, store, func(q *graph.SavedQuery) (*graph.SavedQuery, error) {
			return server.PrepareSavedQuery(schema, q)
		})
		if err != nil {
			log.Warn("some seeded saved queries were not saved", zap.Error(err))
		}
		if len(saved) > 0 {
			log.Info("saved the seeded queries", zap.Strings("names", saved))
		}
	}

	var tracer gqltracer.Tracer
	if tracingWanted(cfg.otel, getenv) {
		tp, err := newTracerProvider(ctx, getenv)
		if err != nil {
			return err
		}
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := tp.Shutdown(ctx); err != nil {
				log.Warn("flush traces", zap.Error(err))
			}
		}()
		tracer = server.OTelTracer(tp)
		log.Info("tracing with OpenTelemetry")
	}

	var origins []string
	for _, o := range strings.Split(cfg.corsOrigins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			origins = append(origins, o)
		}
	}
	srvCfg.CORSOrigins = origins
	srvCfg.SlowQuery, srvCfg.Tracer = cfg.slowQuery, tracer
	handler, err := server.NewServer(log, srvCfg, store, schemaSDL)
	if err != nil {
		return err
	}
	// Webhook deliveries (server/webhooks.go) stop, and store their cursors, before the
	// store closes.
	hookSchema, err := server.ParseSchema(schemaSDL, store, log)
	if err != nil {
		return err
	}
	hooksCtx, stopHooks := context.WithCancel(ctx)
	waitHooks := server.StartWebhooks(hooksCtx, log, store, hookSchema, server.WebhookOptions{AllowPrivate: cfg.hooksPrivate, WatchInterval: cfg.watchInterval})
	defer func() { stopHooks(); waitHooks() }()
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      cfg.requestTimeout + 10*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          zap.NewStdLog(log),
	}
	url := "http://" + displayAddr(ln.Addr())
	fmt.Fprintf(stdout, "lodestone listening on %s (GraphQL at %s/graphql)\n", url, url)
	log.Info("serving", zap.String("addr", ln.Addr().String()), zap.String("data", cfg.data), zap.String("version", version),
		zap.String("auth", string(authMode)), zap.Bool("anonymous_writes", cfg.anonWrites))

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Warn("shutdown", zap.Error(err))
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// displayAddr turns a listening address into one a person can paste (":8080" listens
// on every interface; show localhost).
func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// defaultMemoryLimitMiB is serve's soft memory limit. The Go heap of a server holds
// Badger's block cache (256 MiB of decompressed blocks) and each request's garbage; with
// the collector's default pacing it grows to about twice what is live, and a 1 M-company
// graph's server peaked at 1.51 GiB resident (0.6 GiB of it mapped table files). Near
// this limit the collector runs sooner instead (docs/benchmarks.md).
const defaultMemoryLimitMiB = 768

// setMemoryLimit sets the Go runtime's soft memory limit to mib MiB, unless mib is 0 or
// the GOMEMLIMIT environment variable (gomemlimit) already set one.
func setMemoryLimit(mib int64, gomemlimit string) {
	if mib > 0 && gomemlimit == "" {
		debug.SetMemoryLimit(mib << 20)
	}
}

// noCache is graph.Options.CacheSize for commands that read each record once at most
// (import, export, backup, restore, check, keys, query): a read cache would only cost.
const noCache = -1

// cacheBytes turns a --cache size in MiB into graph.Options.CacheSize (0 MiB: none).
func cacheBytes(mib int64) int64 {
	if mib <= 0 {
		return noCache
	}
	return mib << 20
}
