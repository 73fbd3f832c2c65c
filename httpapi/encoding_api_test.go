package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/paulmach/orb"

	"citygrid/httpapi"
)

// rawClient neither asks for nor undoes compression by itself, so that the
// tests see the bytes on the wire.
var rawClient = &http.Client{Transport: &http.Transport{DisableCompression: true}}

func rawDo(t *testing.T, method, url string, body io.Reader, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read: %v", method, url, err)
	}
	return resp, b
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("bad gzip: %v", err)
	}
	return out
}

func gzipped(s string) *bytes.Reader {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write([]byte(s))
	_ = zw.Close()
	return bytes.NewReader(b.Bytes())
}

// TestCompressedReplies: JSON, GeoJSON and CSV replies are gzipped for a
// client that accepts it, and are the same bytes once unzipped; small
// replies, clients that refuse gzip, tiles (gzipped by themselves) and the
// event stream are left alone.
func TestCompressedReplies(t *testing.T) {
	srv, _ := caseServer(t)
	code, _, _ := do(t, "POST", srv.URL+"/v1/cases", "application/json", `{"source":"s","external_id":"e1","category":"E0101","title":"垃圾","location":[120.365,36.075]}`)
	if code != 201 {
		t.Fatalf("create = %d", code)
	}
	tests := []struct {
		name, path, accept string
		wantGzip           bool
		wantType           string
	}{
		{"geojson", "/v1/grids", "gzip", true, "application/geo+json"},
		{"geojson, gzip among others", "/v1/grids", "br;q=1.0, gzip;q=0.8", true, "application/geo+json"},
		{"geojson, gzip refused", "/v1/grids", "gzip;q=0", false, "application/geo+json"},
		{"geojson, no Accept-Encoding", "/v1/grids", "", false, "application/geo+json"},
		{"csv", "/v1/cases?grid=D&format=csv", "gzip", false, "text/csv"}, // one case: small
		{"json", "/v1/categories", "gzip", true, "application/json"},
		{"small json", "/healthz", "gzip", false, "application/json"},
		{"problem", "/v1/cases?bbox=1", "gzip", false, "application/problem+json"},
		{"tile", tilePath("grids", orb.Point{120.365, 36.075}, 12, ""), "gzip", true, "application/vnd.mapbox-vector-tile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := rawDo(t, "GET", srv.URL+tt.path, nil, "Accept-Encoding", tt.accept)
			_, plain := rawDo(t, "GET", srv.URL+tt.path, nil)
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.wantType) {
				t.Fatalf("Content-Type %q, want %s", ct, tt.wantType)
			}
			if got := resp.Header.Get("Content-Encoding") == "gzip"; got != tt.wantGzip {
				t.Fatalf("Content-Encoding %q, want gzip %t", resp.Header.Get("Content-Encoding"), tt.wantGzip)
			}
			if tt.wantGzip {
				body = gunzip(t, body) // once: not compressed twice
			}
			if !bytes.Equal(body, plain) && tt.wantType != "application/problem+json" { // a problem's request_id differs
				t.Errorf("the reply differs from the uncompressed one (%d and %d bytes)", len(body), len(plain))
			}
			if tt.wantType != "application/vnd.mapbox-vector-tile" && tt.wantType != "application/problem+json" && !tt.wantGzip && tt.accept == "gzip" && resp.Header.Get("Content-Length") == "" {
				t.Errorf("a short reply has no Content-Length")
			}
			if vary := resp.Header.Values("Vary"); !slices.ContainsFunc(vary, func(v string) bool { return strings.Contains(v, "Accept-Encoding") }) {
				t.Errorf("Vary %q lacks Accept-Encoding", vary)
			}
		})
	}
	t.Run("event stream", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/v1/events", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := rawClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.Header.Get("Content-Encoding") != "" {
			t.Fatalf("Content-Encoding %q on the event stream", resp.Header.Get("Content-Encoding"))
		}
		// The first event arrives while the stream stays open: nothing
		// holds it back.
		buf := make([]byte, 64)
		n, err := resp.Body.Read(buf)
		if err != nil || !strings.Contains(string(buf[:n]), "retry:") {
			t.Fatalf("first bytes %q, %v", buf[:n], err)
		}
	})
}

