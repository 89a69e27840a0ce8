package web_test

// End-to-end tests of the explorer in a real browser: Debian's chromium, driven over
// the DevTools protocol (chromedp) against the real server handler over the seed graph
// and its saved queries. They assert on the DOM, never on pixels, and save screenshots
// as artifacts ($LODESTONE_ARTIFACTS, default artifacts/explorer at the repository
// root). Without chromium they skip, unless LODESTONE_BROWSER_TESTS=require.
// LODESTONE_DOCS_SCREENSHOT=1 also refreshes docs/explorer.png.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/lodestone-kg/lodestone/graph"
	"github.com/lodestone-kg/lodestone/seed"
	"github.com/lodestone-kg/lodestone/server"
)

// chromiumPath finds the browser, or skips (fails when LODESTONE_BROWSER_TESTS=require).
func chromiumPath(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("LODESTONE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("LODESTONE_BROWSER_TESTS") == "require" {
		tb.Fatal("LODESTONE_BROWSER_TESTS=require but no chromium on PATH (apt-get install chromium)")
	}
	tb.Skip("no chromium on PATH: browser tests skipped (apt-get install chromium, or set LODESTONE_CHROMIUM)")
	return ""
}

// hubSize is the number of entities the synthetic hub owns: more than the explorer's
// 300-entity neighbourhood limit, so that its neighbourhood comes back truncated.
const hubSize = 400

// startServer serves the real handler over an in-memory store holding the seed graph,
// the seeded saved queries and a synthetic hub (syn-hub) owning hubSize companies.
func startServer(tb testing.TB) string {
	tb.Helper()
	url, _ := startServerWith(tb, server.Config{})
	return url
}

// startServerWith is startServer with a server configuration; it also returns the store.
func startServerWith(tb testing.TB, cfg server.Config) (string, *graph.Store) {
	tb.Helper()
	ctx := context.Background()
	sdl, err := os.ReadFile("../schema.graphql")
	if err != nil {
		tb.Fatal(err)
	}
	store, err := graph.Open(graph.Options{InMemory: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	if _, err := seed.Load(ctx, store); err != nil {
		tb.Fatal(err)
	}
	schema, err := server.ParseSchema(string(sdl), store, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := seed.LoadQueries(ctx, store, func(q *graph.SavedQuery) (*graph.SavedQuery, error) {
		return server.PrepareSavedQuery(schema, q)
	}); err != nil {
		tb.Fatal(err)
	}
	b := &graph.Batch{Entities: []graph.Entity{{ID: "syn-hub", Kind: "Company", Name: "Synthetic Hub Holdings", Country: "US"}}}
	countries := []string{"US", "DE", "JP", "KR", "FR", "GB", "IN"}
	for i := range hubSize {
		id := fmt.Sprintf("syn-%03d", i)
		b.Entities = append(b.Entities, graph.Entity{ID: id, Kind: "Company", Name: fmt.Sprintf("Synthetic Subsidiary %d", i), Country: countries[i%len(countries)]})
		share := 0.3
		b.Relationships = append(b.Relationships, graph.Relationship{Type: "OWNS", From: "syn-hub", To: id, Share: &share})
	}
	if _, err := store.Apply(ctx, b); err != nil {
		tb.Fatal(err)
	}
	h, err := server.NewServer(nil, cfg, store, string(sdl))
	if err != nil {
		tb.Fatal(err)
	}
	ts := httptest.NewServer(h)
	tb.Cleanup(ts.Close)
	return ts.URL, store
}

// session is one browser tab on the explorer, with what it logged to the console.
type session struct {
	t         *testing.T
	ctx       context.Context
	artifacts string
	downloads string
	mu        sync.Mutex
	errors    []string
}

func newSession(t *testing.T) *session {
	t.Helper()
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })

	s := &session{t: t, ctx: ctx, artifacts: artifactsDir(t), downloads: t.TempDir()}
	messages := chromedp.Console(ctx) // starts the browser and subscribes before the page loads
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				s.mu.Lock()
				s.errors = append(s.errors, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line))
				s.mu.Unlock()
			}
		}
	}()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: s.downloads, EventsEnabled: ptr(true),
	}); err != nil {
		t.Fatalf("set download behaviour: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatalf("viewport: %v", err)
	}
	return s
}

func ptr[T any](v T) *T { return &v }

