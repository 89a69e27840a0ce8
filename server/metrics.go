package server

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lodestone-kg/lodestone/graph"
	"github.com/lodestone-kg/lodestone/ingest"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// maxOperationLabels caps the distinct operation names the metrics keep apart; names
// seen after the cap is reached are counted as "other", so that clients cannot grow the
// number of series without bound.
const maxOperationLabels = 200

// Operation label values that are not operation names.
const (
	opAnonymous = "anonymous" // a request without an operation name
	opOther     = "other"     // a name beyond maxOperationLabels, or not a GraphQL name
)

// metrics are the Prometheus metrics of one server, in a registry of its own (never the
// global default), served at GET /metrics.
type metrics struct {
	reg *prometheus.Registry

	requests    *prometheus.CounterVec   // operation, outcome
	duration    *prometheus.HistogramVec // type, operation
	httpReqs    *prometheus.CounterVec   // route, code
	visits      *prometheus.HistogramVec // field
	truncations *prometheus.CounterVec   // field

	opsMu sync.Mutex
	ops   map[string]bool // operation names given a label of their own

	importing atomic.Pointer[ingest.Progress] // the running admin import, if any
}

// newMetrics registers Lodestone's metrics, the store's (read at scrape time) and the Go
// runtime and process collectors in a new registry.
func newMetrics(store *graph.Store) *metrics {
	m := &metrics{reg: prometheus.NewRegistry(), ops: map[string]bool{}}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lodestone_graphql_requests_total",
		Help: "GraphQL requests by operation name (anonymous, or other beyond the label cap) and outcome (ok, or the extensions.code of the first error).",
	}, []string{"operation", "outcome"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "lodestone_graphql_request_duration_seconds",
		Help:    "Time to answer a GraphQL request, by operation type (query, mutation, or invalid when it never ran) and name.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"type", "operation"})
	m.httpReqs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lodestone_http_requests_total",
		Help: "HTTP requests by route pattern (unmatched when none) and status code.",
	}, []string{"route", "code"})
	m.visits = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "lodestone_traversal_visits",
		Help:    "Relationships one resolved GraphQL field examined in the store, by field (Type.field).",
		Buckets: prometheus.ExponentialBuckets(1, 4, 11), // 1 … ~1 M
	}, []string{"field"})
	m.truncations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lodestone_traversal_truncations_total",
		Help: "Traversals that ran out of their visit budget or time limit (a Truncated result or LIMIT_EXCEEDED), by field (Type.field).",
	}, []string{"field"})
	m.reg.MustRegister(m.requests, m.duration, m.httpReqs, m.visits, m.truncations,
		storeCollector{store: store, importing: &m.importing},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// handler serves the registry in the Prometheus text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// operationLabel returns the label of an operation name: anonymous for none, the name
// itself while fewer than maxOperationLabels names have been seen, other after that or
// for a string that is not a GraphQL name (it cannot name an operation that ran).
func (m *metrics) operationLabel(name string) string {
	if name == "" {
		return opAnonymous
	}
	if !isGraphQLName(name) {
		return opOther
	}
	m.opsMu.Lock()
	defer m.opsMu.Unlock()
	if m.ops[name] {
		return name
	}
	if len(m.ops) >= maxOperationLabels {
		return opOther
	}
	m.ops[name] = true
	return name
}

// isGraphQLName reports whether s matches /[_A-Za-z][_0-9A-Za-z]*/ (and is short).
func isGraphQLName(s string) bool {
	if len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// observeGraphQL records one GraphQL request.
func (m *metrics) observeGraphQL(operation, opType, outcome string, d time.Duration) {
	op := m.operationLabel(operation)
	m.requests.WithLabelValues(op, outcome).Inc()
	m.duration.WithLabelValues(opType, op).Observe(d.Seconds())
}

// observeField records the store work of one resolved field.
func (m *metrics) observeField(field string, ts *graph.TraversalStats) {
	if ts.Reads() == 0 {
		return
	}
	m.visits.WithLabelValues(field).Observe(float64(ts.Visits()))
	if n := ts.Exhausted(); n > 0 {
		m.truncations.WithLabelValues(field).Add(float64(n))
	}
}

// trackImport makes p the running import's progress until the returned function is
// called.
func (m *metrics) trackImport(p *ingest.Progress) (done func()) {
	m.importing.Store(p)
	return func() { m.importing.CompareAndSwap(p, nil) }
}

// instrumentHTTP counts every request by the pattern of the mux route that matches it
// (asked of mux, so that middleware between them, which may copy the request, does not
// hide it), 401s of the key check included.
func (m *metrics) instrumentHTTP(mux *http.ServeMux, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			_, route := mux.Handler(r)
			if route == "" {
				route = "unmatched"
			}
			code := rec.status
			if code == 0 {
				code = http.StatusOK
			}
			m.httpReqs.WithLabelValues(route, strconv.Itoa(code)).Inc()
		}()
		next.ServeHTTP(rec, r)
	})
}

