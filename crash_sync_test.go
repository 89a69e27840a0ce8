package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Durability beyond a process crash. A SIGKILL (crash_test.go) leaves the kernel's page
// cache alone, so a store that never syncs survives it as well as one that does; only the
// machine dying tells them apart. TestCrashSyncs therefore watches the system calls of
// the real binary under strace: the server must have synced Badger's write-ahead log (the
// memtable's .mem file: Badger maps it and syncs it with msync) after it read a write
// request and before it wrote the first byte of the acknowledgement, for every kind of
// write; and `lodestone import` must have synced every table it wrote, the MANIFEST, the
// store folder and the log of its final commit before it reports success.
//
// strace stops a thread at every traced call and writes the call's line before the
// thread goes on, so the order of the lines follows cause and effect: a sync that the
// answer waited for ends on a line before the answer's write.
//
// The test runs when strace works here; with LODESTONE_STRACE_TESTS=require (CI, which
// installs strace) it fails instead of skipping. LODESTONE_CRASH_NOSYNC=1 builds the server
// with SyncWrites off (syncOffOverlay), to see the test fail as it would if the store
// stopped syncing; the "sync off is caught" subtest does the same on every run and
// expects the failure.

// needStrace skips the test, or fails it under LODESTONE_STRACE_TESTS=require, unless
// strace can trace a child here.
func needStrace(t *testing.T) {
	t.Helper()
	out, err := exec.Command("strace", "-f", "-qq", "--seccomp-bpf", "-e", "trace=msync", "-o", os.DevNull, "--", "true").CombinedOutput()
	if err == nil {
		return
	}
	msg := fmt.Sprintf("strace cannot trace a child here (%v: %s)", err, strings.TrimSpace(string(out)))
	if os.Getenv("LODESTONE_STRACE_TESTS") == "require" {
		t.Fatal(msg + "; LODESTONE_STRACE_TESTS=require")
	}
	t.Skip(msg + "; install strace (CI does) to run this test")
}

// straceWrap is what goes in front of a command to trace, into the file trace, the calls
// this test reads: file creation, reads and writes (requests, answers, stdout), mappings
// and syncs, with file names (-y) and 96 bytes of each buffer.
func straceWrap(trace string) []string {
	return []string{"strace", "-f", "-qq", "--seccomp-bpf", "-e", "signal=none", "-y", "-s", "96",
		"-e", "trace=openat,read,write,mmap,munmap,mremap,msync,fsync,fdatasync,sync_file_range",
		"-o", trace, "--"}
}

