package tiles

import (
	"math"
	"testing"

	"github.com/paulmach/orb"

	"citygrid/geo"
)

func TestTilePolygon(t *testing.T) {
	tile := geo.Tile{Z: 16, X: 54689, Y: 25713}
	pr := geo.NewProjector(tile, Extent)
	b := tile.Bound(Extent, 0)
	w, h := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
	at := func(fx, fy float64) orb.Point { return orb.Point{b.Min[0] + fx*w, b.Max[1] - fy*h} } // fy down, like tile y
	ccw := func(pts ...orb.Point) orb.Ring { return append(orb.Ring(pts), pts[0]) }
	tests := []struct {
		name  string
		poly  orb.Polygon
		rings int
		area  float64 // of the exterior, in tile units², ±2%
	}{
		{"inside", orb.Polygon{ccw(at(.25, .75), at(.75, .75), at(.75, .25), at(.25, .25))}, 1, 2048 * 2048},
		{"larger than the tile", orb.Polygon{ccw(at(-1, 2), at(2, 2), at(2, -1), at(-1, -1))}, 1, 4224 * 4224},
		{"outside", orb.Polygon{ccw(at(3, 3), at(4, 3), at(4, 2), at(3, 2))}, 0, 0},
		{"with a hole", orb.Polygon{
			ccw(at(.1, .9), at(.9, .9), at(.9, .1), at(.1, .1)),
			ccw(at(.4, .4), at(.6, .4), at(.6, .6), at(.4, .6)),
		}, 2, 3276.8 * 3276.8},
		{"hole smaller than a unit", orb.Polygon{
			ccw(at(.1, .9), at(.9, .9), at(.9, .1), at(.1, .1)),
			ccw(at(.5, .5), at(.50001, .5), at(.50001, .50001)),
		}, 1, 3276.8 * 3276.8},
		{"wound clockwise in WGS84", orb.Polygon{orb.Ring{at(.25, .75), at(.25, .25), at(.75, .25), at(.75, .75), at(.25, .75)}}, 1, 2048 * 2048},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rings := tilePolygon(orb.MultiPolygon{tt.poly}, pr, -Buffer, Extent+Buffer)
			if len(rings) != tt.rings {
				t.Fatalf("%d rings, want %d: %v", len(rings), tt.rings, rings)
			}
			for i, r := range rings {
				a := ringArea(r)
				if (i == 0) != (a > 0) {
					t.Errorf("ring %d: signed area %d: exteriors must be positive, holes negative (MVT winding)", i, a)
				}
				for _, p := range r {
					if p[0] < -Buffer || p[1] < -Buffer || p[0] > Extent+Buffer || p[1] > Extent+Buffer {
						t.Errorf("ring %d: point %v outside the buffered tile", i, p)
					}
				}
			}
			if tt.rings > 0 {
				if got := float64(ringArea(rings[0])) / 2; math.Abs(got-tt.area) > tt.area*0.02 {
					t.Errorf("exterior area %.0f, want %.0f", got, tt.area)
				}
			}
		})
	}
}

// TestNeighboursShareEdges: two grids sharing a slanted edge that crosses
// the tile border come out sharing it exactly, vertex for vertex.
func TestNeighboursShareEdges(t *testing.T) {
	tile := geo.Tile{Z: 15, X: 27344, Y: 12856}
	pr := geo.NewProjector(tile, Extent)
	b := tile.Bound(Extent, 0)
	w, h := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
	at := func(fx, fy float64) orb.Point { return orb.Point{b.Min[0] + fx*w, b.Max[1] - fy*h} }
	// The shared edge runs from above the tile to below it, with a kink.
	edge := []orb.Point{at(.3, -.5), at(.55, .37), at(.41, 1.6)}
	left := orb.Ring{at(-.5, -.5), edge[0], edge[1], edge[2], at(-.5, 1.6), at(-.5, -.5)}
	right := orb.Ring{edge[0], at(1.5, -.5), at(1.5, 1.6), edge[2], edge[1], edge[0]}
	vertices := func(r orb.Ring) map[[2]int32]bool {
		out := map[[2]int32]bool{}
		for _, ring := range tilePolygon(orb.MultiPolygon{{r}}, pr, -Buffer, Extent+Buffer) {
			for _, p := range ring {
				out[p] = true
			}
		}
		return out
	}
	l, r := vertices(left), vertices(right)
	shared := 0
	for p := range l {
		if r[p] {
			shared++
		}
	}
	// The kink and the two border crossings.
	if shared != 3 {
		t.Errorf("neighbours share %d vertices, want 3 (kink and both border crossings): %v / %v", shared, l, r)
	}
}

// FuzzTilePolygon: any ring, however degenerate, yields rings inside the
// buffered tile with MVT winding, or nothing; never a panic.
func FuzzTilePolygon(f *testing.F) {
	f.Add(0.1, 0.1, 0.9, 0.2, 0.5, 0.9, 0.3, 0.3)
	f.Add(-3.0, 0.5, 4.0, 0.5, 0.5, 0.5, 0.5, 0.5)
	f.Add(0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5)
	f.Fuzz(func(t *testing.T, x0, y0, x1, y1, x2, y2, x3, y3 float64) {
		for _, v := range []float64{x0, y0, x1, y1, x2, y2, x3, y3} {
			if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > 100 {
				return
			}
		}
		tile := geo.Tile{Z: 14, X: 13670, Y: 6428}
		b := tile.Bound(Extent, 0)
		w, h := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
		at := func(fx, fy float64) orb.Point { return orb.Point{b.Min[0] + fx*w, b.Max[1] - fy*h} }
		ring := orb.Ring{at(x0, y0), at(x1, y1), at(x2, y2), at(x3, y3), at(x0, y0)}
		for i, r := range tilePolygon(orb.MultiPolygon{{ring}}, geo.NewProjector(tile, Extent), -Buffer, Extent+Buffer) {
			if len(r) < 3 {
				t.Fatalf("ring %d has %d points", i, len(r))
			}
			if a := ringArea(r); (i == 0) != (a > 0) {
				t.Fatalf("ring %d: area %d has the wrong sign", i, a)
			}
			for _, p := range r {
				if p[0] < -Buffer || p[1] < -Buffer || p[0] > Extent+Buffer || p[1] > Extent+Buffer {
					t.Fatalf("point %v outside the buffered tile", p)
				}
			}
		}
	})
}
