package httpapi_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"citygrid/access"
	"citygrid/caseindex"
	"citygrid/httpapi"
	"citygrid/internal/app"
	"citygrid/postgres"
)

// newLimitsAPI is a district server with cases, statistics and hotspots,
// under the limits of cfg.
func newLimitsAPI(t *testing.T, cfg httpapi.Config) *api {
	t.Helper()
	a := newAPIWith(t, cfg, func(d *httpapi.Deps, tx pgx.Tx) {
		cs := postgres.NewCaseStore(tx)
		d.Cases, d.Stats = cs, cs
		// No store for the app: a background reload would share the
		// test's transaction.
		d.App = app.New(d.Index, caseindex.New(), nil, app.Config{})
	})
	a.mustOK(a.post("/v1/units", unitsJSON))
	a.mustOK(a.post("/v1/grids/import", fcJSON(district())))
	return a
}

// client is whom the limits count a request against: an address (RealIP
// takes it from X-Forwarded-For) and an API key (empty: the test's admin
// key). Clients differ in both, so that the tests hold whichever the
// limits go by.
type client struct{ ip, token string }

// otherClient is a client other than the test's own, with a key of its
// own.
func (a *api) otherClient() client {
	a.t.Helper()
	return client{ip: "203.0.113.7", token: makeKey(a.t, a.tx, access.Key{Role: access.RoleAdmin, Name: "another client"})}
}

