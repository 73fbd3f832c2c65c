package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

func TestTileHTTP(t *testing.T) {
	a := newTileAPI(t)
	a.createCase("t1", "E0101", nearPoint)
	a.createCase("t2", "E0501", orb.Point{nearPoint[0] + 0.0002, nearPoint[1]})
	path := tilePath("cases", nearPoint, 16, "")

	plain := a.tile(path)
	if plain.status != http.StatusOK {
		t.Fatalf("GET %s = %d %s", path, plain.status, plain.body)
	}
	h := plain.header
	if ct := h.Get("Content-Type"); ct != "application/vnd.mapbox-vector-tile" {
		t.Errorf("Content-Type %q, want application/vnd.mapbox-vector-tile", ct)
	}
	if ce := h.Get("Content-Encoding"); ce != "" {
		t.Errorf("Content-Encoding %q without Accept-Encoding, want none", ce)
	}
	if cl := h.Get("Content-Length"); cl != fmt.Sprint(len(plain.body)) {
		t.Errorf("Content-Length %s, body %d bytes", cl, len(plain.body))
	}
	if cc := h.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("Cache-Control %q, want the default no-cache", cc)
	}
	if o := h.Get("Access-Control-Allow-Origin"); o != "*" {
		t.Errorf("Access-Control-Allow-Origin %q, want *", o)
	}
	if v := h.Get("Vary"); !strings.Contains(v, "Accept-Encoding") {
		t.Errorf("Vary %q, want Accept-Encoding", v)
	}
	etag := h.Get("ETag")
	if !regexp.MustCompile(`^"[^"]+"$`).MatchString(etag) {
		t.Fatalf("ETag %q, want a strong quoted tag", etag)
	}
	if fs := features(t, plain, "cases"); len(fs) != 2 {
		t.Errorf("%d cases in the tile, want 2", len(fs))
	}

	t.Run("gzip", func(t *testing.T) {
		for _, ae := range []string{"gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.5"} {
			r := a.tile(path, "Accept-Encoding", ae)
			if r.status != http.StatusOK || r.header.Get("Content-Encoding") != "gzip" {
				t.Fatalf("Accept-Encoding %q: %d, Content-Encoding %q, want 200 gzip", ae, r.status, r.header.Get("Content-Encoding"))
			}
			zr, err := gzip.NewReader(bytes.NewReader(r.body))
			if err != nil {
				t.Fatal(err)
			}
			raw, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(raw, plain.body) {
				t.Errorf("Accept-Encoding %q: body gunzips to %d bytes, not the %d-byte tile", ae, len(raw), len(plain.body))
			}
			if r.header.Get("ETag") != etag {
				t.Errorf("gzip ETag %s, plain %s", r.header.Get("ETag"), etag)
			}
		}
		for _, ae := range []string{"identity", "br", "gzip;q=0"} {
			if r := a.tile(path, "Accept-Encoding", ae); r.header.Get("Content-Encoding") != "" || !bytes.Equal(r.body, plain.body) {
				t.Errorf("Accept-Encoding %q: Content-Encoding %q, want the plain tile", ae, r.header.Get("Content-Encoding"))
			}
		}
	})

	t.Run("If-None-Match", func(t *testing.T) {
		for _, inm := range []string{etag, `"nope", ` + etag, "W/" + etag, `"a",W/` + etag + `,"b"`, "*"} {
			r := a.tile(path, "If-None-Match", inm)
			if r.status != http.StatusNotModified || len(r.body) != 0 {
				t.Errorf("If-None-Match %s = %d with %d bytes, want 304 and nothing", inm, r.status, len(r.body))
			}
			if r.header.Get("ETag") != etag {
				t.Errorf("304 ETag %q, want %s", r.header.Get("ETag"), etag)
			}
		}
		for _, inm := range []string{`"nope"`, strings.Trim(etag, `"`), `W/"x"`} {
			if r := a.tile(path, "If-None-Match", inm); r.status != http.StatusOK {
				t.Errorf("If-None-Match %s = %d, want 200", inm, r.status)
			}
		}
	})

	t.Run("empty tile", func(t *testing.T) {
		// The small district has too few resolution-8 cells for Gi*, the
		// hotspots' default at z12: res=10 keeps the battlemap drawable.
		for _, layer := range []string{"cases", "grids", "hotspots?res=10", "battlemap?res=10"} {
			layer, query, _ := strings.Cut(layer, "?")
			p := tilePath(layer, orb.Point{-40, 20}, 12, query) // the mid-Atlantic
			r := a.tile(p)
			if r.status != http.StatusNoContent || len(r.body) != 0 {
				t.Errorf("%s = %d with %d bytes, want 204", p, r.status, len(r.body))
			}
			if r.header.Get("ETag") == "" || r.header.Get("Access-Control-Allow-Origin") == "" {
				t.Errorf("%s: 204 without ETag or CORS: %v", p, r.header)
			}
		}
	})

	t.Run("every layer and extension", func(t *testing.T) {
		for _, layer := range []string{"grids", "cases", "hotspots", "battlemap"} {
			for _, ext := range []string{"mvt", "pbf"} {
				p := strings.TrimSuffix(tilePath(layer, nearPoint, 14, ""), ".mvt") + "." + ext
				r := a.tile(p)
				if r.status != http.StatusOK && r.status != http.StatusNoContent {
					t.Errorf("%s = %d %s", p, r.status, r.body)
				}
			}
		}
	})
}

