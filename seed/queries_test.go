package seed_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/graph-gophers/graphql-go"
	"github.com/lodestone-kg/lodestone/graph"
	"github.com/lodestone-kg/lodestone/seed"
	"github.com/lodestone-kg/lodestone/server"
)

// liveSchema parses ../schema.graphql against the resolvers over s.
func liveSchema(t *testing.T, s *graph.Store) (*graphql.Schema, string) {
	t.Helper()
	sdl, err := os.ReadFile("../schema.graphql")
	if err != nil {
		t.Fatal(err)
	}
	schema, err := server.ParseSchema(string(sdl), s, nil)
	if err != nil {
		t.Fatal(err)
	}
	return schema, string(sdl)
}

// seededWithQueries is a store with the seed graph and the seeded saved queries.
func seededWithQueries(t *testing.T) (*graph.Store, *graphql.Schema, string) {
	t.Helper()
	s, err := graph.Open(graph.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := seed.Load(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	schema, sdl := liveSchema(t, s)
	names, err := seed.LoadQueries(context.Background(), s, func(q *graph.SavedQuery) (*graph.SavedQuery, error) {
		return server.PrepareSavedQuery(schema, q)
	})
	if err != nil {
		t.Fatalf("LoadQueries: %v", err)
	}
	if got, want := len(names), len(seed.Queries()); got != want {
		t.Fatalf("LoadQueries saved %d queries (%v), want %d", got, names, want)
	}
	return s, schema, sdl
}

// TestSeededQueriesValidate checks every seeded query against the live schema.
func TestSeededQueriesValidate(t *testing.T) {
	s, err := graph.Open(graph.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	schema, _ := liveSchema(t, s)
	for _, q := range seed.Queries() {
		t.Run(q.Name, func(t *testing.T) {
			p, err := server.PrepareSavedQuery(schema, q)
			if err != nil {
				t.Fatalf("seeded query %s does not validate against schema.graphql: %v", q.Name, err)
			}
			for _, param := range p.Params {
				if param.Required {
					t.Errorf("parameter %s of %s is required; seeded queries run as they are, so give it a default", param.Name, q.Name)
				}
			}
			if q.Description == "" || len(q.Tags) == 0 {
				t.Errorf("%s needs a description and tags", q.Name)
			}
		})
	}
}

// TestSeededQueriesAnswer runs every seeded query with its defaults over REST and checks
// the answer on the seed graph.
func TestSeededQueriesAnswer(t *testing.T) {
	s, _, sdl := seededWithQueries(t)
	h, err := server.NewServer(nil, server.Config{}, s, sdl)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	defer ts.Close()
	run := func(path string) (data map[string]json.RawMessage) {
		t.Helper()
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var out struct {
			Data   map[string]json.RawMessage
			Errors []any
		}
		if err := json.Unmarshal(raw, &out); err != nil || resp.StatusCode != 200 || len(out.Errors) > 0 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, raw)
		}
		return out.Data
	}
	type stake struct {
		Entity     struct{ ID string }
		Direct     float64
		Integrated float64
		Depth      int
	}
	find := func(stakes []stake, id string) *stake {
		for i := range stakes {
			if stakes[i].Entity.ID == id {
				return &stakes[i]
			}
		}
		return nil
	}
	near := func(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

	t.Run("company-owners", func(t *testing.T) {
		data := run("/queries/company-owners?asOf=2025-10-01")
		var owners []stake
		json.Unmarshal(data["owners"], &owners)
		nre, steel := find(owners, "china-northern-rare-earth"), find(owners, "baotou-steel")
		if nre == nil || !near(nre.Direct, 0.4) || steel == nil || !near(steel.Integrated, 0.14684) || steel.Depth != 2 {
			t.Errorf("owners of the JV = %+v; want NRE 0.40 direct and Baotou Steel 0.14684 integrated at depth 2", owners)
		}
		if string(data["ultimateController"]) != "null" {
			t.Errorf("ultimateController of the 40/35/12.5/12.5 JV = %s, want null", data["ultimateController"])
		}
		data = run("/queries/company-owners?company=baotou-huamei")
		var ctl struct{ Controller struct{ ID string } }
		json.Unmarshal(data["ultimateController"], &ctl)
		if ctl.Controller.ID != "china-northern-rare-earth" {
			t.Errorf("controller of Baotou Huamei = %s, want china-northern-rare-earth", data["ultimateController"])
		}
	})
	t.Run("group-holdings", func(t *testing.T) {
		var hold []stake
		json.Unmarshal(run("/queries/group-holdings?asOf=2025-10-01")["holdings"], &hold)
		if nre, jv := find(hold, "china-northern-rare-earth"), find(hold, "northern-zhaobao-magnets"); nre == nil || !near(nre.Direct, 0.3671) ||
			jv == nil || !near(jv.Integrated, 0.14684) || jv.Depth != 2 {
			t.Errorf("holdings of Baotou Steel = %+v; want NRE 0.3671 and the JV 0.14684 through it", hold)
		}
	})
	t.Run("country-exposure", func(t *testing.T) {
		var exp struct {
			Share    float64
			Entities []struct{ ID, Country string }
		}
		json.Unmarshal(run("/queries/country-exposure")["exposure"], &exp)
		if exp.Share <= 0 || exp.Share > 1 || len(exp.Entities) == 0 {
			t.Errorf("General Motors' exposure to the US = %+v; want a share in (0, 1] carried by US entities", exp)
		}
		for _, e := range exp.Entities {
			if e.Country != "US" {
				t.Errorf("exposure entity %s is in %s, not the US", e.ID, e.Country)
			}
		}
	})
	t.Run("supply-paths-avoiding", func(t *testing.T) {
		var paths []struct {
			Entities []struct{ ID, Country string }
		}
		json.Unmarshal(run("/queries/supply-paths-avoiding")["supplyPaths"], &paths)
		if len(paths) == 0 {
			t.Fatal("no supply path from Mountain Pass to General Motors avoiding China")
		}
		for _, p := range paths {
			ids := []string{}
			for _, e := range p.Entities {
				ids = append(ids, e.ID)
				if e.Country == "CN" {
					t.Errorf("path %v goes through China", ids)
				}
			}
			if ids[0] != "mountain-pass-mine" || ids[len(ids)-1] != "general-motors" {
				t.Errorf("path %v does not run from the mine to GM", ids)
			}
		}
	})
	t.Run("entities-by-kind-and-country", func(t *testing.T) {
		var got struct {
			TotalCount int
			Edges      []struct {
				Node struct{ Kind, Country string }
			}
		}
		json.Unmarshal(run("/queries/entities-by-kind-and-country")["entities"], &got)
		if got.TotalCount != 8 || len(got.Edges) != 8 {
			t.Errorf("Chinese facilities: totalCount %d, %d edges; want 8", got.TotalCount, len(got.Edges))
		}
		for _, e := range got.Edges {
			if e.Node.Kind != "Facility" || e.Node.Country != "CN" {
				t.Errorf("listed %+v", e.Node)
			}
		}
	})
}

// TestLoadQueriesKeepsAnalystsChanges checks that loading again saves nothing, that a
// deleted seeded query stays deleted, and that one bad query does not stop the others.
func TestLoadQueriesKeepsAnalystsChanges(t *testing.T) {
	s, schema, _ := seededWithQueries(t)
	ctx := context.Background()
	prepare := func(q *graph.SavedQuery) (*graph.SavedQuery, error) { return server.PrepareSavedQuery(schema, q) }
	if names, err := seed.LoadQueries(ctx, s, prepare); err != nil || len(names) != 0 {
		t.Errorf("second LoadQueries = %v, %v; want nothing saved", names, err)
	}
	if err := s.DeleteSavedQuery(ctx, "company-owners", false); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSavedQuery(ctx, "group-holdings", true); err != nil {
		t.Fatal(err)
	}
	names, err := seed.LoadQueries(ctx, s, func(q *graph.SavedQuery) (*graph.SavedQuery, error) {
		return nil, errors.New("schema drift")
	})
	if len(names) != 0 || err == nil || !strings.Contains(err.Error(), "seeded query group-holdings: schema drift") || strings.Contains(err.Error(), "company-owners") {
		t.Errorf("LoadQueries after delete and purge with a failing prepare = %v, %v; want only group-holdings tried (purged), and reported", names, err)
	}
	names, err = seed.LoadQueries(ctx, s, prepare)
	if err != nil || strings.Join(names, ",") != "group-holdings" {
		t.Errorf("LoadQueries after a purge = %v, %v; want group-holdings saved again, company-owners left deleted", names, err)
	}
	if _, err := s.SavedQuery(ctx, "company-owners", 0); graph.ErrorCode(err) != graph.ENOTFOUND {
		t.Errorf("the deleted seeded query came back: %v", err)
	}
}