// childProcess returns the pid of the first child of process ppid, waiting up to 10 s
// for it to appear (strace starts the server as its child).
func childProcess(t *testing.T, ppid int) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		stats, _ := filepath.Glob("/proc/[0-9]*/stat")
		for _, f := range stats {
			b, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			s := string(b) // "pid (comm) state ppid …"; comm may hold anything
			i := strings.LastIndexByte(s, ')')
			if i < 0 {
				continue
			}
			if fields := strings.Fields(s[i+1:]); len(fields) > 1 && fields[1] == strconv.Itoa(ppid) {
				pid, _ := strconv.Atoi(strings.Fields(s)[0])
				return pid
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d started no child in 10 s", ppid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// syncOffOverlay writes a `go build -overlay` file that replaces graph/store.go by a copy
// whose Badger options say WithSyncWrites(false), and returns its path. Nothing in the
// product turns syncing off; this build exists only to show that TestCrashSyncs fails
// without it.
func syncOffOverlay(t *testing.T, dir string) string {
	t.Helper()
	src, err := filepath.Abs(filepath.Join("graph", "store.go"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`WithSyncWrites\([^()]*\)`)
	if n := len(re.FindAllIndex(b, -1)); n != 1 {
		t.Fatalf("graph/store.go calls WithSyncWrites(…) %d times, want once: update syncOffOverlay to the way the store now sets SyncWrites", n)
	}
	patched := filepath.Join(dir, "store_nosync.go")
	if err := os.WriteFile(patched, re.ReplaceAll(b, []byte("WithSyncWrites(false)")), 0o644); err != nil {
		t.Fatal(err)
	}
	overlay := filepath.Join(dir, "nosync-overlay.json")
	j, _ := json.Marshal(map[string]any{"Replace": map[string]string{src: patched}})
	if err := os.WriteFile(overlay, j, 0o644); err != nil {
		t.Fatal(err)
	}
	return overlay
}

// traceEvent is one traced call that matters here, in the order the calls ended.
type traceEvent struct {
	op   string // "request" or "response" (on a socket), "create", "write", "sync"
	fd   string // the descriptor as strace -y shows it: 15<socket:[1234]>, 1<pipe:[5]>
	path string // the file or socket inside the <>; for a sync of a mapping, its file
	text string // the start of what was read or written, as strace escapes it
}

// traceMapping is a file mapped into memory: msync names an address, not a file.
type traceMapping struct {
	start, end uint64
	path       string
}

// fdPath is the file inside "15</path>".
func fdPath(fd string) string {
	i, j := strings.IndexByte(fd, '<'), strings.LastIndexByte(fd, '>')
	if i < 0 || j < i {
		return ""
	}
	return fd[i+1 : j]
}

// bufText is the start of the buffer argument of read and write, as strace escapes it:
// what stands between `, "` and the closing quote.
func bufText(args string) string {
	_, s, ok := strings.Cut(args, `, "`)
	if !ok {
		return ""
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return s[:i]
		}
	}
	return s
}

func parseUint(s string) uint64 {
	n, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return 0
	}
	return n
}

// traceReturn is what stands between a call's arguments and its result: strace pads
// it to align the results.
var traceReturn = regexp.MustCompile(`\)\s+= `)

// readTrace parses an strace -f -y output file into the events this test reads.
func readTrace(t *testing.T, path string) []traceEvent {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		events   []traceEvent
		mappings []traceMapping
		pending  = map[string]string{} // pid → the start of its unfinished call
	)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		pid, call, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		call = strings.TrimLeft(call, " ")
		if start, ok := strings.CutSuffix(call, " <unfinished ...>"); ok {
			pending[pid] = start
			if args, ok := strings.CutPrefix(start, "write("); ok {
				// A write counts from its start: the peer may read its bytes before
				// strace sees the call end (or before a SIGKILL ends the process).
				if e, ok := ioEvent("write", args); ok {
					events = append(events, e)
				}
			}
			continue
		}
		if strings.HasPrefix(call, "<... ") {
			_, rest, ok := strings.Cut(call, " resumed>")
			if !ok {
				continue
			}
			call = pending[pid] + rest
			delete(pending, pid)
			if strings.HasPrefix(call, "write(") {
				continue // counted at its start
			}
		}
		open, ends := strings.IndexByte(call, '('), traceReturn.FindAllStringIndex(call, -1)
		if open < 0 || len(ends) == 0 || ends[len(ends)-1][0] < open {
			continue
		}
		end := ends[len(ends)-1]
		name, args, ret := call[:open], call[open+1:end[0]], strings.Fields(call[end[1]:])
		if len(ret) == 0 || strings.HasPrefix(ret[0], "-1") || ret[0] == "?" && name != "write" {
			continue // failed, or the process died in the call (a write counts from its start)
		}
		arg := strings.Split(args, ", ")
		switch name {
		case "mmap":
			if len(arg) == 6 && fdPath(arg[4]) != "" {
				start := parseUint(ret[0])
				mappings = append(mappings, traceMapping{start, start + parseUint(arg[1]), fdPath(arg[4])})
			}
		case "munmap":
			addr := parseUint(arg[0])
			mappings = slices.DeleteFunc(mappings, func(m traceMapping) bool { return m.start == addr })
		case "mremap":
			for i, m := range mappings {
				if len(arg) >= 3 && m.start == parseUint(arg[0]) {
					start := parseUint(ret[0])
					mappings[i] = traceMapping{start, start + parseUint(arg[2]), m.path}
				}
			}
		case "msync":
			addr := parseUint(arg[0])
			for _, m := range mappings {
				if m.start <= addr && addr < m.end {
					events = append(events, traceEvent{op: "sync", path: m.path})
				}
			}
		case "fsync", "fdatasync", "sync_file_range":
			events = append(events, traceEvent{op: "sync", fd: arg[0], path: fdPath(arg[0])})
		case "openat":
			if len(arg) >= 3 && strings.Contains(arg[2], "O_CREAT") {
				events = append(events, traceEvent{op: "create", fd: ret[0], path: fdPath(ret[0])})
			}
		case "read", "write":
			if e, ok := ioEvent(name, args); ok {
				events = append(events, e)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return events
}

// ioEvent is the event of a read or write with these arguments, if it is one: a
// request read from a socket, an answer written to one, or a write to a file.
func ioEvent(name, args string) (traceEvent, bool) {
	fd, _, _ := strings.Cut(args, ", ")
	e := traceEvent{op: name, fd: fd, path: fdPath(fd), text: bufText(args)}
	switch {
	case !strings.HasPrefix(e.path, "socket:"):
		return e, name == "write"
	case name == "read" && e.text != "":
		e.op = "request"
	case name == "write" && strings.HasPrefix(e.text, "HTTP/1.1 "):
		e.op = "response"
	default:
		return e, false
	}
	return e, true
}

// tracedRequest is one HTTP request the server read and answered, and the files it
// synced in between.
type tracedRequest struct {
	line, status string   // "POST /graphql HTTP/1.1", "HTTP/1.1 200 OK"
	synced       []string // files synced after the request was read, before the answer
	head         string   // what was read of it until its first line was complete
}

// httpLine is the first line of an HTTP message as strace shows it (CR LF escaped).
func httpLine(text string) string {
	line, _, _ := strings.Cut(text, `\r\n`)
	return line
}

// tracedRequests pairs every request read from a socket with the answer written to it.
// Requests on one connection follow one another, so a request is whatever was read on
// the socket since its last answer; its first reads name it (net/http reads the first
// byte of the next request on its own).
func tracedRequests(events []traceEvent) []tracedRequest {
	var out []tracedRequest
	open := map[string]*tracedRequest{} // socket → its unanswered request
	for _, e := range events {
		switch e.op {
		case "request":
			r := open[e.path]
			if r == nil {
				r = &tracedRequest{}
				open[e.path] = r
			}
			if !strings.Contains(r.head, `\r\n`) {
				r.head += e.text
				r.line = httpLine(r.head)
			}
		case "sync":
			for _, r := range open {
				r.synced = append(r.synced, e.path)
			}
		case "response":
			if r := open[e.path]; r != nil {
				r.status = httpLine(e.text)
				out = append(out, *r)
				delete(open, e.path)
			}
		}
	}
	return out
}

// syncProbe is what probeServerSyncs saw of one acknowledged write.
type syncProbe struct {
	desc string
	req  tracedRequest
}

// unsynced reports whether no write-ahead log of the store at data was synced while
// the request was answered.
func (p syncProbe) unsynced(data string) bool {
	return !slices.ContainsFunc(p.req.synced, func(f string) bool {
		return filepath.Dir(f) == data && strings.HasSuffix(f, ".mem")
	})
}

// probeServerSyncs starts bin serve under strace on a new store in dir, sends it one
// write after another of every kind (importGraph, upsertEntity, deleteEntity, saveQuery,
// POST /admin/keys, POST /admin/import), each of which must be acknowledged, kills it
// and returns, for each write, the traced request it was and the store's folder.
func probeServerSyncs(t *testing.T, bin, dir string) ([]syncProbe, string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	key := createAdminKey(t, bin, data)
	trace := filepath.Join(dir, "serve.trace")
	srv := startCrashServer(t, bin, data, 0, straceWrap(trace)...)
	client := &http.Client{Timeout: 30 * time.Second}
	var ops []*crashOp
	for _, w := range []*crashWriter{newCrashWriter(0), newCrashWriter(crashWriters)} {
		for range 6 { // a graph writer: 3 imports, a rename, 2 deletes; the admin: 2 of each
			op := w.next()
			if err := op.send(t.Context(), client, srv.base, key); err != nil {
				t.Fatalf("%v\nserver log:\n%s", err, srv.logTail())
			}
			op.apply(&w.acked)
			ops = append(ops, op)
		}
	}
	srv.kill()
	dataDir, err := filepath.EvalSymlinks(data) // strace names files by their real path
	if err != nil {
		t.Fatal(err)
	}
	var posts []tracedRequest
	for _, r := range tracedRequests(readTrace(t, trace)) {
		if strings.HasPrefix(r.line, "POST ") {
			posts = append(posts, r)
		}
	}
	if len(posts) != len(ops) {
		t.Fatalf("the trace %s shows %d POST requests answered, the test made %d", trace, len(posts), len(ops))
	}
	probes := make([]syncProbe, len(ops))
	for i, op := range ops {
		if want := "POST " + op.path + " "; !strings.HasPrefix(posts[i].line, want) {
			t.Fatalf("write %d (%s) is %q in the trace, want %q…", i, op.desc, posts[i].line, want)
		}
		probes[i] = syncProbe{desc: op.desc, req: posts[i]}
	}
	return probes, dataDir
}

// unsyncedReport lists the probes answered without a sync of the write-ahead log.
func unsyncedReport(probes []syncProbe, data string) (n int, report string) {
	var b strings.Builder
	for _, p := range probes {
		if p.unsynced(data) {
			n++
			fmt.Fprintf(&b, "\n  %s (%s): answered %q with no sync of %s/*.mem since the request was read (synced: %v)",
				p.desc, p.req.line, p.req.status, data, p.req.synced)
		}
	}
	return n, b.String()
}

// TestCrashSyncs: the store syncs every write before the server acknowledges it, and a
// bulk import syncs what it wrote before it reports success (see the top of this file).
func TestCrashSyncs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and traces the real binary")
	}
	needStrace(t)
	tmp := t.TempDir()
	bin := buildLodestone(t, filepath.Join(tmp, "lodestone"))
	var syncOff string // the binary built with SyncWrites off
	buildSyncOff := func(t *testing.T) string {
		if syncOff == "" {
			syncOff = buildLodestone(t, filepath.Join(tmp, "lodestone-nosync"), "-overlay", syncOffOverlay(t, tmp))
		}
		return syncOff
	}

	t.Run("server", func(t *testing.T) {
		server := bin
		if os.Getenv("LODESTONE_CRASH_NOSYNC") == "1" {
			server = buildSyncOff(t)
			t.Log("LODESTONE_CRASH_NOSYNC=1: the server is built with SyncWrites off; this test should fail")
		}
		probes, data := probeServerSyncs(t, server, filepath.Join(tmp, "server"))
		if n, report := unsyncedReport(probes, data); n > 0 {
			t.Fatalf("%d of %d acknowledged writes were answered before the store synced them:%s", n, len(probes), report)
		}
		t.Logf("each of %d acknowledged writes was answered after a sync of the write-ahead log (the first after syncs of %v)", len(probes), probes[0].req.synced)
	})

	t.Run("sync off is caught", func(t *testing.T) {
		probes, data := probeServerSyncs(t, buildSyncOff(t), filepath.Join(tmp, "nosync"))
		n, report := unsyncedReport(probes, data)
		if n == 0 {
			t.Fatalf("with SyncWrites off, every one of %d writes was still answered after a sync of the write-ahead log: the check above cannot tell syncing from not", len(probes))
		}
		t.Logf("with SyncWrites off, the check finds %d of %d writes answered unsynced, as it should:%s", n, len(probes), report)
	})

	t.Run("bulk import", func(t *testing.T) {
		file := filepath.Join(tmp, "bulk.jsonl")
		writeBulkFile(t, file, 5000)
		data := filepath.Join(tmp, "bulk-data")
		if err := os.MkdirAll(data, 0o755); err != nil {
			t.Fatal(err)
		}
		trace := filepath.Join(tmp, "import.trace")
		args := append(straceWrap(trace), bin, "import", "--data", data, "--format", "jsonl", file)
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("lodestone import under strace: %v\n%s", err, out)
		}
		dataDir, err := filepath.EvalSymlinks(data)
		if err != nil {
			t.Fatal(err)
		}
		events := readTrace(t, trace)
		summary := slices.IndexFunc(events, func(e traceEvent) bool {
			return e.op == "write" && strings.HasPrefix(e.fd, "1<") && strings.HasPrefix(e.text, "imported ")
		})
		if summary < 0 {
			t.Fatalf("the trace %s shows no summary written to standard output", trace)
		}
		before := events[:summary]
		// syncedAfter reports whether path was synced after event i, before the summary.
		syncedAfter := func(i int, path string) bool {
			return slices.ContainsFunc(before[i+1:], func(e traceEvent) bool { return e.op == "sync" && e.path == path })
		}
		var problems []string
		lastTable, tables := -1, 0
		for i, e := range before {
			switch {
			case e.op == "create" && filepath.Dir(e.path) == dataDir && strings.HasSuffix(e.path, ".sst"):
				lastTable, tables = i, tables+1
				if !syncedAfter(i, e.path) {
					problems = append(problems, "table "+filepath.Base(e.path)+" was not synced")
				}
			case e.op == "write" && e.path == filepath.Join(dataDir, "MANIFEST") && !syncedAfter(i, e.path):
				problems = append(problems, "a write to the MANIFEST was not synced")
			}
		}
		if tables < 2 {
			t.Fatalf("the import created %d table files; a bulk load writes several", tables)
		}
		if !syncedAfter(lastTable, dataDir) {
			problems = append(problems, "the store folder was not synced after its last table file was created")
		}
		if !slices.ContainsFunc(before[lastTable+1:], func(e traceEvent) bool {
			return e.op == "sync" && filepath.Dir(e.path) == dataDir && strings.HasSuffix(e.path, ".mem")
		}) {
			problems = append(problems, "the write-ahead log was not synced after the tables were written (the load's final commit)")
		}
		if len(problems) > 0 {
			t.Fatalf("lodestone import reported success before it synced what it wrote:\n  %s", strings.Join(problems, "\n  "))
		}
		t.Logf("lodestone import synced its %d table files, the MANIFEST, the store folder and its final commit before reporting success", tables)
	})
}
