package httpapi_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestOpenAPIExamples sends a request of every area of the API, good ones
// and refused ones, through validated(): each exchange must agree with
// /openapi.json (the OGC tests add theirs).
func TestOpenAPIExamples(t *testing.T) {
	s, _ := caseHandler(t)
	srv := httptest.NewServer(validated(t, s))
	t.Cleanup(srv.Close)
	anon := httptest.NewServer(validated(t, s.Server))
	t.Cleanup(anon.Close)
	_, created, _ := do(t, "POST", srv.URL+"/v1/cases", "application/json",
		`{"source":"hotline","external_id":"oas-1","category":"E0101","title":"井盖缺失","location":[120.355,36.075],"reported_at":"2026-11-20T02:00:00Z","properties":{"caller":"x"}}`)
	id := created["properties"].(map[string]any)["id"].(string)
	_, _, _ = do(t, "POST", srv.URL+"/v1/cases", "application/json",
		`{"source":"hotline","external_id":"oas-1","category":"E0101","location":[120.355,36.075],"reported_at":"2026-11-20T02:00:00Z"}`)
	requests := []struct {
		method, path, contentType, body string
		header                          []string
	}{
		{"GET", "/healthz", "", "", nil},
		{"GET", "/readyz", "", "", nil},
		{"GET", "/v1/me", "", "", nil},
		{"GET", "/v1/keys", "", "", nil},
		{"POST", "/v1/keys", "application/json", `{"name":"oas","role":"viewer"}`, nil},
		{"POST", "/v1/keys", "application/json", `{"name":"oas","role":"emperor"}`, nil},
		{"GET", "/v1/audit?limit=5", "", "", nil},
		{"GET", "/v1/users", "", "", nil},
		{"GET", "/v1/grids?level=street&limit=1", "", "", nil},
		{"GET", "/v1/grids/G1", "", "", nil},
		{"GET", "/v1/grids/NOPE", "", "", nil},
		{"GET", "/v1/grids/topology", "", "", nil},
		{"GET", "/v1/units", "", "", nil},
		{"GET", "/v1/locate?lng=120.355&lat=36.075", "", "", nil},
		{"GET", "/v1/locate?lng=200&lat=36", "", "", nil},
		{"POST", "/v1/locate", "application/json", `{"points":[[120.355,36.075],[120.365,36.085]]}`, nil},
		{"GET", "/v1/statuses", "", "", nil},
		{"GET", "/v1/sources", "", "", nil},
		{"GET", "/v1/categories", "", "", nil},
		{"GET", "/v1/categories/E0101", "", "", nil},
		{"GET", "/v1/calendar", "", "", nil},
		{"GET", "/v1/cases?bbox=120.35,36.07,120.37,36.09&status=reported&limit=5", "", "", nil},
		{"GET", "/v1/cases?near=120.355,36.075&radius=300", "", "", nil},
		{"GET", "/v1/cases?grid=D&format=csv", "", "", nil},
		{"GET", "/v1/cases?nothing=1", "", "", nil},
		{"POST", "/v1/cases/search", "application/json", `{"polygon":{"type":"Polygon","coordinates":[[[120.35,36.07],[120.36,36.07],[120.36,36.08],[120.35,36.07]]]},"category":["E01"]}`, nil},
		{"GET", "/v1/cases/" + id, "", "", nil},
		{"GET", "/v1/cases/" + id + "/history", "", "", nil},
		{"GET", "/v1/cases/999999", "", "", nil},
		{"PATCH", "/v1/cases/" + id, "application/json", `{"status":"accepted","note":"ok"}`, []string{"If-Match", `"1"`}},
		{"PATCH", "/v1/cases/" + id, "application/json", `{"status":"accepted"}`, []string{"If-Match", `"1"`}},
		{"POST", "/v1/cases/bulk", "application/x-ndjson", `{"source":"hotline","external_id":"oas-2","category":"E0101","location":[120.365,36.085]}` + "\n", nil},
		{"GET", "/v1/stats?by=street", "", "", nil},
		{"GET", "/v1/hotspots", "", "", nil},
		{"GET", "/v1/hotspots?res=12", "", "", nil},
		{"GET", "/tiles", "", "", nil},
		{"GET", "/tiles/cases.json", "", "", nil},
		{"POST", "/v1/events/ticket", "", "", nil},
		{"GET", "/ogc/collections?f=json", "", "", nil},
		{"GET", "/v1/hotspots/emerging?from=2026-09-01T00:00:00Z", "", "", nil},
		{"GET", "/tiles/cases/14/13669/6322.mvt", "", "", nil},
		{"GET", "/metrics", "", "", nil},
		{"POST", "/v1/units", "application/json", `{"code":"U9","name":"新单位","kind":"office"}`, nil},
		{"PUT", "/v1/categories/E0199", "application/json", `{"name_zh":"其他","name_en":"Other","time_limit":{"value":2,"unit":"working_days"}}`, nil},
		{"POST", "/v1/users", "application/json", `{"name":"oas.user","role":"viewer","password":"a long password 1"}`, nil},
		{"PATCH", "/v1/users/oas.user", "application/json", `{"display_name":"OAS"}`, nil},
		{"DELETE", "/v1/keys/999999", "", "", nil},
	}
	for _, r := range requests {
		status, body, _ := do(t, r.method, srv.URL+r.path, r.contentType, r.body, r.header...)
		if status >= 500 {
			t.Errorf("%s %s = %d %v", r.method, r.path, status, body)
		}
	}
	for _, path := range []string{"/", "/openapi.json", "/ogc", "/v1/me"} {
		if status, _, _ := do(t, "GET", anon.URL+path, "", ""); status >= 500 {
			t.Errorf("GET %s anonymously = %d", path, status)
		}
	}
	// A person signs in and out: the cookie and the CSRF token.
	status, in, h := do(t, "POST", anon.URL+"/v1/session", "application/json", `{"user":"oas.user","password":"a long password 1"}`)
	if status != 200 {
		t.Fatalf("sign in = %d %v", status, in)
	}
	cookie := h.Get("Set-Cookie")
	if status, body, _ := do(t, "DELETE", anon.URL+"/v1/session", "", "", "Cookie", cookie[:strings.Index(cookie, ";")], "X-CSRF-Token", fmt.Sprint(in["csrf_token"])); status != 204 {
		t.Errorf("sign out = %d %v", status, body)
	}
}
