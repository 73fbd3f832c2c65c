package grid

import (
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"

	"citygrid/geo"
)

// pokingDistrict is an L-shaped district whose street on the east pokes
// 0.001° beyond it (imports tolerate a little of that), with a unit grid
// straddling the district's edge and one wholly inside.
func pokingDistrict() []*Grid {
	poly := func(pts ...orb.Point) orb.Polygon { return orb.Polygon{append(orb.Ring(pts), pts[0])} }
	rect := func(x0, y0, x1, y1 float64) orb.Polygon {
		return poly(orb.Point{x0, y0}, orb.Point{x1, y0}, orb.Point{x1, y1}, orb.Point{x0, y1})
	}
	return []*Grid{
		{Code: "D", Level: LevelDistrict, Unit: "U", Geometry: poly(
			orb.Point{120, 36}, orb.Point{120.004, 36}, orb.Point{120.004, 36.002}, orb.Point{120.002, 36.002},
			orb.Point{120.002, 36.004}, orb.Point{120, 36.004})},
		{Code: "S1", Level: LevelStreet, Parent: "D", Geometry: rect(120, 36, 120.002, 36.004)},
		{Code: "S2", Level: LevelStreet, Parent: "D", Geometry: rect(120.002, 36, 120.005, 36.002)}, // pokes east
		{Code: "G1", Level: LevelGrid, Parent: "S1", Geometry: rect(120.0005, 36.0005, 120.0015, 36.0015)},
		{Code: "G2", Level: LevelGrid, Parent: "S2", Geometry: rect(120.0035, 36.0005, 120.0045, 36.0015)}, // straddles the edge
	}
}

func TestServiceArea(t *testing.T) {
	grids := pokingDistrict()
	l, err := NewLocator(grids, nil, LocatorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		p        orb.Point
		wantGrid string
		wantIn   bool
	}{
		{"unit grid inside", orb.Point{120.001, 36.001}, "G1", true},
		{"street inside", orb.Point{120.001, 36.003}, "S1", true},
		{"on the district's outer edge", orb.Point{120, 36.003}, "S1", true},
		{"on the district's inner corner", orb.Point{120.002, 36.002}, "S1", true},
		{"straddling grid, inside half", orb.Point{120.0038, 36.001}, "G2", true},
		{"straddling grid, outside half", orb.Point{120.0042, 36.001}, "G2", false},
		{"street beyond the district", orb.Point{120.0045, 36.0018}, "S2", false},
		{"in the notch of the L", orb.Point{120.003, 36.003}, "", false},
		{"at (0, 0)", orb.Point{0, 0}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := l.Assign(tt.p, "")
			if err != nil {
				t.Fatal(err)
			}
			if code(a.Grid) != code(gridByCode(grids, tt.wantGrid)) || a.InServiceArea != tt.wantIn {
				t.Errorf("Assign(%v) = grid %s, in the service area %v; want %s, %v", tt.p, code(a.Grid), a.InServiceArea, code(gridByCode(grids, tt.wantGrid)), tt.wantIn)
			}
			loc, err := l.Locate(tt.p, "")
			if err != nil {
				t.Fatal(err)
			}
			if loc.InServiceArea != a.InServiceArea {
				t.Errorf("Locate says in the service area %v, Assign %v", loc.InServiceArea, a.InServiceArea)
			}
		})
	}
}

// TestServiceAreaAgreesWithBruteForce checks random points and every
// vertex against the definition: a top-level grid covers the point.
func TestServiceAreaAgreesWithBruteForce(t *testing.T) {
	grids := pokingDistrict()
	l, err := NewLocator(grids, nil, LocatorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	var probes []orb.Point
	for range 20000 {
		probes = append(probes, orb.Point{119.999 + rng.Float64()*0.007, 35.999 + rng.Float64()*0.006})
	}
	for _, g := range grids {
		for _, ring := range g.MultiPolygon()[0] {
			probes = append(probes, ring...)
		}
	}
	for _, p := range probes {
		a, err := l.Assign(p, "")
		if err != nil {
			t.Fatal(err)
		}
		if want := geo.Covers(grids[0].MultiPolygon(), p); a.InServiceArea != want {
			t.Fatalf("Assign(%v) in the service area = %v, want %v (grid %s)", p, a.InServiceArea, want, code(a.Grid))
		}
	}
}

func gridByCode(grids []*Grid, c string) *Grid {
	for _, g := range grids {
		if g.Code == c {
			return g
		}
	}
	return nil
}
