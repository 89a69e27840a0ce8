package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lodestone-kg/lodestone/graph"
	"github.com/lodestone-kg/lodestone/ingest"
	"go.uber.org/zap"
)

// MaxImportBytes caps the body of one POST /admin/import (all files together).
const MaxImportBytes = 2 << 30

// maxRejectsShown caps the rejected rows an import response lists.
const maxRejectsShown = 1000

// noDeadlines lifts the server's read and write timeouts for a long transfer (an import
// upload or a backup stream, both admin-only); the client's connection still bounds it.
// Exports set their own write deadlines instead (exportWriter).
func noDeadlines(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Time{})
	rc.SetWriteDeadline(time.Time{})
}

// writeAdminError writes {"error":{"code","field","message"}} with status.
func writeAdminError(w http.ResponseWriter, status int, e *graph.Error) {
	body, _ := json.Marshal(map[string]any{"error": map[string]any{"code": e.Code, "field": e.Field, "message": e.Message}})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(body)
}

// publicError maps err to a status and an error a client may see; internal errors are
// logged.
func publicError(ctx context.Context, log *zap.Logger, err error) (int, *graph.Error) {
	var ge *graph.Error
	switch {
	case errors.As(err, &ge):
		status := http.StatusBadRequest
		switch ge.Code {
		case graph.ENOTFOUND:
			status = http.StatusNotFound
		case graph.ELIMIT:
			status = http.StatusRequestEntityTooLarge
		case graph.EFORBIDDEN:
			status = http.StatusForbidden
		case graph.EUNAUTHENTICATED:
			status = http.StatusUnauthorized
		}
		return status, ge
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, &graph.Error{Code: graph.EINTERNAL, Message: "the request was canceled"}
	}
	log.Error("admin request failed", zap.String("request_id", requestID(ctx)), zap.Error(err))
	return http.StatusInternalServerError, &graph.Error{Code: graph.EINTERNAL, Message: "internal error"}
}

// writeAdminFailure answers r with err as publicError shows it.
func writeAdminFailure(w http.ResponseWriter, r *http.Request, log *zap.Logger, err error) {
	status, e := publicError(r.Context(), log, err)
	writeAdminError(w, status, e)
}

// handleImport serves POST /admin/import?format=jsonl|csv|bods|gleif[&skipInvalid=true]:
// the files come as multipart/form-data (every file part, in order; its filename names
// it in errors) or as the raw body (named by ?name=, default "upload"). They are spooled
// to a temporary folder, then imported with ingest.Import through Store.Apply (atomic up
// to ingest.DefaultBatchSize records, batched beyond, resumable by sending the same files
// again: the checkpoint is kept per content in the temporary folder). One import runs at
// a time (409 while another runs). The answer is the summary as JSON, with the rejected
// rows (first 1,000) when skipInvalid; a bad file gets 400 with
// {"error":{"code":"INVALID_INPUT","field":"companies.csv line 12: share","message":…}}.
func handleImport(log *zap.Logger, store *graph.Store, m *metrics) http.Handler {
	var busy sync.Mutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !busy.TryLock() {
			writeAdminError(w, http.StatusConflict, &graph.Error{Code: graph.EINVALID, Message: "another import is running; try again when it has finished"})
			return
		}
		defer busy.Unlock()
		progress := ingest.NewProgressCounter() // read by /metrics while the import runs
		defer m.trackImport(progress)()
		noDeadlines(w)
		q := r.URL.Query()
		format := q.Get("format")
		if !contains(ingest.ImportFormats, format) {
			writeAdminError(w, http.StatusBadRequest, graph.Invalid("format", "%q is not an import format; use jsonl, csv, bods or gleif", format))
			return
		}
		skip, _ := strconv.ParseBool(q.Get("skipInvalid"))
		dir, err := os.MkdirTemp("", "lodestone-import-")
		if err != nil {
			writeAdminFailure(w, r, log, err)
			return
		}
		defer os.RemoveAll(dir)
		r.Body = http.MaxBytesReader(w, r.Body, MaxImportBytes)
		inputs, err := spool(r, dir)
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				writeAdminError(w, http.StatusRequestEntityTooLarge, &graph.Error{Code: graph.ELIMIT, Message: fmt.Sprintf("the upload is larger than %d bytes; import it with the command line on the server", int64(MaxImportBytes))})
				return
			}
			writeAdminError(w, http.StatusBadRequest, graph.Invalid("body", "cannot read the upload: %v", err))
			return
		}
		var rejects bytes.Buffer
		opts := ingest.Options{Format: format, SkipInvalid: skip, Rejects: &limitedWriter{w: &rejects, lines: maxRejectsShown}, Progress: progress}
		opts.Checkpoint = filepath.Join(os.TempDir(), "lodestone-import-"+contentKey(inputs)+".checkpoint")
		sum, err := ingest.Import(r.Context(), store, inputs, opts)
		if err != nil {
			writeAdminFailure(w, r, log, err)
			return
		}
		out := map[string]any{"summary": sum}
		if rejects.Len() > 0 {
			var rows []json.RawMessage
			for _, line := range bytes.Split(bytes.TrimSpace(rejects.Bytes()), []byte("\n")) {
				rows = append(rows, json.RawMessage(line))
			}
			out["rejects"] = rows
		}
		log.Info("import", zap.String("request_id", requestID(r.Context())), zap.String("format", format),
			zap.Int("entities", sum.Entities), zap.Int("relationships", sum.Relationships), zap.Int("rejected", sum.Rejected))
		body, _ := json.Marshal(out)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(body)
	})
}