// artifactsDir is $LODESTONE_ARTIFACTS or artifacts/explorer at the repository root.
func artifactsDir(tb testing.TB) string {
	dir := os.Getenv("LODESTONE_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "artifacts", "explorer")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// do runs actions with a time limit, failing the test with what was being done.
func (s *session) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		s.screenshot("failure-" + strings.ReplaceAll(what, " ", "-"))
		s.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression and decodes its value into T.
func eval[T any](s *session, what, expr string) T {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		s.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// waitFor polls a JavaScript predicate until it is truthy.
func (s *session) waitFor(what, predicate string) {
	s.t.Helper()
	s.do(what, func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[any](predicate, chromedp.WithPollingTimeout(15*time.Second))(ctx, t)
		return chromedp.Void{}, err
	})
}

// screenshot saves the viewport as name.png among the artifacts and returns the bytes.
func (s *session) screenshot(name string) []byte {
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		s.t.Logf("screenshot %s: %v", name, err)
		return nil
	}
	if err := os.WriteFile(filepath.Join(s.artifacts, name+".png"), png, 0o644); err != nil {
		s.t.Logf("screenshot %s: %v", name, err)
	}
	return png
}

// download clicks what starts a download and returns the suggested name and the
// content of the file once the browser has it.
func (s *session) download(what, selector string) (string, []byte) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 20*time.Second)
	defer cancel()
	begins := chromedp.BrowserEvents(ctx, browser.DownloadWillBegin)
	progress := chromedp.BrowserEvents(ctx, browser.DownloadProgress)
	s.do(what, chromedp.Click(chromedp.CSS(selector)))
	var name string
	for ev, err := range begins {
		if err != nil {
			s.t.Fatalf("%s: no download began: %v", what, err)
		}
		name = ev.SuggestedFilename
		break
	}
	for ev, err := range progress {
		if err != nil {
			s.t.Fatalf("%s: download did not finish: %v", what, err)
		}
		switch ev.State {
		case "completed":
			b, err := os.ReadFile(filepath.Join(s.downloads, ev.GUID))
			if err != nil {
				s.t.Fatalf("%s: %v", what, err)
			}
			return name, b
		case "canceled":
			s.t.Fatalf("%s: download canceled", what)
		}
	}
	s.t.Fatalf("%s: download events ended", what)
	return "", nil
}

// typeText empties an input and types text into it as an input method would (any script).
func (s *session) typeText(what, selector, text string) {
	s.t.Helper()
	eval[string](s, what, fmt.Sprintf(`document.querySelector(%q).value = ""`, selector))
	s.do(what, chromedp.Click(chromedp.CSS(selector)), chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Call(ctx, input.InsertText, input.InsertTextParams{Text: text})
		return err
	}))
}

// setValue sets a form control's value and fires its change event.
func (s *session) setValue(what, selector, value string) {
	s.t.Helper()
	s.do(what, chromedp.SetValue(chromedp.CSS(selector), value))
	eval[bool](s, what, fmt.Sprintf(`document.querySelector(%q).dispatchEvent(new Event("change", {bubbles: true}))`, selector))
}

// clickNode clicks (count=1) or double-clicks (count=2) the shape of a drawn node with
// the mouse, at its centre on the screen.
func (s *session) clickNode(what, id string, count int) {
	s.t.Helper()
	xy := eval[[]float64](s, what, fmt.Sprintf(`(() => { const r = document.querySelector('#graph .node[data-id=%q] > :first-child').getBoundingClientRect();
	  return [r.x + r.width / 2, r.y + r.height / 2]; })()`, id))
	steps := []chromedp.Action[chromedp.Void]{chromedp.MouseClickXY(xy[0], xy[1])}
	if count == 2 {
		steps = append(steps, chromedp.MouseClickXY(xy[0], xy[1], chromedp.ClickCount(2)))
	}
	s.do(what, steps...)
}

func (s *session) consoleErrors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.errors)
}

// ownsInto is a JS expression: the OWNS edges drawn into the JV, with share, width and label.
const ownsInto = `[...document.querySelectorAll('#graph .edge[data-type="OWNS"][data-to="northern-zhaobao-magnets"]')].map(e => ({
  from: e.dataset.from, share: Number(e.dataset.share), width: Number(e.getAttribute("stroke-width")),
  label: document.querySelector('#graph .edge-label[data-edge="' + CSS.escape(e.dataset.id) + '"]')?.textContent || "" }))`

type drawnEdge struct {
	From  string  `json:"from"`
	Share float64 `json:"share"`
	Width float64 `json:"width"`
	Label string  `json:"label"`
}

// nodeY is a JS expression: the drawn y of a node.
func nodeY(id string) string {
	return fmt.Sprintf(`Number(document.querySelector('#graph .node[data-id=%q]').dataset.y)`, id)
}

const jv = "northern-zhaobao-magnets"