// TestCompressedRequestBodies: a gzip request body is read as if sent
// plain, with the size limits on what it inflates to; a broken one is a
// 400, another coding a 415.
func TestCompressedRequestBodies(t *testing.T) {
	srv, count := caseServer(t)
	caseBody := `{"source":"s","external_id":"gz-1","category":"E0101","location":[120.365,36.075]}`
	bomb := func(prefix string, n int, suffix string) *bytes.Reader {
		return gzipped(prefix + strings.Repeat(" ", n) + suffix)
	}
	tests := []struct {
		name, path, ctype, coding string
		body                      io.Reader
		status                    int
		detail                    string
	}{
		{"a case", "/v1/cases", "application/json", "gzip", gzipped(caseBody), 201, ""},
		{"x-gzip", "/v1/cases", "application/json", "x-gzip", gzipped(strings.Replace(caseBody, "gz-1", "gz-2", 1)), 201, ""},
		{"identity", "/v1/cases", "application/json", "identity", strings.NewReader(strings.Replace(caseBody, "gz-1", "gz-3", 1)), 201, ""},
		{"units", "/v1/units", "application/json", "gzip", gzipped(`{"code":"U9","name":"九"}`), 200, ""},
		{"bulk", "/v1/cases/bulk", "application/x-ndjson", "gzip", gzipped(strings.Replace(caseBody, "gz-1", "gz-4", 1) + "\n"), 200, ""},
		// 64 KiB of JSON allowed, a few hundred bytes sent, 10 MB inflated.
		{"zip bomb", "/v1/cases", "application/json", "gzip", bomb(`{"title":"`, 10<<20, `"}`), 413, "larger than"},
		{"zip bomb, bulk", "/v1/cases/bulk", "application/x-ndjson", "gzip", gzipped(strings.Repeat("\n", 10<<20)), 413, "larger than"},
		{"not gzip, import", "/v1/grids/import", "application/json", "gzip", strings.NewReader(`{}`), 400, "not valid gzip"},
		{"zip bomb, import", "/v1/grids/import", "application/json", "gzip", bomb(`{"type":"FeatureCollection","features":[`, 10<<20, `]}`), 413, "larger than"},
		{"not gzip", "/v1/cases", "application/json", "gzip", strings.NewReader(caseBody), 400, "not valid gzip"},
		{"not gzip, bulk", "/v1/cases/bulk", "application/x-ndjson", "gzip", strings.NewReader(caseBody), 400, "not valid gzip"},
		{"truncated gzip", "/v1/cases", "application/json", "gzip", io.LimitReader(gzipped(caseBody), 20), 400, "not valid gzip"},
		{"brotli", "/v1/cases", "application/json", "br", strings.NewReader(caseBody), 415, `Content-Encoding \"br\"`},
		{"two codings", "/v1/cases", "application/json", "gzip, gzip", gzipped(caseBody), 415, "gzip-compressed"},
	}
	t.Run("a GET has no body to decode", func(t *testing.T) {
		if resp, body := rawDo(t, "GET", srv.URL+"/v1/statuses", nil, "Content-Encoding", "br"); resp.StatusCode != 200 {
			t.Errorf("status %d: %s", resp.StatusCode, body)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := count()
			resp, body := rawDo(t, "POST", srv.URL+tt.path, tt.body, "Content-Type", tt.ctype, "Content-Encoding", tt.coding)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.detail != "" && !strings.Contains(string(body), tt.detail) {
				t.Errorf("reply %s, want it to mention %q", body, tt.detail)
			}
			if tt.status == 415 && resp.Header.Get("Accept-Encoding") != "gzip" {
				t.Errorf("a 415 says Accept-Encoding %q, want gzip", resp.Header.Get("Accept-Encoding"))
			}
			if tt.status >= 400 && count() != before {
				t.Errorf("a refused body changed the database")
			}
		})
	}
}

