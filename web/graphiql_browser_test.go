package web_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/lodestone-kg/lodestone/server"
)

// unpkgRE splits a CDN URL of the GraphiQL page into package, version and file.
var unpkgRE = regexp.MustCompile(`^https://unpkg\.com/((?:@[a-z0-9-]+/)?[a-z0-9.-]+)@(\d+\.\d+\.\d+)/([^?#]+)$`)

// TestGraphiQLInBrowser opens /graphiql in chromium with the CDN answered from the npm
// packages in $LODESTONE_GRAPHIQL_NPM (unpacked as <package>@<version>/package/…, see
// docs/security.md, "GraphiQL"; the CDN serves those bytes): GraphiQL starts under the
// page's Content-Security-Policy, with no violation reported, runs a query against a
// server in local-development mode (same-origin writes only) and opens a dialog (whose
// scroll-lock <style> alone is refused). Then, with one CDN file
// changed by a byte, the browser refuses it (integrity) and the page says it could not
// load GraphiQL. Skipped without the packages or without chromium.
func TestGraphiQLInBrowser(t *testing.T) {
	dir := os.Getenv("LODESTONE_GRAPHIQL_NPM")
	if dir == "" {
		t.Skip("LODESTONE_GRAPHIQL_NPM is not set: GraphiQL is not tried in a browser (docs/security.md, \"GraphiQL\")")
	}
	chromiumPath(t)
	base, _ := startServerWith(t, server.Config{AnonymousWrites: true})

	for _, tampered := range []bool{false, true} {
		s := newSession(t)
		if err := chromedp.Listen(s.ctx, func(ev any) {
			if ev, ok := ev.(*fetch.EventRequestPaused); ok {
				go answerFromNPM(s, dir, ev, tampered)
			}
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Call(s.ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "https://unpkg.com/*"}}}); err != nil {
			t.Fatal(err)
		}
		// Injected through DevTools, so the page's policy does not apply to this script.
		if _, err := chromedp.Call(s.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `window.__violations = []; document.addEventListener("securitypolicyviolation", e => window.__violations.push(e.violatedDirective + " " + e.blockedURI));`,
		}); err != nil {
			t.Fatal(err)
		}
		s.do("open GraphiQL", chromedp.Navigate(base+"/graphiql"))
		if tampered {
			s.waitFor("the page says GraphiQL could not be loaded", `document.querySelector("#offline h1")?.textContent.includes("could not be loaded")`)
			if got := eval[bool](s, "GraphiQL defined", `typeof GraphiQL !== "undefined"`); got {
				t.Error("a CDN file changed by a byte still ran: integrity is not enforced")
			}
			continue
		}
		s.waitFor("GraphiQL starts", `document.querySelector(".graphiql-container") !== null`)
		s.do("run the default query", chromedp.Click(chromedp.CSS(".graphiql-execute-button")))
		s.waitFor("the answer", `(document.querySelector(".result-window")?.textContent || "").includes("Northern Rare Earth")`)
		s.screenshot("graphiql")
		if v := eval[[]string](s, "CSP violations", `window.__violations`); len(v) > 0 {
			t.Errorf("the page's Content-Security-Policy refused: %q", v)
		}
		// A dialog opens; the policy refuses the one thing expected (web.go, graphiqlCSP):
		// the <style> element with which it locks the page's scrolling.
		s.do("open the settings dialog", chromedp.Click(chromedp.CSS(`[aria-label="Open settings dialog"]`)))
		s.waitFor("the settings dialog", `document.querySelector(".graphiql-dialog") !== null`)
		for _, v := range eval[[]string](s, "CSP violations", `window.__violations`) {
			if v != "style-src-elem inline" {
				t.Errorf("the page's Content-Security-Policy refused %q", v)
			}
		}
		for _, e := range s.consoleErrors() {
			if !strings.Contains(e, "Applying inline style violates") {
				t.Errorf("console error: %s", e)
			}
		}
	}
}

// answerFromNPM answers a paused CDN request with the file of the npm package it names
// (changed by one byte when tampered), as the CDN would: with CORS allowed.
func answerFromNPM(s *session, dir string, ev *fetch.EventRequestPaused, tampered bool) {
	m := unpkgRE.FindStringSubmatch(ev.Request.URL)
	var body []byte
	var err error
	if m != nil {
		body, err = os.ReadFile(filepath.Join(dir, m[1]+"@"+m[2], "package", filepath.FromSlash(m[3])))
	}
	if m == nil || err != nil {
		s.t.Errorf("the page asked the CDN for %s, which is not in %s: %v", ev.Request.URL, dir, err)
		chromedp.Call(s.ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonFailed})
		return
	}
	if tampered && strings.HasSuffix(m[3], ".js") && m[1] == "graphiql" {
		body = append(body, '\n')
	}
	ct := "application/javascript; charset=utf-8"
	if strings.HasSuffix(m[3], ".css") {
		ct = "text/css; charset=utf-8"
	}
	chromedp.Call(s.ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: ev.RequestID, ResponseCode: 200, Body: body,
		ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: ct}, {Name: "Access-Control-Allow-Origin", Value: "*"}}})
}
