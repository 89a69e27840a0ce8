package graph

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// A backup is a header line followed by Badger's backup stream (DB.Backup: length-prefixed
// protobuf lists of every key version at or above the header's Since, deletion markers
// included):
//
//	LODESTONE-BACKUP 1 {"since":0,"storeFormat":1,"storeVersion":42,"created":"2025-11-26T20:00:00Z"}\n
//	<badger backup stream>
//
// Since is 0 for a full backup; an incremental backup holds the key versions written
// after Since, the number a previous Backup returned.
const backupMagic = "LODESTONE-BACKUP 1 "

// BackupHeader describes a backup file.
type BackupHeader struct {
	// Since is 0 for a full backup, else the Badger version an incremental backup starts
	// after (the value the previous Backup returned).
	Since uint64 `json:"since"`
	// StoreFormat is the key layout version of the store that was backed up.
	StoreFormat uint16 `json:"storeFormat"`
	// StoreVersion is the store version (write batches applied) when the backup began.
	StoreVersion uint64 `json:"storeVersion"`
	// Created is when the backup began.
	Created time.Time `json:"created"`
}

// Backup writes a backup of the store to w while it keeps serving reads and writes: a
// full one when since is 0, else an incremental one holding what was written since the
// backup that returned since. It returns the value to pass as since to the next
// incremental backup. The backup is of one consistent snapshot taken when it starts.
//
// Deletions: compaction may drop Badger's deletion marker of a key (with every older
// version) before an incremental backup is taken, and the backup then lacks it; the
// deletion journal (journal.go) is in the backup instead, and Restore applies it. An
// incremental backup since a version older than what the journal still covers is refused
// with EINVALID (take a full backup): it would miss deletions.
func (s *Store) Backup(ctx context.Context, w io.Writer, since uint64) (uint64, error) {
	if s.closed.Load() {
		return 0, ErrClosed
	}
	if err := s.CheckBackupSince(since); err != nil {
		return 0, err // before writing anything
	}
	h := BackupHeader{Since: since, StoreFormat: formatVersion, StoreVersion: s.Version(), Created: time.Now().UTC().Truncate(time.Second)}
	raw, err := json.Marshal(h)
	if err != nil {
		return 0, err
	}
	if _, err := io.WriteString(w, backupMagic+string(raw)+"\n"); err != nil {
		return 0, err
	}
	maxVersion, err := s.db.Backup(ctxWriter{ctx, w}, since)
	if err != nil {
		return 0, err
	}
	// Pruning may have run while the backup streamed; if it took entries the backup
	// needed, the check fails now and the backup must not be used.
	if err := s.CheckBackupSince(since); err != nil {
		return 0, err
	}
	// Badger's stream reads the versions strictly above since (its iterator's SinceTs), so
	// the next incremental backup starts from the highest version this one holds.
	return max(maxVersion, since), nil
}

type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// ReadBackupHeader reads the header line of a backup from r and returns the header and a
// reader positioned at the Badger stream. Errors: EINVALID when r is not a Lodestone
// backup or was written with another key layout.
func ReadBackupHeader(r io.Reader) (*BackupHeader, io.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	line, err := br.ReadString('\n')
	if err != nil && err != io.EOF {
		return nil, nil, err
	}
	if !strings.HasPrefix(line, backupMagic) {
		return nil, nil, Errorf(EINVALID, "not a Lodestone backup (it does not start with %q)", strings.TrimSpace(backupMagic))
	}
	h := &BackupHeader{}
	if err := json.Unmarshal([]byte(strings.TrimPrefix(line, backupMagic)), h); err != nil {
		return nil, nil, Errorf(EINVALID, "the backup header is damaged: %v", err)
	}
	if h.StoreFormat != formatVersion {
		return nil, nil, Errorf(EINVALID, "the backup is of store format %d; this binary reads format %d", h.StoreFormat, formatVersion)
	}
	return h, br, nil
}

// Restore loads a backup written by Backup. A full backup needs an empty store; an
// incremental one needs the store restored from the backups before it, in order (the
// store must already hold data written up to the backup's since). After loading, it
// rebuilds the in-memory registry from what was restored and checks the store's
// invariants (Check), so that the store answers every query as the original did or the
// error says what is wrong.
//
// Nobody else may write to the store while Restore runs (it holds the write lock); run it
// on a store no server is using. Errors: EINVALID for a file that is not a backup, a full
// backup into a store with data, or an incremental backup that does not follow the
// store's data; EINTERNAL (a plain error) when the restored store fails its check.
func (s *Store) Restore(ctx context.Context, r io.Reader) (*BackupHeader, error) {
	h, body, err := ReadBackupHeader(r)
	if err != nil {
		return nil, err
	}
	defer s.lockWrites()()
	if s.closed.Load() {
		return nil, ErrClosed
	}
	reg := s.state.Load()
	empty := reg.version == 0 && reg.nextNID == 0 && reg.nextRID == 0
	switch {
	case h.Since == 0 && !empty:
		return nil, Errorf(EINVALID, "a full backup restores into an empty store; this one is at version %d (restore into a new --data folder)", reg.version)
	case h.Since > 0 && empty:
		return nil, Errorf(EINVALID, "this is an incremental backup (since %d); restore the full backup it follows first", h.Since)
	case h.Since > 0 && s.db.MaxVersion() < h.Since:
		return nil, Errorf(EINVALID, "this incremental backup starts at %d but the store only holds data up to %d; restore the backups in between first", h.Since, s.db.MaxVersion())
	}
	if err := s.db.Load(ctxReader{ctx, body}, 16); err != nil {
		return nil, fmt.Errorf("graph: restore: %w", err)
	}
	if h.Since > 0 {
		if err := s.restoreDeletions(h.Since); err != nil {
			return nil, fmt.Errorf("graph: restore: %w", err)
		}
	}
	if err := s.db.Sync(); err != nil && !errors.Is(err, badger.ErrInvalidRequest) {
		return nil, err
	}
	reg, err = s.loadRegistry(false)
	if err != nil {
		return nil, err
	}
	s.recent.reset()
	if err := s.loadChangesFloor(); err != nil {
		return nil, err
	}
	s.state.Store(reg)
	s.commits.broadcast()
	rep, err := s.Check(ctx)
	if err != nil {
		return nil, err
	}
	if len(rep.Problems) > 0 {
		return h, fmt.Errorf("graph: the restored store is inconsistent (%d problems, first: %s); restore from a full backup", len(rep.Problems), rep.Problems[0])
	}
	return h, nil
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
