package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// ogcServer is caseServer with n cases reported an hour apart (the newest
// an hour before the server's now), spread over the four unit grids, every
// exchange checked against /openapi.json. It returns the keyed server, an
// anonymous one, and the cases' ids newest first.
func ogcServer(t *testing.T, n int) (keyed, anon *httptest.Server, ids []string) {
	t.Helper()
	keyed, anon, ids, _ = ogcServerKey(t, n)
	return keyed, anon, ids
}

// ogcServerKey is ogcServer that also returns the admin key the keyed
// server adds to requests without one.
func ogcServerKey(t *testing.T, n int) (keyed, anon *httptest.Server, ids []string, token string) {
	t.Helper()
	s, _ := caseHandler(t)
	token = s.token
	keyed = httptest.NewServer(validated(t, s))
	t.Cleanup(keyed.Close)
	anon = httptest.NewServer(validated(t, s.Server))
	t.Cleanup(anon.Close)
	now := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
	spots := [][2]float64{{120.355, 36.075}, {120.355, 36.085}, {120.365, 36.075}, {120.365, 36.085}}
	cats := []string{"E0101", "C0201", "E0501"}
	for i := range n {
		p := spots[i%4]
		body := fmt.Sprintf(`{"source":"hotline","external_id":"x%d","category":%q,"title":"free text %d","location":[%v,%v],"reported_at":%q}`,
			i, cats[i%3], i, p[0]+float64(i)*1e-5, p[1], now.Add(-time.Duration(n-i)*time.Hour).Format(time.RFC3339))
		status, got, _ := do(t, "POST", keyed.URL+"/v1/cases", "application/json", body)
		if status != http.StatusCreated {
			t.Fatalf("create case %d: %d %v", i, status, got)
		}
		ids = append(ids, got["properties"].(map[string]any)["id"].(string))
	}
	slices.Reverse(ids)
	return keyed, anon, ids, token
}

// featureIDs returns a page's features' ids.
func featureIDs(page map[string]any) []string {
	var out []string
	for _, f := range page["features"].([]any) {
		out = append(out, fmt.Sprint(f.(map[string]any)["id"]))
	}
	return out
}

// linkOf returns the href of a page's link of rel, or "".
func linkOf(page map[string]any, rel string) string {
	for _, l := range page["links"].([]any) {
		if m := l.(map[string]any); m["rel"] == rel {
			return m["href"].(string)
		}
	}
	return ""
}

func TestOGCLandingAndConformanceAreAnonymous(t *testing.T) {
	_, anon, _ := ogcServer(t, 0)
	status, body, h := do(t, "GET", anon.URL+"/ogc", "", "")
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /ogc = %d %s", status, h.Get("Content-Type"))
	}
	for _, rel := range []string{"self", "service-desc", "conformance", "data"} {
		if linkOf(body, rel) == "" {
			t.Errorf("the landing page has no %s link: %v", rel, body["links"])
		}
	}
	if got := linkOf(body, "service-desc"); got != anon.URL+"/openapi.json" {
		t.Errorf("service-desc = %q", got)
	}
	status, body, _ = do(t, "GET", anon.URL+"/ogc/conformance?f=json", "", "")
	if status != 200 || !slices.Contains(body["conformsTo"].([]any), any("http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson")) {
		t.Fatalf("conformance = %d %v", status, body)
	}
	if status, _, _ := do(t, "GET", anon.URL+"/openapi.json", "", ""); status != 200 {
		t.Errorf("GET /openapi.json anonymously = %d", status)
	}
	if status, _, _ := do(t, "GET", anon.URL+"/ogc/collections", "", ""); status != 401 {
		t.Errorf("GET /ogc/collections anonymously = %d, want 401", status)
	}
}

func TestOGCCollections(t *testing.T) {
	srv, _, _ := ogcServer(t, 6)
	status, body, _ := do(t, "GET", srv.URL+"/ogc/collections", "", "")
	if status != 200 {
		t.Fatalf("GET /ogc/collections = %d %v", status, body)
	}
	var ids []string
	for _, c := range body["collections"].([]any) {
		ids = append(ids, c.(map[string]any)["id"].(string))
	}
	want := []string{"grids-district", "grids-street", "grids-community", "grids-grid", "cases", "hotspots"}
	if !slices.Equal(ids, want) {
		t.Errorf("collections = %v, want %v", ids, want)
	}
	status, c, _ := do(t, "GET", srv.URL+"/ogc/collections/cases", "", "")
	if status != 200 {
		t.Fatalf("GET /ogc/collections/cases = %d", status)
	}
	ext := c["extent"].(map[string]any)
	bbox := ext["spatial"].(map[string]any)["bbox"].([]any)[0].([]any)
	if fmt.Sprint(bbox) != "[120.35 36.07 120.37 36.09]" {
		t.Errorf("spatial extent = %v, want the district's", bbox)
	}
	interval := ext["temporal"].(map[string]any)["interval"].([]any)[0].([]any)
	if interval[0] != "2026-11-22T21:00:00Z" || interval[1] != "2026-11-23T02:00:00Z" {
		t.Errorf("temporal extent = %v, want the oldest and newest reported times", interval)
	}
	for _, path := range []string{"/ogc/collections/grids-street", "/ogc/collections/hotspots"} {
		if status, _, _ := do(t, "GET", srv.URL+path, "", ""); status != 200 {
			t.Errorf("GET %s = %d", path, status)
		}
	}
}