func TestExplorerInBrowser(t *testing.T) {
	chromiumPath(t) // skip before starting anything when there is no browser
	base := startServer(t)
	s := newSession(t)
	start := time.Now()

	s.do("open the explorer", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#search")))
	s.waitFor("the page script runs", `document.body.dataset.ready === "true"`)

	// Find: 北方稀土 by its Chinese name, walked to with the arrow keys, opened with Enter.
	s.typeText("type 北方稀土", "#search", "北方稀土")
	s.waitFor("search hits", `document.querySelector('#search-list [role=option][data-id="china-northern-rare-earth"]') !== null`)
	if got := eval[string](s, "combobox state", `document.getElementById("search").getAttribute("aria-expanded")`); got != "true" {
		t.Fatalf("aria-expanded = %q with hits shown, want true", got)
	}
	idx := eval[int](s, "hit index", `[...document.querySelectorAll('#search-list [role=option]')].findIndex(li => li.dataset.id === "china-northern-rare-earth")`)
	for range idx + 1 {
		s.do("arrow down", chromedp.KeyEvent(kb.ArrowDown))
	}
	s.do("arrow up", chromedp.KeyEvent(kb.ArrowUp))
	if got := eval[string](s, "active option", `document.getElementById(document.getElementById("search").getAttribute("aria-activedescendant")).dataset.id`); got != "china-northern-rare-earth" {
		t.Fatalf("after the arrow keys the active option is %q, want china-northern-rare-earth", got)
	}
	s.do("press Enter", chromedp.KeyEvent(kb.Enter))
	s.waitFor("NRE opens", `document.getElementById("entity-name")?.dataset.id === "china-northern-rare-earth"`)
	if got := eval[string](s, "identifiers", `document.querySelector("#entity .identifiers").textContent`); !strings.Contains(got, "600111") {
		t.Errorf("identifiers %q lack SSE 600111", got)
	}
	links := eval[[]string](s, "source links", `[...document.querySelectorAll("#entity .sources a")].map(a => a.href + " " + a.target)`)
	if len(links) == 0 || !strings.HasPrefix(links[0], "http") || !strings.HasSuffix(links[0], "_blank") {
		t.Errorf("source links = %q, want http links opening in a new tab", links)
	}
	s.waitFor("NRE's neighbourhood is drawn", `document.getElementById("graph").dataset.title?.startsWith("Neighbourhood of China Northern") && document.querySelector('#graph .node[data-id="`+jv+`"]') !== null`)
	if got := eval[string](s, "the Find box", `document.getElementById("search").value`); got != "" {
		t.Errorf("after opening an entity the Find box still holds %q, want it empty", got)
	}

	// Open the JV from the graph, draw its ownership: four owners above it, shares drawn.
	s.clickNode("click the JV in the graph", jv, 1)
	s.waitFor("the JV opens", `document.getElementById("entity-name")?.dataset.id === "`+jv+`"`)
	s.do("draw its ownership", chromedp.Click(chromedp.CSS(`#entity button[data-view="ownership"]`)))
	s.waitFor("four owners drawn", ownsInto+`.length === 4`)
	edges := eval[[]drawnEdge](s, "owner edges", ownsInto)
	shares := map[string]float64{}
	widths := map[float64]float64{}
	for _, e := range edges {
		shares[e.From] = e.Share
		widths[e.Share] = e.Width
		if !strings.HasSuffix(e.Label, "%") {
			t.Errorf("edge from %s is labelled %q, want a percentage", e.From, e.Label)
		}
		if oy, jy := eval[float64](s, "owner y", nodeY(e.From)), eval[float64](s, "JV y", nodeY(jv)); oy >= jy {
			t.Errorf("owner %s is drawn at y=%v, not above the JV at y=%v", e.From, oy, jy)
		}
	}
	want := map[string]float64{"china-northern-rare-earth": 0.4, "ningbo-zhaobao-magnet": 0.35}
	for id, share := range want {
		if shares[id] != share {
			t.Errorf("share drawn from %s = %v, want %v (all: %v)", id, shares[id], share, shares)
		}
	}
	if !(widths[0.4] > widths[0.35] && widths[0.35] > widths[0.125]) {
		t.Errorf("edge widths by share %v do not grow with the share", widths)
	}
	labels := eval[string](s, "share labels", `[...document.querySelectorAll("#graph .edge-label.share")].map(t => t.textContent).join(" ")`)
	for _, l := range []string{"40%", "35%", "12.5%"} {
		if !strings.Contains(labels, l) {
			t.Errorf("share labels %q lack %s", labels, l)
		}
	}
	if n := eval[int](s, "legend", `document.querySelectorAll("#legend .swatch").length`); n == 0 {
		t.Error("no country legend")
	}
	// Click an edge: the relationship opens with its share and sources.
	eval[bool](s, "click the 40% edge", `document.querySelector('#graph .edge[data-from="china-northern-rare-earth"][data-to="`+jv+`"]').dispatchEvent(new MouseEvent("click", {bubbles: true}))`)
	s.waitFor("the relationship opens", `document.querySelector("#entity .props")?.textContent.includes("40%") && document.querySelectorAll("#entity .sources a").length > 0`)

	// Wheel zooms, dragging the background pans (real input events).
	transform := func() string {
		return eval[string](s, "viewport transform", `document.querySelector("#graph .viewport").getAttribute("transform")`)
	}
	box := eval[[]float64](s, "graph box", `(() => { const r = document.getElementById("graph").getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; })()`)
	bx, by := box[0]+20, box[1]+20 // a corner of the drawing, clear of nodes
	t0 := transform()
	wheel := func(p *input.DispatchMouseEventParams) { p.DeltaX, p.DeltaY = 0.01, -300 } // deltaX must be sent; zero is omitted
	s.do("wheel", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseWheel, bx, by, wheel))
	s.waitFor("zoomed", fmt.Sprintf(`document.querySelector("#graph .viewport").getAttribute("transform") !== %q`, t0))
	t1 := transform()
	s.do("drag", chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, bx, by, chromedp.ButtonLeft, chromedp.ClickCount(1)),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, bx+60, by+40, chromedp.ButtonLeft),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, bx+60, by+40, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	if t2 := transform(); t2 == t1 {
		t.Errorf("dragging the background did not pan: transform stays %q", t2)
	}
	s.do("fit", chromedp.Click(chromedp.CSS("#zoom-fit")))
	s.clickNode("select the JV", jv, 1)
	s.waitFor("the JV is selected", `document.getElementById("entity-name")?.dataset.id === "`+jv+`"`)

	shot := s.screenshot("1-jv-ownership")
	if os.Getenv("LODESTONE_DOCS_SCREENSHOT") == "1" && shot != nil {
		if err := os.WriteFile(filepath.Join("..", "docs", "explorer.png"), shot, 0o644); err != nil {
			t.Error(err)
		}
	}

	// Expand a node: double-click China Northern Rare Earth, its neighbours join.
	before := eval[int](s, "node count", `document.querySelectorAll("#graph .node").length`)
	s.clickNode("double-click NRE", "china-northern-rare-earth", 2)
	s.waitFor("the expansion is drawn", fmt.Sprintf(`document.querySelectorAll("#graph .node").length > %d`, before))
	s.screenshot("2-expanded")

	// The keyboard expands too: focus a node, press E.
	before = eval[int](s, "node count", `document.querySelectorAll("#graph .node").length`)
	eval[bool](s, "focus Baotou Steel", `(document.querySelector('#graph .node[data-id="baotou-steel"]').focus(), true)`)
	s.do("press E", chromedp.KeyEvent("e"))
	s.waitFor("the keyboard expansion", fmt.Sprintf(`document.querySelectorAll("#graph .node").length > %d`, before))

	// As of 30 November 2024 the JV had no owners: its ownership disappears.
	s.setValue("as of 2024-11-30", "#asof", "2024-11-30")
	s.waitFor("the ownership disappears", ownsInto+`.length === 0 && document.getElementById("graph-status").textContent.includes("2024-11-30")`)
	if n := eval[int](s, "JV still drawn", `document.querySelectorAll('#graph .node[data-id="`+jv+`"]').length`); n != 1 {
		t.Errorf("the JV itself should stay drawn as of 2024-11-30, found %d", n)
	}
	s.screenshot("3-as-of-2024-11-30")
	s.do("back to today", chromedp.Click(chromedp.CSS("#asof-today")))
	s.waitFor("the owners come back", ownsInto+`.length === 4`)

	// Ask: how much of the JV Ningbo Zhaobao holds; the answer's path is highlighted.
	s.clickNode("select the JV again", jv, 1)
	s.waitFor("the JV is selected", `document.getElementById("entity-name")?.dataset.id === "`+jv+`"`)
	s.do("open Ask", chromedp.Click(chromedp.CSS("#tab-ask")))
	if got := eval[string](s, "target prefilled", `document.getElementById("own-target").value`); !strings.Contains(got, "Northern Zhaobao") {
		t.Errorf("the target picker holds %q, want the JV in view", got)
	}
	s.typeText("type the owner", "#own-owner", "Ningbo Zhaobao")
	s.waitFor("owner hits", `document.querySelector('#own-owner-list [role=option][data-id="ningbo-zhaobao-magnet"]') !== null`)
	idx = eval[int](s, "owner hit index", `[...document.querySelectorAll('#own-owner-list [role=option]')].findIndex(li => li.dataset.id === "ningbo-zhaobao-magnet")`)
	for range idx {
		s.do("arrow down", chromedp.KeyEvent(kb.ArrowDown))
	}
	s.do("pick the owner", chromedp.KeyEvent(kb.Enter))
	s.do("ask", chromedp.Click(chromedp.CSS(`#ask-ownership button[type=submit]`)))
	s.waitFor("the answer", `document.querySelector('#ask-ownership [data-answer="integrated"]')?.textContent === "35%"`)
	s.waitFor("the path is highlighted", `document.querySelector('#graph .edge.hl[data-from="ningbo-zhaobao-magnet"][data-to="`+jv+`"]') !== null`)
	s.screenshot("4-ask-ownership")

	// Ask: exposure of General Motors to the US, the number the API gives, paths drawn.
	var exposure struct {
		Exposure struct{ Share float64 } `json:"exposure"`
	}
	gqlPost(t, base, `{ exposure(of: "general-motors", country: "US") { share } }`, &exposure)
	s.typeText("type the company", "#exp-of", "General Motors")
	s.waitFor("company hits", `document.querySelector('#exp-of-list [role=option][data-id="general-motors"]') !== null`)
	idx = eval[int](s, "company hit index", `[...document.querySelectorAll('#exp-of-list [role=option]')].findIndex(li => li.dataset.id === "general-motors")`)
	for range idx {
		s.do("arrow down", chromedp.KeyEvent(kb.ArrowDown))
	}
	s.do("pick the company", chromedp.KeyEvent(kb.Enter))
	s.setValue("country", "#exp-country", "US")
	s.do("ask", chromedp.Click(chromedp.CSS(`#ask-exposure button[type=submit]`)))
	wantText := fmt.Sprintf("%g%%", math.Round(exposure.Exposure.Share*1000)/10)
	s.waitFor("the exposure", `document.querySelector('#ask-exposure [data-answer="exposure"]')?.textContent === "`+wantText+`"`)
	if exposure.Exposure.Share == 0 {
		t.Fatal("the seed graph gives General Motors no exposure to the US: pick another question for this test")
	}
	s.waitFor("its paths are highlighted", `document.querySelectorAll('#graph .edge.hl').length > 0 && document.getElementById("graph").dataset.title?.startsWith("Exposure")`)
	s.screenshot("5-ask-exposure")

	// Saved queries: run company-owners with its form, see the table, download the CSV.
	s.do("open saved queries", chromedp.Click(chromedp.CSS("#tab-saved")))
	s.waitFor("the list", `[...document.getElementById("saved-select").options].some(o => o.value === "company-owners")`)
	s.setValue("choose company-owners", "#saved-select", "company-owners")
	s.waitFor("the parameter form", `document.getElementById("param-company")?.value === "`+jv+`"`)
	if n := eval[int](s, "threshold field", `document.querySelectorAll('#saved-params input[name="threshold"][type="number"]').length`); n != 1 {
		t.Errorf("the Float parameter threshold should be a number field, found %d", n)
	}
	s.do("run", chromedp.Click(chromedp.CSS("#saved-run")))
	s.waitFor("the result table", `document.querySelectorAll("#saved-table tbody tr").length >= 4 && !document.getElementById("saved-csv").hidden`)
	s.waitFor("the result is drawn", `document.getElementById("graph").dataset.title?.includes("company-owners") && document.querySelectorAll('#graph .node[data-id="ningbo-zhaobao-magnet"]').length === 1`)
	s.screenshot("6-saved-query")
	name, csv := s.download("download the CSV", "#saved-csv")
	if name != "company-owners.csv" {
		t.Errorf("downloaded file is named %q, want company-owners.csv", name)
	}
	if !bytes.HasPrefix(csv, []byte("entity.id,")) || !bytes.Contains(csv, []byte("ningbo-zhaobao-magnet")) {
		t.Errorf("CSV does not hold the owners:\n%s", csv)
	}

	// A bad parameter: the server's error is shown, the table stays empty.
	s.setValue("an unknown company", "#param-company", "no-such-company")
	s.do("run again", chromedp.Click(chromedp.CSS("#saved-run")))
	s.waitFor("the error", `document.getElementById("saved-status").classList.contains("error") && document.getElementById("saved-status").textContent.includes("no-such-company")`)
	if n := eval[int](s, "rows after the error", `document.querySelectorAll("#saved-table tbody tr").length`); n != 0 {
		t.Errorf("after a failed run the table still shows %d rows", n)
	}
	s.setValue("the JV again", "#param-company", jv)
	s.do("run once more", chromedp.Click(chromedp.CSS("#saved-run")))
	s.waitFor("the result table again", `document.querySelectorAll("#saved-table tbody tr").length >= 4`)

	// Exports: SVG and PNG of what is drawn.
	if name, svg := s.download("export SVG", "#export-svg"); name != "lodestone-graph.svg" || !bytes.Contains(svg, []byte("<svg")) || !bytes.Contains(svg, []byte("ningbo-zhaobao-magnet")) {
		t.Errorf("SVG export %q is not an SVG of the graph: %.200s", name, svg)
	}
	if name, png := s.download("export PNG", "#export-png"); name != "lodestone-graph.png" || !bytes.HasPrefix(png, []byte("\x89PNG\r\n")) || len(png) < 2000 {
		t.Errorf("PNG export %q is not a PNG (%d bytes)", name, len(png))
	}

	// 300 entities: the hub's neighbourhood is capped (banner), laid out fast, readable.
	s.do("open the hub", chromedp.Navigate(base+"/#entity=syn-hub"))
	s.waitFor("the hub's neighbourhood", `document.querySelectorAll("#graph .node").length === 300`)
	if hidden := eval[bool](s, "banner", `document.getElementById("truncated").hidden`); hidden {
		t.Error("a capped neighbourhood shows no truncated banner")
	}
	ms := eval[float64](s, "layout time", `Number(document.getElementById("graph").dataset.layoutMillis)`)
	crowded := eval[float64](s, "crowding", `(() => {
	  const ps = [...document.querySelectorAll("#graph .node")].map(n => [Number(n.dataset.x), Number(n.dataset.y)]);
	  let close = 0, pairs = 0;
	  for (let i = 0; i < ps.length; i++) for (let j = i + 1; j < ps.length; j++) { pairs++; if (Math.hypot(ps[i][0]-ps[j][0], ps[i][1]-ps[j][1]) < 20) close++; }
	  return close / pairs; })()`)
	t.Logf("300-entity force layout: %.0f ms; %.4f%% of node pairs closer than 20 units", ms, crowded*100)
	if ms > 3000 || crowded > 0.001 {
		t.Errorf("300-entity layout took %.0f ms with %.4f%% of pairs overlapping; want < 3 s and < 0.1%%", ms, crowded*100)
	}
	s.screenshot("7-hub-300")

	// The same hub's holdings as a layered drawing: 300 boxes, wrapped rows, none overlapping.
	s.do("draw the hub's holdings", chromedp.Click(chromedp.CSS(`#entity button[data-view="ownership"]`)))
	s.waitFor("the hub's holdings", `document.getElementById("graph").dataset.title?.startsWith("Ownership") && document.querySelectorAll("#graph .node").length === 300`)
	overlaps := eval[int](s, "box overlaps", `(() => {
	  const ps = [...document.querySelectorAll("#graph .node")].map(n => [Number(n.dataset.x), Number(n.dataset.y)]);
	  let n = 0;
	  for (let i = 0; i < ps.length; i++) for (let j = i + 1; j < ps.length; j++) if (Math.abs(ps[i][0]-ps[j][0]) < 170 && Math.abs(ps[i][1]-ps[j][1]) < 44) n++;
	  return n; })()`)
	if overlaps > 0 {
		t.Errorf("the layered drawing of 300 entities has %d overlapping boxes", overlaps)
	}
	if hubY, leafY := eval[float64](s, "hub y", nodeY("syn-hub")), eval[float64](s, "leaf y", nodeY("syn-007")); hubY >= leafY {
		t.Errorf("the hub (y=%v) is not drawn above what it owns (y=%v)", hubY, leafY)
	}
	s.screenshot("7-hub-holdings")

	// Controllers are starred: China Northern Rare Earth wholly owns Baotou Huamei.
	s.do("open Baotou Huamei", chromedp.Navigate(base+"/#entity=baotou-huamei"))
	s.waitFor("Baotou Huamei opens", `document.getElementById("entity-name")?.dataset.id === "baotou-huamei"`)
	s.do("draw its ownership", chromedp.Click(chromedp.CSS(`#entity button[data-view="ownership"]`)))
	s.waitFor("its controller is starred", `document.querySelector('#graph .node.controller[data-id="china-northern-rare-earth"] text')?.textContent.startsWith("★")`)

	// Supply runs left to right: every SUPPLIES edge of MP Materials' chain points right.
	s.do("open MP Materials", chromedp.Navigate(base+"/#entity=mp-materials"))
	s.waitFor("MP Materials opens", `document.getElementById("entity-name")?.dataset.id === "mp-materials"`)
	if got := eval[string](s, "shareable link", `location.hash`); got != "#entity=mp-materials" {
		t.Errorf("the address names %q, want #entity=mp-materials", got)
	}
	s.do("draw its supply chain", chromedp.Click(chromedp.CSS(`#entity button[data-view="supply"]`)))
	s.waitFor("the supply chain", `document.getElementById("graph").dataset.title?.startsWith("Supply chain") && document.querySelectorAll('#graph .edge[data-type="SUPPLIES"]').length >= 3`)
	backwards := eval[[]string](s, "supply direction", `[...document.querySelectorAll('#graph .edge[data-type="SUPPLIES"]')].filter(e => {
	  const x = id => Number(document.querySelector('#graph .node[data-id="' + CSS.escape(id) + '"]').dataset.x);
	  return !(x(e.dataset.from) < x(e.dataset.to)); }).map(e => e.dataset.id)`)
	if len(backwards) > 0 {
		t.Errorf("supply edges not drawn left to right: %q", backwards)
	}
	s.screenshot("8-supply")

	// Every control has a name a screen reader can read.
	unnamed := eval[[]string](s, "labels", `[...document.querySelectorAll("input, select, button, [role=combobox], [role=tab]")].filter(el => {
	  if (el.closest("[hidden]") && !el.closest("[role=tabpanel]")) return false;
	  const name = (el.labels && el.labels.length) || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby") || el.textContent.trim();
	  return !name; }).map(el => el.outerHTML.slice(0, 80))`)
	if len(unnamed) > 0 {
		t.Errorf("controls without an accessible name: %q", unnamed)
	}

	// A narrow window: nothing wider than the screen, the graph still drawn.
	s.do("narrow window", chromedp.EmulateViewport(420, 800), chromedp.Navigate(base+"/#entity="+jv))
	s.waitFor("the JV in a narrow window", `document.querySelector('#graph .node[data-id="`+jv+`"]') !== null`)
	if w := eval[int](s, "page width", `document.documentElement.scrollWidth`); w > 420 {
		t.Errorf("at 420 px the page is %d px wide: it scrolls sideways", w)
	}
	if w := eval[float64](s, "graph width", `document.getElementById("graph").getBoundingClientRect().width`); w < 300 {
		t.Errorf("at 420 px the graph is only %v px wide", w)
	}
	s.screenshot("9-narrow")

	if errs := s.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
	t.Logf("browser scenario took %v", time.Since(start).Round(time.Millisecond))
}