// TestHeadOnEveryGetRoute walks the router: HEAD answers every GET route
// with GET's status and headers, and no body.
func TestHeadOnEveryGetRoute(t *testing.T) {
	s, _ := caseHandler(t)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	_, created, _ := do(t, "POST", srv.URL+"/v1/cases", "application/json", `{"source":"s","external_id":"h1","category":"E0101","location":[120.365,36.075]}`)
	id := created["properties"].(map[string]any)["id"].(string)
	// A hotspot cell: a case reported in the window, which ends now, and
	// weeks before it (the emerging cube starts at the first case).
	_, hot, _ := do(t, "POST", srv.URL+"/v1/cases", "application/json", `{"source":"s","external_id":"h2","category":"E0101","location":[120.365,36.075],"reported_at":"2026-10-26T00:00:00Z"}`)
	// Issue 18: a campaign and a stored bulletin.
	_, k, _ := do(t, "POST", srv.URL+"/v1/campaigns", "application/json", `{"name":"k","grids":["S1"],"starts_at":"2026-11-01T00:00:00Z","ends_at":"2026-12-01T00:00:00Z","target":{"kind":"on_time_rate","value":0.9}}`)
	kid, _ := k["id"].(string)
	do(t, "POST", srv.URL+"/v1/bulletins/daily/district/2026-11-22", "", "")
	_, project, _ := do(t, "POST", srv.URL+"/v1/projects", "application/json", projectBody("G1")) // issue 17
	pid, _ := project["id"].(string)
	// A request for every GET route; a route missing here fails the test,
	// so that a new route gets its HEAD checked too.
	paths := map[string]string{
		"/":                             "/",
		"/static/*":                     "/static/app.css",
		"/fonts/*":                      "/fonts/Go%20Regular/0-255.pbf",
		"/favicon.ico":                  "/favicon.ico",
		"/healthz":                      "/healthz",
		"/readyz":                       "/readyz",
		"/metrics":                      "/metrics",
		"/tiles":                        "/tiles",
		"/tiles/{file}":                 "/tiles/cases.json",
		"/tiles/{layer}/{z}/{x}/{file}": tilePath("cases", orb.Point{120.365, 36.075}, 14, ""),
		"/v1/me":                        "/v1/me",
		"/v1/keys":                      "/v1/keys",
		"/v1/users":                     "/v1/users",
		"/v1/audit":                     "/v1/audit?limit=5",
		"/v1/grids":                     "/v1/grids?level=street",
		"/v1/grids/topology":            "/v1/grids/topology",
		"/v1/grids/{code}":              "/v1/grids/G1",
		"/v1/units":                     "/v1/units",
		"/v1/locate":                    "/v1/locate?lng=120.365&lat=36.075",
		"/v1/statuses":                  "/v1/statuses",
		"/v1/sources":                   "/v1/sources",
		"/v1/cases":                     "/v1/cases?grid=D",
		"/v1/cases/{id}":                "/v1/cases/" + id,
		"/v1/cases/{id}/history":        "/v1/cases/" + id + "/history",
		"/v1/categories":                "/v1/categories",
		"/v1/categories/{code}":         "/v1/categories/E0101",
		"/v1/calendar":                  "/v1/calendar",
		"/v1/stats":                     "/v1/stats?by=street",
		"/v1/hotspots":                  "/v1/hotspots",
		"/v1/hotspots/emerging":         "/v1/hotspots/emerging",
		"/v1/events":                    "/v1/events",
		// OGC API – Features and the OpenAPI document (issue 16).
		"/openapi.json":                "/openapi.json",
		"/ogc":                         "/ogc",
		"/ogc/conformance":             "/ogc/conformance",
		"/ogc/collections":             "/ogc/collections",
		"/ogc/collections/cases":       "/ogc/collections/cases",
		"/ogc/collections/cases/items": "/ogc/collections/cases/items?limit=5",
		"/ogc/collections/cases/items/{featureId}":          "/ogc/collections/cases/items/" + id,
		"/ogc/collections/hotspots":                         "/ogc/collections/hotspots",
		"/ogc/collections/hotspots/items":                   "/ogc/collections/hotspots/items",
		"/ogc/collections/hotspots/items/{featureId}":       "/ogc/collections/hotspots/items/" + hot["properties"].(map[string]any)["h3"].(string),
		"/ogc/collections/{collectionId}":                   "/ogc/collections/grids-street",
		"/ogc/collections/{collectionId}/items":             "/ogc/collections/grids-grid/items",
		"/ogc/collections/{collectionId}/items/{featureId}": "/ogc/collections/grids-grid/items/G1",

		// Projects and disputed cases (issue 17).
		"/v1/projects":                   "/v1/projects",
		"/v1/projects/{id}":              "/v1/projects/" + pid,
		"/v1/projects/{id}/history":      "/v1/projects/" + pid + "/history",
		"/v1/projects/{id}/progress":     "/v1/projects/" + pid + "/progress",
		"/v1/projects/{id}/cases":        "/v1/projects/" + pid + "/cases",
		"/v1/disputes":                   "/v1/disputes",
		"/tiles/projects/{z}/{x}/{file}": "/tiles/projects/14/13669/6378.mvt",

		// Campaigns and bulletins (issue 18).
		"/v1/campaigns":                         "/v1/campaigns",
		"/v1/campaigns/{id}":                    "/v1/campaigns/" + kid,
		"/v1/campaigns/{id}/stats":              "/v1/campaigns/" + kid + "/stats?by=street",
		"/v1/campaigns/{id}/sites":              "/v1/campaigns/" + kid + "/sites",
		"/v1/bulletins":                         "/v1/bulletins",
		"/v1/bulletins/{kind}/{scope}/{period}": "/v1/bulletins/daily/district/2026-11-22",
		// Open311 (issue 15).
		"/open311/v2/discovery.{format}":               "/open311/v2/discovery.xml",
		"/open311/v2/services.{format}":                "/open311/v2/services.json",
		"/open311/v2/services/{service_code}.{format}": "/open311/v2/services/E0101.xml",
		"/open311/v2/requests.{format}":                "/open311/v2/requests.json?status=open",
		"/open311/v2/requests/{id}.{format}":           "/open311/v2/requests/" + id + ".xml",
		"/open311/v2/servicerequestupdates.{format}":   "/open311/v2/servicerequestupdates.json",
		// Grid versions (issue 19).
		"/v1/grid-versions":              "/v1/grid-versions",
		"/v1/grid-versions/{id}":         "/v1/grid-versions/" + draftVersion(t, srv.URL),
		"/v1/grid-versions/{id}/preview": "/v1/grid-versions/" + draftVersion(t, srv.URL) + "/preview",
		"/v1/grid-versions/{id}/grids":   "/v1/grid-versions/" + draftVersion(t, srv.URL) + "/grids",
	}
	var routes []string
	err := chi.Walk(httpapi.Routes(s.Server), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if method == http.MethodGet || method == "*" && !strings.HasPrefix(route, "/v1/grids/import") {
			routes = append(routes, strings.TrimSuffix(strings.ReplaceAll(route, "/*/", "/"), "/"))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	headers := []string{"Content-Type", "Content-Encoding", "Content-Length", "Content-Disposition", "ETag", "Cache-Control", "Vary", "Allow"}
	for _, route := range routes {
		if route == "" {
			route = "/"
		}
		path, ok := paths[route]
		if !ok {
			t.Errorf("GET %s: no request for it in this test: add one", route)
			continue
		}
		t.Run(route, func(t *testing.T) {
			get := func(method string) (*http.Response, []byte) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				req, _ := http.NewRequestWithContext(ctx, method, srv.URL+path, nil)
				req.Header.Set("Accept-Encoding", "gzip")
				resp, err := rawClient.Do(req)
				if err != nil {
					t.Fatalf("%s %s: %v", method, path, err)
				}
				defer resp.Body.Close()
				if route == "/v1/events" && method == http.MethodGet {
					return resp, nil // a stream: its headers are what counts
				}
				b, _ := io.ReadAll(resp.Body)
				return resp, b
			}
			g, _ := get(http.MethodGet)
			h, body := get(http.MethodHead)
			if g.StatusCode >= 400 {
				t.Fatalf("GET %s = %d: choose a request that succeeds", path, g.StatusCode)
			}
			if h.StatusCode != g.StatusCode {
				t.Errorf("HEAD %s = %d, GET %d", path, h.StatusCode, g.StatusCode)
			}
			if len(body) != 0 {
				t.Errorf("HEAD %s sent %d bytes of body", path, len(body))
			}
			for _, k := range headers {
				if gv, hv := g.Header.Get(k), h.Header.Get(k); gv != hv && !(k == "Content-Length" && gv == "") {
					t.Errorf("HEAD %s: %s %q, GET %q", path, k, hv, gv)
				}
			}
		})
	}
}

// draftVersion stores the district as a draft grid version through the
// server at url and returns its id (grid versions, issue 19).
func draftVersion(t *testing.T, url string) string {
	t.Helper()
	status, v, _ := do(t, "POST", url+"/v1/grid-versions", "application/json", fcJSON(district()))
	if status != http.StatusCreated {
		t.Fatalf("draft: %d %v", status, v)
	}
	return v["id"].(string)
}
