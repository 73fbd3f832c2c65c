package grid

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"

	"citygrid/geo"
)

// squareDistrict builds a district of n×n unit grids of side deg degrees
// (about 100 m at deg = 0.001) under one community, one street and the
// district, with shared edges and vertices bit-identical.
func squareDistrict(n int, deg float64) []*Grid {
	x0, y0 := 120.35, 36.07
	corner := func(i, j int) orb.Point { return orb.Point{x0 + float64(i)*deg, y0 + float64(j)*deg} }
	rect := func(i0, j0, i1, j1 int) orb.Polygon {
		return orb.Polygon{orb.Ring{corner(i0, j0), corner(i1, j0), corner(i1, j1), corner(i0, j1), corner(i0, j0)}}
	}
	grids := []*Grid{
		{Code: "D", Name: "district", Level: LevelDistrict, Unit: "U-D", Geometry: rect(0, 0, n, n)},
		{Code: "S", Name: "street", Level: LevelStreet, Parent: "D", Geometry: rect(0, 0, n, n)},
		// The community leaves the top row of grids' area to the street.
		{Code: "C", Name: "community", Level: LevelCommunity, Parent: "S", Geometry: rect(0, 0, n, n)},
	}
	for i := range n {
		for j := range n - 1 { // the top row has no unit grids: points there go to the community
			grids = append(grids, &Grid{
				Code: fmt.Sprintf("G%02d%02d", i, j), Name: "grid", Level: LevelGrid, Parent: "C",
				Geometry: rect(i, j, i+1, j+1), AreaM2: 1e4,
			})
		}
	}
	return grids
}

// bruteForce is the reference: the deepest covering grid, smallest code.
func bruteForce(grids []*Grid, p orb.Point) *Grid {
	var best *Grid
	for _, g := range grids {
		if !geo.Covers(g.MultiPolygon(), p) {
			continue
		}
		if best == nil || g.Level > best.Level || (g.Level == best.Level && g.Code < best.Code) {
			best = g
		}
	}
	return best
}