// spool writes the uploaded files into dir and returns them as inputs.
func spool(r *http.Request, dir string) ([]*ingest.Input, error) {
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	save := func(i int, name string, body io.Reader) (*ingest.Input, error) {
		name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
		if name == "" || name == "." || name == "/" {
			name = "upload"
		}
		path := filepath.Join(dir, fmt.Sprintf("%03d-%s", i, name))
		f, err := os.Create(path)
		if err != nil {
			return nil, err
		}
		n, err := io.Copy(f, body)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
		return &ingest.Input{Name: name, Size: n, Open: func() (io.ReadCloser, error) { return os.Open(path) }}, nil
	}
	if mt != "multipart/form-data" {
		in, err := save(0, r.URL.Query().Get("name"), r.Body)
		if err != nil {
			return nil, err
		}
		return []*ingest.Input{in}, nil
	}
	mr, err := r.MultipartReader()
	if err != nil || params["boundary"] == "" {
		return nil, fmt.Errorf("a multipart body needs a boundary")
	}
	var inputs []*ingest.Input
	for i := 0; ; i++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if p.FileName() == "" {
			continue
		}
		in, err := save(i, p.FileName(), p)
		if err != nil {
			return nil, err
		}
		inputs = append(inputs, in)
	}
	if len(inputs) == 0 {
		return nil, fmt.Errorf("the multipart body has no file parts")
	}
	return inputs, nil
}

// contentKey names a set of uploads by their names and sizes (the checkpoint itself checks
// their SHA-256).
func contentKey(inputs []*ingest.Input) string {
	var b strings.Builder
	for _, in := range inputs {
		fmt.Fprintf(&b, "%s-%d-", in.Name, in.Size)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:8])
}

