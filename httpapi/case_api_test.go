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
	"time"

	"citygrid/caseindex"
	"citygrid/grid"
	"citygrid/httpapi"
	"citygrid/internal/app"
	"citygrid/internal/dbtest"
	"citygrid/postgres"
)

// caseServer is an API server on a transaction rolled back after the test,
// with a small district: two streets, each a community of two unit grids.
func caseServer(t *testing.T) (*httptest.Server, func() int) {
	t.Helper()
	return ownedCaseServer(t, "U1", grid.LocatorOptions{})
}

// ownedCaseServer is caseServer with the district's default unit (none:
// "") and the locator's options given.
func ownedCaseServer(t *testing.T, districtUnit string, opt grid.LocatorOptions) (*httptest.Server, func() int) {
	t.Helper()
	s, count := ownedCaseHandler(t, districtUnit, opt)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv, count
}

// caseHandler is caseServer's handler, for tests that look into its routes.
func caseHandler(t *testing.T) (keyedServer, func() int) {
	t.Helper()
	return ownedCaseHandler(t, "U1", grid.LocatorOptions{})
}

func ownedCaseHandler(t *testing.T, districtUnit string, opt grid.LocatorOptions) (keyedServer, func() int) {
	t.Helper()
	tx := dbtest.Tx(t)
	ctx := context.Background()
	grids := postgres.NewGridStore(tx)
	if _, _, err := grids.UpsertUnits(ctx, []grid.Unit{{Code: "U1", Name: "城管局"}, {Code: "U2", Name: "居委会"}}); err != nil {
		t.Fatal(err)
	}
	rect := func(x0, y0, x1, y1 float64) string {
		return fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%v,%v],[%v,%v],[%v,%v],[%v,%v],[%v,%v]]]}`, x0, y0, x1, y0, x1, y1, x0, y1, x0, y0)
	}
	feature := func(code, level, parent, extra, geom string) string {
		p := fmt.Sprintf(`"code":%q,"name":%q,"level":%q`, code, code, level)
		if parent != "" {
			p += fmt.Sprintf(`,"parent":%q`, parent)
		}
		return fmt.Sprintf(`{"type":"Feature","properties":{%s%s},"geometry":%s}`, p, extra, geom)
	}
	districtProps := ""
	if districtUnit != "" {
		districtProps = fmt.Sprintf(`,"unit":%q`, districtUnit)
	}
	fc := `{"type":"FeatureCollection","features":[` + strings.Join([]string{
		feature("D", "district", "", districtProps, rect(120.35, 36.07, 120.37, 36.09)),
		feature("S1", "street", "D", "", rect(120.35, 36.07, 120.36, 36.09)),
		feature("S2", "street", "D", "", rect(120.36, 36.07, 120.37, 36.09)),
		feature("C1", "community", "S1", "", rect(120.35, 36.07, 120.36, 36.09)),
		feature("C2", "community", "S2", `,"units_by_category":{"E01":"U2"}`, rect(120.36, 36.07, 120.37, 36.09)),
		feature("G1", "grid", "C1", "", rect(120.35, 36.07, 120.36, 36.08)),
		feature("G2", "grid", "C1", "", rect(120.35, 36.08, 120.36, 36.09)),
		feature("G3", "grid", "C2", "", rect(120.36, 36.07, 120.37, 36.08)),
		feature("G4", "grid", "C2", "", rect(120.36, 36.08, 120.37, 36.09)),
	}, ",") + `]}`
	inputs, err := grid.ParseFeatureCollection(strings.NewReader(fc))
	if err != nil {
		t.Fatal(err)
	}
	if res, err := grids.ImportGrids(ctx, inputs, grid.ImportOptions{}); err != nil || !res.Committed {
		t.Fatalf("import: %+v %v", res, err)
	}
	index := grid.NewIndex(opt)
	if err := index.Rebuild(ctx, grids); err != nil {
		t.Fatal(err)
	}
	cases := postgres.NewCaseStore(tx)
	now := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
	d := httpapi.Deps{
		Grids: grids, Cases: cases, Stats: cases, Index: index,
		App:    app.New(index, caseindex.New(), nil, app.Config{Now: func() time.Time { return now }}), // no store: a background reload would share the test's transaction
		Now:    func() time.Time { return now },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	d.Projects = postgres.NewProjectStore(tx) // issue 17
	token := withKeys(t, tx, &d)
	withCampaigns(&d, tx) // issue 18
	s := keyedServer{httpapi.New(httpapi.Config{MaxBodyBytes: 64 << 10, MaxImportBytes: 1 << 20}, d), token}
	count := func() int {
		var n int
		if err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM cases) + (SELECT count(*) FROM case_events)`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	return s, count
}

