package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"citygrid/grid"
	"citygrid/httpapi"
	"citygrid/internal/dbtest"
	"citygrid/postgres"
)

// TestMain is in main_test.go.

// maxImportBytes is the import limit of the test servers: small, so that a
// body over it is cheap to send.
const maxImportBytes = 16 << 10

// api is a server on its own transaction (rolled back when the test ends).
// A pgx.Tx serves one query at a time: requests must be made one by one.
type api struct {
	t     *testing.T
	url   string
	tx    pgx.Tx
	index *grid.Index
	admin string // the admin token requests without a key speak with
}

func newAPI(t *testing.T, deps func(*httpapi.Deps)) *api {
	t.Helper()
	return newAPIWith(t, httpapi.Config{}, func(d *httpapi.Deps, _ pgx.Tx) {
		if deps != nil {
			deps(d)
		}
	})
}

// newAPIWith is newAPI with the server's settings given (zero ones take the
// defaults, MaxImportBytes the tests' own) and deps given the transaction,
// for stores beyond the grids.
func newAPIWith(t *testing.T, cfg httpapi.Config, deps func(*httpapi.Deps, pgx.Tx)) *api {
	t.Helper()
	tx := dbtest.Tx(t)
	index := grid.NewIndex(grid.LocatorOptions{})
	d := httpapi.Deps{
		Grids: postgres.NewGridStore(tx),
		Index: index,
		// Warnings and errors (an unexpected 500) show with a failure.
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	token := withKeys(t, tx, &d)
	if deps != nil {
		deps(&d, tx)
	}
	if cfg.MaxImportBytes == 0 {
		cfg.MaxImportBytes = maxImportBytes
	}
	srv := httptest.NewServer(authed(token, httpapi.New(cfg, d)))
	t.Cleanup(srv.Close)
	return &api{t: t, url: srv.URL, tx: tx, index: index}
}

// newDistrictAPI is a server whose database holds the units and the small
// district.
func newDistrictAPI(t *testing.T) *api {
	t.Helper()
	a := newAPI(t, nil)
	a.mustOK(a.post("/v1/units", unitsJSON))
	a.mustOK(a.post("/v1/grids/import", fcJSON(district())))
	return a
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (a *api) do(method, path, contentType string, body io.Reader) reply {
	a.t.Helper()
	req, err := http.NewRequest(method, a.url+path, body)
	if err != nil {
		a.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
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

func (a *api) get(path string) reply {
	a.t.Helper()
	return a.do(http.MethodGet, path, "", nil)
}

func (a *api) post(path, body string) reply {
	a.t.Helper()
	return a.do(http.MethodPost, path, "application/json", strings.NewReader(body))
}

func (a *api) mustOK(r reply) reply {
	a.t.Helper()
	if r.status != http.StatusOK {
		a.t.Fatalf("status %d, want 200: %s", r.status, r.body)
	}
	return r
}

// decode unmarshals the reply's body into v.
func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("reply is not JSON (%v): %s", err, r.body)
	}
}

func (r reply) contentType() string { return r.header.Get("Content-Type") }

// snapshot renders every stored grid and unit, to prove that a request left
// the database as it was.
func (a *api) snapshot() string {
	a.t.Helper()
	var grids, units string
	var ng, nu int
	err := a.tx.QueryRow(context.Background(), `
SELECT count(*), coalesce(string_agg(format('%s|%s|%s|%s|%s|%s|%s', code, name, level, parent, unit,
       units_by_category, ST_AsText(geom)), E'\n' ORDER BY code), '')
FROM grids`).Scan(&ng, &grids)
	if err != nil {
		a.t.Fatal("snapshot of grids:", err)
	}
	err = a.tx.QueryRow(context.Background(), `
SELECT count(*), coalesce(string_agg(format('%s|%s|%s', code, name, kind), E'\n' ORDER BY code), '') FROM units`).Scan(&nu, &units)
	if err != nil {
		a.t.Fatal("snapshot of units:", err)
	}
	return fmt.Sprintf("%d grids:\n%s\n%d units:\n%s", ng, grids, nu, units)
}

// The small district: 0.02° × 0.02°, two streets (west, east halves), one
// community per street, two unit grids per community, as in the postgres
// store tests. The fourth unit grid's code has a space and Chinese characters.
const x0, y0 = 120.35, 36.07

const unitsJSON = `[{"code":"U1","name":"城管局","kind":"bureau"},{"code":"U2","name":"居委会","kind":"committee"}]`

// g4 is the code of the north-east unit grid.
const g4 = "网格 4"

func rectCoords(xa, ya, xb, yb float64) [][][2]float64 {
	return [][][2]float64{{{xa, ya}, {xb, ya}, {xb, yb}, {xa, yb}, {xa, ya}}}
}

func polygon(coords any) map[string]any {
	return map[string]any{"type": "Polygon", "coordinates": coords}
}

func feat(code, name, level, parent string, geometry any) map[string]any {
	props := map[string]any{"code": code, "name": name, "level": level}
	if parent != "" {
		props["parent"] = parent
	}
	return map[string]any{"type": "Feature", "properties": props, "geometry": geometry}
}

func props(f any) map[string]any { return f.(map[string]any)["properties"].(map[string]any) }

func district() []any {
	fs := []any{
		feat("D", "区", "district", "", polygon(rectCoords(x0, y0, x0+0.02, y0+0.02))),
		feat("S1", "西街道", "street", "D", polygon(rectCoords(x0, y0, x0+0.01, y0+0.02))),
		feat("S2", "东街道", "street", "D", polygon(rectCoords(x0+0.01, y0, x0+0.02, y0+0.02))),
		feat("C1", "社区一", "community", "S1", polygon(rectCoords(x0, y0, x0+0.01, y0+0.02))),
		feat("C2", "社区二", "community", "S2", polygon(rectCoords(x0+0.01, y0, x0+0.02, y0+0.02))),
		feat("G1", "网格1", "grid", "C1", polygon(rectCoords(x0, y0, x0+0.01, y0+0.01))),
		feat("G2", "网格2", "grid", "C1", polygon(rectCoords(x0, y0+0.01, x0+0.01, y0+0.02))),
		feat("G3", "网格3", "grid", "C2", polygon(rectCoords(x0+0.01, y0, x0+0.02, y0+0.01))),
		feat(g4, "网格4", "grid", "C2", polygon(rectCoords(x0+0.01, y0+0.01, x0+0.02, y0+0.02))),
	}
	props(fs[0])["unit"] = "U1"
	props(fs[4])["units_by_category"] = map[string]string{"E01": "U2"}
	return fs
}

func fcJSON(features []any) string {
	b, err := json.Marshal(map[string]any{"type": "FeatureCollection", "features": features})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// changedDistrict is the district with every name changed, mutated: were a
// rejected import stored, the database would differ.
func changedDistrict(mutate func(fs []any)) string {
	fs := district()
	for _, f := range fs {
		props(f)["name"] = props(f)["name"].(string) + " v2"
	}
	mutate(fs)
	return fcJSON(fs)
}

// problem is an RFC 9457 problem document as citygrid writes it.
type problem struct {
	Type     string      `json:"type"`
	Title    string      `json:"title"`
	Status   int         `json:"status"`
	Detail   string      `json:"detail"`
	Code     string      `json:"code"`
	Rejected []rejection `json:"rejected"`
}

type rejection struct {
	Index  int    `json:"index"`
	Code   string `json:"code"`
	Reason string `json:"reason"`
}

// checkProblem checks that r is a problem+json reply of the given status
// whose detail contains every one of details.
func checkProblem(t *testing.T, r reply, status int, details ...string) problem {
	t.Helper()
	if r.status != status {
		t.Errorf("status %d, want %d: %s", r.status, status, r.body)
	}
	if ct := r.contentType(); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("Content-Type %q, want application/problem+json", ct)
	}
	var p problem
	r.decode(t, &p)
	if p.Status != r.status {
		t.Errorf("problem status %d, HTTP status %d", p.Status, r.status)
	}
	if p.Title == "" || p.Detail == "" || !strings.HasPrefix(p.Type, "urn:citygrid:problem:") || p.Code == "" {
		t.Errorf("problem lacks type, title, detail or code: %s", r.body)
	}
	for _, d := range details {
		if !strings.Contains(p.Detail, d) {
			t.Errorf("detail %q, want it to contain %q", p.Detail, d)
		}
	}
	return p
}
