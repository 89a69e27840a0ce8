package server

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/lodestone-kg/lodestone/graph"
	"golang.org/x/time/rate"
)

// RateLimit caps the requests each client may make: a token bucket per client, refilled
// at PerSecond and holding up to Burst requests. A client is its API key, or its IP
// address when it sends none (behind a reverse proxy, every client without a key is the
// proxy). The zero value limits nothing.
type RateLimit struct {
	// PerSecond is the sustained rate of requests one client may make; 0: no limit.
	PerSecond float64
	// Burst is how many requests a client may make at once after being idle (default
	// twice PerSecond, at least 1).
	Burst int
}

func (l RateLimit) withDefaults() RateLimit {
	if l.Burst <= 0 {
		l.Burst = max(1, int(math.Ceil(2*l.PerSecond)))
	}
	return l
}

// clientLimiter holds the token buckets of RateLimit, one per client seen recently.
type clientLimiter struct {
	limit RateLimit
	now   func() time.Time

	mu        sync.Mutex
	clients   map[string]*clientBucket
	lastSweep time.Time
}

type clientBucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newClientLimiter(l RateLimit, now func() time.Time) *clientLimiter {
	return &clientLimiter{limit: l.withDefaults(), now: now, clients: map[string]*clientBucket{}, lastSweep: now()}
}

// maxWait bounds the durations the limiter computes, so that absurdly low rates do not
// overflow time.Duration: a bucket is forgotten after a day at most.
const maxWait = 24 * time.Hour

// seconds converts n seconds to a Duration of at most maxWait.
func seconds(n float64) time.Duration {
	if n >= maxWait.Seconds() {
		return maxWait
	}
	return time.Duration(n * float64(time.Second))
}

// idle is how long a bucket takes to fill up from empty: a client unseen for that long
// has a full bucket, the same as a new one, so forgetting it changes nothing.
func (c *clientLimiter) idle() time.Duration {
	return seconds(float64(c.limit.Burst) / c.limit.PerSecond)
}

// allow takes one request from client's bucket. When the bucket is empty it takes
// nothing and returns false with the time until the next request would be allowed.
func (c *clientLimiter) allow(client string) (bool, time.Duration) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Sub(c.lastSweep) >= max(time.Minute, c.idle()) {
		c.sweep(now)
	}
	b := c.clients[client]
	if b == nil {
		b = &clientBucket{lim: rate.NewLimiter(rate.Limit(c.limit.PerSecond), c.limit.Burst)}
		c.clients[client] = b
	}
	b.seen = now
	if b.lim.AllowN(now, 1) {
		return true, 0
	}
	return false, seconds((1 - b.lim.TokensAt(now)) / c.limit.PerSecond)
}

// sweep forgets the clients whose buckets have filled up again.
func (c *clientLimiter) sweep(now time.Time) {
	idle := c.idle()
	for k, b := range c.clients {
		if now.Sub(b.seen) >= idle {
			delete(c.clients, k)
		}
	}
	c.lastSweep = now
}

// rateLimit refuses a request whose client has used up its RateLimit with 429 Too Many
// Requests, LIMIT_EXCEEDED and Retry-After. It runs after authenticate, which names the
// client's key; health probes and the explorer's static files are not limited.
func rateLimit(l RateLimit, next http.Handler) http.Handler {
	if l.PerSecond <= 0 {
		return next
	}
	c := newClientLimiter(l, time.Now)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if publicPath(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		client, who := clientOf(r)
		ok, wait := c.allow(client)
		if !ok {
			secs := max(1, int(math.Ceil(wait.Seconds())))
			w.Header().Set("Retry-After", fmt.Sprint(secs))
			writeAuthError(w, r, http.StatusTooManyRequests, graph.Errorf(graph.ELIMIT,
				"too many requests from %s: this server allows %g a second (bursts of %d); retry in %d s", who, c.limit.PerSecond, c.limit.Burst, secs))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// clientOf names the client of r for rate limiting: its API key, else its IP address.
// who says it in words, for the refusal.
func clientOf(r *http.Request) (client, who string) {
	if id := actingKeyID(r); id != "" {
		return "key:" + id, "API key " + id
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return "ip:" + host, host + " (no API key)"
}
