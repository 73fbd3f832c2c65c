package httpapi_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
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
	a, _ := newTileServer(t, nil, nil)
	return a
}

// newTileServer is newTileAPI with its *httpapi.Server (for tests that walk
// its routes); deps, when set, changes the server's dependencies before it
// is made, and wrap its handler.
func newTileServer(t *testing.T, deps func(*httpapi.Deps, pgx.Tx), wrap func(http.Handler) http.Handler) (*tileAPI, *httpapi.Server) {
	t.Helper()
	tx := dbtest.Tx(t)
	index := grid.NewIndex(grid.LocatorOptions{})
	cases := postgres.NewCaseStore(tx)
	logs := &lockedBuffer{}
	d := httpapi.Deps{
		Grids: postgres.NewGridStore(tx), Cases: cases, Stats: cases, Index: index,
		App:    app.New(index, caseindex.New(), nil, app.Config{Now: func() time.Time { return tileNow }}), // no store: a background reload would share the test's transaction
		Now:    func() time.Time { return tileNow },
		Logger: slog.New(slog.NewTextHandler(io.MultiWriter(t.Output(), logs), &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	d.Projects = postgres.NewProjectStore(tx) // issue 17
	token := withKeys(t, tx, &d)
	withCampaigns(&d, tx) // issue 18
	if deps != nil {
		deps(&d, tx)
	}
	s := httpapi.New(httpapi.Config{MaxImportBytes: maxImportBytes}, d)
	h := authed(token, s)
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	a := &tileAPI{api: &api{t: t, url: srv.URL, tx: tx, index: index, admin: token}, client: &http.Client{Transport: &http.Transport{DisableCompression: true}}, logs: logs}
	a.mustOK(a.post("/v1/units", unitsJSON))
	a.mustOK(a.post("/v1/grids/import", fcJSON(district())))
	return a, s
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
