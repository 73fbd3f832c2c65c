package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"

	"citygrid/geo"
	"citygrid/internal/dbtest"
	"citygrid/postgres"
)

// replica is one serve process, run in-process on the shared test
// database, with its own grid index, case index and tile cache.
type replica struct {
	t      *testing.T
	name   string
	base   string
	client *http.Client
	stdout *syncBuffer
	// token is the API key requests send (Authorization: Bearer), unless
	// the request sets its own Authorization header.
	token string
	stop  func() // cancels serve and waits for it; again is a no-op
}

// startReplica runs serve on a free port on dbURL until the test ends.
func startReplica(t *testing.T, name, dbURL string) *replica {
	t.Helper()
	return startServe(t, name, "-database-url", dbURL, "-log-level", "warn")
}

// startServe runs serve with args on a free port until the test ends (or
// stop) and returns once it listens. Its snapshots go to a directory of
// its own unless args name one: left in the checkout's default, they would
// outlive the test and seed the next one's indexes.
func startServe(t *testing.T, name string, args ...string) *replica {
	t.Helper()
	if !slices.Contains(args, "-snapshot-dir") {
		args = append([]string{"-snapshot-dir", t.TempDir()}, args...)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, append([]string{"serve", "-addr", "127.0.0.1:0", "-shutdown-grace", "5s"}, args...), &stdout, &stderr)
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case code := <-done:
				if code != 0 {
					t.Errorf("replica %s returned %d\nstderr: %s", name, code, stderr.String())
				}
			case <-time.After(10 * time.Second):
				t.Errorf("replica %s did not stop within 10 s of cancel", name)
			}
		})
	}
	t.Cleanup(stop)
	deadline := time.After(2 * time.Minute)
	for {
		if m := listening.FindStringSubmatch(stdout.String()); m != nil {
			return &replica{t: t, name: name, base: "http://" + m[1], client: &http.Client{Timeout: 10 * time.Second}, stdout: &stdout, stop: stop}
		}
		select {
		case code := <-done:
			done <- code
			t.Fatalf("replica %s returned %d before listening\nstderr: %s", name, code, stderr.String())
		case <-deadline:
			t.Fatalf("replica %s did not print its address in 2 minutes\nstderr: %s", name, stderr.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// call sends a request and returns the status and body.
func (r *replica) call(method, path, contentType, body string, header ...string) (int, []byte) {
	r.t.Helper()
	req, err := http.NewRequest(method, r.base+path, strings.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
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
	return resp.StatusCode, b
}

// mustCall is call that wants the given status.
func (r *replica) mustCall(want int, method, path, contentType, body string, header ...string) []byte {
	r.t.Helper()
	status, b := r.call(method, path, contentType, body, header...)
	if status != want {
		r.t.Fatalf("%s %s %s = %d %s, want %d", r.name, method, path, status, b, want)
	}
	return b
}

// tileCases fetches a cases tile and returns its cases' statuses by id.
func (r *replica) tileCases(path string) map[int64]string {
	r.t.Helper()
	status, b := r.call(http.MethodGet, path, "", "")
	switch status {
	case http.StatusNoContent:
		return map[int64]string{}
	case http.StatusOK:
	default:
		r.t.Fatalf("%s GET %s = %d %s", r.name, path, status, b)
	}
	ls, err := mvt.Unmarshal(b)
	if err != nil {
		r.t.Fatalf("%s %s: %v", r.name, path, err)
	}
	out := map[int64]string{}
	for _, l := range ls {
		for _, f := range l.Features {
			out[int64(f.Properties["id"].(float64))] = f.Properties["status"].(string)
		}
	}
	return out
}

// cacheHits reads the tile cache's hit count from the catalogue.
func (r *replica) cacheHits() int {
	r.t.Helper()
	var cat struct{ Cache struct{ Hits int } }
	if err := json.Unmarshal(r.mustCall(http.StatusOK, http.MethodGet, "/tiles", "", ""), &cat); err != nil {
		r.t.Fatal(err)
	}
	return cat.Cache.Hits
}

// poll calls ok until it holds or limit passes, and returns how long that
// took.
func poll(t *testing.T, limit time.Duration, what string, ok func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !ok() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not after %s", what, limit)
		}
		time.Sleep(time.Millisecond)
	}
	return time.Since(start)
}

// replicaGrids is a district of two unit grids in the mid-Atlantic, away
// from the smoke test's, with codes no other test uses.
const replicaGrids = `{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"code":"REPL-D","name":"副本区","level":"district","unit":"REPL-U1"},
  "geometry":{"type":"Polygon","coordinates":[[[-32,12],[-31.99,12],[-31.99,12.01],[-32,12.01],[-32,12]]]}},
 {"type":"Feature","properties":{"code":"REPL-S","name":"副本街道","level":"street","parent":"REPL-D"},
  "geometry":{"type":"Polygon","coordinates":[[[-32,12],[-31.99,12],[-31.99,12.01],[-32,12.01],[-32,12]]]}},
 {"type":"Feature","properties":{"code":"REPL-C","name":"副本社区","level":"community","parent":"REPL-S"},
  "geometry":{"type":"Polygon","coordinates":[[[-32,12],[-31.99,12],[-31.99,12.01],[-32,12.01],[-32,12]]]}},
 {"type":"Feature","properties":{"code":"REPL-G1","name":"副本网格一","level":"grid","parent":"REPL-C"},
  "geometry":{"type":"Polygon","coordinates":[[[-32,12],[-31.995,12],[-31.995,12.01],[-32,12.01],[-32,12]]]}},
 {"type":"Feature","properties":{"code":"REPL-G2","name":"副本网格二","level":"grid","parent":"REPL-C"},
  "geometry":{"type":"Polygon","coordinates":[[[-31.995,12],[-31.99,12],[-31.99,12.01],[-31.995,12.01],[-31.995,12]]]}}]}`

// replicaCleanup removes what the replica test stores in the shared
// database.
func replicaCleanup(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	for _, q := range []string{
		`DELETE FROM case_events WHERE case_id IN (SELECT id FROM cases WHERE external_id LIKE 'repl-%')`,
		`DELETE FROM cases WHERE external_id LIKE 'repl-%'`,
		`DELETE FROM grids WHERE code LIKE 'REPL-%'`,
		`DELETE FROM units WHERE code LIKE 'REPL-%'`,
	} {
		if _, err := pool.Exec(context.Background(), q); err != nil {
			t.Error("replica cleanup:", err)
		}
	}
}

// listeners counts the database sessions whose last statement was LISTEN
// on channel.
func listeners(t *testing.T, pool *pgxpool.Pool, channel string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity WHERE query = 'LISTEN ' || $1`, channel).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestReplicasNeverServeStale runs two serve processes on one database: a
// case created, changed or bulk-ingested through A shows in B's tiles
// (which B had cached) within 5 s, and once B serves the change it never
// serves the old tile again.
// startPair starts replicas A and B and checks that both listen on both
// notification channels (serve listens before it loads and prints its
// address; a notification sent before then would be lost).
func startPair(t *testing.T, pool *pgxpool.Pool, dbURL string) (a, b *replica) {
	t.Helper()
	before := map[string]int{}
	for _, ch := range []string{postgres.GridsChannel, postgres.ChangesChannel} {
		before[ch] = listeners(t, pool, ch)
	}
	a = startReplica(t, "A", dbURL)
	b = startReplica(t, "B", dbURL)
	a.token = adminKey(t, "-database-url", dbURL)
	b.token = a.token
	for ch, n := range before {
		poll(t, 5*time.Second, "both replicas listening on "+ch, func() bool { return listeners(t, pool, ch) >= n+2 })
	}
	return a, b
}

func TestReplicasNeverServeStale(t *testing.T) {
	t.Setenv("CITYGRID_DEMO", "")
	dbURL := dbtest.URL(t)
	pool := dbtest.Pool(t)
	replicaCleanup(t, pool) // leftovers of an interrupted run
	t.Cleanup(func() { replicaCleanup(t, pool) })

	a, b := startPair(t, pool, dbURL)

	const limit = 5 * time.Second
	a.mustCall(http.StatusOK, http.MethodPost, "/v1/units", "application/json", `{"code":"REPL-U1","name":"副本单位","kind":"test"}`)
	a.mustCall(http.StatusOK, http.MethodPost, "/v1/grids/import", "application/json", replicaGrids)
	took := poll(t, limit, "B locates in the grids imported through A", func() bool {
		status, body := b.call(http.MethodGet, "/v1/locate?lng=-31.9975&lat=12.005", "", "")
		return status == http.StatusOK && bytes.Contains(body, []byte(`"REPL-G1"`))
	})
	t.Logf("grid import through A reached B's index in %s", took)

	p := orb.Point{-31.9972, 12.0043}
	tile := geo.TilesAt(p, 16, 4096, 0)[0]
	path := fmt.Sprintf("/tiles/cases/%d/%d/%d.mvt", tile.Z, tile.X, tile.Y)
	create := func(r *replica, extID string, at orb.Point) int64 {
		t.Helper()
		body := r.mustCall(http.StatusCreated, http.MethodPost, "/v1/cases", "application/json",
			fmt.Sprintf(`{"source":"patrol","external_id":%q,"category":"E0101","location":[%v,%v]}`, extID, at[0], at[1]))
		var f struct{ Properties struct{ ID string } }
		if err := json.Unmarshal(body, &f); err != nil {
			t.Fatal(err)
		}
		var id int64
		if _, err := fmt.Sscan(f.Properties.ID, &id); err != nil {
			t.Fatalf("case id %q: %v", f.Properties.ID, err)
		}
		return id
	}

	id := create(a, "repl-1", p)
	took = poll(t, limit, "B's tile shows the case created through A", func() bool { return b.tileCases(path)[id] == "reported" })
	t.Logf("a case created through A reached B's tile in %s", took)

	// B has the tile cached now: a second request is a hit.
	hits := b.cacheHits()
	if got := b.tileCases(path); got[id] != "reported" {
		t.Fatalf("B's tile: %v", got)
	}
	if b.cacheHits() != hits+1 {
		t.Errorf("B's second request for the tile was not a cache hit")
	}

	// Change the case through A; B must follow, and never go back.
	start := time.Now()
	a.mustCall(http.StatusOK, http.MethodPatch, fmt.Sprintf("/v1/cases/%d", id), "application/json", `{"status":"accepted"}`, "If-Match", `"1"`)
	patched := time.Since(start)
	if got := a.tileCases(path); got[id] != "accepted" {
		t.Errorf("A's own tile after its PATCH: %v, want the case accepted", got)
	}
	polls := 0
	took = poll(t, limit, "B's tile shows the status changed through A", func() bool {
		polls++
		return b.tileCases(path)[id] == "accepted"
	})
	t.Logf("a status change through A (PATCH took %s) reached B's tile %s after the PATCH returned (%d polls)", patched.Round(time.Microsecond), took.Round(time.Microsecond), polls)
	for i := range 50 {
		if got := b.tileCases(path)[id]; got != "accepted" {
			t.Fatalf("poll %d after B served the change: B serves the case as %q again", i+1, got)
		}
		time.Sleep(time.Millisecond)
	}

	// A second case in the same tile, then a bulk ingest into it.
	id2 := create(a, "repl-2", orb.Point{p[0] + 0.0003, p[1]})
	took = poll(t, limit, "B's tile shows a second case created through A", func() bool { return b.tileCases(path)[id2] == "reported" })
	t.Logf("a second case through A reached B's tile in %s", took)

	const bulk = 25
	var nd strings.Builder
	for i := range bulk {
		fmt.Fprintf(&nd, `{"source":"patrol","external_id":"repl-bulk-%d","category":"E0101","location":[%v,%v]}`+"\n", i, p[0]+float64(i%5)*0.0002, p[1]+float64(i/5)*0.0002)
	}
	var res struct{ Accepted int }
	if err := json.Unmarshal(a.mustCall(http.StatusOK, http.MethodPost, "/v1/cases/bulk", "application/x-ndjson", nd.String()), &res); err != nil || res.Accepted != bulk {
		t.Fatalf("bulk ingest through A accepted %d (%v), want %d", res.Accepted, err, bulk)
	}
	want := 2 + bulk
	for _, r := range []*replica{b, a} {
		took = poll(t, limit, r.name+"'s tile shows the bulk ingest through A", func() bool { return len(r.tileCases(path)) == want })
		t.Logf("a bulk ingest of %d cases through A reached %s's tile in %s", bulk, r.name, took)
		if got := r.tileCases(path); got[id] != "accepted" || got[id2] != "reported" {
			t.Errorf("%s's tile after the bulk reload: case %d %q, case %d %q", r.name, id, got[id], id2, got[id2])
		}
	}
	for i := range 20 {
		if n := len(b.tileCases(path)); n != want {
			t.Fatalf("poll %d after B served the bulk ingest: %d cases, want %d", i+1, n, want)
		}
		time.Sleep(time.Millisecond)
	}
}
