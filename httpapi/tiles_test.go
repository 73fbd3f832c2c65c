package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"

	"citygrid/caseindex"
	"citygrid/geo"
	"citygrid/grid"
	"citygrid/httpapi"
	"citygrid/internal/app"
	"citygrid/internal/dbtest"
	"citygrid/postgres"
)

// tileNow is the clock of the tile servers: tiles carry ages in hours, so
// a fixed clock keeps their bytes (and ETags) still.
var tileNow = time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)

// tileAPI is a server with the small district and a live case index on its
// own transaction, and a client that neither asks for nor undoes gzip by
// itself (http.DefaultClient does both).
type tileAPI struct {
	*api
	client *http.Client
	logs   *lockedBuffer // warnings and errors the server logged
}

// lockedBuffer is a bytes.Buffer for concurrent writers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newTileAPI(t *testing.T) *tileAPI {
	t.Helper()
	tx := dbtest.Tx(t)
	index := grid.NewIndex(grid.LocatorOptions{})
	cases := postgres.NewCaseStore(tx)
	logs := &lockedBuffer{}
	srv := httptest.NewServer(httpapi.New(httpapi.Config{MaxImportBytes: maxImportBytes}, httpapi.Deps{
		Grids: postgres.NewGridStore(tx), Cases: cases, Stats: cases, Index: index,
		App:    app.New(index, caseindex.New(), nil, app.Config{Now: func() time.Time { return tileNow }}), // no store: a background reload would share the test's transaction
		Now:    func() time.Time { return tileNow },
		Logger: slog.New(slog.NewTextHandler(io.MultiWriter(t.Output(), logs), &slog.HandlerOptions{Level: slog.LevelWarn})),
	}))
	t.Cleanup(srv.Close)
	a := &tileAPI{api: &api{t: t, url: srv.URL, tx: tx, index: index}, client: &http.Client{Transport: &http.Transport{DisableCompression: true}}, logs: logs}
	a.mustOK(a.post("/v1/units", unitsJSON))
	a.mustOK(a.post("/v1/grids/import", fcJSON(district())))
	return a
}

// createCase stores a case at p through the API and returns its id.
func (a *tileAPI) createCase(extID, category string, p orb.Point) string {
	a.t.Helper()
	r := a.post("/v1/cases", fmt.Sprintf(`{"source":"patrol","external_id":%q,"category":%q,"location":[%v,%v]}`, extID, category, p[0], p[1]))
	if r.status != http.StatusCreated {
		a.t.Fatalf("create case %s: %d %s", extID, r.status, r.body)
	}
	var f struct{ Properties struct{ ID string } }
	r.decode(a.t, &f)
	return f.Properties.ID
}

