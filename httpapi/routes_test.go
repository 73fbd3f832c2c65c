package httpapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"citygrid/grid"
)

// TestGridPathsAreReservedCodes: every fixed path segment beside
// /v1/grids/{code} must be a code no grid may have, or the route shadows
// the grid (as /v1/grids/topology did).
func TestGridPathsAreReservedCodes(t *testing.T) {
	s := New(Config{}, Deps{Index: grid.NewIndex(grid.LocatorOptions{})})
	seen := map[string]bool{}
	err := chi.Walk(s.router, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		rest, ok := strings.CutPrefix(route, "/v1/grids/")
		if !ok {
			return nil
		}
		segment, _, _ := strings.Cut(rest, "/")
		if segment == "" || strings.HasPrefix(segment, "{") || seen[segment] {
			return nil
		}
		seen[segment] = true
		if grid.ValidateGridCode(segment) == nil {
			t.Errorf("%s %s: %q is a valid grid code, so the route shadows that grid: add it to grid.ReservedCodes", method, route, segment)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range grid.ReservedCodes {
		if !seen[want] {
			t.Errorf("grid.ReservedCodes has %q, but no route /v1/grids/%s exists (walked %v)", want, want, seen)
		}
	}
}
