package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"citygrid/access"
	"citygrid/grid"
	"citygrid/httpapi"
)

// Points in the small district's unit grids: G1 and G2 in street S1 (west),
// G3 and 网格 4 in S2 (east).
var (
	inG1 = orb.Point{x0 + 0.005, y0 + 0.005}
	inG3 = orb.Point{x0 + 0.015, y0 + 0.005}
)

// TestScopeCutsGridsLocateAndStats: an S1 key sees S1's grids in full, the
// district as an outline, nothing of S2; locate hides S2's owner; stats
// count S1's cases only.
func TestScopeCutsGridsLocateAndStats(t *testing.T) {
	a := newTileAPI(t)
	a.createCase("w1", "E0101", inG1)
	a.createCase("e1", "E0101", inG3)
	a.createCase("e2", "E0101", inG3)
	s1 := "Bearer " + makeKey(t, a.tx, access.Key{Role: access.RoleDispatcher, Scope: []string{"S1"}})
	as := func(path string) reply { return a.tile(path, "Authorization", s1) }

	var fc struct {
		Features []struct{ Properties map[string]any }
	}
	r := as("/v1/grids")
	r.decode(t, &fc)
	got := map[string]bool{}
	for _, f := range fc.Features {
		code := f.Properties["code"].(string)
		got[code] = f.Properties["outline_only"] == true
		if got[code] && (f.Properties["unit"] != nil || f.Properties["units_by_category"] != nil) {
			t.Errorf("outline of %s shows its owners: %v", code, f.Properties)
		}
	}
	want := map[string]bool{"D": true, "S1": false, "C1": false, "G1": false, "G2": false}
	if len(got) != len(want) {
		t.Errorf("grids of an S1 key: %v, want %v", got, want)
	}
	for code, outline := range want {
		if o, ok := got[code]; !ok || o != outline {
			t.Errorf("grid %s: listed %t, outline %t; want outline %t", code, ok, o, outline)
		}
	}

	unknown, beside := as("/v1/grids/NOPE"), as("/v1/grids/S2")
	if beside.status != http.StatusNotFound || withoutRequestID(t, beside, "S2") != withoutRequestID(t, unknown, "NOPE") {
		t.Errorf("a grid beside the scope: %d %s; an unknown one: %s", beside.status, beside.body, unknown.body)
	}
	if r := as("/v1/cases?grid=S2"); r.status != http.StatusNotFound {
		t.Errorf("cases of a grid beside the scope: %d, want 404", r.status)
	}

	var loc struct {
		InScope bool           `json:"in_scope"`
		Grid    map[string]any `json:"grid"`
		Unit    map[string]any `json:"unit"`
		Path    []struct{ Code string }
	}
	as("/v1/locate?lng=120.365&lat=36.075").decode(t, &loc)
	if loc.InScope || loc.Grid != nil || loc.Unit != nil || len(loc.Path) != 1 || loc.Path[0].Code != "D" {
		t.Errorf("locate in S2 for an S1 key: %+v", loc)
	}
	as("/v1/locate?lng=120.355&lat=36.075").decode(t, &loc)
	if !loc.InScope || loc.Grid["code"] != "G1" || loc.Unit == nil {
		t.Errorf("locate in S1 for an S1 key: %+v", loc)
	}

	var stats struct {
		Rows []struct {
			Key      string
			Received int
		}
	}
	as("/v1/stats?by=street&from=2026-11-01T00:00:00Z&to=2026-11-24T00:00:00Z").decode(t, &stats)
	if len(stats.Rows) != 1 || stats.Rows[0].Key != "S1" || stats.Rows[0].Received != 1 {
		t.Errorf("stats by street for an S1 key: %+v", stats.Rows)
	}
	a.get("/v1/stats?by=street&from=2026-11-01T00:00:00Z&to=2026-11-24T00:00:00Z").decode(t, &stats)
	keys := []string{}
	for _, r := range stats.Rows {
		keys = append(keys, r.Key)
	}
	if !slices.Equal(keys, []string{"S1", "S2"}) {
		t.Errorf("stats by street for the admin: %v", keys)
	}
}

// withoutRequestID is a problem's body without its request id, with the
// object's name replaced, to compare refusals of different objects.
func withoutRequestID(t *testing.T, r reply, name string) string {
	t.Helper()
	var p map[string]any
	r.decode(t, &p)
	delete(p, "request_id")
	return strings.ReplaceAll(fmt.Sprint(p), name, "<name>")
}

