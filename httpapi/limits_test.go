package httpapi

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"citygrid"
	"citygrid/grid"
	"citygrid/postgres"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestLimiterRead(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)}
	l := newLimiter(Config{RateLimit: 2, RateBurst: 3, BulkConcurrency: 1}, clock.now)
	steps := []struct {
		name      string
		advance   time.Duration
		id        string
		wantOK    bool
		wantRetry time.Duration
	}{
		{"first of the burst", 0, "a", true, 0},
		{"second of the burst", 0, "a", true, 0},
		{"last of the burst", 0, "a", true, 0},
		{"over: a token in half a second", 0, "a", false, 500 * time.Millisecond},
		{"another client has its own bucket", 0, "b", true, 0},
		{"a quarter second refills half a token", 250 * time.Millisecond, "a", false, 250 * time.Millisecond},
		{"half a second refills one", 250 * time.Millisecond, "a", true, 0},
		{"which is spent", 0, "a", false, 500 * time.Millisecond},
		{"an hour refills the burst, no more", time.Hour, "a", true, 0},
		{"burst, 2", 0, "a", true, 0},
		{"burst, 3", 0, "a", true, 0},
		{"burst spent", 0, "a", false, 500 * time.Millisecond},
	}
	for _, st := range steps {
		clock.advance(st.advance)
		ok, retry := l.allowRead(st.id)
		if ok != st.wantOK || retry.Round(time.Millisecond) != st.wantRetry {
			t.Errorf("%s: allowRead(%q) = %v, %s; want %v, %s", st.name, st.id, ok, retry, st.wantOK, st.wantRetry)
		}
	}
}

func TestLimiterBulk(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)}
	l := newLimiter(Config{RateLimit: 1, RateBurst: 1, BulkConcurrency: 2}, clock.now)
	if !l.acquireBulk("a") || !l.acquireBulk("a") {
		t.Fatal("the first two bulk ingests were refused")
	}
	if l.acquireBulk("a") {
		t.Error("a third bulk ingest in flight was allowed")
	}
	if !l.acquireBulk("b") {
		t.Error("another client's bulk ingest was refused")
	}
	l.releaseBulk("a")
	if !l.acquireBulk("a") {
		t.Error("a bulk ingest after one ended was refused")
	}
}

// TestLimiterForgets: identities that owe nothing are forgotten, each
// minute and when many pile up; one with an ingest in flight or a bucket
// not yet refilled is kept.
func TestLimiterForgets(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)}
	l := newLimiter(Config{RateLimit: 0.001, RateBurst: 1, BulkConcurrency: 1}, clock.now)
	l.allowRead("spent")  // refilled in 1000 s
	l.acquireBulk("busy") // in flight
	l.acquireBulk("done")
	l.releaseBulk("done") // owes nothing
	clock.advance(limitSweepEvery)
	l.allowRead("new") // sweeps first
	for id, want := range map[string]bool{"spent": true, "busy": true, "done": false, "new": true} {
		if _, held := l.ids[id]; held != want {
			t.Errorf("after a minute: %q held %v, want %v", id, held, want)
		}
	}
	clock.advance(1001 * time.Second)
	l.releaseBulk("busy")
	clock.advance(limitSweepEvery)
	l.acquireBulk("last")
	if n := l.held(); n != 1 {
		t.Errorf("after the buckets refilled and the ingest ended: %d identities held, want 1 (the last): %v", n, l.ids)
	}
	// Many identities at once are swept without waiting for the minute.
	for i := range 3 * limitSweepSize {
		l.acquireBulk(strconv.Itoa(i))
		l.releaseBulk(strconv.Itoa(i))
	}
	if n := l.held(); n > limitSweepSize {
		t.Errorf("%d identities held, want at most %d", n, limitSweepSize)
	}
}

func TestLimitDefaults(t *testing.T) {
	s := fullServer()
	if s.limits.rate != 10 || s.limits.burst != 20 || s.limits.bulk != 2 || s.cfg.BulkIdleTimeout != 30*time.Second {
		t.Errorf("defaults: rate %g, burst %g, bulk %d, idle %s; want 10, 20, 2, 30s", s.limits.rate, s.limits.burst, s.limits.bulk, s.cfg.BulkIdleTimeout)
	}
}

func TestLimitIdentity(t *testing.T) {
	for addr, want := range map[string]string{"192.0.2.1:5555": "192.0.2.1", "[2001:db8::1]:443": "2001:db8::1", "192.0.2.9": "192.0.2.9"} {
		if got := limitIdentity(&http.Request{RemoteAddr: addr}); got != want {
			t.Errorf("limitIdentity(%q) = %q, want %q", addr, got, want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	for d, want := range map[time.Duration]int{0: 1, time.Millisecond: 1, time.Second: 1, 1001 * time.Millisecond: 2, 9900 * time.Millisecond: 10} {
		if got := retryAfter(d); got != want {
			t.Errorf("retryAfter(%s) = %d, want %d", d, got, want)
		}
	}
}

// idleServer serves a handler that reads the whole body through
// cutIdleBody and answers a cut with its 408; else it reads once more,
// waits for wait and says whether the request's context is still alive.
func idleServer(t *testing.T, idle, readTimeout, wait time.Duration) string {
	t.Helper()
	s := New(Config{BulkIdleTimeout: idle}, Deps{Index: grid.NewIndex(grid.LocatorOptions{}), Keys: (*postgres.KeyStore)(nil)})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := s.cutIdleBody(w, r)
		_, err := io.ReadAll(body)
		if p := body.problem(); err != nil && p != nil {
			writeProblem(w, r, p.(*citygrid.Error))
			return
		}
		// Readers may read again after EOF (bufio does).
		if n, again := body.Read(make([]byte, 1)); n != 0 || again != io.EOF {
			t.Errorf("a read after EOF = %d, %v", n, again)
		}
		time.Sleep(wait)
		fmt.Fprintf(w, "read error %v, context error %v", err, r.Context().Err())
	}))
	srv.Config.ReadTimeout = readTimeout
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// sendStalled sends a request with a body of 100 bytes of which only
// part arrive, and returns the reply.
func sendStalled(t *testing.T, addr, part string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", 100, part); err != nil {
		t.Fatal(err)
	}
	if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestIdleBodyKeepsReadTimeout: the idle deadline never outlasts the
// server's ReadTimeout, which still bounds the whole body (a 408 too).
func TestIdleBodyKeepsReadTimeout(t *testing.T) {
	addr := idleServer(t, 10*time.Second, 300*time.Millisecond, 0)
	start := time.Now()
	status, body := sendStalled(t, addr, "0123456789")
	if status != http.StatusRequestTimeout || !strings.Contains(body, "took longer to arrive than the server allows") {
		t.Errorf("status %d, want 408 for the server's read timeout: %s", status, body)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("408 after %s, want it after the read timeout of 300ms", elapsed)
	}
}

// TestIdleBodyAfterEOF: once the body is in, the idle deadline is gone:
// the handler may take longer than it to answer, and its request is not
// cancelled meanwhile.
func TestIdleBodyAfterEOF(t *testing.T) {
	addr := idleServer(t, 100*time.Millisecond, 0, 400*time.Millisecond)
	status, body := sendStalled(t, addr, strings.Repeat("x", 100))
	if status != http.StatusOK || body != "read error <nil>, context error <nil>" {
		t.Errorf("status %d: %s; want 200 with no error", status, body)
	}
}