func TestLocatorAgreesWithBruteForce(t *testing.T) {
	const n, deg = 8, 0.001
	grids := squareDistrict(n, deg)
	l, err := NewLocator(grids, nil, LocatorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var probes []orb.Point
	for range 20000 { // random points over and around the district
		probes = append(probes, orb.Point{120.35 - deg + rng.Float64()*(n+2)*deg, 36.07 - deg + rng.Float64()*(n+2)*deg})
	}
	for i := 0; i <= n; i++ { // every vertex, and points along every edge
		for j := 0; j <= n; j++ {
			v := orb.Point{120.35 + float64(i)*deg, 36.07 + float64(j)*deg}
			probes = append(probes, v, orb.Point{v[0] + deg/3, v[1]}, orb.Point{v[0], v[1] + deg/7})
		}
	}
	for _, p := range probes {
		a, err := l.Assign(p, "")
		if err != nil {
			t.Fatalf("Assign(%v): %v", p, err)
		}
		want := bruteForce(grids, p)
		if code(a.Grid) != code(want) {
			t.Fatalf("Assign(%v) grid = %s, want %s", p, code(a.Grid), code(want))
		}
	}
}

func code(g *Grid) string {
	if g == nil {
		return "<nil>"
	}
	return g.Code
}

func TestLocateDetails(t *testing.T) {
	grids := squareDistrict(4, 0.001)
	l, err := NewLocator(grids, []Unit{{Code: "U-D", Name: "bureau"}}, LocatorOptions{ToleranceM: 5})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("shared vertex goes to the smallest code", func(t *testing.T) {
		loc, err := l.Locate(orb.Point{120.35 + 1*0.001, 36.07 + 1*0.001}, "") // bit-identical to the shared corner
		if err != nil {
			t.Fatal(err)
		}
		if code(loc.Grid) != "G0000" {
			t.Errorf("grid = %s, want G0000", code(loc.Grid))
		}
		if loc.BoundaryDistanceM != 0 {
			t.Errorf("boundary distance = %g, want 0", loc.BoundaryDistanceM)
		}
		var alts []string
		for _, a := range loc.Alternatives {
			alts = append(alts, a.Grid.Code)
		}
		if fmt.Sprint(alts) != "[G0001 G0100 G0101]" {
			t.Errorf("alternatives = %v, want [G0001 G0100 G0101]", alts)
		}
		if len(loc.Path) != 4 || loc.Path[3].Code != "D" {
			t.Errorf("path = %v, want 4 grids up to D", loc.Path)
		}
		if loc.Owner == nil || loc.Owner.Unit.Name != "bureau" || loc.Owner.Level != LevelDistrict {
			t.Errorf("owner = %+v, want the district's default unit", loc.Owner)
		}
	})
	t.Run("interior point has no alternatives", func(t *testing.T) {
		loc, _ := l.Locate(orb.Point{120.3505, 36.0705}, "")
		if code(loc.Grid) != "G0000" || len(loc.Alternatives) != 0 {
			t.Errorf("grid %s alternatives %v, want G0000 and none", code(loc.Grid), loc.Alternatives)
		}
		if loc.BoundaryDistanceM < 40 || loc.BoundaryDistanceM > 50 {
			t.Errorf("boundary distance = %g m, want about 45", loc.BoundaryDistanceM)
		}
	})
	t.Run("outside every grid names the nearest", func(t *testing.T) {
		loc, _ := l.Locate(orb.Point{120.3495, 36.0705}, "") // 0.0005° west of the district, about 45 m
		if loc.Grid != nil {
			t.Fatalf("grid = %s, want none", loc.Grid.Code)
		}
		if loc.Nearest == nil || loc.Nearest.Grid.Code != "G0000" || loc.Nearest.DistanceM < 40 || loc.Nearest.DistanceM > 50 {
			t.Errorf("nearest = %+v, want G0000 at about 45 m", loc.Nearest)
		}
	})
	t.Run("top row without unit grids goes to the community", func(t *testing.T) {
		loc, _ := l.Locate(orb.Point{120.3515, 36.0735}, "")
		if code(loc.Grid) != "C" {
			t.Errorf("grid = %s, want C", code(loc.Grid))
		}
	})
	t.Run("cell at the answer resolution", func(t *testing.T) {
		loc, _ := l.Locate(orb.Point{120.3505, 36.0705}, "")
		want, _ := geo.CellAt(orb.Point{120.3505, 36.0705}, 9)
		if loc.Cell != want {
			t.Errorf("cell = %s, want %s", loc.Cell, want)
		}
	})
}

func TestLocatorRejectsBadPoints(t *testing.T) {
	l, err := NewLocator(squareDistrict(2, 0.001), nil, LocatorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []orb.Point{{200, 0}, {0, 91}} {
		if _, err := l.Assign(p, ""); err == nil {
			t.Errorf("Assign(%v) succeeded, want an error", p)
		}
	}
}

func BenchmarkLocator(b *testing.B) {
	grids := squareDistrict(40, 0.001)
	l, err := NewLocator(grids, nil, LocatorOptions{})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	pts := make([]orb.Point, 4096)
	for i := range pts {
		pts[i] = orb.Point{120.35 + rng.Float64()*0.04, 36.07 + rng.Float64()*0.039}
	}
	b.Run("Assign", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := l.Assign(pts[i%len(pts)], "E0101"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("CellAt/res9", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := geo.CellAt(pts[i%len(pts)], 9); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestNearestAgreesWithBruteForce: the pruned search for the nearest grid
// finds what measuring every unit grid finds (smallest code among equals),
// just outside the district and anywhere on Earth.
func TestNearestAgreesWithBruteForce(t *testing.T) {
	grids := squareDistrict(12, 0.001)
	l, err := NewLocator(grids, nil, LocatorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(8, 9))
	pts := []orb.Point{{0, 0}, {-59.644, -36.076}, {120.356, 36.05}, {120.3, 36.076}}
	for range 300 {
		pts = append(pts, orb.Point{120.34 + rng.Float64()*0.03, 36.06 + rng.Float64()*0.03})
		pts = append(pts, orb.Point{rng.Float64()*360 - 180, rng.Float64()*180 - 90})
	}
	for _, p := range pts {
		if bruteForce(grids, p) != nil {
			continue
		}
		var want *Grid
		wantD := math.Inf(1)
		v := geo.ToSphere(p)
		for _, g := range grids {
			if g.Level != LevelGrid {
				continue
			}
			if d := geo.Prepare(g.MultiPolygon()).SphereDistanceToBoundaryM(v); d < wantD || d == wantD && g.Code < want.Code {
				want, wantD = g, d
			}
		}
		got, ok := l.nearest(p)
		if !ok || got.Grid != want || got.DistanceM != wantD {
			t.Fatalf("nearest(%v) = %s at %.6f m, want %s at %.6f m", p, code(got.Grid), got.DistanceM, want.Code, wantD)
		}
	}
}