// tile GETs path with the given header pairs, through the plain client.
func (a *tileAPI) tile(path string, header ...string) reply {
	a.t.Helper()
	req, err := http.NewRequest(http.MethodGet, a.url+path, nil)
	if err != nil {
		a.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := a.client.Do(req)
	if err != nil {
		a.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// features decodes a 200 tile reply's layer.
func features(t *testing.T, r reply, layer string) []*geojson.Feature {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("tile status %d, want 200: %s", r.status, r.body)
	}
	ls, err := mvt.Unmarshal(r.body)
	if err != nil {
		t.Fatalf("tile does not decode: %v", err)
	}
	for _, l := range ls {
		if l.Name == layer {
			return l.Features
		}
	}
	return nil
}

// tilePath is the z16 cases tile holding p.
func tilePath(layer string, p orb.Point, z int, query string) string {
	t := geo.TilesAt(p, z, 4096, 0)[0]
	path := fmt.Sprintf("/tiles/%s/%d/%d/%d.mvt", layer, t.Z, t.X, t.Y)
	if query != "" {
		path += "?" + query
	}
	return path
}

// cacheEntries reads the tile cache's entry count from the catalogue.
func (a *tileAPI) cacheEntries() int {
	a.t.Helper()
	var cat struct{ Cache struct{ Entries int } }
	a.mustOK(a.get("/tiles")).decode(a.t, &cat)
	return cat.Cache.Entries
}

// Points of the small district: one in the south-east unit grid, one near
// the far (north-west) corner.
var (
	nearPoint = orb.Point{x0 + 0.015, y0 + 0.005}
	farPoint  = orb.Point{x0 + 0.001, y0 + 0.019}
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

func TestTileJSONAndCatalogue(t *testing.T) {
	a := newTileAPI(t)
	var tj struct {
		TileJSON     string     `json:"tilejson"`
		Tiles        []string   `json:"tiles"`
		MinZoom      int        `json:"minzoom"`
		MaxZoom      int        `json:"maxzoom"`
		Bounds       [4]float64 `json:"bounds"`
		Center       [3]float64 `json:"center"`
		VectorLayers []struct {
			ID     string            `json:"id"`
			Fields map[string]string `json:"fields"`
		} `json:"vector_layers"`
	}
	get := func(path string, header ...string) reply {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, a.url+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			if header[i] == "Host" {
				req.Host = header[i+1]
			} else {
				req.Header.Set(header[i], header[i+1])
			}
		}
		resp, err := a.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return reply{status: resp.StatusCode, header: resp.Header, body: b}
	}
	r := a.mustOK(get("/tiles/cases.json?status=reported", "Host", "maps.example.org:8443"))
	if !strings.HasPrefix(r.contentType(), "application/json") || r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("TileJSON Content-Type %q, CORS %q", r.contentType(), r.header.Get("Access-Control-Allow-Origin"))
	}
	r.decode(t, &tj)
	if tj.TileJSON != "3.0.0" || tj.MinZoom != 0 || tj.MaxZoom < 16 {
		t.Errorf("tilejson %q, zooms %d–%d", tj.TileJSON, tj.MinZoom, tj.MaxZoom)
	}
	if want := "http://maps.example.org:8443/tiles/cases/{z}/{x}/{y}.mvt?status=reported"; len(tj.Tiles) != 1 || tj.Tiles[0] != want {
		t.Errorf("tiles %q, want [%s]", tj.Tiles, want)
	}
	const eps = 1e-9
	b := tj.Bounds
	if b[0] < x0-eps || b[1] < y0-eps || b[2] > x0+0.02+eps || b[3] > y0+0.02+eps || b[0] >= b[2] || b[1] >= b[3] {
		t.Errorf("bounds %v, want inside the district [%v %v %v %v]", b, x0, y0, x0+0.02, y0+0.02)
	}
	if c := tj.Center; c[0] < b[0] || c[0] > b[2] || c[1] < b[1] || c[1] > b[3] || c[2] < 10 {
		t.Errorf("center %v outside bounds %v or zoomed out too far", c, b)
	}
	if len(tj.VectorLayers) != 1 || tj.VectorLayers[0].ID != "cases" {
		t.Fatalf("vector_layers %+v, want cases", tj.VectorLayers)
	}
	for _, f := range []string{"id", "status", "category", "priority", "overdue", "unit", "age_hours", "count", "h3"} {
		if tj.VectorLayers[0].Fields[f] == "" {
			t.Errorf("cases fields %v lack %q", tj.VectorLayers[0].Fields, f)
		}
	}

	r = a.mustOK(get("/tiles/battlemap.json", "X-Forwarded-Proto", "https", "Host", "tiles.example.org"))
	r.decode(t, &tj)
	if want := "https://tiles.example.org/tiles/battlemap/{z}/{x}/{y}.mvt"; tj.Tiles[0] != want {
		t.Errorf("battlemap tiles %q, want %s", tj.Tiles[0], want)
	}
	var ids []string
	for _, l := range tj.VectorLayers {
		ids = append(ids, l.ID)
	}
	if strings.Join(ids, ",") != "grids,cases,hotspots" {
		t.Errorf("battlemap vector_layers %v, want grids, cases, hotspots", ids)
	}

	var cat struct {
		Layers []struct {
			Name, TileJSON, Tiles string
			Params                []string
			LayerPointZoom        int        `json:"point_zoom"`
			ClusterRes            []int      `json:"cluster_res"`
			LevelsByZoom          [][]string `json:"levels_by_zoom"`
		}
		PointZoom int `json:"point_zoom"`
	}
	a.mustOK(get("/tiles", "Host", "maps.example.org")).decode(t, &cat)
	var names []string
	for _, l := range cat.Layers {
		names = append(names, l.Name)
		if l.TileJSON != "http://maps.example.org/tiles/"+l.Name+".json" || !strings.HasPrefix(l.Tiles, "http://maps.example.org/tiles/"+l.Name+"/") {
			t.Errorf("catalogue entry %+v", l)
		}
		if a.tile("/tiles/"+l.Name+".json").status != http.StatusOK {
			t.Errorf("the catalogue's %s TileJSON does not answer", l.Name)
		}
		switch l.Name {
		case "cases":
			// Clusters at resolution zoom - 4, from 0, below the point zoom.
			if l.LayerPointZoom != 14 || len(l.ClusterRes) != 14 || l.ClusterRes[13] != 9 || l.ClusterRes[10] != 6 || l.ClusterRes[2] != 0 {
				t.Errorf("cases: point zoom %d, cluster resolutions %v", l.LayerPointZoom, l.ClusterRes)
			}
		case "grids":
			if len(l.LevelsByZoom) != 23 || strings.Join(l.LevelsByZoom[11], ",") != "district,street" ||
				strings.Join(l.LevelsByZoom[12], ",") != "community" || strings.Join(l.LevelsByZoom[15], ",") != "grid" {
				t.Errorf("grids: levels by zoom %v", l.LevelsByZoom)
			}
		}
	}
	if strings.Join(names, ",") != "grids,cases,hotspots,battlemap" || cat.PointZoom != 14 {
		t.Errorf("catalogue layers %v point zoom %d, want the 4 layers and 14", names, cat.PointZoom)
	}
}

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