type limitedWriter struct {
	w     io.Writer
	lines int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.lines <= 0 {
		return len(p), nil
	}
	l.lines--
	return l.w.Write(p)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Deadlines of GET /export (variables so that tests can shorten them).
var (
	// exportIdleTimeout ends an export whose client has not taken the next chunk (up to
	// 1 MiB) for this long: a client that stops reading releases its slot and the read
	// transaction.
	exportIdleTimeout = 20 * time.Second
	// exportTimeout caps the whole of an export within the caps (one that is not an
	// admin's); an admin's export has the idle timeout only.
	exportTimeout = 2 * time.Minute
)

// handleExport serves GET /export?format=jsonl|graphml|gexf|cytoscape|csv for
// visualizers and analysts: the whole graph (admin role), or with seeds=a,b (reader
// role) the subgraph within depth (default 1) hops following types=T,U in
// direction=OUT|IN|BOTH, with asOf=YYYY-MM-DD keeping only the relationships valid that
// day. The file streams from one snapshot (csv is a zip of sources.csv, entities.csv and
// relationships.csv) and is never built in memory.
//
// Limits: a subgraph export that is not an admin's has the caps of a traversal (depth at
// most --max-depth, at most --max-subgraph entities, at most --max-visits relationships
// examined and --traversal-timeout to find them; graph.ExportOptions.Bounded) and
// exportTimeout in all; an admin's may go beyond them. Every export takes one of the
// --max-expensive slots for as long as it runs (503 LIMIT_EXCEEDED with Retry-After when
// none comes free), and ends when its client takes no data for exportIdleTimeout or hangs
// up. The answer ends its connection (Connection: close).
//
// Errors, all before anything is sent: 400 for a bad parameter, 400 LIMIT_EXCEEDED for
// a selection beyond the caps (never a truncated file), 401/403 for a missing role, 404
// for an unknown seed, 503 when no slot is free, as {"error":{"code","field","message"}}.
// An export that fails once its body has started (the client stopped reading, the
// deadline passed) is cut off: the connection is aborted, so the client sees an
// incomplete transfer rather than a file that looks whole.
func handleExport(log *zap.Logger, store *graph.Store, limits *guard) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		format := q.Get("format")
		if format == "" {
			format = ingest.FormatJSONL
		}
		if !contains(ingest.ExportFormats, format) {
			writeAdminError(w, http.StatusBadRequest, graph.Invalid("format", "%q is not an export format; use jsonl, graphml, gexf, cytoscape or csv", format))
			return
		}
		sel, gerr := ingest.ExportSelection(q.Get("seeds"), q.Get("depth"), q.Get("types"), q.Get("direction"), q.Get("asOf"))
		if gerr != nil {
			writeAdminError(w, http.StatusBadRequest, gerr)
			return
		}
		if err := exportAllowed(r.Context(), store, sel); err != nil {
			writeExportFailure(w, r, log, err)
			return
		}
		admin := principalFrom(r.Context()).role.Allows(graph.RoleAdmin)
		sel.Bounded = !admin
		release, refused := limits.slot(r.Context(), "an export")
		if refused != nil {
			if refused.retryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(refused.retryAfter))
			}
			writeAdminError(w, refused.status, &graph.Error{Code: refused.code, Message: refused.message})
			return
		}
		defer release()
		ctx := r.Context()
		if !admin {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, exportTimeout)
			defer cancel()
		}
		// The server's read deadline would cancel the request (and the export) when it
		// passes; a hang-up still does. Writes get their own deadlines (exportWriter).
		rc := http.NewResponseController(w)
		rc.SetReadDeadline(time.Time{})
		ew := &exportWriter{w: w, rc: rc, ctx: ctx, format: format, closeConn: r.ProtoMajor == 1}
		defer ew.stop()
		sum, err := ingest.Export(ctx, store, ew, format, sel)
		if err == nil {
			log.Info("export", zap.String("request_id", requestID(r.Context())), zap.String("format", format), zap.Int("seeds", len(sel.Seeds)),
				zap.Int("entities", sum.Entities), zap.Int("relationships", sum.Relationships), zap.Int64("bytes", sum.Bytes))
			return
		}
		if !ew.started {
			if errors.Is(err, context.DeadlineExceeded) && r.Context().Err() == nil {
				err = &graph.Error{Code: graph.ELIMIT, Message: fmt.Sprintf("the export ran out of time (%s) before its first byte; ask for less: lower depth, fewer types, one direction", exportTimeout)}
			}
			writeExportFailure(w, r, log, err)
			return
		}
		log.Warn("export stopped", zap.String("request_id", requestID(r.Context())), zap.String("format", format), zap.Error(err))
		panic(http.ErrAbortHandler) // the headers are gone: abort, so the client sees an incomplete body
	})
}

// writeExportFailure answers an export refused before its body: as publicError shows
// err, except that a cap (LIMIT_EXCEEDED) is a 400, a parameter over a cap and not a
// body too large, and says that an admin key may go further.
func writeExportFailure(w http.ResponseWriter, r *http.Request, log *zap.Logger, err error) {
	status, e := publicError(r.Context(), log, err)
	if e.Code == graph.ELIMIT {
		status = http.StatusBadRequest
		if !strings.Contains(e.Message, "admin key") {
			e = &graph.Error{Code: e.Code, Field: e.Field, Message: e.Message + " (an admin key may go further)"}
		}
	}
	writeAuthError(w, r, status, e)
}