// gqlPost runs a GraphQL query against the server and decodes its data into out.
func gqlPost(tb testing.TB, base, query string, out any) {
	tb.Helper()
	body, _ := json.Marshal(map[string]string{"query": query})
	resp, err := http.Post(base+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Data   json.RawMessage
		Errors []struct{ Message string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || len(r.Errors) > 0 {
		tb.Fatalf("%s: %v %v", query, err, r.Errors)
	}
	if err := json.Unmarshal(r.Data, out); err != nil {
		tb.Fatal(err)
	}
}

// The page and its assets are served with their types and revalidation headers.
func TestExplorerAssetsHTTP(t *testing.T) {
	base := startServer(t)
	for _, tc := range []struct{ path, ctype string }{
		{"/", "text/html"}, {"/ui/app.js", "javascript"}, {"/ui/style.css", "text/css"}, {"/ui/icon.svg", "image/svg+xml"}, {"/favicon.ico", "image/svg+xml"}, {"/graphiql", "text/html"},
	} {
		resp, err := http.Get(base + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), tc.ctype) || resp.Header.Get("ETag") == "" || resp.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("GET %s: %d %q etag %q cache %q; want 200 %s with an ETag and no-cache", tc.path, resp.StatusCode,
				resp.Header.Get("Content-Type"), resp.Header.Get("ETag"), resp.Header.Get("Cache-Control"), tc.ctype)
		}
		req, _ := http.NewRequest("GET", base+tc.path, nil)
		req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
		again, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		again.Body.Close()
		if again.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with its ETag: %d, want 304", tc.path, again.StatusCode)
		}
	}
	for _, p := range []string{"/ui/nope.js", "/ui/", "/ui/../web.go", "/index.html"} {
		resp, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("the page's CSP %q does not keep it to its own origin", csp)
	}
}

