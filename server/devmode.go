package server

import (
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/lodestone-kg/lodestone/graph"
)

// Local-development mode. With Config.AnonymousWrites a request without a key is an
// admin, and CheckListenAddr keeps the listener on loopback, so no other machine reaches
// the server. The browser on this machine does, on behalf of every page it shows: a page
// can post a form or a no-cors fetch to http://127.0.0.1:8080 (a "simple" request, sent
// without a CORS preflight), and a page whose DNS name an attacker rebinds to 127.0.0.1
// talks to the server as its own origin. localOnly closes both ways in, in this mode
// only (with AnonymousWrites off every write and every admin endpoint needs a key, which
// the browser never adds by itself):
//
//   - Host. Only a loopback Host is served: localhost and its subdomains (RFC 6761: they
//     never resolve beyond this machine, so no one can rebind them), an address in
//     127.0.0.0/8 or ::1, with any port. Anything else is 403 FORBIDDEN: a rebound name
//     carries the attacker's Host.
//   - Origin. A request that changes something (any method but GET, HEAD and OPTIONS) and
//     any request under /admin/ must come from this server's own origin (an Origin whose
//     host and port are the request's Host), from an origin listed exactly in
//     Config.CORSOrigins, or from no browser page at all (no Origin, and a Sec-Fetch-Site
//     that is absent, "none" or "same-origin": curl, the command line, a bookmark).
//     Sec-Fetch-Site "same-site" is refused like "cross-site": for a browser another port
//     of localhost is the same site, and it may serve anything; a front-end dev server
//     that calls the API is listed in --cors-origins, which it needs anyway to read the
//     answers. "*" (and any pattern with a "*") does not count as a listing here: it
//     would give the whole web the admin role. Neither does "null" (sandboxed frames,
//     file: pages).
//   - Bodies. A POST under /admin/ must be JSON (Content-Type application/json) or have no
//     body at all (415 INVALID_INPUT otherwise): a page can send text/plain or a form
//     without a preflight, never JSON. /admin/import takes its files as today (multipart
//     or a raw body), but only from this server's own origin or from no browser page:
//     there a listed CORS origin is not enough, since an upload is a simple request the
//     browser sends without asking.
//
// A request made inside the process (an http.Client whose transport calls the handler,
// as `lodestone query --data` does) went over no connection and so through no browser;
// it is not checked: whoever runs code on the store owns it (principalFrom says the same).

// localOnly applies the local-development rules above when cfg.AnonymousWrites is on,
// and is next unchanged otherwise. Refusals are 403 FORBIDDEN (Host, origin) or 415
// INVALID_INPUT (a non-JSON admin body), shaped as the endpoint's errors (writeAuthError).
func localOnly(cfg Config, next http.Handler) http.Handler {
	if !cfg.AnonymousWrites {
		return next
	}
	listed := map[string]bool{}
	for _, o := range cfg.CORSOrigins {
		if o = strings.ToLower(strings.TrimSpace(o)); o != "" && o != "null" && !strings.Contains(o, "*") {
			listed[o] = true
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.RequestURI == "" { // built in this process, not read from a connection
			next.ServeHTTP(w, r)
			return
		}
		if !loopbackHost(r.Host) {
			writeAuthError(w, r, http.StatusForbidden, graph.Errorf(graph.EFORBIDDEN,
				"this server runs in local-development mode (--allow-anonymous-writes) and answers only requests addressed to localhost, 127.0.0.1 or [::1]; the Host %q is not one of them",
				clip(r.Host, 100)))
			return
		}
		admin := r.URL.Path == "/admin" || strings.HasPrefix(r.URL.Path, "/admin/")
		if admin || !safeMethod(r.Method) {
			if e := crossSite(r, listed); e != nil {
				writeAuthError(w, r, http.StatusForbidden, e)
				return
			}
		}
		if admin && r.Method == http.MethodPost && r.URL.Path != "/admin/import" {
			if e := jsonBodyError(r); e != nil {
				writeAuthError(w, r, http.StatusUnsupportedMediaType, e)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// crossSite returns the FORBIDDEN error for a request that a page of another origin
// made (see localOnly), nil for one from this server's own origin, from an origin in
// listed (not for /admin/import) or from no browser page.
func crossSite(r *http.Request, listed map[string]bool) *graph.Error {
	origin := r.Header.Get("Origin")
	site := strings.ToLower(r.Header.Get("Sec-Fetch-Site"))
	if origin != "" && listed[strings.ToLower(origin)] && r.URL.Path != "/admin/import" {
		return nil
	}
	const why = "in local-development mode (--allow-anonymous-writes) a request without a key is an admin, so writes and /admin requests are accepted only from this server's own pages or from clients that are not browsers"
	if origin != "" && !sameOrigin(origin, r.Host) {
		hint := "; list a trusted front-end's origin in --cors-origins"
		if r.URL.Path == "/admin/import" {
			hint = "; an import is accepted from this server's own origin only"
		}
		return graph.Errorf(graph.EFORBIDDEN, "cross-origin request from %q refused: %s%s", clip(origin, 100), why, hint)
	}
	if site == "cross-site" || site == "same-site" {
		return graph.Errorf(graph.EFORBIDDEN, "%s request (Sec-Fetch-Site) refused: %s", site, why)
	}
	return nil
}

// safeMethod reports whether method only reads (RFC 9110 §9.2.1; TRACE is not served).
func safeMethod(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// loopbackHost reports whether hostport (a Host header or the host of an origin, with or
// without a port) names this machine's loopback interface: localhost or a name under
// .localhost, an address in 127.0.0.0/8, or ::1 (also IPv4-mapped). A trailing dot
// and letter case do not matter.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Zone() == "" && ip.Unmap().IsLoopback()
}

// sameOrigin reports whether origin (an Origin header) is the origin of a request to
// host (its Host header): an http or https origin on a loopback host whose host and port
// are host's (a missing port is the scheme's default on both sides; the scheme itself is
// not compared, since one port serves one scheme).
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || !loopbackHost(u.Host) {
		return false
	}
	port := "80"
	if u.Scheme == "https" {
		port = "443"
	}
	withPort := func(hp string) string {
		hp = strings.ToLower(hp)
		if _, _, err := net.SplitHostPort(hp); err != nil {
			return net.JoinHostPort(strings.Trim(hp, "[]"), port)
		}
		return hp
	}
	return withPort(u.Host) == withPort(host)
}

// jsonBodyError returns nil when r has a JSON body (Content-Type application/json) or no
// body and no Content-Type, and otherwise the INVALID_INPUT error of a 415: the admin
// endpoints take JSON only, which a web page cannot send to another origin without a
// CORS preflight.
func jsonBodyError(r *http.Request) *graph.Error {
	ct := r.Header.Get("Content-Type")
	if ct == "" && r.ContentLength == 0 {
		return nil
	}
	if mt, _, err := mime.ParseMediaType(ct); err == nil && mt == mediaJSON {
		return nil
	}
	if ct == "" {
		ct = "none"
	}
	return graph.Invalid("Content-Type", "the body must be JSON: send Content-Type: application/json (got %s)", clip(ct, 100))
}

// clip shortens s to at most n bytes for an error message, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