// as makes a request as c.
func (a *api) as(c client, method, path, contentType, body string) reply {
	a.t.Helper()
	req, err := http.NewRequest(method, a.url+path, strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("X-Forwarded-For", c.ip)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// checkNoServerErrors fails the test if the server answered any request
// with a 5xx, as its request metrics tell.
func (a *api) checkNoServerErrors() {
	a.t.Helper()
	for _, line := range strings.Split(string(a.get("/metrics").body), "\n") {
		if strings.HasPrefix(line, "citygrid_http_request_duration_seconds_count{") && strings.Contains(line, `status="5`) {
			a.t.Errorf("a request failed with a server error: %s", line)
		}
	}
}

// metric is the value of the metrics line that starts with prefix, -1 when
// there is none.
func (a *api) metric(prefix string) float64 {
	a.t.Helper()
	for _, line := range strings.Split(string(a.get("/metrics").body), "\n") {
		if rest, ok := strings.CutPrefix(line, prefix+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			if err != nil {
				a.t.Fatalf("metric %s: %v", line, err)
			}
			return v
		}
	}
	return -1
}

// caseLine is one valid NDJSON case in the district.
func caseLine(id string) string {
	return fmt.Sprintf(`{"source":"limits","external_id":%q,"category":"E0501","location":[%v,%v]}`+"\n", id, x0+0.005, y0+0.005)
}

// expensiveReads are the requests under the read limit, one per route
// (and CSV export), each a 200 when allowed.
var expensiveReads = []struct{ method, path, body string }{
	{"GET", fmt.Sprintf("/v1/cases?bbox=%v,%v,%v,%v", x0, y0, x0+0.02, y0+0.02), ""},
	{"GET", fmt.Sprintf("/v1/cases?bbox=%v,%v,%v,%v&format=csv", x0, y0, x0+0.02, y0+0.02), ""},
	{"POST", "/v1/cases/search", `{"polygon":` + mustJSON(polygon(rectCoords(x0, y0, x0+0.01, y0+0.01))) + `}`},
	{"GET", "/v1/hotspots", ""},
	{"GET", "/v1/hotspots/emerging", ""},
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestRateLimit(t *testing.T) {
	// A slow refill: nothing comes back while the test runs.
	a := newLimitsAPI(t, httpapi.Config{RateLimit: 0.1, RateBurst: len(expensiveReads)})
	me, other := client{ip: "198.51.100.1"}, a.otherClient()
	for _, q := range expensiveReads {
		if r := a.as(me, q.method, q.path, "application/json", q.body); r.status != http.StatusOK {
			t.Fatalf("%s %s within the burst: status %d: %s", q.method, q.path, r.status, r.body)
		}
	}
	// The routes share one bucket: spent, every one of them refuses.
	for _, q := range expensiveReads {
		r := a.as(me, q.method, q.path, "application/json", q.body)
		checkProblem(t, r, http.StatusTooManyRequests, "too many requests", "0.1 a second", "retry in")
		if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 || s > 10 {
			t.Errorf("%s %s: Retry-After %q, want whole seconds from 1 to 10", q.method, q.path, r.header.Get("Retry-After"))
		}
	}
	// Another client has a bucket of its own, and cheap routes are not
	// limited.
	for _, q := range expensiveReads {
		if r := a.as(other, q.method, q.path, "application/json", q.body); r.status != http.StatusOK {
			t.Errorf("%s %s from another client: status %d, want 200: %s", q.method, q.path, r.status, r.body)
		}
	}
	if r := a.as(me, "GET", "/v1/statuses", "", ""); r.status != http.StatusOK {
		t.Errorf("GET /v1/statuses of a limited client: status %d, want 200", r.status)
	}
	for _, route := range []string{"/v1/cases", "/v1/cases/search", "/v1/hotspots", "/v1/hotspots/emerging"} {
		want := 1.0
		if route == "/v1/cases" {
			want = 2 // the list and its CSV export
		}
		if got := a.metric(`citygrid_rate_limited_total{route="` + route + `"}`); got != want {
			t.Errorf("citygrid_rate_limited_total{route=%q} = %v, want %v", route, got, want)
		}
	}
	a.checkNoServerErrors()
}

// bulkStream is a bulk ingest sent by hand, chunk by chunk, on its own
// connection.
type bulkStream struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

// openBulk starts a bulk ingest on a's server with the given extra header
// lines (each ending in \r\n); t is the (sub)test that sends it.
func openBulk(t *testing.T, a *api, contentType, header string) *bulkStream {
	t.Helper()
	u, err := url.Parse(a.url)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_, err = fmt.Fprintf(conn, "POST /v1/cases/bulk HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\n%s\r\n", u.Host, contentType, header)
	if err != nil {
		t.Fatal(err)
	}
	return &bulkStream{t: t, conn: conn, br: bufio.NewReader(conn)}
}

// write sends raw bytes of the request.
func (s *bulkStream) write(raw string) {
	s.t.Helper()
	if _, err := io.WriteString(s.conn, raw); err != nil {
		s.t.Fatal(err)
	}
}

// chunk sends data as one chunk of a chunked body.
func (s *bulkStream) chunk(data string) {
	s.t.Helper()
	s.write(fmt.Sprintf("%x\r\n%s\r\n", len(data), data))
}

// response reads the next response, 1xx ones included.
func (s *bulkStream) response(wait time.Duration) reply {
	s.t.Helper()
	if err := s.conn.SetReadDeadline(time.Now().Add(wait)); err != nil {
		s.t.Fatal(err)
	}
	resp, err := http.ReadResponse(s.br, nil)
	if err != nil {
		s.t.Fatalf("no response within %s: %v", wait, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

func TestBulkConcurrency(t *testing.T) {
	a := newLimitsAPI(t, httpapi.Config{})
	other := a.otherClient()
	// Two ingests stream: each has read the start of its body (the
	// server asks for it with 100 Continue once the handler reads).
	var streams []*bulkStream
	for i := range 2 {
		s := openBulk(t, a, "application/x-ndjson", "Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n")
		if r := s.response(5 * time.Second); r.status != http.StatusContinue {
			t.Fatalf("stream %d: status %d, want 100: %s", i, r.status, r.body)
		}
		s.chunk(caseLine(fmt.Sprintf("stream-%d", i)))
		streams = append(streams, s)
	}
	r := a.do("POST", "/v1/cases/bulk", "application/x-ndjson", strings.NewReader(caseLine("third")))
	checkProblem(t, r, http.StatusTooManyRequests, "at most 2", "retry")
	if got := r.header.Get("Retry-After"); got != "5" {
		t.Errorf("Retry-After %q, want 5", got)
	}
	// Another client is not held up.
	var res struct{ Accepted int }
	r = a.as(other, "POST", "/v1/cases/bulk", "application/x-ndjson", caseLine("other"))
	if a.mustOK(r).decode(t, &res); res.Accepted != 1 {
		t.Errorf("another client's bulk: %s, want 1 accepted", r.body)
	}
	for i, s := range streams {
		s.write("0\r\n\r\n")
		r := s.response(10 * time.Second)
		if a.mustOK(r).decode(t, &res); res.Accepted != 1 {
			t.Errorf("stream %d: %s, want 1 accepted", i, r.body)
		}
	}
	// The slots are free again: they are given back just after the reply
	// is written, so allow a moment.
	deadline := time.Now().Add(2 * time.Second)
	for {
		r = a.do("POST", "/v1/cases/bulk", "application/x-ndjson", strings.NewReader(caseLine("fourth")))
		if r.status != http.StatusTooManyRequests || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	a.mustOK(r)
	if got := a.metric(`citygrid_rate_limited_total{route="/v1/cases/bulk"}`); got < 1 {
		t.Errorf("citygrid_rate_limited_total{route=/v1/cases/bulk} = %v, want at least 1", got)
	}
	a.checkNoServerErrors()
}

// TestBulkIdleTimeout stalls bulk bodies in every way: each ends in a 408
// soon after the idle timeout, and the connection is not held.
func TestBulkIdleTimeout(t *testing.T) {
	const idle = 200 * time.Millisecond
	a := newLimitsAPI(t, httpapi.Config{BulkIdleTimeout: idle})
	half := caseLine("half")[:30]
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = io.WriteString(zw, caseLine("c")+caseLine("d"))
	_ = zw.Close()
	tests := []struct {
		name, contentType, header, body string
	}{
		{"chunked, half a line", "application/x-ndjson", "Transfer-Encoding: chunked\r\n",
			fmt.Sprintf("%x\r\n%s\r\n", len(caseLine("a")+half), caseLine("a")+half)},
		{"with a length, half a line", "application/x-ndjson", "Content-Length: 100000\r\n", caseLine("b") + half},
		{"nothing of the body", "application/x-ndjson", "Content-Length: 100\r\n", ""},
		{"half a CSV header", "text/csv", "Content-Length: 100\r\n", "source,external_id,cat"},
		{"half of a gzip body", "application/x-ndjson", fmt.Sprintf("Content-Encoding: gzip\r\nContent-Length: %d\r\n", gz.Len()), gz.String()[:gz.Len()/2]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openBulk(t, a, tt.contentType, tt.header)
			s.write(tt.body)
			start := time.Now()
			r := s.response(idle + 5*time.Second)
			elapsed := time.Since(start)
			checkProblem(t, r, http.StatusRequestTimeout, "no byte of the body arrived for 200ms")
			if elapsed < idle || elapsed > idle+3*time.Second {
				t.Errorf("408 after %s, want soon after %s", elapsed, idle)
			}
		})
	}
	a.checkNoServerErrors()
}

// TestBulkIdleTimeoutKeepsStored: a stall after a batch was stored cuts the
// ingest, and the batch stays stored.
func TestBulkIdleTimeoutKeepsStored(t *testing.T) {
	// Long enough for the batch to be stored before the cut.
	const idle = time.Second
	a := newLimitsAPI(t, httpapi.Config{BulkIdleTimeout: idle, MaxImportBytes: 4 << 20})
	const batch = 5000 // cases.ingestBatch: the first batch is stored while the reader waits
	var body strings.Builder
	for i := range batch + 1 {
		body.WriteString(caseLine("kept-" + strconv.Itoa(i)))
	}
	body.WriteString(caseLine("half")[:30])
	s := openBulk(t, a, "application/x-ndjson", "Content-Length: 10000000\r\n")
	s.write(body.String())
	checkProblem(t, s.response(idle+10*time.Second), http.StatusRequestTimeout, "no byte of the body arrived for 1s", "stay stored")
	var stored int
	if err := a.tx.QueryRow(context.Background(), `SELECT count(*) FROM cases WHERE source = 'limits'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored < batch {
		t.Errorf("%d cases stored after the cut, want the first batch of %d", stored, batch)
	}
	a.checkNoServerErrors()
}
