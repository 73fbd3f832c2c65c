package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
)

// TestTileInvalidationThroughAPI: a case changed through the API changes
// its tile's ETag (and content) and leaves a far tile's as it was, served
// from the cache.
func TestTileInvalidationThroughAPI(t *testing.T) {
	a := newTileAPI(t)
	id := a.createCase("i1", "E0101", nearPoint)
	a.createCase("i2", "E0101", farPoint)
	near, far := tilePath("cases", nearPoint, 16, ""), tilePath("cases", farPoint, 16, "")
	if near == far {
		t.Fatal("the near and far points share a tile")
	}
	r1, f1 := a.tile(near), a.tile(far)
	if fs := features(t, r1, "cases"); len(fs) != 1 || fs[0].Properties["status"] != "reported" {
		t.Fatalf("near tile before: %v", fs)
	}
	features(t, f1, "cases")
	var stats struct{ Cache struct{ Hits, Misses int } }
	a.mustOK(a.get("/tiles")).decode(t, &stats)
	hitsBefore := stats.Cache.Hits

	if r := a.patchCase(id, `"1"`, `{"status":"accepted"}`); r.status != http.StatusOK {
		t.Fatalf("PATCH = %d %s", r.status, r.body)
	}
	r2, f2 := a.tile(near), a.tile(far)
	if r2.header.Get("ETag") == r1.header.Get("ETag") {
		t.Errorf("near tile ETag %s unchanged by the PATCH", r1.header.Get("ETag"))
	}
	if fs := features(t, r2, "cases"); len(fs) != 1 || fs[0].Properties["status"] != "accepted" {
		t.Errorf("near tile after: %v, want the case accepted", fs)
	}
	if f2.header.Get("ETag") != f1.header.Get("ETag") {
		t.Errorf("far tile ETag %s → %s, want it unchanged", f1.header.Get("ETag"), f2.header.Get("ETag"))
	}
	a.mustOK(a.get("/tiles")).decode(t, &stats)
	if stats.Cache.Hits != hitsBefore+1 {
		t.Errorf("cache hits %d → %d over the near and far tiles, want one (the far tile's)", hitsBefore, stats.Cache.Hits)
	}
	// A revalidation with the old ETag gets the new tile, with the new one a 304.
	if r := a.tile(near, "If-None-Match", r1.header.Get("ETag")); r.status != http.StatusOK {
		t.Errorf("If-None-Match with the old ETag = %d, want 200", r.status)
	}
	if r := a.tile(near, "If-None-Match", r2.header.Get("ETag")); r.status != http.StatusNotModified {
		t.Errorf("If-None-Match with the new ETag = %d, want 304", r.status)
	}
}

// TestTileCancelledClients: clients that give up mid-request leave nothing
// broken: the same tiles then come back whole, equal to what an
// undisturbed request gets, and the server logs no error. Two kinds of
// giving up, on tiles nobody has asked for yet: contexts cancelled at
// staggered moments (before, during or after the exchange: tiles render
// in well under a millisecond), and raw connections that send a whole
// request and hang up at once, so that the server surely sees it.
func TestTileCancelledClients(t *testing.T) {
	a := newTileAPI(t)
	for i := range 30 {
		a.createCase(fmt.Sprintf("c%d", i), "E0101", orb.Point{x0 + 0.0005 + float64(i%6)*0.003, y0 + 0.0005 + float64(i/6)*0.004})
	}
	var paths []string
	for _, layer := range []string{"cases", "hotspots", "battlemap"} {
		for z := 12; z <= 16; z++ {
			paths = append(paths, tilePath(layer, orb.Point{x0 + 0.01, y0 + 0.01}, z, ""))
		}
	}
	// The small district has too few cells for Gi* at the hotspots'
	// default resolutions below z15: ask for resolution 10.
	for i, p := range paths {
		if !strings.Contains(p, "/cases/") {
			paths[i] = p + "?res=10"
		}
	}
	var wg sync.WaitGroup
	for i, p := range paths {
		for k := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(k*i*50)*time.Microsecond)
				defer cancel()
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, a.url+p, nil)
				if resp, err := a.client.Do(req); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}()
		}
	}
	for _, p := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.Dial("tcp", strings.TrimPrefix(a.url, "http://"))
			if err != nil {
				t.Error(err)
				return
			}
			fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n", p)
			conn.Close()
		}()
	}
	wg.Wait()
	for _, p := range paths {
		r := a.tile(p)
		if r.status != http.StatusOK {
			t.Errorf("%s after cancelled clients = %d %s", p, r.status, r.body)
			continue
		}
		if _, err := mvt.Unmarshal(r.body); err != nil {
			t.Errorf("%s after cancelled clients: %v", p, err)
		}
		if again := a.tile(p); again.header.Get("ETag") != r.header.Get("ETag") || !bytes.Equal(again.body, r.body) {
			t.Errorf("%s: the tile changed between two undisturbed requests", p)
		}
	}
	if r := a.get("/readyz"); r.status != http.StatusOK {
		t.Errorf("/readyz after cancelled clients = %d", r.status)
	}
	if strings.Contains(a.logs.String(), "level=ERROR") {
		t.Errorf("the server logged errors for cancelled clients:\n%s", a.logs.String())
	}
}

func TestTileMetrics(t *testing.T) {
	a := newTileAPI(t)
	a.createCase("m1", "E0101", nearPoint)
	p := tilePath("cases", nearPoint, 16, "")
	for range 3 {
		features(t, a.tile(p), "cases")
	}
	body := string(a.mustOK(a.get("/metrics")).body)
	for _, want := range []string{
		`citygrid_tile_requests_total{cache="miss",layer="cases",zoom="16"} 1`,
		`citygrid_tile_requests_total{cache="hit",layer="cases",zoom="16"} 2`,
		`citygrid_tile_duration_seconds_count{layer="cases",zoom="16"} 3`,
		`citygrid_tile_bytes_count{layer="cases",zoom="16"} 3`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		for _, line := range strings.Split(body, "\n") {
			if strings.HasPrefix(line, "citygrid_tile") {
				t.Log(line)
			}
		}
	}
}
