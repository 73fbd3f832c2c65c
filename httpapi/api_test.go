package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"citygrid/geo"
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
}

func newAPI(t *testing.T, deps func(*httpapi.Deps)) *api {
	t.Helper()
	tx := dbtest.Tx(t)
	index := grid.NewIndex(grid.LocatorOptions{})
	d := httpapi.Deps{
		Grids: postgres.NewGridStore(tx),
		Index: index,
		// Warnings and errors (an unexpected 500) show with a failure.
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	if deps != nil {
		deps(&d)
	}
	srv := httptest.NewServer(httpapi.New(httpapi.Config{MaxImportBytes: maxImportBytes}, d))
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

func TestImportAndReadGrids(t *testing.T) {
	a := newAPI(t, nil)

	var units map[string]int
	a.mustOK(a.post("/v1/units", unitsJSON)).decode(t, &units)
	if units["inserted"] != 2 || units["updated"] != 0 {
		t.Errorf("POST /v1/units = %v, want 2 inserted", units)
	}
	a.mustOK(a.post("/v1/units", `{"code":"U1","name":"城管局","kind":"城市管理局"}`)).decode(t, &units)
	if units["inserted"] != 0 || units["updated"] != 1 {
		t.Errorf("POST /v1/units one object = %v, want 1 updated", units)
	}

	type importReply struct {
		Committed bool        `json:"committed"`
		Inserted  int         `json:"inserted"`
		Updated   int         `json:"updated"`
		Rejected  []rejection `json:"rejected"`
		Topology  *struct {
			Overlaps  []any   `json:"overlaps"`
			Gaps      []any   `json:"gaps"`
			MinAreaM2 float64 `json:"min_area_m2"`
		} `json:"topology"`
	}
	var res importReply
	r := a.mustOK(a.do(http.MethodPost, "/v1/grids/import", "application/geo+json", strings.NewReader(fcJSON(district()))))
	r.decode(t, &res)
	if !res.Committed || res.Inserted != 9 || res.Updated != 0 || res.Rejected == nil || len(res.Rejected) != 0 {
		t.Errorf("first import = %s, want 9 inserted, rejected []", r.body)
	}
	if res.Topology == nil || len(res.Topology.Overlaps) != 0 || len(res.Topology.Gaps) != 0 {
		t.Errorf("topology of a clean tiling = %s, want no overlaps or gaps", r.body)
	}
	r = a.mustOK(a.post("/v1/grids/import?partial=false", fcJSON(district())))
	res = importReply{}
	r.decode(t, &res)
	if !res.Committed || res.Inserted != 0 || res.Updated != 9 {
		t.Errorf("second import = %s, want 9 updated", r.body)
	}

	t.Run("get one grid", func(t *testing.T) {
		tests := []struct {
			code, name, level, parent string
			path                      []string
		}{
			{"D", "区", "district", "", []string{"D"}},
			{"S2", "东街道", "street", "D", []string{"S2", "D"}},
			{"C2", "社区二", "community", "S2", []string{"C2", "S2", "D"}},
			{"G1", "网格1", "grid", "C1", []string{"G1", "C1", "S1", "D"}},
			{g4, "网格4", "grid", "C2", []string{g4, "C2", "S2", "D"}},
		}
		for _, tt := range tests {
			t.Run(tt.code, func(t *testing.T) {
				r := a.get("/v1/grids/" + url.PathEscape(tt.code))
				if r.status != http.StatusOK {
					t.Fatalf("status %d: %s", r.status, r.body)
				}
				if ct := r.contentType(); !strings.HasPrefix(ct, "application/geo+json") {
					t.Errorf("Content-Type %q, want application/geo+json", ct)
				}
				var f struct {
					Type       string `json:"type"`
					ID         string `json:"id"`
					Properties struct {
						Code            string            `json:"code"`
						Name            string            `json:"name"`
						Level           string            `json:"level"`
						Parent          *string           `json:"parent"`
						Unit            *string           `json:"unit"`
						UnitsByCategory map[string]string `json:"units_by_category"`
						AreaM2          float64           `json:"area_m2"`
						Path            []struct {
							Code, Name, Level string
						} `json:"path"`
					} `json:"properties"`
					Geometry struct {
						Type        string         `json:"type"`
						Coordinates [][][2]float64 `json:"coordinates"`
					} `json:"geometry"`
				}
				r.decode(t, &f)
				p := f.Properties
				if f.Type != "Feature" || f.ID != tt.code || p.Code != tt.code || p.Name != tt.name || p.Level != tt.level {
					t.Errorf("feature = %s", r.body)
				}
				if parent := ""; p.Parent != nil {
					parent = *p.Parent
					if parent != tt.parent {
						t.Errorf("parent = %q, want %q", parent, tt.parent)
					}
				} else if tt.parent != "" {
					t.Errorf("parent = null, want %q", tt.parent)
				}
				var path []string
				for _, g := range p.Path {
					path = append(path, g.Code)
				}
				if !slices.Equal(path, tt.path) {
					t.Errorf("path = %v, want %v", path, tt.path)
				}
				if len(p.Path) > 0 && (p.Path[0].Name != tt.name || p.Path[len(p.Path)-1].Name != "区" || p.Path[len(p.Path)-1].Level != "district") {
					t.Errorf("path = %+v, want names and levels", p.Path)
				}
				if f.Geometry.Type != "Polygon" || len(f.Geometry.Coordinates) != 1 || len(f.Geometry.Coordinates[0]) != 5 {
					t.Errorf("geometry = %+v, want the imported rectangle", f.Geometry)
				}
				if p.AreaM2 <= 0 {
					t.Errorf("area_m2 = %g", p.AreaM2)
				}
				if tt.code == "C2" && (p.UnitsByCategory["E01"] != "U2" || p.Unit != nil || p.AreaM2 < 1.5e6 || p.AreaM2 > 2.1e6) {
					t.Errorf("C2 = %s, want units_by_category E01 U2, no unit, about 2 km²", r.body)
				}
				if tt.code == "D" && (p.Unit == nil || *p.Unit != "U1") {
					t.Errorf("D unit = %v, want U1", p.Unit)
				}
			})
		}
	})

	t.Run("list grids", func(t *testing.T) {
		tests := []struct {
			name, query string
			want        []string
		}{
			{"all", "", []string{"D", "S1", "S2", "C1", "C2", "G1", "G2", "G3", g4}},
			{"level", "level=grid", []string{"G1", "G2", "G3", g4}},
			{"level any case", "level=STREET", []string{"S1", "S2"}},
			{"parent", "parent=C2", []string{"G3", g4}},
			{"parent with no children", "parent=G1", nil},
			{"parent unknown", "parent=NOPE", nil},
			{"bbox", "bbox=120.351,36.071,120.352,36.072&level=grid", []string{"G1"}},
			{"bbox with spaces", "bbox=" + url.QueryEscape("120.351, 36.071, 120.352, 36.072") + "&level=grid", []string{"G1"}},
			{"bbox over an edge", "bbox=120.359,36.071,120.361,36.072&level=grid", []string{"G1", "G3"}},
			{"bbox elsewhere", "bbox=0,0,1,1", nil},
			{"bbox a point", "bbox=120.355,36.075,120.355,36.075&level=grid", []string{"G1"}},
			{"limit", "limit=2", []string{"D", "S1"}},
			{"all filters", "level=grid&parent=C1&bbox=120.35,36.07,120.37,36.09&limit=1", []string{"G1"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := a.get("/v1/grids?" + tt.query)
				if r.status != http.StatusOK {
					t.Fatalf("status %d: %s", r.status, r.body)
				}
				var fc struct {
					Type     string `json:"type"`
					Features []struct {
						Properties struct{ Code string } `json:"properties"`
					} `json:"features"`
				}
				r.decode(t, &fc)
				var got []string
				for _, f := range fc.Features {
					got = append(got, f.Properties.Code)
				}
				if fc.Type != "FeatureCollection" || fc.Features == nil || !slices.Equal(got, tt.want) {
					t.Errorf("GET /v1/grids?%s = %s %v, want FeatureCollection %v", tt.query, fc.Type, got, tt.want)
				}
			})
		}
	})

	t.Run("list units", func(t *testing.T) {
		var got struct{ Units []grid.Unit }
		a.mustOK(a.get("/v1/units")).decode(t, &got)
		want := []grid.Unit{{Code: "U1", Name: "城管局", Kind: "城市管理局"}, {Code: "U2", Name: "居委会", Kind: "committee"}}
		if !slices.Equal(got.Units, want) {
			t.Errorf("GET /v1/units = %+v, want %+v", got.Units, want)
		}
	})

	t.Run("topology", func(t *testing.T) {
		var got struct{ Overlaps, Gaps []any }
		a.mustOK(a.get("/v1/grids/topology")).decode(t, &got)
		if len(got.Overlaps)+len(got.Gaps) != 0 {
			t.Errorf("topology = %+v, want nothing", got)
		}
	})
}

// TestGridCodesInURLs stores grids whose codes need percent-encoding and
// reads each back by its code.
func TestGridCodesInURLs(t *testing.T) {
	a := newDistrictAPI(t)
	codes := []string{
		"G 5", "网格六", "网格/7", "a+b?c#d", "x'; DROP TABLE grids; --", `C:\dir`, "é", "G%41", "100%",
	}
	var fs []any
	for i, code := range codes {
		x := x0 + 0.001*float64(i)
		fs = append(fs, feat(code, "名 "+code, "grid", "C1", polygon(rectCoords(x, y0+0.001, x+0.0005, y0+0.0015))))
	}
	var res struct{ Inserted int }
	a.mustOK(a.post("/v1/grids/import", fcJSON(fs))).decode(t, &res)
	if res.Inserted != len(codes) {
		t.Fatalf("inserted %d, want %d", res.Inserted, len(codes))
	}
	for _, code := range codes {
		t.Run(code, func(t *testing.T) {
			r := a.get("/v1/grids/" + url.PathEscape(code))
			var f struct {
				Properties struct{ Code, Name string }
			}
			if r.status != http.StatusOK {
				t.Fatalf("GET /v1/grids/%s: status %d: %s", url.PathEscape(code), r.status, r.body)
			}
			r.decode(t, &f)
			if f.Properties.Code != code || f.Properties.Name != "名 "+code {
				t.Errorf("GET /v1/grids/%s = %+v, want code %q", url.PathEscape(code), f.Properties, code)
			}
			// As a parent filter, in the query string.
			r = a.mustOK(a.get("/v1/grids?parent=" + url.QueryEscape(code)))
			if !bytes.Contains(r.body, []byte(`"type":"FeatureCollection"`)) {
				t.Errorf("GET /v1/grids?parent=%s = %s", url.QueryEscape(code), r.body)
			}
		})
	}
}

// TestSQLLookingStringsAreData stores codes and names that would be harmful
// if spliced into SQL, and reads them back unchanged.
func TestSQLLookingStringsAreData(t *testing.T) {
	a := newAPI(t, nil)
	const (
		unitCode = `u'; DROP TABLE units; --`
		unitName = `Robert'); DROP TABLE grids;--`
		code     = `x'; DROP TABLE grids; --`
		name     = `'); DELETE FROM units; --`
		street   = `s" OR 1=1; --`
	)
	a.mustOK(a.post("/v1/units", fmt.Sprintf(`{"code":%q,"name":%q,"kind":"' OR ''='"}`, unitCode, unitName)))
	fs := []any{
		feat(code, name, "district", "", polygon(rectCoords(x0, y0, x0+0.02, y0+0.02))),
		feat(street, "街道", "street", code, polygon(rectCoords(x0, y0, x0+0.02, y0+0.02))),
	}
	props(fs[0])["unit"] = unitCode
	props(fs[1])["units_by_category"] = map[string]string{"E'; --": unitCode}
	var res struct{ Inserted int }
	a.mustOK(a.post("/v1/grids/import", fcJSON(fs))).decode(t, &res)
	if res.Inserted != 2 {
		t.Errorf("inserted %d, want 2", res.Inserted)
	}
	var f struct {
		Properties struct {
			Code, Name string
			Unit       string `json:"unit"`
		}
	}
	a.mustOK(a.get("/v1/grids/"+url.PathEscape(code))).decode(t, &f)
	if f.Properties.Code != code || f.Properties.Name != name || f.Properties.Unit != unitCode {
		t.Errorf("GET = %+v", f.Properties)
	}
	r := a.mustOK(a.get("/v1/grids?parent=" + url.QueryEscape(code)))
	if !strings.Contains(string(r.body), `"code":"s\" OR 1=1; --"`) {
		t.Errorf("GET /v1/grids?parent= = %s, want the street", r.body)
	}
	var loc struct {
		Grid struct{ Code string }
		Unit struct{ Code, Name, Kind string }
		Rule struct{ Kind, Prefix string }
	}
	a.mustOK(a.get("/v1/locate?lng=120.355&lat=36.075&category="+url.QueryEscape("E'; -- 1"))).decode(t, &loc)
	if loc.Grid.Code != street || loc.Unit.Code != unitCode || loc.Unit.Name != unitName || loc.Unit.Kind != "' OR ''='" || loc.Rule.Prefix != "E'; --" {
		t.Errorf("locate = %+v", loc)
	}
	if s := a.snapshot(); !strings.HasPrefix(s, "2 grids:") || !strings.Contains(s, "\n1 units:\n") {
		t.Errorf("database = %s, want 2 grids and 1 unit", s)
	}
}

// location is the answer of /v1/locate.
type location struct {
	Point [2]float64 `json:"point"`
	Input *struct {
		CRS   string     `json:"crs"`
		Point [2]float64 `json:"point"`
	} `json:"input"`
	H3    string `json:"h3"`
	H3Res int    `json:"h3_res"`
	Grid  *struct {
		Code, Name, Level string
	} `json:"grid"`
	Path []struct{ Code string } `json:"path"`
	Unit *struct {
		Code, Name, Kind string
	} `json:"unit"`
	Rule *struct {
		Kind, Level, Grid, Prefix string
	} `json:"rule"`
	BoundaryDistanceM *float64 `json:"boundary_distance_m"`
	Alternatives      []nearby `json:"alternatives"`
	Nearest           *nearby  `json:"nearest"`
}

type nearby struct {
	Code      string  `json:"code"`
	Level     string  `json:"level"`
	DistanceM float64 `json:"distance_m"`
}

func locateQuery(lng, lat float64, extra string) string {
	q := "/v1/locate?lng=" + strconv.FormatFloat(lng, 'g', -1, 64) + "&lat=" + strconv.FormatFloat(lat, 'g', -1, 64)
	if extra != "" {
		q += "&" + extra
	}
	return q
}

func codesOf(path []struct{ Code string }) []string {
	out := []string{}
	for _, p := range path {
		out = append(out, p.Code)
	}
	return out
}

func TestLocate(t *testing.T) {
	a := newDistrictAPI(t)
	type want struct {
		grid         string // "" = null
		path         []string
		unit         string // "" = null
		rule         string // kind/level/grid/prefix
		alternatives []string
		nearest      string
		minDist      float64 // bounds of boundary_distance_m, or of nearest's distance
		maxDist      float64
	}
	tests := []struct {
		name     string
		lng, lat float64
		category string
		want     want
	}{
		{"inside a unit grid", x0 + 0.002, y0 + 0.002, "",
			want{grid: "G1", path: []string{"G1", "C1", "S1", "D"}, unit: "U1", rule: "default/district/D/", alternatives: []string{}, minDist: 150, maxDist: 200}},
		{"category rule of the community", x0 + 0.015, y0 + 0.005, "E0101",
			want{grid: "G3", path: []string{"G3", "C2", "S2", "D"}, unit: "U2", rule: "category/community/C2/E01", alternatives: []string{}, minDist: 400, maxDist: 600}},
		{"category without a rule falls back to the default", x0 + 0.015, y0 + 0.005, "X99",
			want{grid: "G3", path: []string{"G3", "C2", "S2", "D"}, unit: "U1", rule: "default/district/D/", alternatives: []string{}, minDist: 400, maxDist: 600}},
		{"Chinese code", x0 + 0.015, y0 + 0.015, "",
			want{grid: g4, path: []string{g4, "C2", "S2", "D"}, unit: "U1", rule: "default/district/D/", alternatives: []string{}, minDist: 400, maxDist: 600}},
		{"shared edge goes to the smaller code", x0 + 0.01, y0 + 0.005, "",
			want{grid: "G1", path: []string{"G1", "C1", "S1", "D"}, unit: "U1", rule: "default/district/D/", alternatives: []string{"G3"}, minDist: 0, maxDist: 0}},
		{"shared vertex of four grids", x0 + 0.01, y0 + 0.01, "",
			want{grid: "G1", path: []string{"G1", "C1", "S1", "D"}, unit: "U1", rule: "default/district/D/", alternatives: []string{"G2", "G3", g4}, minDist: 0, maxDist: 0}},
		{"two metres from an edge", x0 + 0.01 + 0.00002, y0 + 0.005, "",
			want{grid: "G3", path: []string{"G3", "C2", "S2", "D"}, unit: "U1", rule: "default/district/D/", alternatives: []string{"G1"}, minDist: 1.5, maxDist: 2}},
		{"district corner", x0, y0, "",
			want{grid: "G1", path: []string{"G1", "C1", "S1", "D"}, unit: "U1", rule: "default/district/D/", alternatives: []string{}, minDist: 0, maxDist: 0}},
		{"outside the district", x0 + 0.05, y0 + 0.005, "",
			want{nearest: "G3", path: []string{}, alternatives: []string{}, minDist: 2500, maxDist: 2800}},
		{"the other side of the world", -70, -30, "",
			want{nearest: "", path: []string{}, alternatives: []string{}, minDist: 1e7, maxDist: 2e7}},
		{"north pole, antimeridian", 180, 90, "",
			want{nearest: "", path: []string{}, alternatives: []string{}, minDist: 5e6, maxDist: 2e7}},
		{"south pole", -180, -90, "",
			want{nearest: "", path: []string{}, alternatives: []string{}, minDist: 5e6, maxDist: 2e7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			extra := ""
			if tt.category != "" {
				extra = "category=" + url.QueryEscape(tt.category)
			}
			r := a.get(locateQuery(tt.lng, tt.lat, extra))
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if ct := r.contentType(); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			var loc location
			r.decode(t, &loc)
			w := tt.want
			if loc.Point != [2]float64{tt.lng, tt.lat} || loc.Input != nil {
				t.Errorf("point %v input %v, want the WGS84 point echoed, no input", loc.Point, loc.Input)
			}
			cell, err := geo.CellAt(orb.Point{tt.lng, tt.lat}, 9)
			if err != nil {
				t.Fatal(err)
			}
			if loc.H3 != cell.String() || len(loc.H3) != 15 || loc.H3Res != 9 {
				t.Errorf("h3 %q res %d, want %q res 9", loc.H3, loc.H3Res, cell)
			}
			if got := codesOf(loc.Path); !slices.Equal(got, w.path) {
				t.Errorf("path %v, want %v", got, w.path)
			}
			var alts []string
			for _, n := range loc.Alternatives {
				alts = append(alts, n.Code)
				if n.DistanceM < 0 || n.DistanceM > 5 {
					t.Errorf("alternative %+v farther than the tolerance", n)
				}
			}
			if loc.Alternatives == nil || !slices.Equal(append([]string{}, alts...), w.alternatives) {
				t.Errorf("alternatives %+v, want %v", loc.Alternatives, w.alternatives)
			}
			if w.grid == "" {
				if loc.Grid != nil || loc.Unit != nil || loc.Rule != nil || loc.BoundaryDistanceM != nil {
					t.Errorf("uncovered point: %s, want grid, unit, rule and boundary_distance_m null", r.body)
				}
				for _, k := range []string{`"grid":null`, `"unit":null`, `"rule":null`, `"boundary_distance_m":null`, `"path":[]`} {
					if !bytes.Contains(r.body, []byte(k)) {
						t.Errorf("reply %s lacks %s", r.body, k)
					}
				}
				if w.nearest != "" {
					if loc.Nearest == nil || loc.Nearest.Code != w.nearest || loc.Nearest.Level != "grid" ||
						loc.Nearest.DistanceM < w.minDist || loc.Nearest.DistanceM > w.maxDist {
						t.Errorf("nearest %+v, want %s at %g to %g m", loc.Nearest, w.nearest, w.minDist, w.maxDist)
					}
				} else if loc.Nearest == nil || loc.Nearest.DistanceM < w.minDist || loc.Nearest.DistanceM > w.maxDist {
					t.Errorf("nearest %+v, want a grid %g to %g m away", loc.Nearest, w.minDist, w.maxDist)
				}
				return
			}
			if loc.Grid == nil || loc.Grid.Code != w.grid || loc.Grid.Level != "grid" {
				t.Fatalf("grid %+v, want %s: %s", loc.Grid, w.grid, r.body)
			}
			if loc.Nearest != nil {
				t.Errorf("nearest %+v on a covered point", loc.Nearest)
			}
			if loc.Unit == nil || loc.Unit.Code != w.unit {
				t.Errorf("unit %+v, want %s", loc.Unit, w.unit)
			} else if names := map[string]string{"U1": "城管局", "U2": "居委会"}; loc.Unit.Name != names[w.unit] {
				t.Errorf("unit name %q, want %q", loc.Unit.Name, names[w.unit])
			}
			if loc.Rule == nil {
				t.Errorf("rule null, want %s", w.rule)
			} else if got := loc.Rule.Kind + "/" + loc.Rule.Level + "/" + loc.Rule.Grid + "/" + loc.Rule.Prefix; got != w.rule {
				t.Errorf("rule %s, want %s", got, w.rule)
			}
			if d := loc.BoundaryDistanceM; d == nil {
				t.Errorf("boundary_distance_m null, want %g to %g", w.minDist, w.maxDist)
			} else if *d < w.minDist-1e-6 || *d > w.maxDist+1e-6 {
				t.Errorf("boundary_distance_m %g, want %g to %g", *d, w.minDist, w.maxDist)
			}
		})
	}

	t.Run("other coordinate systems", func(t *testing.T) {
		wgs := orb.Point{x0 + 0.005, y0 + 0.005}
		tests := []struct {
			crs  string
			echo string
			in   orb.Point
		}{
			{"gcj02", "gcj02", geo.WGS84ToGCJ02(wgs)},
			{"GCJ02", "gcj02", geo.WGS84ToGCJ02(wgs)},
			{"bd09", "bd09", geo.WGS84ToBD09(wgs)},
		}
		for _, tt := range tests {
			t.Run(tt.crs, func(t *testing.T) {
				var loc location
				a.mustOK(a.get(locateQuery(tt.in[0], tt.in[1], "crs="+tt.crs))).decode(t, &loc)
				if loc.Input == nil || loc.Input.CRS != tt.echo || loc.Input.Point != [2]float64(tt.in) {
					t.Errorf("input %+v, want %s %v echoed", loc.Input, tt.echo, tt.in)
				}
				if loc.Point == [2]float64(tt.in) {
					t.Errorf("point %v is the input unconverted", loc.Point)
				}
				if d := math.Hypot(loc.Point[0]-wgs[0], loc.Point[1]-wgs[1]); d > 1e-5 {
					t.Errorf("point %v, want about %v (off by %g°)", loc.Point, wgs, d)
				}
				if loc.Grid == nil || loc.Grid.Code != "G1" {
					t.Errorf("grid %+v, want G1", loc.Grid)
				}
				cell, _ := geo.CellAt(orb.Point(loc.Point), 9)
				if loc.H3 != cell.String() {
					t.Errorf("h3 %s, want the converted point's cell %s", loc.H3, cell)
				}
			})
		}
		var loc location
		a.mustOK(a.get(locateQuery(wgs[0], wgs[1], "crs=wgs84"))).decode(t, &loc)
		if loc.Input != nil || loc.Point != [2]float64(wgs) {
			t.Errorf("crs=wgs84: point %v input %+v, want the point as given and no input", loc.Point, loc.Input)
		}
	})

	t.Run("POST several points", func(t *testing.T) {
		body := fmt.Sprintf(`{"points":[[%v,%v],[%v,%v],[%v,%v],[%v,%v],[%v,%v]],"category":"E0102"}`,
			x0+0.015, y0+0.005, x0+0.002, y0+0.002, x0+0.05, y0+0.005, x0+0.01, y0+0.005, x0+0.015, y0+0.005)
		var got struct{ Results []location }
		a.mustOK(a.post("/v1/locate", body)).decode(t, &got)
		want := []string{"G3 U2", "G1 U1", "- -", "G1 U1", "G3 U2"}
		var gotS []string
		for _, l := range got.Results {
			g, u := "-", "-"
			if l.Grid != nil {
				g = l.Grid.Code
			}
			if l.Unit != nil {
				u = l.Unit.Code
			}
			gotS = append(gotS, g+" "+u)
		}
		if !slices.Equal(gotS, want) {
			t.Errorf("results %v, want %v", gotS, want)
		}
		if len(got.Results) == 5 && (got.Results[2].Nearest == nil || got.Results[2].Nearest.Code != "G3") {
			t.Errorf("results[2].nearest = %+v, want G3", got.Results[2].Nearest)
		}
	})

	t.Run("POST in gcj02", func(t *testing.T) {
		p := geo.WGS84ToGCJ02(orb.Point{x0 + 0.015, y0 + 0.015})
		var got struct{ Results []location }
		a.mustOK(a.post("/v1/locate", fmt.Sprintf(`{"points":[[%v,%v]],"crs":"gcj02"}`, p[0], p[1]))).decode(t, &got)
		if len(got.Results) != 1 || got.Results[0].Grid == nil || got.Results[0].Grid.Code != g4 ||
			got.Results[0].Input == nil || got.Results[0].Input.Point != [2]float64(p) {
			t.Errorf("results = %+v, want %s with the input echoed", got.Results, g4)
		}
	})

	t.Run("POST 10,000 points", func(t *testing.T) {
		var got struct{ Results []location }
		a.mustOK(a.post("/v1/locate", pointsJSON(10000))).decode(t, &got)
		if len(got.Results) != 10000 {
			t.Fatalf("%d results, want 10000", len(got.Results))
		}
		for i, l := range got.Results {
			if want := [2]float64{x0 + 0.001 + float64(i%100)*0.0001, y0 + 0.001 + float64(i/100)*0.0001}; l.Point != want {
				t.Fatalf("results[%d].point = %v, want %v (out of order)", i, l.Point, want)
			}
		}
	})
}

// pointsJSON is a POST /v1/locate body of n points inside the district.
func pointsJSON(n int) string {
	var b strings.Builder
	b.WriteString(`{"points":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "[%v,%v]", x0+0.001+float64(i%100)*0.0001, y0+0.001+float64(i/100)*0.0001)
	}
	b.WriteString(`]}`)
	return b.String()
}

func TestHealthReadyMetrics(t *testing.T) {
	a := newAPI(t, nil)

	r := a.get("/healthz")
	if r.status != http.StatusOK || !strings.HasPrefix(r.contentType(), "application/json") || !bytes.Contains(r.body, []byte(`"status":"ok"`)) {
		t.Errorf("/healthz = %d %s", r.status, r.body)
	}
	// Before the index is built.
	checkProblem(t, a.get("/readyz"), http.StatusServiceUnavailable, "index not built")
	checkProblem(t, a.get(locateQuery(x0+0.002, y0+0.002, "")), http.StatusServiceUnavailable, "index")
	checkProblem(t, a.post("/v1/locate", `{"points":[[120.352,36.072]]}`), http.StatusServiceUnavailable, "index")
	// Bad input is still a 400 while the index is being built.
	checkProblem(t, a.get("/v1/locate?lng=abc&lat=1"), http.StatusBadRequest, "lng")

	// Registering units builds the index (empty).
	a.mustOK(a.post("/v1/units", unitsJSON))
	var ready struct {
		Status     string `json:"status"`
		Grids      int    `json:"grids"`
		IndexCells int    `json:"index_cells"`
		BuiltAt    string `json:"index_built_at"`
	}
	a.mustOK(a.get("/readyz")).decode(t, &ready)
	if ready.Status != "ready" || ready.Grids != 0 || ready.BuiltAt == "" {
		t.Errorf("/readyz after units = %+v, want ready with 0 grids", ready)
	}
	a.mustOK(a.post("/v1/grids/import", fcJSON(district())))
	a.mustOK(a.get("/readyz")).decode(t, &ready)
	if ready.Status != "ready" || ready.Grids != 9 || ready.IndexCells == 0 {
		t.Errorf("/readyz after import = %+v, want 9 grids", ready)
	}
	a.mustOK(a.get(locateQuery(x0+0.002, y0+0.002, "")))
	a.mustOK(a.post("/v1/locate", `{"points":[[120.352,36.072],[120.353,36.073]]}`))
	a.get("/v1/nope-xyz")
	a.get("/nope-xyz")

	r = a.mustOK(a.get("/metrics"))
	// Unknown paths must not become label values (unbounded cardinality).
	if bytes.Contains(r.body, []byte("nope-xyz")) {
		t.Errorf("/metrics has a label with a requested path")
	}
	for _, want := range []string{
		"citygrid_http_request_duration_seconds",
		`route="/v1/locate"`,
		`route="/v1/grids/import"`,
		`route="unmatched"`,
		`status="503"`,
		"citygrid_locate_points_total 3",
		"citygrid_grid_index_grids 9",
	} {
		if !bytes.Contains(r.body, []byte(want)) {
			var lines []string
			for _, l := range strings.Split(string(r.body), "\n") {
				if strings.HasPrefix(l, "citygrid_http_request_duration_seconds_count") {
					lines = append(lines, l)
				}
			}
			t.Errorf("/metrics lacks %s:\n%s", want, strings.Join(lines, "\n"))
		}
	}

}

// TestReadyWithDatabaseDown checks that readiness reports a database that
// does not answer, without its error.
func TestReadyWithDatabaseDown(t *testing.T) {
	b := newAPI(t, func(d *httpapi.Deps) {
		d.Ready = func(context.Context) error { return errors.New("dial tcp 10.0.0.7:5432: secret-host refused") }
	})
	b.mustOK(b.post("/v1/units", unitsJSON))
	r := b.get("/readyz")
	checkProblem(t, r, http.StatusServiceUnavailable, "database not reachable")
	if bytes.Contains(r.body, []byte("secret-host")) {
		t.Errorf("/readyz leaks the database error: %s", r.body)
	}
	r = b.mustOK(b.get("/healthz"))
	if !bytes.Contains(r.body, []byte(`"status":"ok"`)) {
		t.Errorf("/healthz with the database down = %s, want ok (liveness only)", r.body)
	}
}

// TestImportRefreshesIndex checks that /v1/locate answers from the grids
// as they are right after each import.
func TestImportRefreshesIndex(t *testing.T) {
	a := newAPI(t, nil)
	a.mustOK(a.post("/v1/units", unitsJSON))
	at := locateQuery(x0+0.002, y0+0.002, "")
	var loc location
	a.mustOK(a.get(at)).decode(t, &loc)
	if loc.Grid != nil || loc.Nearest != nil {
		t.Errorf("before any import: %+v, want no grid and no nearest", loc)
	}

	a.mustOK(a.post("/v1/grids/import", fcJSON(district())))
	loc = location{}
	a.mustOK(a.get(at)).decode(t, &loc)
	if loc.Grid == nil || loc.Grid.Code != "G1" || loc.Grid.Name != "网格1" || loc.Unit == nil || loc.Unit.Code != "U1" {
		t.Fatalf("after the import: %+v, want G1 of U1", loc)
	}

	// Renaming G1 and giving it its own unit shows at once.
	fs := district()
	props(fs[5])["name"] = "网格一（新）"
	props(fs[5])["unit"] = "U2"
	var res struct{ Inserted, Updated int }
	a.mustOK(a.post("/v1/grids/import", fcJSON(fs[5:6]))).decode(t, &res)
	if res.Inserted != 0 || res.Updated != 1 {
		t.Errorf("import of one grid = %+v, want 1 updated", res)
	}
	loc = location{}
	a.mustOK(a.get(at)).decode(t, &loc)
	if loc.Grid == nil || loc.Grid.Name != "网格一（新）" || loc.Unit == nil || loc.Unit.Code != "U2" || loc.Rule == nil || loc.Rule.Level != "grid" {
		t.Errorf("after the update: %+v, want G1 renamed, owned by U2 at grid level", loc)
	}

	// Renaming a unit shows at once too.
	a.mustOK(a.post("/v1/units", `{"code":"U2","name":"新居委会"}`))
	loc = location{}
	a.mustOK(a.get(at)).decode(t, &loc)
	if loc.Unit == nil || loc.Unit.Name != "新居委会" {
		t.Errorf("after renaming the unit: %+v", loc.Unit)
	}

	// A second district elsewhere.
	far := []any{feat("D2", "另一个区", "district", "", polygon(rectCoords(121, 37, 121.01, 37.01)))}
	a.mustOK(a.post("/v1/grids/import", fcJSON(far)))
	loc = location{}
	a.mustOK(a.get(locateQuery(121.005, 37.005, ""))).decode(t, &loc)
	if loc.Grid == nil || loc.Grid.Code != "D2" || loc.Unit != nil {
		t.Errorf("in the new district: %+v, want D2 with no unit", loc)
	}

	// A rejected import changes nothing.
	bad := district()
	props(bad[5])["name"] = "not stored"
	props(bad[6])["parent"] = "NOPE"
	checkProblem(t, a.post("/v1/grids/import", fcJSON(bad)), http.StatusUnprocessableEntity)
	loc = location{}
	a.mustOK(a.get(at)).decode(t, &loc)
	if loc.Grid == nil || loc.Grid.Name != "网格一（新）" {
		t.Errorf("after a rejected import: %+v, want G1 unchanged", loc.Grid)
	}
}

func TestPartialImport(t *testing.T) {
	a := newAPI(t, nil)
	a.mustOK(a.post("/v1/units", unitsJSON))
	fs := district()
	props(fs[2])["parent"] = "MISSING"                                            // S2, and with it C2, G3, 网格 4
	fs[5].(map[string]any)["geometry"] = polygon(rectCoords(x0, y0, x0+0.01, 91)) // G1
	body := fcJSON(fs)

	before := a.snapshot()
	p := checkProblem(t, a.post("/v1/grids/import?partial=false", body), http.StatusUnprocessableEntity, "5 of 9 features rejected", "partial=true")
	if len(p.Rejected) != 5 {
		t.Errorf("rejected = %+v, want 5", p.Rejected)
	}
	if after := a.snapshot(); after != before {
		t.Errorf("a rejected import changed the database:\n%s", after)
	}

	r := a.mustOK(a.post("/v1/grids/import?partial=true", body))
	var res struct {
		Committed bool
		Inserted  int
		Updated   int
		Rejected  []rejection
	}
	r.decode(t, &res)
	var got []string
	for _, rej := range res.Rejected {
		got = append(got, fmt.Sprintf("%d %s", rej.Index, rej.Code))
	}
	want := []string{"2 S2", "4 C2", "5 G1", "7 G3", "8 " + g4}
	if !res.Committed || res.Inserted != 4 || res.Updated != 0 || !slices.Equal(got, want) {
		t.Errorf("partial import = %s, want 4 inserted and %v rejected", r.body, want)
	}
	reasons := map[int]string{2: "parent MISSING does not exist", 4: "parent S2 was rejected", 5: "latitude 91 out of range", 7: "parent C2 was rejected", 8: "parent C2 was rejected"}
	for _, rej := range res.Rejected {
		if !strings.Contains(rej.Reason, reasons[rej.Index]) {
			t.Errorf("feature %d rejected for %q, want %q", rej.Index, rej.Reason, reasons[rej.Index])
		}
	}
	var fc struct {
		Features []struct{ Properties struct{ Code string } }
	}
	a.mustOK(a.get("/v1/grids")).decode(t, &fc)
	var codes []string
	for _, f := range fc.Features {
		codes = append(codes, f.Properties.Code)
	}
	if want := []string{"D", "S1", "C1", "G2"}; !slices.Equal(codes, want) {
		t.Errorf("stored %v, want %v", codes, want)
	}
	// The index has the stored grids: G1's place falls to C1, the east half to D.
	for _, tt := range []struct {
		lng, lat float64
		want     string
	}{{x0 + 0.002, y0 + 0.002, "C1"}, {x0 + 0.002, y0 + 0.015, "G2"}, {x0 + 0.015, y0 + 0.005, "D"}} {
		var loc location
		a.mustOK(a.get(locateQuery(tt.lng, tt.lat, ""))).decode(t, &loc)
		if loc.Grid == nil || loc.Grid.Code != tt.want {
			t.Errorf("locate(%v, %v) = %+v, want %s", tt.lng, tt.lat, loc.Grid, tt.want)
		}
	}
}

// badCase is a request that must fail with a problem and change nothing.
type badCase struct {
	name        string
	method      string // default POST when body is set, else GET
	path        string
	contentType string // default application/json for a body
	body        string
	status      int
	detail      []string    // substrings of detail
	rejected    []rejection // entries the problem must list (Reason: a substring)
}

func runBadCases(t *testing.T, a *api, cases []badCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodGet
				if tc.body != "" {
					method = http.MethodPost
				}
			}
			ct := tc.contentType
			if ct == "" && tc.body != "" {
				ct = "application/json"
			}
			before := a.snapshot()
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			r := a.do(method, tc.path, ct, body)
			p := checkProblem(t, r, tc.status, tc.detail...)
			if r.status < 400 || r.status > 499 {
				t.Errorf("status %d, want a 4xx", r.status)
			}
			for _, want := range tc.rejected {
				found := false
				for _, got := range p.Rejected {
					if got.Index == want.Index && got.Code == want.Code && strings.Contains(got.Reason, want.Reason) {
						found = true
					}
				}
				if !found {
					t.Errorf("rejected = %+v, want {%d %q %q…}", p.Rejected, want.Index, want.Code, want.Reason)
				}
			}
			if tc.rejected != nil && !bytes.Contains(r.body, []byte(`"inserted":0`)) {
				t.Errorf("a rejected import's problem lacks inserted 0: %s", r.body)
			}
			if after := a.snapshot(); after != before {
				t.Errorf("the request changed the database:\nbefore %s\nafter %s", before, after)
			}
		})
	}
}

func setGeometry(i int, coords any) func(fs []any) {
	return func(fs []any) { fs[i].(map[string]any)["geometry"] = polygon(coords) }
}

func setProp(i int, key string, v any) func(fs []any) {
	return func(fs []any) { props(fs[i])[key] = v }
}

func TestBadImports(t *testing.T) {
	a := newDistrictAPI(t)
	const sql = `x'; DROP TABLE grids; --`
	bowtie := [][][2]float64{{{x0, y0}, {x0 + 0.01, y0 + 0.01}, {x0 + 0.01, y0}, {x0, y0 + 0.01}, {x0, y0}}}
	// 20,000 bytes of an ignored property: over the 16 KiB limit.
	huge := changedDistrict(setProp(5, "comment", strings.Repeat("長", 7000)))
	const imp = "/v1/grids/import"
	cases := []badCase{
		{name: "broken JSON", path: imp, body: `{"type":"FeatureCollection","features":[{"type":"Feature"`, status: 400, detail: []string{"GeoJSON"}},
		{name: "not JSON", path: imp, body: `<FeatureCollection/>`, status: 400, detail: []string{"GeoJSON", "invalid character"}},
		{name: "empty body", path: imp, body: ``, method: http.MethodPost, status: 400},
		{name: "a Feature, not a FeatureCollection", path: imp, body: `{"type":"Feature","properties":{},"geometry":null}`, status: 400, detail: []string{"not a GeoJSON FeatureCollection", `"Feature"`}},
		{name: "a JSON array", path: imp, body: `[` + fcJSON(district()) + `]`, status: 400, detail: []string{"GeoJSON"}},
		{name: "empty features", path: imp, body: `{"type":"FeatureCollection","features":[]}`, status: 400, detail: []string{"no features"}},
		{name: "features null", path: imp, body: `{"type":"FeatureCollection","features":null}`, status: 400, detail: []string{"no features"}},
		{name: "features an object", path: imp, body: `{"type":"FeatureCollection","features":{}}`, status: 400, detail: []string{"GeoJSON"}},
		{name: "two documents", path: imp, body: changedDistrict(func([]any) {}) + fcJSON(district()), status: 400, detail: []string{"after"}},
		{name: "trailing brace", path: imp, body: changedDistrict(func([]any) {}) + "}", status: 400, detail: []string{"after"}},
		{name: "code is a number", path: imp, body: changedDistrict(setProp(5, "code", 5)), status: 422,
			detail: []string{"rejected", "nothing was stored"}, rejected: []rejection{{5, "", "code must be a string, got number"}}},
		{name: "name is an array", path: imp, body: changedDistrict(setProp(5, "name", []string{"a"})), status: 422,
			rejected: []rejection{{5, "G1", "name must be a string, got array"}}},
		{name: "units_by_category is a list", path: imp, body: changedDistrict(setProp(4, "units_by_category", []string{"U2"})), status: 422,
			rejected: []rejection{{4, "C2", "units_by_category must be an object"}, {7, "G3", "parent C2 was rejected"}}},
		{name: "missing code", path: imp, body: changedDistrict(func(fs []any) { delete(props(fs[5]), "code") }), status: 422,
			rejected: []rejection{{5, "", "code is missing"}}},
		{name: "code with a control character", path: imp, body: changedDistrict(setProp(5, "code", "G\u00071")), status: 422,
			rejected: []rejection{{5, "G\u00071", "control characters"}}},
		{name: "code import, a path of the API", path: imp, body: changedDistrict(setProp(5, "code", "import")), status: 422,
			rejected: []rejection{{5, "import", `code "import" is reserved: /v1/grids/import is an endpoint of the API`}}},
		{name: "code topology, a path of the API", path: imp, body: changedDistrict(setProp(6, "code", "topology")), status: 422,
			rejected: []rejection{{6, "topology", `code "topology" is reserved`}}},
		{name: "code too long", path: imp, body: changedDistrict(setProp(5, "code", strings.Repeat("G", 65))), status: 422,
			rejected: []rejection{{5, strings.Repeat("G", 65), "longer than 64 bytes"}}},
		{name: "duplicate codes", path: imp, body: changedDistrict(setProp(6, "code", "G1")), status: 422,
			rejected: []rejection{{5, "G1", `duplicate code "G1"`}, {6, "G1", `duplicate code "G1"`}}},
		{name: "unknown level", path: imp, body: changedDistrict(setProp(5, "level", "planet")), status: 422,
			rejected: []rejection{{5, "G1", `unknown level "planet"`}}},
		{name: "level missing", path: imp, body: changedDistrict(func(fs []any) { delete(props(fs[5]), "level") }), status: 422,
			rejected: []rejection{{5, "G1", "level is missing"}}},
		{name: "name missing", path: imp, body: changedDistrict(setProp(5, "name", " ")), status: 422,
			rejected: []rejection{{5, "G1", "name is missing"}}},
		{name: "parent missing", path: imp, body: changedDistrict(setProp(5, "parent", "NOPE")), status: 422,
			rejected: []rejection{{5, "G1", "parent NOPE does not exist"}}},
		{name: "no parent", path: imp, body: changedDistrict(func(fs []any) { delete(props(fs[5]), "parent") }), status: 422,
			rejected: []rejection{{5, "G1", "parent is missing"}}},
		{name: "parent of the wrong level", path: imp, body: changedDistrict(setProp(5, "parent", "S1")), status: 422,
			rejected: []rejection{{5, "G1", "parent S1 is a street, but a grid needs a community parent"}}},
		{name: "district with a parent", path: imp, body: changedDistrict(setProp(0, "parent", "S1")), status: 422,
			rejected: []rejection{{0, "D", "a district has no parent"}, {1, "S1", "parent D was rejected"}}},
		{name: "rejection cascades to the children", path: imp, body: changedDistrict(setProp(2, "parent", "NOPE")), status: 422,
			rejected: []rejection{{2, "S2", "parent NOPE does not exist"}, {4, "C2", "parent S2 was rejected"}, {7, "G3", "parent C2 was rejected"}, {8, g4, "parent C2 was rejected"}}},
		{name: "self-intersecting polygon", path: imp, body: changedDistrict(setGeometry(5, bowtie)), status: 422,
			rejected: []rejection{{5, "G1", "self-intersects"}}},
		{name: "unclosed ring", path: imp, body: changedDistrict(setGeometry(5, [][][2]float64{{{x0, y0}, {x0 + 0.01, y0}, {x0 + 0.01, y0 + 0.01}, {x0, y0 + 0.01}}})), status: 422,
			rejected: []rejection{{5, "G1", "not closed"}}},
		{name: "ring with too few points", path: imp, body: changedDistrict(setGeometry(5, [][][2]float64{{{x0, y0}, {x0 + 0.01, y0}, {x0, y0}}})), status: 422,
			rejected: []rejection{{5, "G1", "need at least 4"}}},
		{name: "latitude 91", path: imp, body: changedDistrict(setGeometry(5, rectCoords(x0, y0, x0+0.01, 91))), status: 422,
			rejected: []rejection{{5, "G1", "latitude 91 out of range"}}},
		{name: "longitude 181", path: imp, body: changedDistrict(setGeometry(5, rectCoords(x0, y0, 181, y0+0.01))), status: 422,
			rejected: []rejection{{5, "G1", "longitude 181 out of range"}}},
		{name: "point coordinates", path: imp, body: changedDistrict(func(fs []any) {
			fs[5].(map[string]any)["geometry"] = map[string]any{"type": "Point", "coordinates": []float64{x0, y0}}
		}), status: 422, rejected: []rejection{{5, "G1", "geometry is a Point"}}},
		{name: "geometry missing", path: imp, body: changedDistrict(func(fs []any) { delete(fs[5].(map[string]any), "geometry") }), status: 422,
			rejected: []rejection{{5, "G1", "geometry is missing"}}},
		{name: "coordinates are strings", path: imp, body: changedDistrict(setGeometry(5, [][][]string{{{"120.35", "36.07"}}})), status: 422,
			rejected: []rejection{{5, "G1", "geometry"}}},
		{name: "feature not an object", path: imp, body: changedDistrict(func(fs []any) { fs[5] = 5 }), status: 422,
			rejected: []rejection{{5, "", "not a JSON object"}}},
		{name: "feature of the wrong type", path: imp, body: changedDistrict(func(fs []any) { fs[5].(map[string]any)["type"] = "Point" }), status: 422,
			rejected: []rejection{{5, "", `type is "Point", want "Feature"`}}},
		{name: "unit grid not inside its parent", path: imp, body: changedDistrict(setGeometry(5, rectCoords(x0, y0, x0+0.015, y0+0.01))), status: 422,
			rejected: []rejection{{5, "G1", "not inside its parent C1"}}},
		{name: "unknown unit", path: imp, body: changedDistrict(setProp(5, "unit", "GHOST")), status: 422,
			rejected: []rejection{{5, "G1", "unit GHOST is not registered"}}},
		{name: "unknown unit by category", path: imp, body: changedDistrict(setProp(5, "units_by_category", map[string]string{"E": "GHOST"})), status: 422,
			rejected: []rejection{{5, "G1", "unit GHOST is not registered"}}},
		{name: "SQL in parent", path: imp, body: changedDistrict(setProp(5, "parent", sql)), status: 422,
			rejected: []rejection{{5, "G1", "parent " + sql + " does not exist"}}},
		{name: "SQL in code", path: imp, body: changedDistrict(func(fs []any) {
			props(fs[5])["code"] = sql
			props(fs[5])["unit"] = sql
		}), status: 422, rejected: []rejection{{5, sql, "unit " + sql + " is not registered"}}},
		{name: "SQL in name", path: imp, body: changedDistrict(func(fs []any) {
			props(fs[5])["name"] = sql
			props(fs[5])["parent"] = "NOPE"
		}), status: 422, rejected: []rejection{{5, "G1", "parent NOPE does not exist"}}},
		{name: "body over MaxImportBytes", path: imp, body: huge, status: 413, detail: []string{"larger than 16384 bytes"}},
		{name: "partial not a bool", path: imp + "?partial=maybe", body: fcJSON(district()), status: 400, detail: []string{"partial must be true or false"}},
		{name: "partial repeated", path: imp + "?partial=true&partial=false", body: fcJSON(district()), status: 400, detail: []string{`"partial" is given 2 times`}},
		{name: "unknown query parameter", path: imp + "?dry_run=1", body: fcJSON(district()), status: 400, detail: []string{`unknown query parameter "dry_run"`}},
	}
	if len(huge) <= maxImportBytes {
		t.Fatalf("huge body is %d bytes, want over %d", len(huge), maxImportBytes)
	}
	runBadCases(t, a, cases)
}

func TestBadUnits(t *testing.T) {
	a := newDistrictAPI(t)
	const u = "/v1/units"
	cases := []badCase{
		{name: "unknown field", path: u, body: `{"code":"U9","name":"x","color":"red"}`, status: 400, detail: []string{`unknown field "color"`}},
		{name: "unknown field in an array", path: u, body: `[{"code":"U9","name":"x"},{"code":"U8","name":"y","parnet":"U9"}]`, status: 400, detail: []string{`unknown field "parnet"`}},
		{name: "missing name", path: u, body: `{"code":"U9"}`, status: 400, detail: []string{"name is missing"}},
		{name: "blank name", path: u, body: `{"code":"U9","name":"  "}`, status: 400, detail: []string{"name is missing"}},
		{name: "missing code", path: u, body: `{"name":"x"}`, status: 400, detail: []string{"code is missing"}},
		{name: "code with a control character", path: u, body: `{"code":"U\t9","name":"x"}`, status: 400, detail: []string{"control characters"}},
		{name: "code with surrounding spaces", path: u, body: `{"code":" U9","name":"x"}`, status: 400, detail: []string{"leading or trailing spaces"}},
		{name: "name too long", path: u, body: `{"code":"U9","name":"` + strings.Repeat("x", 201) + `"}`, status: 400, detail: []string{"too long"}},
		{name: "duplicate codes", path: u, body: `[{"code":"U9","name":"x"},{"code":"U8","name":"y"},{"code":"U9","name":"z"}]`, status: 400,
			detail: []string{`units[2]: duplicate code "U9" (also units[0])`}},
		{name: "one bad unit stores none", path: u, body: `[{"code":"U9","name":"x"},{"code":"U1","name":""}]`, status: 400, detail: []string{"units[1]"}},
		{name: "code is a number", path: u, body: `{"code":5,"name":"x"}`, status: 400, detail: []string{"code", "string", "number"}},
		{name: "name is an object", path: u, body: `{"code":"U9","name":{"zh":"x"}}`, status: 400, detail: []string{"name", "string", "object"}},
		{name: "array of numbers", path: u, body: `[1,2]`, status: 400, detail: []string{"number"}},
		{name: "a string", path: u, body: `"U9"`, status: 400, detail: []string{"string"}},
		{name: "empty array", path: u, body: `[]`, status: 400, detail: []string{"no units given"}},
		{name: "broken JSON", path: u, body: `{"code":"U9",`, status: 400, detail: []string{"malformed JSON"}},
		{name: "empty body", path: u, method: http.MethodPost, status: 400, detail: []string{"empty"}},
		{name: "trailing data", path: u, body: `{"code":"U9","name":"x"} {"code":"U8","name":"y"}`, status: 400, detail: []string{"after the JSON value"}},
		{name: "body over MaxBodyBytes", path: u, body: `{"code":"U9","name":"` + strings.Repeat("x", 1<<20) + `"}`, status: 413, detail: []string{"larger than 1048576 bytes"}},
	}
	runBadCases(t, a, cases)
}

func TestBadLocate(t *testing.T) {
	a := newDistrictAPI(t)
	long := strings.Repeat("E", 65)
	cases := []badCase{
		{name: "missing lng", path: "/v1/locate?lat=36.07", status: 400, detail: []string{"lng is missing"}},
		{name: "missing lat", path: "/v1/locate?lng=120.35", status: 400, detail: []string{"lat is missing"}},
		{name: "empty lng", path: "/v1/locate?lng=&lat=36.07", status: 400, detail: []string{"lng is missing"}},
		{name: "no parameters", path: "/v1/locate", status: 400, detail: []string{"lng is missing"}},
		{name: "lng=abc", path: "/v1/locate?lng=abc&lat=36.07", status: 400, detail: []string{"lng must be a finite number", `"abc"`}},
		{name: "lat=NaN", path: "/v1/locate?lng=120.35&lat=NaN", status: 400, detail: []string{"lat must be a finite number"}},
		{name: "lat=Inf", path: "/v1/locate?lng=120.35&lat=Inf", status: 400, detail: []string{"lat must be a finite number"}},
		{name: "lat=-Infinity", path: "/v1/locate?lng=120.35&lat=-Infinity", status: 400, detail: []string{"lat must be a finite number"}},
		{name: "lat=1e999", path: "/v1/locate?lng=120.35&lat=1e999", status: 400, detail: []string{"lat must be a finite number"}},
		{name: "lat=91", path: "/v1/locate?lng=120.35&lat=91", status: 400, detail: []string{"latitude 91 out of range"}},
		{name: "lat=-90.0001", path: "/v1/locate?lng=120.35&lat=-90.0001", status: 400, detail: []string{"latitude -90.0001 out of range"}},
		{name: "lng=181", path: "/v1/locate?lng=181&lat=36.07", status: 400, detail: []string{"longitude 181 out of range"}},
		{name: "lng=-180.5", path: "/v1/locate?lng=-180.5&lat=36.07", status: 400, detail: []string{"longitude -180.5 out of range"}},
		{name: "lat=91 in gcj02", path: "/v1/locate?lng=120.35&lat=91&crs=gcj02", status: 400, detail: []string{"latitude 91 out of range"}},
		{name: "long number text is truncated", path: "/v1/locate?lng=" + strings.Repeat("9", 100) + "x&lat=1", status: 400, detail: []string{"lng must be a finite number", "…"}},
		{name: "unknown parameter", path: "/v1/locate?lng=120.35&lat=36.07&lon=1", status: 400, detail: []string{`unknown query parameter "lon"`}},
		{name: "repeated parameter", path: "/v1/locate?lng=120.35&lat=36.07&lng=121", status: 400, detail: []string{`"lng" is given 2 times`}},
		{name: "crs=xyz", path: "/v1/locate?lng=120.35&lat=36.07&crs=xyz", status: 400, detail: []string{"crs", `"xyz"`}},
		{name: "category over 64 bytes", path: "/v1/locate?lng=120.35&lat=36.07&category=" + long, status: 400, detail: []string{"category must be at most 64 bytes"}},
		{name: "category of 22 Chinese characters (66 bytes)", path: "/v1/locate?lng=120.35&lat=36.07&category=" + url.QueryEscape(strings.Repeat("类", 22)), status: 400, detail: []string{"category"}},
		{name: "category not UTF-8", path: "/v1/locate?lng=120.35&lat=36.07&category=%FF", status: 400, detail: []string{"category"}},

		{name: "POST 10,001 points", path: "/v1/locate", body: pointsJSON(10001), status: 400, detail: []string{"10001 given, at most 10000"}},
		{name: "POST a point with 3 numbers", path: "/v1/locate", body: `{"points":[[120.35,36.07],[120.35,36.07,5]]}`, status: 400, detail: []string{"points[1]: want [lng, lat], got 3 numbers"}},
		{name: "POST a point with 1 number", path: "/v1/locate", body: `{"points":[[120.35]]}`, status: 400, detail: []string{"points[0]", "got 1 numbers"}},
		{name: "POST an empty point", path: "/v1/locate", body: `{"points":[[]]}`, status: 400, detail: []string{"points[0]"}},
		{name: "POST a null coordinate", path: "/v1/locate", body: `{"points":[[null,36.07]]}`, status: 400, detail: []string{"points[0]"}},
		{name: "POST a null point", path: "/v1/locate", body: `{"points":[null]}`, status: 400, detail: []string{"points[0]"}},
		{name: "POST a point as an object", path: "/v1/locate", body: `{"points":[{"lng":120.35,"lat":36.07}]}`, status: 400, detail: []string{"points"}},
		{name: "POST a coordinate as a string", path: "/v1/locate", body: `{"points":[["120.35",36.07]]}`, status: 400, detail: []string{"points", "string"}},
		{name: "POST a point out of range", path: "/v1/locate", body: `{"points":[[120.35,36.07],[120.35,36.07],[120.35,91]]}`, status: 400, detail: []string{"points[2]", "latitude 91 out of range"}},
		{name: "POST unknown field", path: "/v1/locate", body: `{"points":[[120.35,36.07]],"crs":"wgs84","radius":5}`, status: 400, detail: []string{`unknown field "radius"`}},
		{name: "POST empty points", path: "/v1/locate", body: `{"points":[]}`, status: 400, detail: []string{"points is missing or empty"}},
		{name: "POST no points", path: "/v1/locate", body: `{"category":"E01"}`, status: 400, detail: []string{"points is missing or empty"}},
		{name: "POST points null", path: "/v1/locate", body: `{"points":null}`, status: 400, detail: []string{"points is missing or empty"}},
		{name: "POST crs=xyz", path: "/v1/locate", body: `{"points":[[120.35,36.07]],"crs":"xyz"}`, status: 400, detail: []string{"crs"}},
		{name: "POST category over 64 bytes", path: "/v1/locate", body: `{"points":[[120.35,36.07]],"category":"` + long + `"}`, status: 400, detail: []string{"category"}},
		{name: "POST broken JSON", path: "/v1/locate", body: `{"points":[[120.35,36.07]`, status: 400, detail: []string{"malformed JSON"}},
		{name: "POST empty body", path: "/v1/locate", method: http.MethodPost, status: 400, detail: []string{"empty"}},
		{name: "POST trailing data", path: "/v1/locate", body: `{"points":[[120.35,36.07]]}{"points":[[120.35,36.07]]}`, status: 400, detail: []string{"after the JSON value"}},
		{name: "POST not JSON content", path: "/v1/locate", contentType: "text/plain", body: `{"points":[[120.35,36.07]]}`, status: 400, detail: []string{"not JSON"}},
		{name: "POST body over MaxBodyBytes", path: "/v1/locate", body: `{"points":[` + strings.Repeat("[120.35,36.07],", 80000) + `[120.35,36.07]]}`, status: 413, detail: []string{"larger than 1048576 bytes"}},
	}
	runBadCases(t, a, cases)
}

func TestBadGridQueries(t *testing.T) {
	a := newDistrictAPI(t)
	cases := []badCase{
		{name: "bbox of 3 numbers", path: "/v1/grids?bbox=120.35,36.07,120.37", status: 400, detail: []string{"bbox must be minLng,minLat,maxLng,maxLat"}},
		{name: "bbox of 5 numbers", path: "/v1/grids?bbox=1,2,3,4,5", status: 400, detail: []string{"bbox must be"}},
		{name: "inverted bbox", path: "/v1/grids?bbox=120.37,36.09,120.35,36.07", status: 400, detail: []string{"bbox minimum must not exceed its maximum"}},
		{name: "bbox with NaN", path: "/v1/grids?bbox=NaN,36.07,120.37,36.09", status: 400, detail: []string{"bbox minLng must be a finite number"}},
		{name: "bbox with text", path: "/v1/grids?bbox=a,b,c,d", status: 400, detail: []string{"bbox minLng"}},
		{name: "bbox with an empty number", path: "/v1/grids?bbox=120.35,,120.37,36.09", status: 400, detail: []string{"bbox minLat is missing"}},
		{name: "bbox latitude 91", path: "/v1/grids?bbox=120.35,36.07,120.37,91", status: 400, detail: []string{"bbox", "latitude 91"}},
		{name: "bbox longitude -181", path: "/v1/grids?bbox=-181,36.07,120.37,36.09", status: 400, detail: []string{"bbox", "longitude -181"}},
		{name: "level=planet", path: "/v1/grids?level=planet", status: 400, detail: []string{`level: unknown level "planet"`}},
		{name: "level=4", path: "/v1/grids?level=4", status: 400, detail: []string{"level"}},
		{name: "limit=0", path: "/v1/grids?limit=0", status: 400, detail: []string{"limit must be an integer from 1 to 100000"}},
		{name: "limit=-1", path: "/v1/grids?limit=-1", status: 400, detail: []string{"limit must be"}},
		{name: "limit=abc", path: "/v1/grids?limit=abc", status: 400, detail: []string{"limit must be"}},
		{name: "limit=100001", path: "/v1/grids?limit=100001", status: 400, detail: []string{"limit must be"}},
		{name: "limit=1.5", path: "/v1/grids?limit=1.5", status: 400, detail: []string{"limit must be"}},
		{name: "unknown parameter", path: "/v1/grids?bbbox=1,2,3,4", status: 400, detail: []string{`unknown query parameter "bbbox"`}},
		{name: "repeated parameter", path: "/v1/grids?level=grid&level=street", status: 400, detail: []string{`"level" is given 2 times`}},
		{name: "parent with a leading space", path: "/v1/grids?parent=%20C1", status: 400, detail: []string{"parent", "leading or trailing spaces"}},
		{name: "parent too long", path: "/v1/grids?parent=" + strings.Repeat("P", 65), status: 400, detail: []string{"parent", "longer than 64 bytes"}},
		{name: "unknown grid", path: "/v1/grids/NOPE", status: 404, detail: []string{`grid "NOPE" not found`}},
		{name: "unknown grid with a Chinese code", path: "/v1/grids/" + url.PathEscape("没有"), status: 404, detail: []string{`grid "没有" not found`}},
		{name: "grid code with a leading space", path: "/v1/grids/%20G1", status: 400, detail: []string{"grid code", "leading or trailing spaces"}},
		{name: "grid code too long", path: "/v1/grids/" + strings.Repeat("G", 65), status: 400, detail: []string{"grid code", "longer than 64 bytes"}},
		{name: "grid code with a control character", path: "/v1/grids/G%071", status: 400, detail: []string{"grid code", "control characters"}},
		{name: "unknown route", path: "/v2/grids", status: 404, detail: []string{"no such endpoint: GET /v2/grids"}},
		{name: "unknown route under /v1", path: "/v1/gridz", status: 404, detail: []string{"no such endpoint"}},
		{name: "unknown route with a body", path: "/v1/nothing", body: `{}`, status: 404, detail: []string{"no such endpoint: POST /v1/nothing"}},
		{name: "GET on the import", path: "/v1/grids/import", status: 405, detail: []string{"method GET not allowed on /v1/grids/import (allowed: POST)"}},
		{name: "DELETE a grid", method: http.MethodDelete, path: "/v1/grids/G1", status: 405, detail: []string{"method DELETE not allowed"}},
		{name: "PUT units", method: http.MethodPut, path: "/v1/units", body: unitsJSON, status: 405, detail: []string{"method PUT not allowed"}},
		{name: "DELETE units", method: http.MethodDelete, path: "/v1/units", status: 405, detail: []string{"method DELETE not allowed"}},
		{name: "PUT import", method: http.MethodPut, path: "/v1/grids/import", body: fcJSON(district()), status: 405, detail: []string{"not allowed"}},
		{name: "PATCH locate", method: http.MethodPatch, path: "/v1/locate", body: `{}`, status: 405, detail: []string{"method PATCH not allowed"}},
		{name: "POST healthz", path: "/healthz", body: `{}`, status: 405, detail: []string{"not allowed"}},
	}
	runBadCases(t, a, cases)
}

// TestMethodNotAllowedSaysWhatIs: a 405 carries Allow (RFC 9110).
func TestMethodNotAllowedSaysWhatIs(t *testing.T) {
	a := newAPI(t, nil)
	for _, tt := range []struct{ method, path, allow string }{
		{http.MethodDelete, "/v1/units", "GET, POST"},
		{http.MethodPatch, "/v1/locate", "GET, POST"},
		{http.MethodPost, "/healthz", "GET"},
		// The import is a subrouter of its own: its path is not a grid code.
		{http.MethodGet, "/v1/grids/import", "POST"},
		{http.MethodPut, "/v1/grids/import", "POST"},
		{http.MethodDelete, "/v1/grids/import/", "POST"},
		{http.MethodDelete, "/v1/grids/G1", "GET"},
		{http.MethodPost, "/v1/grids/topology", "GET"},
		{http.MethodPost, "/v1/grids", "GET"},
	} {
		r := a.do(tt.method, tt.path, "", nil)
		if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != tt.allow {
			t.Errorf("%s %s = %d, Allow %q; want 405 with Allow %q", tt.method, tt.path, r.status, r.header.Get("Allow"), tt.allow)
		}
	}
}
