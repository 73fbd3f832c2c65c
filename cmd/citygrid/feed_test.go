package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"citygrid/caseindex"
	"citygrid/geo"
	"citygrid/grid"
	"citygrid/internal/app"
	"citygrid/internal/dbtest"
	"citygrid/postgres"
)

// TestChangeFeedBetweenReplicas runs two serve processes on one database:
// a bulk ingest through A shows in A's tiles, hotspots and source counts
// as soon as it replies (no reload); B, asked with the reply's
// Citygrid-Position, answers only once it has applied it, and then shows
// it; a position nobody reached is a 503 with Retry-After after 2 s, a
// malformed one a 400; and a follower whose notification connection is
// killed misses nothing.
func TestChangeFeedBetweenReplicas(t *testing.T) {
	t.Setenv("CITYGRID_DEMO", "")
	dbURL := dbtest.URL(t)
	pool := dbtest.Pool(t)
	replicaCleanup(t, pool)
	t.Cleanup(func() { replicaCleanup(t, pool) })
	a, b := startPair(t, pool, dbURL)
	a.mustCall(http.StatusOK, http.MethodPost, "/v1/units", "application/json", `{"code":"REPL-U1","name":"副本单位","kind":"test"}`)
	a.mustCall(http.StatusOK, http.MethodPost, "/v1/grids/import", "application/json", replicaGrids)
	poll(t, 5*time.Second, "B locates in the grids imported through A", func() bool {
		s, body := b.call(http.MethodGet, "/v1/locate?lng=-31.9975&lat=12.005", "", "")
		return s == http.StatusOK && strings.Contains(string(body), "REPL-G1")
	})

	p := orb.Point{-31.9972, 12.0043}
	tile := geo.TilesAt(p, 16, 4096, 0)[0]
	path := fmt.Sprintf("/tiles/cases/%d/%d/%d.mvt", tile.Z, tile.X, tile.Y)
	if n := len(a.tileCases(path)); n != 0 { // cached empty: the ingest must drop it
		t.Fatalf("A's tile holds %d cases before the ingest", n)
	}
	// The window ends after now: a case reported this second counts.
	hotspots := fmt.Sprintf("/v1/hotspots?res=10&source=repl-feed&include_zero=false&from=%s&to=%s",
		time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	count := func(r *replica, hdr ...string) (int, string) {
		t.Helper()
		status, body, h := r.callHeader(http.MethodGet, hotspots, hdr...)
		if status != http.StatusOK {
			t.Fatalf("%s hotspots = %d %s", r.name, status, body)
		}
		var fc struct {
			Features []struct{ Properties struct{ Count float64 } }
		}
		if err := json.Unmarshal(body, &fc); err != nil {
			t.Fatal(err)
		}
		n := 0.0
		for _, f := range fc.Features {
			n += f.Properties.Count
		}
		return int(n), h.Get("Citygrid-Position")
	}
	const bulk = 30
	var nd strings.Builder
	for i := range bulk {
		fmt.Fprintf(&nd, `{"source":"repl-feed","external_id":"repl-feed-%d","category":"E0101","location":[%v,%v]}`+"\n", i, p[0]+float64(i%5)*0.0002, p[1]+float64(i/5)*0.0002)
	}
	status, body, h := a.callHeader(http.MethodPost, "/v1/cases/bulk", "Content-Type", "application/x-ndjson", "\x00body", nd.String())
	if status != http.StatusOK {
		t.Fatalf("bulk = %d %s", status, body)
	}
	pos := h.Get("Citygrid-Position")
	if _, err := strconv.ParseUint(pos, 10, 64); err != nil || pos == "0" {
		t.Fatalf("bulk reply's Citygrid-Position %q", pos)
	}
	if c := h.Get("Set-Cookie"); !strings.HasPrefix(c, "citygrid_position="+pos+";") || !strings.Contains(c, "HttpOnly") {
		t.Errorf("bulk reply's Set-Cookie %q, want citygrid_position=%s, HttpOnly", c, pos)
	}
	// Read-your-writes on A: at once, with no wait and no header.
	if n := len(a.tileCases(path)); n != bulk {
		t.Errorf("A's tile right after its bulk reply: %d cases, want %d", n, bulk)
	}
	if n, _ := count(a); n != bulk {
		t.Errorf("A's hotspots right after its bulk reply count %d cases, want %d", n, bulk)
	}
	if body := a.mustCall(http.StatusOK, http.MethodGet, "/v1/sources", "", ""); !strings.Contains(string(body), `"repl-feed"`) {
		t.Errorf("A's sources right after its bulk reply: %s", body)
	}
	// B with the position: answered once applied, and then it shows.
	start := time.Now()
	n, bpos := count(b, "Citygrid-Position", pos)
	if n != bulk {
		t.Errorf("B asked with the bulk's position %s counts %d cases, want %d", pos, n, bulk)
	}
	if bp, err := strconv.ParseUint(bpos, 10, 64); err != nil || bp < mustUint(t, pos) {
		t.Errorf("B's reply names position %q, want at least %s", bpos, pos)
	}
	t.Logf("B answered with the bulk's position after %s", time.Since(start).Round(time.Millisecond))

	// A position nobody reached: 503 with Retry-After after about 2 s.
	far, _ := strconv.ParseUint(pos, 10, 64)
	start = time.Now()
	status, body, h = b.callHeader(http.MethodGet, "/v1/sources", "Citygrid-Position", strconv.FormatUint(far+1_000_000_000, 10))
	if waited := time.Since(start); status != http.StatusServiceUnavailable || h.Get("Retry-After") == "" || waited < 1900*time.Millisecond || waited > 4*time.Second {
		t.Errorf("an unreached position: %d (Retry-After %q) after %s, want 503 with Retry-After after 2 s: %s", status, h.Get("Retry-After"), waited, body)
	}
	if !strings.Contains(h.Get("Content-Type"), "problem+json") {
		t.Errorf("503's Content-Type %q, want problem+json", h.Get("Content-Type"))
	}
	// The page's cookie: a write sets it; one nobody reached (a database
	// reset since) is waited for, then the request is answered anyway and
	// the cookie dropped.
	cookie := "citygrid_position=" + strconv.FormatUint(far+1_000_000_000, 10)
	start = time.Now()
	status, body, h = b.callHeader(http.MethodGet, "/v1/sources", "Cookie", cookie)
	if waited := time.Since(start); status != http.StatusOK || waited < 1900*time.Millisecond || !strings.Contains(h.Get("Set-Cookie"), "citygrid_position=;") {
		t.Errorf("an unreached position in the cookie: %d after %s, Set-Cookie %q; want 200 after 2 s and the cookie dropped: %s", status, waited, h.Get("Set-Cookie"), body)
	}
	for _, bad := range []string{"abc", "-1", "1.5", "99999999999999999999999"} {
		if status, body, _ := b.callHeader(http.MethodGet, "/v1/sources", "Citygrid-Position", bad); status != http.StatusBadRequest {
			t.Errorf("Citygrid-Position %q: %d %s, want 400", bad, status, body)
		}
	}

	// Kill both processes' notification connections: changes made while
	// they reconnect still arrive (the log is read, not the notifications).
	if _, err := pool.Exec(context.Background(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN ' || $1`, postgres.ChangesChannel); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i := range 3 {
		body := a.mustCall(http.StatusCreated, http.MethodPost, "/v1/cases", "application/json",
			fmt.Sprintf(`{"source":"repl-feed","external_id":"repl-feed-x%d","category":"E0101","location":[%v,%v]}`, i, p[0], p[1]))
		var f struct{ Properties struct{ ID string } }
		_ = json.Unmarshal(body, &f)
		id, _ := strconv.ParseInt(f.Properties.ID, 10, 64)
		ids = append(ids, id)
	}
	took := poll(t, 5*time.Second, "B's tile shows the cases created while its listener was killed", func() bool {
		got := b.tileCases(path)
		return got[ids[0]] != "" && got[ids[1]] != "" && got[ids[2]] != ""
	})
	t.Logf("cases created while B's listener was down reached B's tile in %s", took)
}

func mustUint(t *testing.T, s string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// callHeader sends a request with header pairs (a "\x00body" pair gives
// the body) and returns the status, body and reply headers.
func (r *replica) callHeader(method, path string, header ...string) (int, []byte, http.Header) {
	r.t.Helper()
	body := ""
	var hdr []string
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "\x00body" {
			body = header[i+1]
			continue
		}
		hdr = append(hdr, header[i], header[i+1])
	}
	req, err := http.NewRequest(method, r.base+path, strings.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := r.client.Do(req)
	if err != nil {
		r.t.Fatalf("%s %s %s: %v", r.name, method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatal(err)
	}
	return resp.StatusCode, b, resp.Header
}

// TestChangeFeedGapResyncs: a process whose place in the change log was
// pruned (it was away longer than the retention) loads every case anew,
// built aside and swapped in, says so in its log, and then shows what it
// missed.
func TestChangeFeedGapResyncs(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.Pool(t)
	t.Cleanup(func() {
		if _, err := pool.Exec(context.Background(), `DELETE FROM cases WHERE source = 'feed-gap'`); err != nil {
			t.Error(err)
		}
	})
	store := postgres.NewCaseStore(pool)
	var logs syncBuffer
	b := app.New(grid.NewIndex(grid.LocatorOptions{}), caseindex.New(), store, app.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	defer b.Live.Close()
	if err := b.Live.Load(ctx); err != nil {
		t.Fatal(err)
	}
	before := b.Cases.Len()
	// Away: another process stores a case, and the log is pruned past it.
	var id int64
	if err := pool.QueryRow(ctx, `INSERT INTO cases (source, external_id, category, geom, h3, status, reported_at, due_at)
VALUES ('feed-gap', 'gap-1', 'E0101', ST_SetSRID(ST_MakePoint(-35, 11), 4326), 0, 'reported', now(), now() + interval '3 days') RETURNING id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE case_changes SET at = now() - interval '2 days' WHERE case_id = $1`, id); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if n, err := store.PruneChanges(ctx, 24*time.Hour); err != nil {
			t.Fatal(err)
		} else if n > 0 {
			break
		}
		if time.Now().After(deadline) { // another test's open transaction holds the horizon
			t.Fatal("the row was not pruned within 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := b.Live.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "pruned from the log: loading every case anew") || !strings.Contains(logs.String(), "case index loaded") {
		t.Errorf("no log line of the resync:\n%s", logs.String())
	}
	if b.Cases.Len() != before+1 {
		t.Errorf("after the resync the index holds %d cases, want %d (the one missed)", b.Cases.Len(), before+1)
	}
}
