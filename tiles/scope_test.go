package tiles_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"citygrid/access"
	"citygrid/caseindex"
	"citygrid/geo"
	"citygrid/grid"
	"citygrid/tiles"
)

// scopes of the test district: the whole, one street, one community (in
// that street), one street's handler unit.
func testScopes(l *grid.Locator) map[string]*access.Scope {
	var r access.Resolver
	return map[string]*access.Scope{
		"whole":     r.Scope(&access.Principal{Role: access.RoleAdmin}, l),
		"street":    r.Scope(&access.Principal{Role: access.RoleDispatcher, Scope: []string{"D00"}}, l),
		"community": r.Scope(&access.Principal{Role: access.RoleViewer, Scope: []string{"D0011"}}, l),
		"unit":      r.Scope(&access.Principal{Role: access.RoleHandler, Unit: "UD01"}, l),
	}
}

// seesEntry is what a scope's tiles may show of a case.
func seesEntry(s *access.Scope, e caseindex.Entry) bool {
	r := s.Restriction()
	if r.Unit != "" && e.Unit != r.Unit {
		return false
	}
	return s.Grids() == nil || s.Grids()[e.Grid]
}

// TestScopedLayers: every layer of a scoped tile holds only the scope's
// cases (points, and clusters summing to its cases), its grids with counts,
// the grids above it as bare outlines, and nothing beside it.
func TestScopedLayers(t *testing.T) {
	f := newFixture(t, 4000, tiles.Options{})
	l := f.idx.Locator()
	var all []caseindex.Entry
	f.cases.Within(orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}, caseindex.Filter{}, func(c caseindex.Entry) { all = append(all, c) })
	for name, scope := range testScopes(l) {
		t.Run(name, func(t *testing.T) {
			want := 0
			for _, e := range all {
				if seesEntry(scope, e) {
					want++
				}
			}
			if want == 0 || want == len(all) && name != "whole" {
				t.Fatalf("%d of %d cases in scope: a poor test", want, len(all))
			}
			p := tiles.Params{Scope: scope}
			for _, z := range []int{11, 13, 16} {
				points, clustered := 0, 0
				for _, tile := range f.districtTiles(z) {
					layers, _ := f.decode(t, tiles.LayerBattlemap, tile, p)
					if cl := layerNamed(layers, tiles.LayerCases); cl != nil {
						for _, feat := range cl.Features {
							if feat.Properties["cluster"] == true {
								// A cluster in a tile's buffer is its
								// neighbour's: count it there.
								if pt := feat.Geometry.(orb.Point); pt[0] >= 0 && pt[0] < tiles.Extent && pt[1] >= 0 && pt[1] < tiles.Extent {
									clustered += int(feat.Properties["count"].(float64))
								}
								continue
							}
							e := caseByID(all, int64(feat.Properties["id"].(float64)))
							if !seesEntry(scope, e) {
								t.Fatalf("z%d %s: case %d of grid %s, unit %s, outside the scope", z, tile, e.ID, e.Grid, e.Unit)
							}
							points++
						}
					}
					if gl := layerNamed(layers, tiles.LayerGrids); gl != nil {
						for _, feat := range gl.Features {
							code := feat.Properties["code"].(string)
							_, hasCounts := feat.Properties["open"]
							_, hasUnit := feat.Properties["unit"]
							switch scope.Grid(code) {
							case access.Absent:
								t.Fatalf("z%d %s: grid %s beside the scope drawn", z, tile, code)
							case access.Outline:
								if hasCounts || hasUnit || feat.Properties["name"] == nil || feat.Properties["level"] == nil {
									t.Fatalf("z%d %s: grid %s above the scope drawn with %v, want code, name and level only", z, tile, code, feat.Properties)
								}
							case access.Full:
								if !hasCounts || !hasUnit {
									t.Fatalf("z%d %s: grid %s in the scope drawn without counts: %v", z, tile, code, feat.Properties)
								}
							}
						}
					}
				}
				if z < 14 && clustered != want {
					t.Errorf("z%d: clusters count %d cases, want the scope's %d", z, clustered, want)
				}
				if z >= 14 && points < want {
					t.Errorf("z%d: %d points, want at least the scope's %d", z, points, want)
				}
			}
		})
	}
}

func caseByID(all []caseindex.Entry, id int64) caseindex.Entry {
	for _, e := range all {
		if e.ID == id {
			return e
		}
	}
	return caseindex.Entry{}
}

