package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"citygrid/access"
	"citygrid/caseindex"
	"citygrid/grid"
	"citygrid/httpapi"
	"citygrid/internal/app"
	"citygrid/internal/dbtest"
	"citygrid/postgres"
)

// tokenAuthn accepts the tokens it holds: keys without a key table, for
// servers on an isolated schema.
type tokenAuthn map[string]*access.Principal

func (a tokenAuthn) Authenticate(_ context.Context, token string) (*access.Principal, error) {
	if p, ok := a[token]; ok {
		return p, nil
	}
	return nil, access.ErrUnauthenticated
}

// committedAPI is the small district on a pool of its own schema
// (dbtest.Isolated): requests commit and run side by side as in
// production, with the live hub and case index every change goes through.
type committedAPI struct {
	url  string
	pool *pgxpool.Pool
	app  *app.App
}

const (
	loadAdmin = "admin-token"
	loadApp   = "app-token" // an integration key of source "app"
)

// withLive adds the application layer (the live hub, the case index, the
// tiles); without it a change reaches no index, which is cheaper: the
// hub's stale-tile computation costs more than the rest of a submission
// (go test -cpuprofile: tiles.StaleAfter, 60 % of the CPU of 2,000 of them).
func newCommittedAPI(tb testing.TB, withLive bool) *committedAPI {
	tb.Helper()
	pool := dbtest.Isolated(tb, "grids", "units", "categories", "settings", "cases", "case_events", "audit_log")
	index := grid.NewIndex(grid.LocatorOptions{})
	cs := postgres.NewCaseStore(pool)
	var application *app.App
	if withLive {
		application = app.New(index, caseindex.New(), nil, app.Config{})
		tb.Cleanup(application.Live.Close)
	}
	d := httpapi.Deps{Grids: postgres.NewGridStore(pool), Cases: cs, Stats: cs, Index: index, App: application,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Authn: tokenAuthn{
			loadAdmin: {Name: "admin", Role: access.RoleAdmin},
			loadApp:   {Name: "citizen app", Role: access.RoleIntegration, Source: "app"},
		}}
	srv := httptest.NewServer(httpapi.New(httpapi.Config{RateLimit: -1, MaxImportBytes: 64 << 20}, d))
	tb.Cleanup(srv.Close)
	a := &committedAPI{url: srv.URL, pool: pool, app: application}
	for path, body := range map[string]string{"/v1/units": unitsJSON} {
		a.mustPost(tb, path, "application/json", body)
	}
	a.mustPost(tb, "/v1/grids/import", "application/json", fcJSON(district()))
	return a
}

func (a *committedAPI) mustPost(tb testing.TB, path, contentType, body string) {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodPost, a.url+path, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+loadAdmin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		tb.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
	}
}

// submitConcurrently POSTs n requests at once with one api_key: n/2
// client ids, each sent twice. Every pair must get one id, every id a
// case of its own, and the store and the live case index must hold
// exactly n/2 cases.
func submitConcurrently(tb testing.TB, a *committedAPI, n int) {
	tb.Helper()
	submitAll(tb, a, n, "open311")
}

// submitAll is submitConcurrently through Open311 ("open311") or through
// POST /v1/cases ("v1", the same reports as JSON with the integration's
// bearer key), for a baseline in the same run.
func submitAll(tb testing.TB, a *committedAPI, n int, via string) {
	tb.Helper()
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 128, MaxIdleConnsPerHost: 128}}
	defer client.CloseIdleConnections()
	before := 0
	if a.app != nil {
		before = a.app.Cases.Len()
	}
	ids := make([]string, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			lat, lng := y0+0.0001+float64(i%97)*0.0002, x0+0.0001+float64(i%89)*0.0002
			extID := fmt.Sprintf("load-%d-%d", n, i/2)
			var req *http.Request
			if via == "v1" {
				body := fmt.Sprintf(`{"source":"app","external_id":%q,"category":"E0101","description":"load","location":[%v,%v]}`, extID, lng, lat)
				req, _ = http.NewRequest(http.MethodPost, a.url+"/v1/cases", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+loadApp)
			} else {
				form := url.Values{"api_key": {loadApp}, "service_code": {"E0101"}, "description": {"load"},
					"lat": {fmt.Sprint(lat)}, "long": {fmt.Sprint(lng)}}
				req, _ = http.NewRequest(http.MethodPost, a.url+"/open311/v2/requests.json", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Idempotency-Key", extID)
			}
			resp, err := client.Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
				errs <- fmt.Errorf("POST %d: %d %s", i, resp.StatusCode, b)
				return
			}
			field := `"service_request_id":"`
			if via == "v1" {
				field = `"id":"`
			}
			_, rest, _ := strings.Cut(string(b), field)
			ids[i], _, _ = strings.Cut(rest, `"`)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
	distinct := map[string]bool{}
	for i := 0; i < n; i += 2 {
		if ids[i] == "" || ids[i] != ids[i+1] {
			tb.Fatalf("client id %d: requests %q and %q, want one", i/2, ids[i], ids[i+1])
		}
		distinct[ids[i]] = true
	}
	if len(distinct) != n/2 {
		tb.Fatalf("%d client ids got %d requests", n/2, len(distinct))
	}
	var stored int
	if err := a.pool.QueryRow(context.Background(), `SELECT count(*) FROM cases WHERE source = 'app' AND external_id LIKE $1`, fmt.Sprintf("load-%d-%%", n)).Scan(&stored); err != nil {
		tb.Fatal(err)
	}
	if stored != n/2 {
		tb.Fatalf("%d cases stored, want %d", stored, n/2)
	}
	if a.app == nil {
		return
	}
	if got := a.app.Cases.Len() - before; got != n/2 {
		tb.Fatalf("the live case index gained %d cases, want %d", got, n/2)
	}
}