// TestExplorerAsksForAKey: on a server started with --auth required the page still loads
// (its files hold no data), asks for an API key when the API answers 401, and then works
// with the key the person typed.
func TestExplorerAsksForAKey(t *testing.T) {
	chromiumPath(t)
	base, store := startServerWith(t, server.Config{Auth: server.AuthRequired})
	_, key, err := store.CreateAPIKey(context.Background(), graph.RoleReader, "explorer test")
	if err != nil {
		t.Fatal(err)
	}
	s := newSession(t)
	var prompts atomic.Int32
	if err := chromedp.Listen(s.ctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			prompts.Add(1)
			go chromedp.Call(s.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true, PromptText: key})
		}
	}); err != nil {
		t.Fatal(err)
	}
	s.do("open the explorer", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#search")))
	s.waitFor("the page script runs", `document.body.dataset.ready === "true"`)
	s.typeText("type Shenghe", "#search", "Shenghe")
	s.waitFor("search hits with the key", `document.querySelector('#search-list [role=option]') !== null`)
	if n := prompts.Load(); n != 1 {
		t.Errorf("the page asked for a key %d times, want once", n)
	}
	if errs := s.consoleErrors(); len(errs) > 0 {
		// The first, keyless answer is a 401, which Chromium logs as a failed resource load.
		for _, e := range errs {
			if !strings.Contains(e, "401") {
				t.Errorf("console error: %s", e)
			}
		}
	}
}