// TestOGCCaseItemsPage: the items of a bbox are the /v1/cases listing of
// it, page by page through next links and back through prev links, with
// numberMatched the whole count.
func TestOGCCaseItemsPage(t *testing.T) {
	srv, _, ids := ogcServer(t, 13)
	_, v1, _ := do(t, "GET", srv.URL+"/v1/cases?bbox=120.35,36.07,120.37,36.09&limit=100", "", "")
	if got := featureIDs(v1); !slices.Equal(got, ids) {
		t.Fatalf("/v1/cases = %v, want %v", got, ids)
	}
	var pages []string
	var collected []string
	next := srv.URL + "/ogc/collections/cases/items?bbox=120.35,36.07,120.37,36.09&limit=5"
	for next != "" {
		status, page, h := do(t, "GET", next, "", "")
		if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/geo+json") {
			t.Fatalf("GET %s = %d %s %v", next, status, h.Get("Content-Type"), page)
		}
		if page["numberMatched"] != float64(13) || page["numberReturned"] != float64(len(page["features"].([]any))) || page["timeStamp"] != "2026-11-23T03:00:00Z" {
			t.Errorf("page %d: numberMatched %v, numberReturned %v, timeStamp %v", len(pages), page["numberMatched"], page["numberReturned"], page["timeStamp"])
		}
		if len(pages) == 0 && linkOf(page, "prev") != "" {
			t.Errorf("the first page has a prev link")
		}
		pages = append(pages, next)
		collected = append(collected, featureIDs(page)...)
		next = linkOf(page, "next")
	}
	if !slices.Equal(collected, ids) || len(pages) != 3 {
		t.Fatalf("through next links: %v in %d pages, want %v in 3", collected, len(pages), ids)
	}
	// Back from the last page: prev links give the pages seen.
	_, page, _ := do(t, "GET", pages[2], "", "")
	for i := 1; i >= 0; i-- {
		prev := linkOf(page, "prev")
		if prev == "" {
			t.Fatalf("page %d has no prev link", i+1)
		}
		_, page, _ = do(t, "GET", prev, "", "")
		if got, want := featureIDs(page), ids[i*5:i*5+5]; !slices.Equal(got, want) {
			t.Errorf("prev to page %d = %v, want %v", i, got, want)
		}
		if i == 0 && linkOf(page, "prev") != "" {
			t.Errorf("the first page, reached by prev, has a prev link")
		}
		if linkOf(page, "next") == "" {
			t.Errorf("page %d, reached by prev, has no next link", i)
		}
	}
	// A smaller box: exactly /v1/cases' answer for it.
	_, v1, _ = do(t, "GET", srv.URL+"/v1/cases?bbox=120.35,36.07,120.36,36.08", "", "")
	_, page, _ = do(t, "GET", srv.URL+"/ogc/collections/cases/items?bbox=120.35,36.07,120.36,36.08", "", "")
	if got, want := featureIDs(page), featureIDs(v1); !slices.Equal(got, want) || len(want) != 4 {
		t.Errorf("bbox of G1 = %v, want %v (4)", got, want)
	}
}