func TestTileBadRequests(t *testing.T) {
	a := newTileAPI(t)
	tests := []struct {
		path   string
		status int
		detail string
	}{
		{"/tiles/cases/1/2/0.mvt", 400, "x and y must be 0 to 1"},
		{"/tiles/cases/1/0/2.mvt", 400, "x and y must be 0 to 1"},
		{"/tiles/cases/0/0/1.mvt", 400, "x and y must be 0 to 0"},
		{"/tiles/cases/23/0/0.mvt", 400, "zoom 23"},
		{"/tiles/cases/99999/0/0.mvt", 400, "zoom"},
		{"/tiles/cases/-1/0/0.mvt", 400, "not a whole number"},
		{"/tiles/cases/1/-1/0.mvt", 400, "not a whole number"},
		{"/tiles/cases/1/0/-1.mvt", 400, "not a whole number"},
		{"/tiles/cases/1.5/0/0.mvt", 400, "not a whole number"},
		{"/tiles/cases/1/1.5/0.mvt", 400, "not a whole number"},
		{"/tiles/cases/abc/0/0.mvt", 400, "not a whole number"},
		{"/tiles/cases/1/abc/0.mvt", 400, "not a whole number"},
		{"/tiles/cases/1/0/abc.mvt", 400, "not a whole number"},
		{"/tiles/cases/+1/0/0.mvt", 400, "not a whole number"},
		{"/tiles/cases/1/+0/0.mvt", 400, "not a whole number"},
		{"/tiles/cases/1/0/%200.mvt", 400, "not a whole number"},
		{"/tiles/cases/1/0/0x1.mvt", 400, "not a whole number"},
		{"/tiles/cases/1/0/99999999999999999999.mvt", 400, "not a whole number"},
		{"/tiles/cases/1/0/.mvt", 400, "not a whole number"},
		{"/tiles/cases/1/0/1.5.mvt", 400, "not a whole number"},
		{"/tiles/cases/1/0/0.png", 404, ".mvt or .pbf"},
		{"/tiles/cases/1/0/0", 404, ".mvt or .pbf"},
		{"/tiles/cases/1/0/0.MVT", 404, ".mvt or .pbf"},
		{"/tiles/streets/1/0/0.mvt", 404, "no tile layer"},
		{"/tiles/Cases/1/0/0.mvt", 404, "no tile layer"},
		{"/tiles/streets.json", 404, "no tile layer"},
		{"/tiles/cases.xml", 404, "TileJSON"},
		{"/tiles/cases/1/0/0.mvt?x=1", 400, `unknown query parameter "x"`},
		{"/tiles/cases/1/0/0.mvt?level=grid", 400, `unknown query parameter "level"`},
		{"/tiles/cases/1/0/0.mvt?res=9", 400, `unknown query parameter "res"`},
		{"/tiles/grids/1/0/0.mvt?status=reported", 400, `unknown query parameter "status"`},
		{"/tiles/cases/1/0/0.mvt?status=lost", 400, "status"},
		{"/tiles/cases/1/0/0.mvt?status=reported,", 400, "status"},
		{"/tiles/cases/1/0/0.mvt?status=reported&status=closed", 400, "given 2 times"},
		{"/tiles/cases/1/0/0.mvt?category=E0%25", 400, "category"},
		{"/tiles/cases/1/0/0.mvt?from=yesterday", 400, "from"},
		{"/tiles/cases/1/0/0.mvt?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z", 400, "from must be before to"},
		{"/tiles/cases/1/0/0.mvt?from=2026-11-01T00:00:00Z&to=2026-11-01T00:00:00Z", 400, "from must be before to"},
		{"/tiles/hotspots/1/0/0.mvt?res=16", 400, "res"},
		{"/tiles/hotspots/1/0/0.mvt?res=0", 400, "res"},
		{"/tiles/hotspots/1/0/0.mvt?res=nine", 400, "res"},
		{"/tiles/hotspots/1/0/0.mvt?k=0", 400, "k"},
		{"/tiles/hotspots/1/0/0.mvt?fdr=maybe", 400, "fdr"},
		{"/tiles/battlemap/1/0/0.mvt?level=block", 400, "level"},
		{"/tiles/cases.json?status=lost", 400, "status"},
		{"/tiles/cases.json?x=1", 400, "unknown query parameter"},
		{"/tiles?x=1", 400, "unknown query parameter"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := a.tile(tt.path)
			checkProblem(t, r, tt.status, tt.detail)
		})
	}
	t.Run("POST", func(t *testing.T) {
		checkProblem(t, a.post("/tiles/cases/1/0/0.mvt", "{}"), http.StatusMethodNotAllowed)
	})
}

