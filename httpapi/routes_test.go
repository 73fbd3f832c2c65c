package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"citygrid/bulletin"
	"citygrid/caseindex"
	"citygrid/grid"
	"citygrid/internal/app"
	"citygrid/postgres"
)

// fullServer has every route registered (its stores are never called).
func fullServer() *Server {
	index := grid.NewIndex(grid.LocatorOptions{})
	store := (*postgres.CaseStore)(nil)
	return New(Config{OIDC: &OIDCConfig{Issuer: "https://idp.invalid", ClientID: "citygrid"}}, Deps{Index: index, Grids: (*postgres.GridStore)(nil), Cases: store, Stats: store,
		App: app.New(index, caseindex.New(), nil, app.Config{}), Keys: (*postgres.KeyStore)(nil), Audit: (*postgres.AuditStore)(nil), Users: (*postgres.UserStore)(nil),
		Campaigns: (*postgres.CampaignStore)(nil), Bulletins: &bulletin.Service{}, // issue 18
		Projects: (*postgres.ProjectStore)(nil),  // issue 17
		Versions: (*postgres.VersionStore)(nil)}) // grid versions (issue 19)
}

// TestEveryRouteHasARule walks the router: every route has a rule in the
// rule table, and every rule a route (a rule left behind by a removed route
// would hide a typo in a new one).
func TestEveryRouteHasARule(t *testing.T) {
	s := fullServer()
	used := map[string]bool{}
	err := chi.Walk(s.router, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		for _, key := range []string{method + " " + route, "* " + route} {
			if _, ok := routeRules[key]; ok {
				used[key] = true
			}
		}
		// The middleware finds rules by the pattern a request matches,
		// which for a mounted subrouter's root differs from Walk's.
		path := strings.NewReplacer("{code}", "G1", "{id}", "1", "{file}", "f.json", "{layer}", "cases", "{z}", "1", "{x}", "1", "*", "x").Replace(route)
		req := httptest.NewRequest(method, path, nil)
		if _, _, matched, known := s.ruleFor(req); !matched || !known {
			t.Errorf("%s %s (as %s): matched %t, has a rule %t: say who may use it in routeRules", method, route, path, matched, known)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for key := range routeRules {
		if !used[key] {
			t.Errorf("routeRules has %q, but no such route exists", key)
		}
	}
}

// TestGridPathsAreReservedCodes: every fixed path segment beside
// /v1/grids/{code} must be a code no grid may have, or the route shadows
// the grid (as /v1/grids/topology did).
func TestGridPathsAreReservedCodes(t *testing.T) {
	s := fullServer()
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
