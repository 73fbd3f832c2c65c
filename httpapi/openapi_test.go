package httpapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/go-chi/chi/v5"
)

// undocumented are the routes that are no API: the page's static files and
// glyphs (GET / itself is described).
var undocumented = []string{"/static/*", "/fonts/*"}

// TestOpenAPIDescribesEveryRoute walks the router: every route is an
// operation of /openapi.json, and every operation a route (a path left
// behind by a removed route would describe nothing).
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	b, err := OpenAPIDocument()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	described := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			switch m {
			case "get", "put", "post", "delete", "patch", "head", "options", "trace":
				described[strings.ToUpper(m)+" "+p] = true
			}
		}
	}
	seen := map[string]bool{}
	err = chi.Walk(fullServer().router, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if slices.Contains(undocumented, route) {
			return nil
		}
		if route != "/" {
			route = strings.TrimSuffix(route, "/") // a mounted subrouter's root: /v1/grids/import/
		}
		if _, everyMethod := routeRules["* "+route]; everyMethod || method == "*" {
			// A route of every method (the page, /metrics): GET is its use.
			method = http.MethodGet
		}
		key := method + " " + route
		if seen[key] {
			return nil
		}
		seen[key] = true
		if !described[key] {
			t.Errorf("/openapi.json lacks %q: describe it in httpapi/openapi/<area>.json", key)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for key := range described {
		if !seen[key] {
			t.Errorf("/openapi.json describes %q, which no route serves", key)
		}
	}
}

// TestOpenAPIAssemblyRefusesDuplicates: two areas describing one
// operation, or one component, are a mistake the assembly names.
func TestOpenAPIAssemblyRefusesDuplicates(t *testing.T) {
	base := &fstest.MapFile{Data: []byte(`{"openapi":"3.1.0","paths":{},"components":{"schemas":{"A":{}}}}`)}
	tests := []struct {
		name, a, b, want string
	}{
		{"operation", `{"paths":{"/x":{"get":{}}}}`, `{"paths":{"/x":{"get":{}}}}`, "get /x is described twice"},
		{"component", `{"components":{"schemas":{"A":{}}}}`, `{}`, "components.schemas.A is defined twice"},
		{"stray member", `{"info":{}}`, `{}`, `not "info"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{"openapi/base.json": base, "openapi/a.json": {Data: []byte(tt.a)}, "openapi/b.json": {Data: []byte(tt.b)}}
			if _, err := assembleOpenAPI(fsys); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("assembleOpenAPI = %v, want an error with %q", err, tt.want)
			}
		})
	}
	fsys := fstest.MapFS{"openapi/base.json": base, "openapi/a.json": {Data: []byte(`{"paths":{"/x":{"get":{}}}}`)}, "openapi/b.json": {Data: []byte(`{"paths":{"/x":{"post":{}}}}`)}}
	if _, err := assembleOpenAPI(fsys); err != nil {
		t.Fatalf("two methods of one path from two areas: %v", err)
	}
}