func TestOGCCaseItemsFilters(t *testing.T) {
	srv, _, ids := ogcServer(t, 8) // reported 19:00 … 02:00; newest first in ids
	items := func(q string) []string {
		t.Helper()
		status, page, _ := do(t, "GET", srv.URL+"/ogc/collections/cases/items?"+q, "", "")
		if status != 200 {
			t.Fatalf("items?%s = %d %v", q, status, page)
		}
		if n := page["numberMatched"]; !strings.Contains(q, "limit") && n != float64(len(page["features"].([]any))) {
			t.Errorf("items?%s: numberMatched %v for %d features", q, n, len(page["features"].([]any)))
		}
		return featureIDs(page)
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"datetime=2026-11-23T01:00:00Z", ids[1:2]},
		{"datetime=2026-11-23T00:00:00Z/2026-11-23T01:00:00Z", ids[1:3]}, // both ends included
		{"datetime=2026-11-23T00:00:00Z/..", ids[0:3]},
		{"datetime=../2026-11-22T20:00:00Z", ids[6:8]},
		{"datetime=/2026-11-22T20:00:00Z", ids[6:8]},
		{"datetime=../..", ids},
		{"datetime=2026-11-23T09:00:00%2B08:00", ids[1:2]}, // an offset
		{"category=E01", []string{ids[1], ids[4], ids[7]}}, // x6, x3, x0
		{"grid=G1", []string{ids[3], ids[7]}},              // x4, x0
		{"grid=G1&category=E05", nil},
		{"unit=U2&limit=1", nil}, // E01 in C2 goes to U2: checked below by the cases' unit
		{"status=reported&source=hotline&limit=2", ids[0:2]},
		{"bbox=120.36,36.08,0,120.37,36.09,100&f=geojson", []string{ids[0], ids[4]}}, // six numbers: G4
	}
	for _, tt := range tests {
		got := items(tt.query)
		if tt.query == "unit=U2&limit=1" {
			continue // checked below, by the case's unit
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("items?%s = %v, want %v", tt.query, got, tt.want)
		}
	}
	_, page, _ := do(t, "GET", srv.URL+"/ogc/collections/cases/items?unit=U2", "", "")
	if len(page["features"].([]any)) == 0 {
		t.Errorf("unit=U2: no case (E01 cases in C2 go to U2)")
	}
	for _, f := range page["features"].([]any) {
		if u := f.(map[string]any)["properties"].(map[string]any)["unit"]; u != "U2" {
			t.Errorf("unit=U2 gave a case of unit %v", u)
		}
	}
	// One case by the id of /v1/cases, external_id kept.
	status, f, _ := do(t, "GET", srv.URL+"/ogc/collections/cases/items/"+ids[0], "", "", "Accept", "application/json")
	props, _ := f["properties"].(map[string]any)
	if status != 200 || f["id"] != ids[0] || props["external_id"] != "x7" || linkOf(f, "collection") == "" {
		t.Errorf("item %s = %d %v", ids[0], status, f)
	}
}

// TestOGCBadInput: every kind of bad request is a 4xx problem, never a 5xx.
func TestOGCBadInput(t *testing.T) {
	srv, _, _ := ogcServer(t, 1)
	tests := []struct {
		path string
		want int
	}{
		{"/ogc/collections/cases/items?bogus=1", 400},
		{"/ogc/collections/cases/items?bbox-crs=http://www.opengis.net/def/crs/EPSG/0/4326", 400},
		{"/ogc/collections/cases/items?bbox=1,2,3", 400},
		{"/ogc/collections/cases/items?bbox=120.4,36,120.3,36.1", 400},
		{"/ogc/collections/cases/items?bbox=a,b,c,d", 400},
		{"/ogc/collections/cases/items?bbox=0,0,200,1", 400},
		{"/ogc/collections/cases/items?datetime=yesterday", 400},
		{"/ogc/collections/cases/items?datetime=2026-11-23", 400},
		{"/ogc/collections/cases/items?datetime=..", 400},
		{"/ogc/collections/cases/items?datetime=2026-11-23T00:00:00Z/2026-11-22T00:00:00Z", 400},
		{"/ogc/collections/cases/items?datetime=a/b/c", 400},
		{"/ogc/collections/cases/items?limit=0", 400},
		{"/ogc/collections/cases/items?limit=10001", 400},
		{"/ogc/collections/cases/items?limit=x", 400},
		{"/ogc/collections/cases/items?cursor=abc", 400},
		{"/ogc/collections/cases/items?status=nope", 400},
		{"/ogc/collections/cases/items?f=html", 400},
		{"/ogc/collections/cases/items?limit=1&limit=2", 400},
		{"/ogc/collections/cases/items/999999", 404},
		{"/ogc/collections/cases/items/abc", 404},
		{"/ogc/collections/nope", 404},
		{"/ogc/collections/nope/items", 404},
		{"/ogc/collections/grids-Street/items", 404},
		{"/ogc/collections/grids-grid/items/S1", 404},
		{"/ogc/collections/grids-grid/items/NOPE", 404},
		{"/ogc/collections/grids-grid/items?offset=-1", 400},
		{"/ogc/collections/grids-grid/items?datetime=2026-11-23T00:00:00Z", 400},
		{"/ogc/collections/hotspots/items/8a2a1072b59ffff", 404},
		{"/ogc/collections/hotspots/items/zz", 404},
		{"/ogc/collections/hotspots/items?gi_class=hot_99&bbox=1", 400},
		{"/ogc/conformance?x=1", 400},
		{"/ogc?f=xml", 400},
	}
	for _, tt := range tests {
		status, body, h := do(t, "GET", srv.URL+tt.path, "", "")
		if status != tt.want || h.Get("Content-Type") != "application/problem+json; charset=utf-8" || body["detail"] == "" {
			t.Errorf("GET %s = %d (%s) %v, want %d problem+json", tt.path, status, h.Get("Content-Type"), body, tt.want)
		}
	}
}

