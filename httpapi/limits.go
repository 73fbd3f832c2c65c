package httpapi

import (
	"errors"
	"io"
	"math"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"citygrid"
)

// limitIdentity is whom a request counts against: its API key (every
// limited route needs one), so that a client cannot dodge its limit by
// forging X-Forwarded-For; the address only where there is no key.
func limitIdentity(r *http.Request) string {
	if p := principal(r); p != nil && p.KeyID != 0 {
		return "key " + strconv.FormatInt(p.KeyID, 10)
	}
	if p := principal(r); p != nil && p.UserID != 0 {
		return "user " + strconv.FormatInt(p.UserID, 10)
	}
	return clientAddr(r)
}

// limitKind is the limit a route is under.
type limitKind int

const (
	// limitRead is a token bucket shared by an identity's expensive reads:
	// case lists, searches and CSV exports, hotspots.
	limitRead limitKind = iota
	// limitBulk caps an identity's bulk ingests in flight.
	limitBulk
)

const (
	// limitSweepEvery is how often identities that owe nothing are
	// forgotten; limitSweepSize is the number of identities that makes
	// a sweep happen sooner.
	limitSweepEvery = time.Minute
	limitSweepSize  = 4096
	// bulkRetryAfter is the Retry-After of a bulk ingest over the cap: when
	// one in flight ends is unknown, and ingests take seconds.
	bulkRetryAfter = 5 * time.Second
)

// limiter holds the limits of every identity seen lately. An identity
// whose bucket is full and which has no bulk ingest in flight is
// indistinguishable from one never seen, so sweeps forget it: the map
// holds only identities active within the bucket's refill time (burst /
// rate) and the sweep interval.
type limiter struct {
	rate  float64 // tokens a second; <= 0: reads are not limited
	burst float64
	bulk  int // bulk ingests in flight per identity; <= 0: no cap
	now   func() time.Time

	mu      sync.Mutex
	ids     map[string]*identityLimits
	swept   time.Time
	sweepAt int // sweep when this many identities are held
}

// identityLimits is one identity's state.
type identityLimits struct {
	tokens float64
	at     time.Time // when tokens was counted
	bulk   int       // bulk ingests in flight
}

func newLimiter(cfg Config, now func() time.Time) *limiter {
	return &limiter{rate: cfg.RateLimit, burst: float64(cfg.RateBurst), bulk: cfg.BulkConcurrency, now: now,
		ids: map[string]*identityLimits{}, swept: now(), sweepAt: limitSweepSize}
}

// get returns id's state with its tokens refilled to now, sweeping first
// when a sweep is due. Call with l.mu held.
func (l *limiter) get(id string, now time.Time) *identityLimits {
	if now.Sub(l.swept) >= limitSweepEvery || len(l.ids) >= l.sweepAt {
		l.sweep(now)
	}
	st := l.ids[id]
	if st == nil {
		st = &identityLimits{tokens: l.burst, at: now}
		l.ids[id] = st
	}
	if elapsed := now.Sub(st.at).Seconds(); elapsed > 0 && l.rate > 0 {
		st.tokens = min(l.burst, st.tokens+elapsed*l.rate)
	}
	st.at = now
	return st
}

// sweep forgets the identities that owe nothing. Sweeps that keep most
// identities make the next size-triggered one wait for twice as many, so
// that a burst of identities costs linear time. Call with l.mu held.
func (l *limiter) sweep(now time.Time) {
	for id, st := range l.ids {
		full := l.rate <= 0 || st.tokens+now.Sub(st.at).Seconds()*l.rate >= l.burst
		if full && st.bulk == 0 {
			delete(l.ids, id)
		}
	}
	l.swept = now
	l.sweepAt = max(limitSweepSize, 2*len(l.ids))
}

// allowRead takes a token of id's bucket, or says how long until one is
// there.
func (l *limiter) allowRead(id string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.get(id, l.now())
	if st.tokens >= 1 {
		st.tokens--
		return true, 0
	}
	return false, time.Duration((1 - st.tokens) / l.rate * float64(time.Second))
}

// acquireBulk takes one of id's bulk slots; release gives it back.
func (l *limiter) acquireBulk(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.get(id, l.now())
	if st.bulk >= l.bulk {
		return false
	}
	st.bulk++
	return true
}

func (l *limiter) releaseBulk(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.get(id, l.now()).bulk--
}

// held is the number of identities the limiter remembers.
func (l *limiter) held() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.ids)
}