// TestTilePreflight: a map on another origin may ask for tiles with a key.
func TestTilePreflight(t *testing.T) {
	a := newTileAPI(t)
	req, _ := http.NewRequest(http.MethodOptions, a.url+"/tiles/cases/14/13672/6464.mvt", nil)
	req.Header.Set("Authorization", noKey)
	req.Header.Set("Origin", "https://map.example")
	req.Header.Set("Access-Control-Request-Method", "GET")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || !strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
}

// TestSeparationOfDuties walks one case round the loop with a key per
// role: each takes its own steps only, and the handler never verifies,
// closes or decides its own request.
func TestSeparationOfDuties(t *testing.T) {
	a := newTileAPI(t)
	id := a.createCase("duty-1", "E0101", inG3) // C2: unit U2 for E01
	key := func(k access.Key) string { return "Bearer " + makeKey(t, a.tx, k) }
	dispatcher := key(access.Key{Role: access.RoleDispatcher, Scope: []string{"S2"}})
	handler := key(access.Key{Role: access.RoleHandler, Unit: "U2"})
	otherHandler := key(access.Key{Role: access.RoleHandler, Unit: "U1"})
	inspector := key(access.Key{Role: access.RoleInspector, Scope: []string{"C2"}})
	planner := key(access.Key{Role: access.RolePlanner})
	version := 1
	step := func(who, body string, want int, field string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPatch, a.url+"/v1/cases/"+id, strings.NewReader(body))
		req.Header.Set("Authorization", who)
		req.Header.Set("If-Match", fmt.Sprintf(`"%d"`, version))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != want {
			t.Fatalf("%s: %d, want %d: %v", body, resp.StatusCode, want, out)
		}
		if want == http.StatusOK {
			version++
		}
		if field != "" && out["field"] != field {
			t.Errorf("%s: refusal names %v, want %q: %v", body, out["field"], field, out)
		}
	}
	step(handler, `{"status":"accepted"}`, 403, "status")
	step(planner, `{"status":"accepted"}`, 403, "")
	step(dispatcher, `{"status":"accepted"}`, 200, "")
	step(dispatcher, `{"status":"dispatched"}`, 200, "")
	step(otherHandler, `{"status":"in_progress"}`, 404, "") // not its unit's: as if it did not exist
	step(handler, `{"status":"in_progress"}`, 200, "")
	step(handler, `{"grid":"G4"}`, 403, "grid")
	step(handler, `{"request_extension":{"value":1,"unit":"working_days"}}`, 200, "")
	history := a.get("/v1/cases/" + id + "/history")
	var h struct{ Events []map[string]any }
	history.decode(t, &h)
	requestID := h.Events[len(h.Events)-1]["id"].(string)
	step(handler, `{"approve":"`+requestID+`"}`, 403, "approve")
	step(dispatcher, `{"approve":"`+requestID+`"}`, 200, "")
	step(handler, `{"status":"resolved"}`, 200, "")
	step(handler, `{"status":"verified"}`, 403, "status")
	step(dispatcher, `{"status":"verified"}`, 403, "status")
	step(inspector, `{"status":"verified"}`, 200, "")
	step(inspector, `{"status":"closed"}`, 403, "status")
	step(handler, `{"status":"closed"}`, 403, "status")
	step(dispatcher, `{"status":"closed"}`, 200, "")
}

// brokenAuthn cannot look keys up, as when the database is away.
type brokenAuthn struct{}

func (brokenAuthn) Authenticate(context.Context, string) (*access.Principal, error) {
	return nil, errors.New("dial tcp: connection refused")
}

// TestKeysUncheckable: a key that cannot be looked up is the service's
// trouble (503), not the caller's (401).
func TestKeysUncheckable(t *testing.T) {
	srv := httptest.NewServer(httpapi.New(httpapi.Config{}, httpapi.Deps{Index: grid.NewIndex(grid.LocatorOptions{}), Authn: brokenAuthn{}}))
	t.Cleanup(srv.Close)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/me", nil)
	req.Header.Set("Authorization", "Bearer cg_"+strings.Repeat("a", 43))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("key look-up failing: %d, want 503", resp.StatusCode)
	}
}