// do makes a request and returns the reply's status, its body decoded when
// it is JSON, and its header.
func do(t *testing.T, method, url, contentType, body string, header ...string) (int, map[string]any, http.Header) {
	t.Helper()
	status, b, h := raw(t, method, url, contentType, body, header...)
	var out map[string]any
	if strings.Contains(h.Get("Content-Type"), "json") {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s: body is not JSON: %s", method, url, b)
		}
	}
	return status, out, h
}

// raw makes a request and returns the reply's status, body and header.
func raw(t *testing.T, method, url, contentType, body string, header ...string) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b, resp.Header
}

func TestCaseAPIFlow(t *testing.T) {
	srv, _ := caseServer(t)
	body := `{"source":"hotline","external_id":"12345-1","category":"E0101","title":"垃圾","location":[120.365,36.075],"properties":{"caller":"anon"}}`
	code, f, h := do(t, "POST", srv.URL+"/v1/cases", "application/json", body)
	if code != 201 {
		t.Fatalf("create = %d %v", code, f)
	}
	props := f["properties"].(map[string]any)
	if props["grid"] != "G3" || props["unit"] != "U2" || props["status"] != "reported" || h.Get("ETag") != `"1"` {
		t.Errorf("created case: %v etag %s", props, h.Get("ETag"))
	}
	id := props["id"].(string)
	// A second report nearby is a possible duplicate of the first.
	code, f2, _ := do(t, "POST", srv.URL+"/v1/cases", "application/json", `{"source":"app","external_id":"a-9","category":"E0101","location":[120.3651,36.0751]}`)
	dups := f2["properties"].(map[string]any)["possible_duplicates"].([]any)
	if code != 201 || len(dups) != 1 || dups[0].(map[string]any)["id"] != id {
		t.Errorf("possible duplicates = %v", dups)
	}
	// The same (source, external_id) again is not stored twice.
	if code, _, _ := do(t, "POST", srv.URL+"/v1/cases", "application/json", body); code != 200 {
		t.Errorf("re-sent case = %d, want 200", code)
	}
	patch := func(v string, b string) (int, map[string]any) {
		code, out, _ := do(t, "PATCH", srv.URL+"/v1/cases/"+id, "application/json", b, "If-Match", v)
		return code, out
	}
	if code, out := patch(`"1"`, `{"status":"accepted"}`); code != 200 {
		t.Fatalf("accept = %d %v", code, out)
	}
	if code, _ := patch(`"1"`, `{"status":"dispatched"}`); code != 412 {
		t.Errorf("stale If-Match = %d, want 412", code)
	}
	if code, _ := patch(`"2"`, `{"status":"closed"}`); code != 422 {
		t.Errorf("accepted → closed = %d, want 422", code)
	}
	if code, _, _ := do(t, "PATCH", srv.URL+"/v1/cases/"+id, "application/json", `{"status":"dispatched"}`); code != 400 {
		t.Errorf("PATCH without If-Match = %d, want 400", code)
	}
	code, hist, _ := do(t, "GET", srv.URL+"/v1/cases/"+id+"/history", "", "")
	events := hist["events"].([]any)
	if code != 200 || len(events) != 2 || events[1].(map[string]any)["actor"] != "test admin" {
		t.Errorf("history = %d %v", code, hist)
	}
	code, fc, _ := do(t, "GET", srv.URL+"/v1/cases?bbox=120.36,36.07,120.37,36.08&limit=1", "", "")
	if code != 200 || len(fc["features"].([]any)) != 1 || fc["next"] == nil {
		t.Fatalf("bbox page 1 = %d %v", code, fc)
	}
	code, fc, _ = do(t, "GET", srv.URL+"/v1/cases?bbox=120.36,36.07,120.37,36.08&limit=1&cursor="+fc["next"].(string), "", "")
	if code != 200 || len(fc["features"].([]any)) != 1 || fc["next"] != nil {
		t.Errorf("bbox page 2 = %d %v", code, fc)
	}
	code, _, h = do(t, "GET", srv.URL+"/v1/cases?grid=S2&format=csv", "", "")
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") {
		t.Errorf("csv = %d %s", code, h.Get("Content-Type"))
	}
	code, st, _ := do(t, "GET", srv.URL+"/v1/stats?by=street&from=2026-11-01T00:00:00Z&to=2026-11-24T00:00:00Z", "", "")
	if code != 200 || len(st["rows"].([]any)) != 1 {
		t.Errorf("stats = %d %v", code, st)
	}
	ndjson := `{"source":"patrol","external_id":"p1","category":"E0501","location":[120.355,36.075]}` + "\n" +
		`{"source":"patrol","external_id":"p2","category":"E0501","location":[120.355,"x"]}` + "\n"
	code, res, _ := do(t, "POST", srv.URL+"/v1/cases/bulk", "application/x-ndjson", ndjson)
	if code != 200 || res["accepted"].(float64) != 1 || len(res["rejected"].([]any)) != 1 {
		t.Errorf("bulk = %d %v", code, res)
	}
}