// exportWriter is the ResponseWriter of an export as ingest.Export writes to it. The
// headers are set at the first write, so that an error before it is still a proper
// answer. Every write has a deadline: exportIdleTimeout from now, or the context's
// deadline when that is sooner; a client that does not take the chunk by then makes the
// write, and so the export, fail. When the context ends (the client hung up, or the
// export's deadline passed) a write in progress fails at once.
type exportWriter struct {
	w         http.ResponseWriter
	rc        *http.ResponseController
	ctx       context.Context
	format    string
	closeConn bool // HTTP/1: end the connection with the export (HTTP/2 streams have their own deadlines)
	started   bool
	unblock   func() bool // unregisters the context.AfterFunc that ends a blocked write
}

func (e *exportWriter) Write(p []byte) (int, error) {
	if !e.started {
		e.started = true
		h := e.w.Header()
		h.Set("Content-Type", ingest.ContentType(e.format))
		h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=\"lodestone.%s\"", ingest.FileExtension(e.format)))
		if e.closeConn {
			// The connection ends with the export, so that the write deadlines set
			// below never outlive it on a kept-alive connection.
			h.Set("Connection", "close")
		}
		e.unblock = context.AfterFunc(e.ctx, func() { e.rc.SetWriteDeadline(time.Unix(1, 0)) })
	}
	deadline := time.Now().Add(exportIdleTimeout)
	if d, ok := e.ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := e.rc.SetWriteDeadline(deadline); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return 0, err
	}
	// Checked after the deadline is set: once the context has ended, the AfterFunc's
	// past deadline can no longer be overwritten by a write that goes ahead.
	if err := e.ctx.Err(); err != nil {
		return 0, err
	}
	return e.w.Write(p)
}

// stop ends the watch on the context; call it before the handler returns, since the
// request's context ends afterwards.
func (e *exportWriter) stop() {
	if e.unblock != nil {
		e.unblock()
	}
}

// exportAllowed checks the role an export needs: admin for the whole graph; reader for
// a subgraph, whose depth must stay within the store's traversal depth cap
// (LIMIT_EXCEEDED) unless the caller is an admin. The other caps are the store's
// (graph.ExportOptions.Bounded), checked as the selection is found.
func exportAllowed(ctx context.Context, store *graph.Store, sel graph.ExportOptions) error {
	if len(sel.Seeds) == 0 {
		return requireRole(ctx, graph.RoleAdmin, "an export of the whole graph (no seeds)")
	}
	if err := requireRole(ctx, graph.RoleReader, "an export"); err != nil {
		return err
	}
	if max := store.Limits().MaxDepth; sel.Depth > max && !principalFrom(ctx).role.Allows(graph.RoleAdmin) {
		return &graph.Error{Code: graph.ELIMIT, Field: "depth", Message: fmt.Sprintf("%d is above this server's cap of %d for subgraph exports (an admin key may go further)", sel.Depth, max)}
	}
	return nil
}

// BackupVersionHeader is the trailer (and, for the starting point, header) of GET
// /admin/backup that carries the version to pass as since to the next incremental
// backup.
const BackupVersionHeader = "Lodestone-Backup-Version"

// handleBackup serves GET /admin/backup[?since=N]: an online backup of the store
// (graph.Store.Backup), full without since, incremental with the value a previous backup
// returned. The body streams; the next since value arrives in the HTTP trailer
// Lodestone-Backup-Version.
func handleBackup(log *zap.Logger, store *graph.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var since uint64
		if s := r.URL.Query().Get("since"); s != "" {
			v, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				writeAdminError(w, http.StatusBadRequest, graph.Invalid("since", "%q is not a backup version (a whole number)", s))
				return
			}
			since = v
		}
		if err := store.CheckBackupSince(since); err != nil {
			writeAdminFailure(w, r, log, err)
			return
		}
		noDeadlines(w)
		w.Header().Set("Trailer", BackupVersionHeader)
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", "attachment; filename=\"lodestone.backup\"")
		next, err := store.Backup(r.Context(), w, since)
		if err != nil {
			log.Warn("backup stopped", zap.String("request_id", requestID(r.Context())), zap.Error(err))
			return
		}
		w.Header().Set(BackupVersionHeader, strconv.FormatUint(next, 10))
		log.Info("backup", zap.String("request_id", requestID(r.Context())), zap.Uint64("since", since), zap.Uint64("next", next))
	})
}