func TestOGCGridAndHotspotItems(t *testing.T) {
	srv, _, _ := ogcServer(t, 12)
	status, page, _ := do(t, "GET", srv.URL+"/ogc/collections/grids-grid/items?limit=3", "", "")
	if status != 200 || !slices.Equal(featureIDs(page), []string{"G1", "G2", "G3"}) || page["numberMatched"] != float64(4) {
		t.Fatalf("grids-grid items = %d %v", status, page)
	}
	next := linkOf(page, "next")
	_, page, _ = do(t, "GET", next, "", "")
	if !slices.Equal(featureIDs(page), []string{"G4"}) || linkOf(page, "next") != "" {
		t.Errorf("the next page = %v (next %q)", featureIDs(page), linkOf(page, "next"))
	}
	_, page, _ = do(t, "GET", linkOf(page, "prev"), "", "")
	if !slices.Equal(featureIDs(page), []string{"G1", "G2", "G3"}) {
		t.Errorf("back = %v", featureIDs(page))
	}
	_, page, _ = do(t, "GET", srv.URL+"/ogc/collections/grids-grid/items?bbox=120.351,36.071,120.352,36.072", "", "")
	if !slices.Equal(featureIDs(page), []string{"G1"}) {
		t.Errorf("grids in a box inside G1 = %v", featureIDs(page))
	}
	_, page, _ = do(t, "GET", srv.URL+"/ogc/collections/grids-community/items?parent=S2", "", "")
	if !slices.Equal(featureIDs(page), []string{"C2"}) {
		t.Errorf("communities of S2 = %v", featureIDs(page))
	}
	status, f, _ := do(t, "GET", srv.URL+"/ogc/collections/grids-street/items/S1", "", "")
	if status != 200 || f["id"] != "S1" {
		t.Errorf("S1 = %d %v", status, f)
	}
	status, page, _ = do(t, "GET", srv.URL+"/ogc/collections/hotspots/items", "", "")
	if status != 200 || len(page["features"].([]any)) == 0 {
		t.Fatalf("hotspots = %d %v", status, page)
	}
	total := 0.0
	for _, f := range page["features"].([]any) {
		total += f.(map[string]any)["properties"].(map[string]any)["count"].(float64)
	}
	if total != 12 {
		t.Errorf("the hotspot cells count %v cases, want 12", total)
	}
	cell := featureIDs(page)[0]
	if status, f, _ := do(t, "GET", srv.URL+"/ogc/collections/hotspots/items/"+url.PathEscape(cell), "", ""); status != 200 || f["id"] != cell {
		t.Errorf("hotspot %s = %d %v", cell, status, f)
	}
	_, page, _ = do(t, "GET", srv.URL+"/ogc/collections/hotspots/items?bbox=120.351,36.071,120.352,36.072", "", "")
	if n := len(page["features"].([]any)); n != 0 {
		t.Errorf("hotspot cells in an empty corner of G1: %d", n)
	}
}

// TestOGCPlannerSeesNoFreeText: a planner's cases carry no reporter's
// text (title, description, properties), as on /v1/cases; external_id
// stays.
func TestOGCPlannerSeesNoFreeText(t *testing.T) {
	srv, _, ids := ogcServer(t, 2)
	status, key, _ := do(t, "POST", srv.URL+"/v1/keys", "application/json", `{"name":"planner","role":"planner"}`)
	if status != 201 {
		t.Fatalf("make a planner key: %d %v", status, key)
	}
	as := []string{"Authorization", "Bearer " + key["token"].(string)}
	for _, path := range []string{"/ogc/collections/cases/items", "/ogc/collections/cases/items/" + ids[0]} {
		status, body, _ := do(t, "GET", srv.URL+path, "", "", as...)
		if status != 200 {
			t.Fatalf("GET %s as a planner = %d %v", path, status, body)
		}
		feats := []any{body}
		if body["type"] == "FeatureCollection" {
			feats = body["features"].([]any)
		}
		for _, f := range feats {
			props := f.(map[string]any)["properties"].(map[string]any)
			for _, k := range []string{"title", "description", "properties"} {
				if _, ok := props[k]; ok {
					t.Errorf("GET %s as a planner shows %s: %v", path, k, props[k])
				}
			}
			if props["external_id"] == nil {
				t.Errorf("GET %s as a planner: no external_id", path)
			}
		}
	}
	// The admin sees them.
	_, body, _ := do(t, "GET", srv.URL+"/ogc/collections/cases/items/"+ids[0], "", "")
	if body["properties"].(map[string]any)["title"] != "free text 1" {
		t.Errorf("the admin's case has no title: %v", body["properties"])
	}
}