// TestFaviconWithoutKey: /favicon.ico is the explorer's icon (browsers ask for it before
// reading the page's <link rel=icon>), served to anyone even when the API needs a key.
func TestFaviconWithoutKey(t *testing.T) {
	base, _ := startServerWith(t, server.Config{Auth: server.AuthRequired})
	resp, err := http.Get(base + "/favicon.ico")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" || !bytes.Contains(body, []byte("<svg")) {
		t.Errorf("GET /favicon.ico without a key: %d %q %.60s; want 200 image/svg+xml, the icon", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

// labelClashes is a JS expression: the pairs of visible labels in the drawing (node
// names, share and relationship labels) whose boxes on the screen overlap, as text.
const labelClashes = `(() => {
  const ls = [...document.querySelectorAll("#graph .node text, #graph text.edge-label")]
    .filter(t => getComputedStyle(t).display !== "none").map(t => [t.textContent, t.getBoundingClientRect()]);
  const out = [];
  for (let i = 0; i < ls.length; i++) for (let j = i + 1; j < ls.length; j++) {
    const a = ls[i][1], b = ls[j][1];
    if (a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5) out.push(ls[i][0] + " / " + ls[j][0]);
  }
  return out; })()`

// sameShortName is a JS expression: the visible node labels shared by different entities
// (told apart by their tooltips: name, kind and country).
const sameShortName = `(() => {
  const by = new Map();
  for (const g of document.querySelectorAll("#graph .node")) {
    const t = g.querySelector("text"), name = g.querySelector("title").textContent;
    if (getComputedStyle(t).display === "none") continue;
    by.set(t.textContent, new Set([...(by.get(t.textContent) || []), name]));
  }
  return [...by].filter(([, names]) => names.size > 1).map(([l, names]) => l + " = " + [...names].join(" | ")); })()`

// TestExplorerFirstHour: the page opens on the joint venture's ownership with examples,
// labels never overlap (landing page and a dense neighbourhood) and clip to distinct
// text, the full name shows on hover, supply boxes read at 12 px or more, properties
// read as numbers and lists, the Find box empties, and a failed load clears the drawing.
func TestExplorerFirstHour(t *testing.T) {
	chromiumPath(t)
	base := startServer(t)
	s := newSession(t)

	s.do("open the explorer", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#search")))
	s.waitFor("the landing drawing", `document.getElementById("graph").dataset.title?.startsWith("Ownership of Northern Zhaobao") && document.querySelectorAll('#graph .edge[data-to="`+jv+`"]').length >= 4`)
	if n := eval[int](s, "examples", `document.querySelectorAll("#examples button[data-entity]").length`); n < 3 {
		t.Errorf("the landing page offers %d example starting points, want at least 3", n)
	}
	if clashes := eval[[]string](s, "landing labels", labelClashes); len(clashes) > 0 {
		t.Errorf("overlapping labels on the landing page: %q", clashes)
	}
	s.screenshot("10-landing")

	// A dense neighbourhood: China Northern Rare Earth, two hops.
	s.do("open an example", chromedp.Click(chromedp.CSS(`#examples button[data-entity="china-northern-rare-earth"]`)))
	s.waitFor("its neighbourhood", `document.getElementById("graph").dataset.title?.startsWith("Neighbourhood of China Northern")`)
	s.setValue("two hops", "#depth", "2")
	s.waitFor("two hops drawn", `document.getElementById("graph").dataset.title?.endsWith("(2 hops)")`)
	n := eval[int](s, "nodes", `document.querySelectorAll("#graph .node").length`)
	if n < 25 {
		t.Fatalf("the two-hop neighbourhood of China Northern Rare Earth has %d nodes: not dense enough for this test", n)
	}
	if clashes := eval[[]string](s, "neighbourhood labels", labelClashes); len(clashes) > 0 {
		t.Errorf("overlapping labels in a %d-node neighbourhood: %q", n, clashes)
	}
	if same := eval[[]string](s, "distinct labels", sameShortName); len(same) > 0 {
		t.Errorf("different names drawn as the same label: %q", same)
	}
	visible := eval[int](s, "visible labels", `[...document.querySelectorAll("#graph .node text")].filter(t => getComputedStyle(t).display !== "none").length`)
	t.Logf("%d-node neighbourhood: %d names shown, the rest on hover", n, visible)
	if visible < n/3 {
		t.Errorf("only %d of %d node names are shown", visible, n)
	}
	s.screenshot("11-dense-neighbourhood")

	// Hover shows the whole name of a node whose label is clipped or hidden.
	id := eval[string](s, "a clipped node", `[...document.querySelectorAll("#graph .node")].find(g => { const t = g.querySelector(".node-label"); return t.textContent !== t.dataset.full || t.classList.contains("crowded"); })?.dataset.id || ""`)
	if id == "" {
		t.Fatal("no clipped or hidden label to hover over")
	}
	xy := eval[[]float64](s, "its place", fmt.Sprintf(`(() => { const r = document.querySelector('#graph .node[data-id=%q] > :first-child').getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()`, id))
	s.do("hover", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, xy[0], xy[1]))
	s.waitFor("the full name", fmt.Sprintf(`document.querySelector('#graph .hover-label text[data-for=%q]')?.textContent.endsWith(document.querySelector('#graph .node[data-id=%q] .node-label').dataset.full)`, id, id))

	// Properties: numbers with separators, objects as key: value lists.
	props := eval[string](s, "properties", `document.querySelector("#entity .props").textContent`)
	if !strings.Contains(props, "100,000") || strings.Contains(props, "{") || strings.Contains(props, `"value"`) {
		t.Errorf("China Northern Rare Earth's properties read %q; want 100,000 and no raw JSON", props)
	}

	// Supply-chain boxes: every name and caption at 12 px or more on the screen.
	s.do("open another example", chromedp.Click(chromedp.CSS(`#examples button[data-entity="mp-materials"]`)))
	s.waitFor("the supply chain", `document.getElementById("graph").dataset.title?.startsWith("Supply chain of MP") && document.querySelectorAll('#graph .edge[data-type="SUPPLIES"]').length >= 3`)
	smallest := eval[float64](s, "text size", `(() => {
	  const k = Number(/scale\(([\d.]+)\)/.exec(document.querySelector("#graph .viewport").getAttribute("transform"))[1]);
	  return Math.min(...[...document.querySelectorAll("#graph .node text, #graph .edge-label")].map(t => Number(t.getAttribute("font-size")) * k)); })()`)
	if smallest < 12 {
		t.Errorf("the smallest text of the supply chain is %.1f px on the screen, want at least 12", smallest)
	}
	if same := eval[[]string](s, "distinct box labels", sameShortName); len(same) > 0 {
		t.Errorf("different names drawn as the same box label: %q", same)
	}
	s.screenshot("12-supply-readable")

	// A failed load: the drawing goes and the title says what failed.
	eval[bool](s, "the network fails", `(window.fetch = () => Promise.reject(new TypeError("network down")), true)`)
	s.setValue("depth 3", "#depth", "3")
	s.waitFor("the failure is shown", `document.getElementById("graph-status").classList.contains("error")`)
	if n := eval[int](s, "nodes after the failure", `document.querySelectorAll("#graph .node").length`); n != 0 {
		t.Errorf("after a failed load %d nodes of the old graph stay drawn", n)
	}
	if title := eval[string](s, "title", `document.getElementById("graph-title").textContent`); !strings.HasPrefix(title, "Could not draw") {
		t.Errorf("after a failed load the title reads %q", title)
	}
	if status := eval[string](s, "status", `document.getElementById("graph-status").textContent`); !strings.Contains(status, "network down") {
		t.Errorf("the status %q does not say what failed", status)
	}
	s.screenshot("13-failed-load")
}