// TestCaseAPIBadInput sends every kind of bad input: each must get a 4xx
// problem naming what is wrong, and store nothing.
func TestCaseAPIBadInput(t *testing.T) {
	srv, count := caseServer(t)
	ok := `"source":"s","external_id":"e","category":"E0101"`
	tests := []struct {
		name, method, path, ctype, body string
		status                          int
		detail                          string
	}{
		{"broken JSON", "POST", "/v1/cases", "application/json", `{"source":`, 400, "malformed JSON"},
		{"unknown field", "POST", "/v1/cases", "application/json", `{` + ok + `,"location":[120.36,36.08],"colour":"red"}`, 400, "unknown field"},
		{"wrong type", "POST", "/v1/cases", "application/json", `{` + ok + `,"location":"here"}`, 400, "location"},
		{"missing location", "POST", "/v1/cases", "application/json", `{` + ok + `}`, 400, "location"},
		{"latitude out of range", "POST", "/v1/cases", "application/json", `{` + ok + `,"location":[120.36,91]}`, 400, "latitude"},
		{"three coordinates", "POST", "/v1/cases", "application/json", `{` + ok + `,"location":[120.36,36.08,5]}`, 400, "location"},
		{"unknown category", "POST", "/v1/cases", "application/json", `{"source":"s","external_id":"e","category":"ZZ","location":[120.36,36.08]}`, 400, "category"},
		{"unknown status", "POST", "/v1/cases", "application/json", `{` + ok + `,"location":[120.36,36.08],"status":"done"}`, 400, "status"},
		{"priority out of range", "POST", "/v1/cases", "application/json", `{` + ok + `,"location":[120.36,36.08],"priority":9}`, 400, "priority"},
		{"unknown crs", "POST", "/v1/cases", "application/json", `{` + ok + `,"location":[120.36,36.08],"crs":"mars"}`, 400, "crs"},
		{"properties not an object", "POST", "/v1/cases", "application/json", `{` + ok + `,"location":[120.36,36.08],"properties":[1]}`, 400, "properties"},
		{"future report time", "POST", "/v1/cases", "application/json", `{` + ok + `,"location":[120.36,36.08],"reported_at":"2030-01-01T00:00:00Z"}`, 400, "reported_at"},
		{"huge body", "POST", "/v1/cases", "application/json", `{"title":"` + strings.Repeat("x", 70<<10) + `"}`, 413, "larger"},
		{"sql-looking source", "POST", "/v1/cases", "application/json", `{"source":"x'; DROP TABLE cases; --","external_id":"e","category":"NOPE","location":[120.36,36.08]}`, 400, "category"},
		{"two areas", "GET", "/v1/cases?bbox=120,36,121,37&grid=G1", "", "", 400, "exactly one area"},
		{"no area", "GET", "/v1/cases", "", "", 400, "exactly one area"},
		{"radius zero", "GET", "/v1/cases?near=120.36,36.08&radius=0", "", "", 400, "radius"},
		{"radius huge", "GET", "/v1/cases?near=120.36,36.08&radius=1e9", "", "", 400, "radius"},
		{"radius without near", "GET", "/v1/cases?bbox=120,36,121,37&radius=5", "", "", 400, "radius"},
		{"bad cursor", "GET", "/v1/cases?bbox=120,36,121,37&cursor=abc", "", "", 400, "cursor"},
		{"bad status filter", "GET", "/v1/cases?bbox=120,36,121,37&status=done", "", "", 400, "status"},
		{"bad h3", "GET", "/v1/cases?h3=zzz", "", "", 400, "h3"},
		{"unknown grid", "GET", "/v1/cases?grid=NOPE", "", "", 404, "NOPE"},
		{"limit too large", "GET", "/v1/cases?bbox=120,36,121,37&limit=10001", "", "", 400, "limit"},
		{"inverted time range", "GET", "/v1/cases?bbox=120,36,121,37&from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "", "", 400, "before"},
		{"unknown parameter", "GET", "/v1/cases?bbox=120,36,121,37&colour=red", "", "", 400, "unknown query parameter"},
		{"self-intersecting polygon", "POST", "/v1/cases/search", "application/json", `{"polygon":{"type":"Polygon","coordinates":[[[120.35,36.07],[120.36,36.08],[120.36,36.07],[120.35,36.08],[120.35,36.07]]]}}`, 400, "polygon"},
		{"absurd polygon", "POST", "/v1/cases/search", "application/json", `{"polygon":{"type":"Polygon","coordinates":[[[0,0],[60,0],[60,60],[0,60],[0,0]]]}}`, 400, "larger"},
		{"point instead of polygon", "POST", "/v1/cases/search", "application/json", `{"polygon":{"type":"Point","coordinates":[1,2]}}`, 400, "polygon"},
		{"patch unknown case", "PATCH", "/v1/cases/999999", "application/json", `{"status":"accepted"}`, 400, "If-Match"},
		{"patch bad id", "PATCH", "/v1/cases/abc", "application/json", `{}`, 400, "not a positive integer"},
		{"bulk wrong content type", "POST", "/v1/cases/bulk", "application/xml", `<x/>`, 400, "Content-Type"},
		{"bulk csv without lng", "POST", "/v1/cases/bulk", "text/csv", "source,external_id,category,lat\ns,e,E0101,36\n", 400, "lng"},
		{"bulk csv unknown column", "POST", "/v1/cases/bulk", "text/csv", "source,lng,lat,colour\n", 400, "unknown column"},
		{"categories empty", "PUT", "/v1/categories", "application/json", `{"categories":[]}`, 400, "empty"},
		{"categories bad limit", "PUT", "/v1/categories", "application/json", `{"categories":[{"code":"A","name_zh":"甲","name_en":"a","time_limit":{"value":0,"unit":"working_hours"}}]}`, 400, "time_limit"},
		{"calendar bad zone", "PUT", "/v1/calendar", "application/json", `{"timezone":"Mars/Base","day_start":"09:00","day_end":"17:00"}`, 400, "timezone"},
		{"stats bad grouping", "GET", "/v1/stats?by=planet", "", "", 400, "by"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := count()
			code, body, h := do(t, tt.method, srv.URL+tt.path, tt.ctype, tt.body)
			if code != tt.status {
				t.Fatalf("status = %d, want %d (%v)", code, tt.status, body)
			}
			if !strings.HasPrefix(h.Get("Content-Type"), "application/problem+json") {
				t.Errorf("Content-Type = %q, want application/problem+json", h.Get("Content-Type"))
			}
			if d, _ := body["detail"].(string); !strings.Contains(d, tt.detail) {
				t.Errorf("detail = %q, want it to mention %q", d, tt.detail)
			}
			if after := count(); after != before {
				t.Errorf("bad input changed the database: %d rows before, %d after", before, after)
			}
		})
	}
}
