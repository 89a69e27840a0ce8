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
// upload, an export or a backup stream); the client's connection still bounds it.
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

// handleExport serves GET /export?format=jsonl|graphml|gexf|cytoscape|csv for
// visualizers and analysts: the whole graph (admin role), or with seeds=a,b (reader
// role; depth at most the server's traversal depth cap unless admin) the subgraph within depth
// (default 1) hops following types=T,U in direction=OUT|IN|BOTH, with asOf=YYYY-MM-DD
// keeping only the relationships valid that day. The file streams from one snapshot
// (csv is a zip of sources.csv, entities.csv and relationships.csv). Errors: 400 for a
// bad parameter, 404 for an unknown seed (before anything is sent).
func handleExport(log *zap.Logger, store *graph.Store) http.Handler {
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
		sel, gerr := ExportSelection(q.Get("seeds"), q.Get("depth"), q.Get("types"), q.Get("direction"), q.Get("asOf"))
		if gerr != nil {
			writeAdminError(w, http.StatusBadRequest, gerr)
			return
		}
		if err := exportAllowed(r.Context(), store, sel); err != nil {
			status, e := publicError(r.Context(), log, err)
			if e.Code == graph.ELIMIT {
				status = http.StatusBadRequest // a parameter over a cap, not a body too large
			}
			writeAuthError(w, r, status, e)
			return
		}
		for _, id := range sel.Seeds {
			if _, err := store.Entity(r.Context(), id); err != nil {
				writeAdminFailure(w, r, log, err)
				return
			}
		}
		noDeadlines(w)
		w.Header().Set("Content-Type", ingest.ContentType(format))
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=\"lodestone.%s\"", ingest.FileExtension(format)))
		if _, err := ingest.Export(r.Context(), store, w, format, sel); err != nil {
			// Headers are gone; the client sees a truncated body.
			log.Warn("export stopped", zap.String("request_id", requestID(r.Context())), zap.Error(err))
		}
	})
}

// exportAllowed checks the role an export needs: admin for the whole graph; reader for
// a subgraph, whose depth must stay within the store's traversal depth cap
// (LIMIT_EXCEEDED) unless the caller is an admin.
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

// ExportSelection parses the subgraph parameters shared by GET /export and `lodestone
// export`: comma-separated seeds and types, depth (default 1 with seeds), direction
// (OUT, IN or BOTH) and asOf (YYYY-MM-DD). Errors are EINVALID naming the parameter.
func ExportSelection(seeds, depth, types, direction, asOf string) (graph.ExportOptions, *graph.Error) {
	var sel graph.ExportOptions
	sel.Seeds = splitList(seeds)
	sel.Types = splitList(types)
	sel.Depth = 1
	if depth != "" {
		d, err := strconv.Atoi(depth)
		if err != nil || d < 0 || d > 100 {
			return sel, graph.Invalid("depth", "%q is not a depth between 0 and 100", depth)
		}
		sel.Depth = d
	}
	switch strings.ToUpper(direction) {
	case "", "BOTH":
	case "OUT":
		sel.Direction = graph.Out
	case "IN":
		sel.Direction = graph.In
	default:
		return sel, graph.Invalid("direction", "%q is not OUT, IN or BOTH", direction)
	}
	if asOf != "" {
		d, err := graph.ParseDate(asOf)
		if err != nil {
			return sel, graph.Invalid("asOf", "%v", err)
		}
		sel.AsOf = d
	}
	return sel, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
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