// TestTileFilters: filters are normalised (order and repeats of statuses do
// not matter: one cache entry, one ETag) and change exactly what they
// should.
func TestTileFilters(t *testing.T) {
	a := newTileAPI(t)
	a.createCase("f1", "E0101", nearPoint)
	id2 := a.createCase("f2", "E0501", orb.Point{nearPoint[0] + 0.0002, nearPoint[1]})
	a.mustOK(a.patchCase(id2, `"1"`, `{"status":"accepted"}`))
	a.createCase("f3", "E0502", orb.Point{nearPoint[0], nearPoint[1] + 0.0002})

	count := func(query string) (int, string) {
		t.Helper()
		r := a.tile(tilePath("cases", nearPoint, 16, query))
		if r.status == http.StatusNoContent {
			return 0, r.header.Get("ETag")
		}
		return len(features(t, r, "cases")), r.header.Get("ETag")
	}
	for _, tt := range []struct {
		query string
		want  int
	}{
		{"", 3}, {"status=reported", 2}, {"status=accepted", 1}, {"status=closed", 0},
		{"category=E05", 2}, {"category=E0502", 1}, {"category=E09", 0},
		{"source=patrol", 3}, {"source=hotline", 0},
		{"from=2026-11-23T00:00:00Z", 3}, {"to=2026-11-23T00:00:00Z", 0},
	} {
		if got, _ := count(tt.query); got != tt.want {
			t.Errorf("?%s: %d cases, want %d", tt.query, got, tt.want)
		}
	}

	before := a.cacheEntries()
	n1, e1 := count("status=reported,accepted")
	n2, e2 := count("status=accepted,reported")
	n3, e3 := count("status=reported,accepted,reported")
	if n1 != 3 || n2 != n1 || n3 != n1 || e2 != e1 || e3 != e1 {
		t.Errorf("status orders: %d %s, %d %s, %d %s; want 3 cases and one ETag", n1, e1, n2, e2, n3, e3)
	}
	if after := a.cacheEntries(); after != before+1 {
		t.Errorf("three spellings of one filter made %d cache entries, want 1", after-before)
	}
}

// patchCase PATCHes a case with If-Match.
func (a *tileAPI) patchCase(id, ifMatch, body string) reply {
	a.t.Helper()
	req, err := http.NewRequest(http.MethodPatch, a.url+"/v1/cases/"+id, strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("If-Match", ifMatch)
	resp, err := a.client.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}
