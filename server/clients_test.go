package server

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRealClients drives the subscription transports with the reference npm clients,
// graphql-ws (WebSocket) and graphql-sse (Server-Sent Events): each subscribes, receives
// the commit of a write, disconnects, and resumes with after to receive exactly the three
// commits made while it was away. The clients are in
// testdata/jsclients/clients.mjs under Node. It needs node and `npm ci` in that folder
// (.ci/run does both); without them it skips, unless LODESTONE_JS_CLIENTS=require.
func TestRealClients(t *testing.T) {
	dir := filepath.Join("testdata", "jsclients")
	_, err := exec.LookPath("node")
	if _, statErr := os.Stat(filepath.Join(dir, "node_modules", "graphql-ws")); err != nil || statErr != nil {
		if os.Getenv("LODESTONE_JS_CLIENTS") == "require" {
			t.Fatalf("node or the npm clients are missing (run npm ci in %s): %v %v", dir, err, statErr)
		}
		t.Skipf("node or the npm clients are missing (run npm ci in %s)", dir)
	}
	ts := newTestServer(t, Config{Auth: AuthRequired})
	cmd := exec.Command("node", "clients.mjs", ts.URL, ts.token)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node clients.mjs: %v\n%s", err, out)
	}
	seq := ts.store.Seq() // the three missed writes were the last
	missed := fmt.Sprintf("%d:node-missed-1 %d:node-missed-2 %d:node-missed-3", seq-2, seq-1, seq)
	want := fmt.Sprintf("ws %d UPSERT node-ws\nsse %d UPSERT node-sse\nws resumed %s\nsse resumed %s\n", seq-4, seq-3, missed, missed)
	if got := string(out); !strings.Contains(got, want) {
		t.Errorf("the clients received:\n%s\nwant\n%s", got, want)
	}
}
