package server

import (
	"strconv"
	"testing"

	"github.com/lodestone-kg/lodestone/graph"
)

// TestChangesQuery: the changes query pages the change log with its filters, each commit
// names the key that made it, and every answer's Lodestone-Seq is the last commit it
// could see (a mutation's own included).
func TestChangesQuery(t *testing.T) {
	ts := newTestServer(t, Config{})
	seq := func(h string) uint64 {
		n, err := strconv.ParseUint(h, 10, 64)
		if err != nil {
			t.Fatalf("%s %q: %v", SeqHeader, h, err)
		}
		return n
	}
	_, h, _ := ts.send(t, "POST", "/graphql", map[string]string{"Content-Type": "application/json"}, gqlBody(`{ stats { entities } }`, nil))
	before := seq(h.Get(SeqHeader))
	if before != ts.store.Seq() || before == 0 {
		t.Fatalf("%s = %d, store at %d", SeqHeader, before, ts.store.Seq())
	}
	_, h, body := ts.send(t, "POST", "/graphql", map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + ts.token},
		gqlBody(`mutation { upsertEntity(input: {id: "new-co", kind: "Company", name: "New Co"}) { id } }`, nil))
	if got := seq(h.Get(SeqHeader)); got != before+1 {
		t.Fatalf("after a mutation %s = %d, want %d (%s)", SeqHeader, got, before+1, body)
	}

	var out struct {
		Changes struct {
			Edges []struct {
				Cursor string
				Node   struct {
					Seq, At string
					Actor   *string
					Bulk    bool
					Changes []struct {
						Op, Kind, ID string
						Entity       *struct{ Name string }
					}
				}
			}
			PageInfo struct{ HasNextPage bool }
		}
	}
	ts.mustQuery(t, `query($after: String) { changes(after: $after, ids: ["new-co"], kinds: [ENTITY]) {
		edges { cursor node { seq at actor bulk changes { op kind id entity { name } } } } pageInfo { hasNextPage } } }`,
		map[string]any{"after": strconv.FormatUint(before, 10)}, &out)
	if len(out.Changes.Edges) != 1 {
		t.Fatalf("changes after %d: %+v", before, out.Changes)
	}
	c := out.Changes.Edges[0]
	key, err := ts.store.APIKeys(t.Context())
	if err != nil || len(key) == 0 {
		t.Fatal(err)
	}
	if c.Cursor != c.Node.Seq || c.Node.Seq != strconv.FormatUint(before+1, 10) || c.Node.Actor == nil || *c.Node.Actor != key[0].ID || c.Node.At == "" ||
		len(c.Node.Changes) != 1 || c.Node.Changes[0].Op != "UPSERT" || c.Node.Changes[0].Entity == nil || c.Node.Changes[0].Entity.Name != "New Co" {
		t.Errorf("commit %+v; want seq %d by key %s upserting New Co", c, before+1, key[0].ID)
	}

	// The whole log from the start: every sequence once, in order.
	var all struct {
		Changes struct {
			Edges []struct{ Node struct{ Seq string } }
		}
	}
	ts.mustQuery(t, `{ changes(first: 1000) { edges { node { seq } } } }`, nil, &all)
	for i, e := range all.Changes.Edges {
		if e.Node.Seq != strconv.Itoa(i+1) {
			t.Fatalf("commit %d has seq %s: the log has a gap or is out of order", i, e.Node.Seq)
		}
	}
	if uint64(len(all.Changes.Edges)) != before+1 {
		t.Errorf("the log holds %d commits, the store is at %d", len(all.Changes.Edges), before+1)
	}

	for _, bad := range []string{"-1", "x", "1.5"} {
		_, resp := ts.post(t, `query($a: String) { changes(after: $a) { edges { cursor } } }`, map[string]any{"a": bad}, nil)
		if firstCode(resp) != graph.EINVALID || resp.Errors[0].Extensions["field"] != "after" {
			t.Errorf("after %q: %+v; want INVALID_INPUT on after", bad, resp.Errors)
		}
	}
}