// limited puts h under the limit of kind for the requesting identity; a
// request over it gets a 429 with Retry-After, counted by route.
func (s *Server) limited(kind limitKind, h http.HandlerFunc) http.HandlerFunc {
	l := s.limits
	if kind == limitRead && l.rate <= 0 || kind == limitBulk && l.bulk <= 0 {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		id := limitIdentity(r)
		var e *citygrid.Error
		var retry time.Duration
		switch kind {
		case limitRead:
			var ok bool
			if ok, retry = l.allowRead(id); ok {
				h(w, r)
				return
			}
			e = citygrid.Errorf(citygrid.CodeTooManyRequests,
				"too many requests: case lists, searches, exports and hotspots are limited to %g a second per client, in bursts of up to %g; retry in %s",
				l.rate, l.burst, retrySeconds(retry))
		case limitBulk:
			if l.acquireBulk(id) {
				defer l.releaseBulk(id)
				h(w, r)
				return
			}
			retry = bulkRetryAfter
			e = citygrid.Errorf(citygrid.CodeTooManyRequests,
				"too many bulk ingests at once: at most %d may stream per client; retry when one has ended (in %s, say)",
				l.bulk, retrySeconds(retry))
		}
		route := "unmatched"
		if rctx := chi.RouteContext(r.Context()); rctx != nil {
			route = rctx.RoutePattern()
		}
		s.metrics.rateLimited.WithLabelValues(route).Inc()
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter(retry)))
		writeProblem(w, r, e)
	}
}

// retryAfter is d in whole seconds for Retry-After: rounded up, at least 1.
func retryAfter(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

func retrySeconds(d time.Duration) string { return strconv.Itoa(retryAfter(d)) + " s" }

// idleBody is a request body cut when no byte of it arrives for idle:
// before each read it moves the connection's read deadline to idle from
// then, so that only the client's silence counts, never the time the
// server spends between reads. Moving the deadline would lift the HTTP
// server's ReadTimeout, the bound of the whole body, so the deadline never
// passes ReadTimeout from when the handler began.
type idleBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
	end  time.Time // the ReadTimeout's deadline; zero: none

	deadline time.Time
	done     bool // no more reads from the connection
	cut      bool // a read met the deadline
	capped   bool // that deadline was end
}

// cutIdleBody returns r's body, cut after s.cfg.BulkIdleTimeout of
// silence. When the connection's deadlines cannot be set, the body is
// returned as it is, and problem never reports a cut.
func (s *Server) cutIdleBody(w http.ResponseWriter, r *http.Request) *idleBody {
	b := &idleBody{ReadCloser: r.Body, idle: s.cfg.BulkIdleTimeout}
	if b.idle <= 0 {
		return b
	}
	if srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server); ok && srv.ReadTimeout > 0 {
		b.end = time.Now().Add(srv.ReadTimeout)
	}
	rc := http.NewResponseController(w)
	if err := rc.SetReadDeadline(b.next()); err != nil {
		s.logger.WarnContext(r.Context(), "bulk bodies cannot be cut when idle", "err", err)
		return b
	}
	b.rc = rc
	return b
}

// next is the deadline of a read starting now.
func (b *idleBody) next() time.Time {
	d := time.Now().Add(b.idle)
	b.capped = !b.end.IsZero() && b.end.Before(d)
	if b.capped {
		d = b.end
	}
	return d
}

func (b *idleBody) Read(p []byte) (int, error) {
	if b.rc == nil || b.done {
		// Once the body is in, net/http reads the connection in the
		// background, with no deadline, to notice a client that leaves: a
		// deadline set now (a reader may read again after EOF) would
		// cancel the request when it passed. After a cut, net/http keeps
		// the deadline anyway.
		return b.ReadCloser.Read(p)
	}
	b.deadline = b.next()
	_ = b.rc.SetReadDeadline(b.deadline)
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == nil:
	case errors.Is(err, os.ErrDeadlineExceeded) || !time.Now().Before(b.deadline):
		b.cut, b.done = true, true
	default:
		b.done = true // EOF, or the client's or the body's own failure
	}
	return n, err
}

// problem is the 408 of a cut body, nil if the body was not cut.
func (b *idleBody) problem() error {
	const after = "the cases stored before the cut stay stored (send the body again: cases already stored count as duplicates)"
	switch {
	case !b.cut:
		return nil
	case b.capped:
		return citygrid.Errorf(citygrid.CodeTimeout, "the body took longer to arrive than the server allows a request: it was cut; %s", after)
	}
	return citygrid.Errorf(citygrid.CodeTimeout, "no byte of the body arrived for %s: it was cut; %s", b.idle, after)
}
