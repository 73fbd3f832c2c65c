package httpapi_test

import (
	"strings"
	"testing"
)

// TestCategoryLists: category takes a list of prefixes, as status does,
// in the cases list, the area search, hotspots and tiles; each item keeps
// its prefix meaning.
func TestCategoryLists(t *testing.T) {
	srv, _ := caseServer(t)
	for i, cat := range []string{"E0101", "E0102", "E0501", "C0101"} {
		body := `{"source":"s","external_id":"c` + string(rune('0'+i)) + `","category":"` + cat + `","location":[120.365,36.075]}`
		if code, f, _ := do(t, "POST", srv.URL+"/v1/cases", "application/json", body); code != 201 {
			t.Fatalf("create %s = %d %v", cat, code, f)
		}
	}
	poly := `"polygon":{"type":"Polygon","coordinates":[[[120.35,36.07],[120.37,36.07],[120.37,36.09],[120.35,36.07]]]}`
	count := func(method, path, body string) int {
		t.Helper()
		code, fc, _ := do(t, method, srv.URL+path, "application/json", body)
		if code != 200 {
			t.Fatalf("%s %s %s = %d %v", method, path, body, code, fc)
		}
		return len(fc["features"].([]any))
	}
	tests := []struct {
		name, method, path, body string
		want                     int
	}{
		{"query, one prefix", "GET", "/v1/cases?grid=D&category=E01", "", 2},
		{"query, a list", "GET", "/v1/cases?grid=D&category=E01,C", "", 3},
		{"query, a code and a prefix", "GET", "/v1/cases?grid=D&category=E0501,C01", "", 2},
		{"search, an array", "POST", "/v1/cases/search", `{` + poly + `,"category":["E05","C"]}`, 2},
		{"search, one string", "POST", "/v1/cases/search", `{` + poly + `,"category":"E01"}`, 2},
		{"search, a comma-separated string", "POST", "/v1/cases/search", `{` + poly + `,"category":"E01,E05"}`, 3},
		{"search, an empty array", "POST", "/v1/cases/search", `{` + poly + `,"category":[]}`, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := count(tt.method, tt.path, tt.body); got != tt.want {
				t.Errorf("%d cases, want %d", got, tt.want)
			}
		})
	}
	t.Run("hotspots echo the list", func(t *testing.T) {
		code, fc, _ := do(t, "GET", srv.URL+"/v1/hotspots?category=E01,C01&from=2026-11-01T00:00:00Z&to=2026-11-24T00:00:00Z", "", "")
		if code != 200 {
			t.Fatalf("hotspots = %d %v", code, fc)
		}
		cats, _ := fc["filters"].(map[string]any)["category"].([]any)
		if len(cats) != 2 || cats[0] != "E01" || cats[1] != "C01" || fc["total"].(float64) != 3 {
			t.Errorf("filters %v, total %v; want category [E01 C01] and 3 cases", fc["filters"], fc["total"])
		}
	})
	for _, tt := range []struct{ name, method, path, body, detail string }{
		{"an empty item", "GET", "/v1/cases?grid=D&category=E01,", "", "category: an empty prefix in the list"},
		{"a bad item", "GET", "/v1/hotspots?category=E01,E-1", "", `category: "E-1" is not a category code prefix`},
		{"a number", "POST", "/v1/cases/search", `{` + poly + `,"category":5}`, "category: expected an array of strings, got JSON number"},
		{"an array of numbers", "POST", "/v1/cases/search", `{` + poly + `,"category":[5]}`, "category: expected an array of strings, got JSON array holding a non-string"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, p, _ := do(t, tt.method, srv.URL+tt.path, "application/json", tt.body)
			if d, _ := p["detail"].(string); code != 400 || !strings.Contains(d, tt.detail) {
				t.Errorf("%d %q, want 400 %q", code, d, tt.detail)
			}
		})
	}
}