// TestOpen311ConcurrentSubmits: 2,000 POSTs at once with one key lose
// nothing and double nothing in the store (10,000 in
// BenchmarkOpen311ConcurrentSubmits, which checks the live case index
// too).
func TestOpen311ConcurrentSubmits(t *testing.T) {
	submitConcurrently(t, newCommittedAPI(t, false), 2000)
}

// BenchmarkOpen311ConcurrentSubmits sends 10,000 at once through Open311,
// then the same through POST /v1/cases, each on a fresh district with the
// live hub, and reports both rates and their ratio (Open311's time over
// /v1's).
func BenchmarkOpen311ConcurrentSubmits(b *testing.B) {
	const n = 10000
	var spent [2]time.Duration
	for b.Loop() {
		for i, via := range []string{"open311", "v1"} {
			a := newCommittedAPI(b, true)
			start := time.Now()
			submitAll(b, a, n, via)
			spent[i] += time.Since(start)
		}
	}
	b.ReportMetric(float64(b.N*n)/spent[0].Seconds(), "open311_posts/s")
	b.ReportMetric(float64(b.N*n)/spent[1].Seconds(), "v1_posts/s")
	b.ReportMetric(float64(spent[0])/float64(spent[1]), "ratio")
}

// BenchmarkOpen311RequestsPage compares a GET requests page of 1,000 with
// the equivalent /v1/cases query (the district, the same window, 1,000
// newest first) in the same run, taking turns; ratio is Open311's time
// over /v1's.
func BenchmarkOpen311RequestsPage(b *testing.B) {
	a := newCommittedAPI(b, false)
	var nd strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&nd, `{"source":"bench","external_id":"b%d","category":"E0101","description":"bench case %d","location":[%v,%v]}`+"\n",
			i, i, x0+0.0001+float64(i%197)*0.0001, y0+0.0001+float64(i%193)*0.0001)
	}
	a.mustPost(b, "/v1/cases/bulk", "application/x-ndjson", nd.String())
	now := time.Now().UTC()
	from := url.QueryEscape(now.Add(-89 * 24 * time.Hour).Format(time.RFC3339))
	to := url.QueryEscape(now.Add(time.Minute).Format(time.RFC3339))
	paths := [2]string{
		"/open311/v2/requests.json?page_size=1000&start_date=" + from + "&end_date=" + to,
		"/v1/cases?grid=D&limit=1000&from=" + from + "&to=" + to,
	}
	get := func(path string) time.Duration {
		req, _ := http.NewRequest(http.MethodGet, a.url+path, nil)
		req.Header.Set("Authorization", "Bearer "+loadAdmin)
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if n := strings.Count(string(body), `"service_request_id"`) + strings.Count(string(body), `"type":"Feature"`); resp.StatusCode != http.StatusOK || n != 1000 {
			b.Fatalf("GET %s: %d, %d requests: %.200s", path, resp.StatusCode, n, body)
		}
		return time.Since(start)
	}
	var spent [2]time.Duration
	n := 0
	for b.Loop() {
		for i, p := range paths {
			spent[i] += get(p)
		}
		n++
	}
	b.ReportMetric(float64(spent[0].Microseconds())/float64(n)/1000, "open311_ms/page")
	b.ReportMetric(float64(spent[1].Microseconds())/float64(n)/1000, "v1_ms/page")
	b.ReportMetric(float64(spent[0])/float64(spent[1]), "ratio")
}