// TestScopedGridCounts: a street's grids count what they count for
// everyone (their whole subtree is the street's), a unit's grids only the
// unit's cases.
func TestScopedGridCounts(t *testing.T) {
	f := newFixture(t, 3000, tiles.Options{})
	scopes := testScopes(f.idx.Locator())
	tile := tileOf(orb.Point{120.36, 36.085}, 11) // the district's corner at z11: D00 and the district
	counts := func(s *access.Scope) map[string]float64 {
		layers, _ := f.decode(t, tiles.LayerGrids, tile, tiles.Params{Scope: s})
		out := map[string]float64{}
		for _, feat := range layerNamed(layers, tiles.LayerGrids).Features {
			if n, ok := feat.Properties["open"].(float64); ok {
				out[feat.Properties["code"].(string)] = n
			}
		}
		return out
	}
	whole, street, unit := counts(scopes["whole"]), counts(scopes["street"]), counts(scopes["unit"])
	if street["D00"] != whole["D00"] || whole["D00"] == 0 {
		t.Errorf("street D00 counts %v open cases for its own scope, %v for the district's", street["D00"], whole["D00"])
	}
	if _, ok := street["D"]; ok {
		t.Errorf("the district above the street's scope carries counts: %v", street)
	}
	// The unit UD01 is street D01's: in D00 it has no cases.
	if unit["D00"] != 0 || unit["D01"] == 0 || unit["D01"] >= whole["D01"] && whole["D01"] != unit["D01"] {
		t.Errorf("unit counts %v, whole %v: want the unit's cases only", unit, whole)
	}
}

// TestScopesNeverShareATile: concurrent cold requests for one tile under
// different scopes each get their own scope's tile (the concurrent-miss
// key holds the scope), and warm ones too.
func TestScopesNeverShareATile(t *testing.T) {
	f := newFixture(t, 3000, tiles.Options{})
	scopes := testScopes(f.idx.Locator())
	names := []string{"whole", "street", "community", "unit"}
	tile := tileOf(orb.Point{120.375, 36.095}, 12)
	want := map[string]string{}
	for _, n := range names {
		ref := tiles.New(f.idx, f.cases, fakeHotspots(f.cases), tiles.Options{}, func() time.Time { return testNow })
		enc, _, err := ref.Tile(context.Background(), tiles.LayerBattlemap, tile, tiles.Params{Scope: scopes[n]})
		if err != nil {
			t.Fatal(err)
		}
		want[n] = enc.ETag
	}
	if len(map[string]bool{want["whole"]: true, want["street"]: true, want["community"]: true, want["unit"]: true}) != 4 {
		t.Fatalf("the scopes' tiles are alike (%v): a poor test", want)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for round := range 20 {
		svc := tiles.New(f.idx, f.cases, fakeHotspots(f.cases), tiles.Options{}, func() time.Time { return testNow })
		var wg sync.WaitGroup
		errs := make(chan string, 64)
		for i := range 32 {
			n := names[rng.IntN(len(names))]
			wg.Go(func() {
				enc, _, err := svc.Tile(context.Background(), tiles.LayerBattlemap, tile, tiles.Params{Scope: scopes[n]})
				if err != nil {
					errs <- err.Error()
					return
				}
				if enc.ETag != want[n] {
					errs <- fmt.Sprintf("round %d, request %d: scope %s got another scope's tile", round, i, n)
				}
			})
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Fatal(e)
		}
	}
}

// TestStaleSides: each side of a move names its own tiles only.
func TestStaleSides(t *testing.T) {
	idx := district(t)
	l := idx.Locator()
	a, b := orb.Point{120.345, 36.075}, orb.Point{120.415, 36.125}
	ga, _ := assign(t, l, a)
	gb, _ := assign(t, l, b)
	st := tiles.StaleAfter(caseindex.Change{Old: &caseindex.Entry{ID: 1, Location: a, Grid: ga}, New: &caseindex.Entry{ID: 1, Location: b, Grid: gb}}, l, 14)
	side := func(old bool) tiles.Stale {
		var out struct {
			Cases, Grids []struct {
				Z     uint32
				X, Y  [2]uint32
				Level grid.Level
			}
		}
		raw, err := json.Marshal(st.Side(old))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		var s tiles.Stale
		for _, r := range out.Cases {
			s.Cases = append(s.Cases, tiles.TileRange{Z: r.Z, MinX: r.X[0], MaxX: r.X[1], MinY: r.Y[0], MaxY: r.Y[1]})
		}
		for _, r := range out.Grids {
			if r.Level == grid.LevelGrid { // the district's and a street's cover both sides
				s.Grids = append(s.Grids, tiles.TileRange{Z: r.Z, MinX: r.X[0], MaxX: r.X[1], MinY: r.Y[0], MaxY: r.Y[1]})
			}
		}
		return s
	}
	covered := func(rs []tiles.TileRange, tile geo.Tile) bool {
		for _, r := range rs {
			if r.Contains(tile) {
				return true
			}
		}
		return false
	}
	old, now := side(true), side(false)
	for _, check := range []struct {
		name       string
		st         tiles.Stale
		here, away orb.Point
	}{{"old side", old, a, b}, {"new side", now, b, a}} {
		if !covered(check.st.Cases, tileOf(check.here, 16)) || !covered(check.st.Grids, tileOf(check.here, 16)) {
			t.Errorf("%s: its own z16 tile is not stale", check.name)
		}
		if covered(check.st.Cases, tileOf(check.away, 16)) || covered(check.st.Grids, tileOf(check.away, 16)) {
			t.Errorf("%s: the other side's z16 tile is named", check.name)
		}
	}
	if !covered(st.Cases, tileOf(a, 16)) || !covered(st.Cases, tileOf(b, 16)) {
		t.Error("the whole change does not name both sides")
	}
	if raw, _ := json.Marshal(tiles.StaleAfter(caseindex.Change{New: &caseindex.Entry{ID: 1, Location: a, Grid: ga}}, l, 14).Side(true)); string(raw) != "null" {
		t.Errorf("the old side of a new case: %s, want null", raw)
	}
}

// TestScopedTileJSON: bounds and centre are the scope's.
func TestScopedTileJSON(t *testing.T) {
	f := newFixture(t, 10, tiles.Options{})
	l := f.idx.Locator()
	scopes := testScopes(l)
	for name, code := range map[string]string{"whole": "D", "street": "D00", "community": "D0011", "unit": "D"} {
		tj, err := f.svc.TileJSON(tiles.LayerCases, "http://x/{z}/{x}/{y}.mvt", scopes[name])
		if err != nil {
			t.Fatal(err)
		}
		b, _ := l.Bound(code)
		if want := [4]float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}; tj.Bounds != want {
			t.Errorf("%s: bounds %v, want %s's %v", name, tj.Bounds, code, want)
		}
		if c := b.Center(); tj.Center[0] != c[0] || tj.Center[1] != c[1] {
			t.Errorf("%s: centre %v, want %s's %v", name, tj.Center, code, c)
		}
	}
}

