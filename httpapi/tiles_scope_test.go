package httpapi_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"

	"citygrid/access"
	"citygrid/geo"
)

// Points of the small district's four unit grids, near the line between
// the streets (x0+0.01), so that one z15 tile shows all four.
var (
	edgeG1 = orb.Point{x0 + 0.0097, y0 + 0.0097} // S1, C1
	edgeG2 = orb.Point{x0 + 0.0097, y0 + 0.0103} // S1, C1
	edgeG3 = orb.Point{x0 + 0.0103, y0 + 0.0097} // S2, C2
	edgeG4 = orb.Point{x0 + 0.0103, y0 + 0.0103} // S2, C2
)

// gridsOf lists the grid property of a tile reply's case features
// (points), or the codes of its grid features, sorted.
func gridsOf(t *testing.T, r reply, layer, prop string) []string {
	t.Helper()
	if r.status == http.StatusNoContent {
		return nil
	}
	var out []string
	for _, f := range features(t, r, layer) {
		out = append(out, fmt.Sprint(f.Properties[prop]))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// checkTileHeaders: every tile reply varies on the credential (and the
// encoding); a scoped one is private.
func checkTileHeaders(t *testing.T, r reply, scoped bool) {
	t.Helper()
	vary := strings.Join(r.header.Values("Vary"), ", ")
	if !strings.Contains(vary, "Authorization") || !strings.Contains(vary, "Accept-Encoding") {
		t.Errorf("Vary %q, want Authorization and Accept-Encoding", vary)
	}
	cc := r.header.Get("Cache-Control")
	if want := map[bool]string{true: "private, no-cache", false: "no-cache"}[scoped]; cc != want {
		t.Errorf("Cache-Control %q, want %q", cc, want)
	}
}

// TestTileCacheAcrossScopes: street S1's key first, then street S2's, then
// the admin's, then S1's again, on the same tiles: each gets its own cases
// and grids only, never a tile cached for another (and concurrent cold
// misses of one tile under several keys alike).
func TestTileCacheAcrossScopes(t *testing.T) {
	a := newScopedAPI(t)
	s1 := a.key(access.Key{Role: access.RoleDispatcher, Scope: []string{"S1"}})
	s2 := a.key(access.Key{Role: access.RoleDispatcher, Scope: []string{"S2"}})
	for i, p := range []orb.Point{edgeG1, edgeG2, edgeG3, edgeG4, edgeG1, edgeG3} {
		a.report(fmt.Sprintf("scope-%d", i), p, "")
	}
	keys := []struct {
		name, token string
		grids       []string // the unit grids whose cases it sees
		streets     []string // the streets it sees (with counts)
	}{
		{"S1", s1, []string{"G1", "G2"}, []string{"S1"}},
		{"S2", s2, []string{"G3", g4}, []string{"S2"}},
		{"admin", a.admin, []string{"G1", "G2", "G3", g4}, []string{"S1", "S2"}},
		{"S1 again", s1, []string{"G1", "G2"}, []string{"S1"}},
	}
	paths := map[string]string{
		"points":    tilePath("cases", edgeG1, 15, ""), // the four points' tile
		"battlemap": tilePath("battlemap", edgeG1, 15, ""),
		"streets":   tilePath("grids", edgeG1, 11, ""),
	}
	etags := map[string]map[string]string{}
	for _, k := range keys {
		points := a.must(http.StatusOK, "GET", paths["points"], "", as(k.token)...)
		checkTileHeaders(t, points, k.name != "admin")
		if got := gridsOf(t, points, "cases", "grid"); !slices.Equal(got, k.grids) {
			t.Errorf("%s: the cases tile shows cases of %v, want %v", k.name, got, k.grids)
		}
		battle := a.must(http.StatusOK, "GET", paths["battlemap"], "", as(k.token)...)
		if got := gridsOf(t, battle, "cases", "grid"); !slices.Equal(got, k.grids) {
			t.Errorf("%s: the battlemap tile shows cases of %v, want %v", k.name, got, k.grids)
		}
		if got := gridsOf(t, battle, "grids", "code"); !slices.Equal(got, k.grids) {
			t.Errorf("%s: the battlemap tile shows grids %v, want %v", k.name, got, k.grids)
		}
		streets := a.must(http.StatusOK, "GET", paths["streets"], "", as(k.token)...)
		counted := []string{}
		for _, f := range features(t, streets, "grids") {
			if _, ok := f.Properties["open"]; ok && f.Properties["level"] == "street" {
				counted = append(counted, f.Properties["code"].(string))
			}
		}
		slices.Sort(counted)
		if !slices.Equal(counted, k.streets) {
			t.Errorf("%s: streets with counts %v, want %v", k.name, counted, k.streets)
		}
		name := strings.TrimSuffix(k.name, " again")
		if etags[name] == nil {
			etags[name] = map[string]string{}
		}
		for layer, r := range map[string]reply{"points": points, "battlemap": battle, "streets": streets} {
			if prev, ok := etags[name][layer]; ok && prev != r.header.Get("ETag") {
				t.Errorf("%s: %s ETag %s, was %s", k.name, layer, r.header.Get("ETag"), prev)
			}
			etags[name][layer] = r.header.Get("ETag")
		}
	}
	for layer := range paths {
		if etags["S1"][layer] == etags["S2"][layer] || etags["S1"][layer] == etags["admin"][layer] {
			t.Errorf("%s: scopes with different tiles share an ETag: %v", layer, etags)
		}
	}

	// Cold misses of one tile under three keys at once: each waits for
	// its own render, never another key's.
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	rng := rand.New(rand.NewPCG(4, 4))
	for _, z := range []int{14, 15, 16, 17} {
		path := tilePath("battlemap", edgeG4, z, "level=grid") // points, and unit grids
		for i := range 24 {
			k := keys[rng.IntN(3)]
			wg.Go(func() {
				r, err := a.request("GET", path, "", as(k.token)...)
				if err != nil || r.status != http.StatusOK {
					errs <- fmt.Sprintf("z%d #%d %s: %v %d %s", z, i, k.name, err, r.status, r.body)
					return
				}
				ls, err := mvt.Unmarshal(r.body)
				if err != nil {
					errs <- err.Error()
					return
				}
				for _, l := range ls {
					for _, f := range l.Features {
						code := fmt.Sprint(f.Properties["grid"])
						if l.Name == "grids" {
							code = fmt.Sprint(f.Properties["code"])
						}
						if l.Name != "hotspots" && !slices.Contains(k.grids, code) {
							errs <- fmt.Sprintf("z%d #%d %s: %s layer holds %s", z, i, k.name, l.Name, code)
							return
						}
					}
				}
			})
		}
		wg.Wait()
	}
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestScopedGridsLayer: grids in a scope come with unit and counts, grids
// above it as outlines (code, name, level), grids beside it not at all.
func TestScopedGridsLayer(t *testing.T) {
	a := newScopedAPI(t)
	a.report("g1", edgeG1, "")
	s1 := a.key(access.Key{Role: access.RoleViewer, Scope: []string{"S1"}})
	g1 := a.key(access.Key{Role: access.RoleInspector, Scope: []string{"G1"}})
	tests := []struct {
		name, token, path string
		full, outline     []string
	}{
		{"street at z11", s1, tilePath("grids", edgeG1, 11, ""), []string{"S1"}, []string{"D"}},
		{"street at z13", s1, tilePath("grids", edgeG1, 13, ""), []string{"C1"}, nil},
		{"street at z15", s1, tilePath("grids", edgeG1, 15, ""), []string{"G1", "G2"}, nil},
		{"street, district level", s1, tilePath("grids", edgeG1, 16, "level=district"), nil, []string{"D"}},
		{"unit grid at z11", g1, tilePath("grids", edgeG1, 11, ""), nil, []string{"D", "S1"}},
		{"unit grid at z13", g1, tilePath("grids", edgeG1, 13, ""), nil, []string{"C1"}},
		{"unit grid at z16", g1, tilePath("grids", edgeG1, 16, ""), []string{"G1"}, nil},
		{"unit grid in a battlemap", g1, tilePath("battlemap", edgeG1, 13, ""), nil, []string{"C1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.must(http.StatusOK, "GET", tt.path, "", as(tt.token)...)
			checkTileHeaders(t, r, true)
			var full, outline []string
			for _, f := range features(t, r, "grids") {
				code := f.Properties["code"].(string)
				_, unit := f.Properties["unit"]
				_, open := f.Properties["open"]
				_, overdue := f.Properties["overdue_now"]
				switch {
				case unit && open && overdue:
					full = append(full, code)
				case !unit && !open && !overdue && f.Properties["name"] != nil && f.Properties["level"] != nil:
					outline = append(outline, code)
				default:
					t.Errorf("grid %s drawn with %v: neither in the scope nor an outline", code, f.Properties)
				}
			}
			slices.Sort(full)
			slices.Sort(outline)
			if !slices.Equal(full, tt.full) || !slices.Equal(outline, tt.outline) {
				t.Errorf("grids %v with counts and %v as outlines, want %v and %v", full, outline, tt.full, tt.outline)
			}
		})
	}
}

// TestScopedTileJSON: bounds and centre are the scope's; the reply is
// private and varies on the credential.
func TestScopedTileJSON(t *testing.T) {
	a := newScopedAPI(t)
	s1 := a.key(access.Key{Role: access.RolePlanner, Scope: []string{"S1"}})
	g4Key := a.key(access.Key{Role: access.RoleViewer, Scope: []string{g4}})
	for _, tt := range []struct {
		name, token string
		want        [4]float64
	}{
		{"admin", a.admin, [4]float64{x0, y0, x0 + 0.02, y0 + 0.02}},
		{"street", s1, [4]float64{x0, y0, x0 + 0.01, y0 + 0.02}},
		{"unit grid", g4Key, [4]float64{x0 + 0.01, y0 + 0.01, x0 + 0.02, y0 + 0.02}},
	} {
		r := a.must(http.StatusOK, "GET", "/tiles/battlemap.json", "", as(tt.token)...)
		checkTileHeaders(t, r, tt.name != "admin")
		var tj struct {
			Bounds [4]float64
			Center [3]float64
		}
		r.decode(t, &tj)
		for i := range 4 {
			if d := tj.Bounds[i] - tt.want[i]; d > 1e-9 || d < -1e-9 {
				t.Errorf("%s: bounds %v, want %v", tt.name, tj.Bounds, tt.want)
				break
			}
		}
		if c := (orb.Point{(tt.want[0] + tt.want[2]) / 2, (tt.want[1] + tt.want[3]) / 2}); !near(tj.Center[0], c[0]) || !near(tj.Center[1], c[1]) {
			t.Errorf("%s: centre %v, want %v", tt.name, tj.Center, c)
		}
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

// TestScopedHotspots: under a street's key the hotspots are its street's:
// the cells whose centre lies in it, its cases counted, and a resolution
// too coarse for so small an area is refused with the reason; the
// emerging analysis and the hotspot tiles alike.
func TestScopedHotspots(t *testing.T) {
	a := newScopedAPI(t)
	s1 := a.key(access.Key{Role: access.RolePlanner, Scope: []string{"S1"}})
	for i := range 8 {
		a.report(fmt.Sprintf("west-%d", i), orb.Point{x0 + 0.003 + 0.0005*float64(i), y0 + 0.006}, "")
	}
	for i := range 5 {
		a.report(fmt.Sprintf("east-%d", i), orb.Point{x0 + 0.013 + 0.0005*float64(i), y0 + 0.006}, "")
	}
	var whole, west struct {
		N        int
		Total    float64
		Features []*geojson.Feature
	}
	a.must(http.StatusOK, "GET", "/v1/hotspots?res=10&include_zero=true", "", as(a.admin)...).decode(t, &whole)
	a.must(http.StatusOK, "GET", "/v1/hotspots?res=10&include_zero=true", "", as(s1)...).decode(t, &west)
	if whole.Total != 13 || west.Total != 8 {
		t.Errorf("%v cases counted for the district, %v for S1; want 13 and 8", whole.Total, west.Total)
	}
	if west.N < 30 || west.N > whole.N*2/3 {
		t.Errorf("S1's study area has %d cells, the district's %d: want about half", west.N, whole.N)
	}
	for _, f := range west.Features {
		cell, err := geo.ParseCell(f.Properties["h3"].(string))
		if err != nil {
			t.Fatal(err)
		}
		if c := cell.Center(); c[0] > x0+0.01 {
			t.Fatalf("cell %s of S1's study lies in S2 (centre %v)", cell, c)
		}
	}
	r := a.must(http.StatusBadRequest, "GET", "/v1/hotspots?res=8", "", as(s1)...)
	if !strings.Contains(string(r.body), "scope") {
		t.Errorf("res 8 for a street: %s, want the reason (the scope's area)", r.body)
	}
	var emerging struct{ N int }
	a.must(http.StatusOK, "GET", "/v1/hotspots/emerging?res=10&step=day&from=2026-11-01T00:00:00%2B08:00&to=2026-11-23T00:00:00%2B08:00", "", as(s1)...).decode(t, &emerging)
	if emerging.N != west.N {
		t.Errorf("emerging hotspots over %d cells for S1, hotspots over %d", emerging.N, west.N)
	}
	// The hotspot tile: S1's cells only, counting S1's cases.
	tile := a.must(http.StatusOK, "GET", tilePath("hotspots", orb.Point{x0 + 0.01, y0 + 0.006}, 13, "res=10"), "", as(s1)...)
	sum := 0.0
	for _, f := range features(t, tile, "hotspots") {
		cell, _ := geo.ParseCell(f.Properties["h3"].(string))
		if c := cell.Center(); c[0] > x0+0.01 {
			t.Errorf("hotspot tile: cell %s in S2", cell)
		}
		sum += f.Properties["count"].(float64)
	}
	if sum != 8 {
		t.Errorf("S1's hotspot tile counts %v cases, want 8", sum)
	}
}