// storeCollector reads the store's size, counts and Badger internals, and the progress
// of a running import, each time /metrics is scraped.
type storeCollector struct {
	store     *graph.Store
	importing *atomic.Pointer[ingest.Progress]
}

var (
	descStoreBytes = prometheus.NewDesc("lodestone_store_bytes",
		"Size of the Badger store's files by part: lsm (its tables) and vlog (value-log files, whose apparent size includes the preallocated, still empty end of the current one, as Badger's own DB.Size reports it).", []string{"part"}, nil)
	descTables = prometheus.NewDesc("lodestone_badger_tables",
		"SSTables across all levels of Badger's LSM tree.", nil, nil)
	descCache = prometheus.NewDesc("lodestone_badger_cache_lookups_total",
		"Lookups of Badger's caches by cache (block, index) and result (hit, miss).", []string{"cache", "result"}, nil)
	descReadCache = prometheus.NewDesc("lodestone_read_cache_lookups_total",
		"Lookups of the store's read cache of entity records and adjacency lists (serve --cache) by result (hit, miss).", []string{"result"}, nil)
	descReads = prometheus.NewDesc("lodestone_store_reads_total",
		"Read transactions opened on the store.", nil, nil)
	descEntities = prometheus.NewDesc("lodestone_entities",
		"Entities in the store by kind.", []string{"kind"}, nil)
	descRels = prometheus.NewDesc("lodestone_relationships",
		"Relationships in the store by type.", []string{"type"}, nil)
	descImportActive = prometheus.NewDesc("lodestone_import_running",
		"1 while an admin import (POST /admin/import) runs, else 0.", nil, nil)
	descImportBytes = prometheus.NewDesc("lodestone_import_bytes",
		"Progress of the running import's phase: input bytes done and total (0 when unknown).", []string{"phase", "of"}, nil)
	descImportRecords = prometheus.NewDesc("lodestone_import_records",
		"Records handled in the running import's phase.", []string{"phase"}, nil)
)

func (c storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descStoreBytes, descTables, descCache, descReadCache, descReads,
		descEntities, descRels, descImportActive, descImportBytes, descImportRecords} {
		ch <- d
	}
}

func (c storeCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	ss := c.store.StorageStats()
	gauge(descStoreBytes, float64(ss.LSMBytes), "lsm")
	gauge(descStoreBytes, float64(ss.VLogBytes), "vlog")
	gauge(descTables, float64(ss.Tables))
	counter(descCache, float64(ss.BlockCacheHits), "block", "hit")
	counter(descCache, float64(ss.BlockCacheMisses), "block", "miss")
	counter(descCache, float64(ss.IndexCacheHits), "index", "hit")
	counter(descCache, float64(ss.IndexCacheMisses), "index", "miss")
	counter(descReadCache, float64(ss.ReadCacheHits), "hit")
	counter(descReadCache, float64(ss.ReadCacheMisses), "miss")
	counter(descReads, float64(ss.Reads))
	if st, err := c.store.Stats(context.Background()); err == nil {
		for kind, n := range st.ByKind {
			gauge(descEntities, float64(n), kind)
		}
		for typ, n := range st.ByType {
			gauge(descRels, float64(n), typ)
		}
	}
	p := c.importing.Load()
	if p == nil {
		gauge(descImportActive, 0)
		return
	}
	gauge(descImportActive, 1)
	st := p.Snapshot()
	if st.Phase == "" {
		st.Phase = "receiving" // the upload, before the first phase starts
	}
	gauge(descImportBytes, float64(st.Bytes), st.Phase, "done")
	gauge(descImportBytes, float64(st.TotalBytes), st.Phase, "total")
	gauge(descImportRecords, float64(st.Records), st.Phase)
}