// TestGridChangeDropsScopedTiles: a new grid map drops every scoped tile
// (a scope's subtrees may have changed), whatever its layer.
func TestGridChangeDropsScopedTiles(t *testing.T) {
	f := newFixture(t, 500, tiles.Options{})
	scopes := testScopes(f.idx.Locator())
	far := tileOf(orb.Point{120.415, 36.125}, 16)
	for _, layer := range []string{tiles.LayerCases, tiles.LayerGrids} {
		f.decode(t, layer, far, tiles.Params{Scope: scopes["street"]})
		f.decode(t, layer, far, tiles.Params{})
	}
	if n := f.svc.CacheStats().Entries; n != 4 {
		t.Fatalf("%d cached tiles, want 4", n)
	}
	// Rename a grid far from the tile: the unscoped tiles stay.
	old := f.idx.Locator()
	var gs []*grid.Grid
	for _, level := range grid.Levels {
		old.AtLevel(level, func(g *grid.Grid, _ orb.Bound) {
			c := *g
			if c.Code == "D0000" {
				c.Name = "改名"
			}
			gs = append(gs, &c)
		})
	}
	l, err := grid.NewLocator(gs, nil, grid.LocatorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f.idx.Set(l)
	f.decode(t, tiles.LayerCases, tileOf(orb.Point{120.345, 36.075}, 10), tiles.Params{}) // the service notices
	for _, layer := range []string{tiles.LayerCases, tiles.LayerGrids} {
		if _, hit, _ := f.svc.Tile(context.Background(), layer, far, tiles.Params{}); !hit {
			t.Errorf("%s: the unscoped tile far from the change was dropped", layer)
		}
		if _, hit, _ := f.svc.Tile(context.Background(), layer, far, tiles.Params{Scope: testScopes(l)["street"]}); hit {
			t.Errorf("%s: the scoped tile outlived a new grid map", layer)
		}
	}
}
