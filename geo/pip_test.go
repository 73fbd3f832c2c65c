package geo

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

func TestLocatePointInPolygon(t *testing.T) {
	square := orb.MultiPolygon{{{{0, 0}, {4, 0}, {4, 4}, {0, 4}, {0, 0}}, {{1, 1}, {1, 2}, {2, 2}, {2, 1}, {1, 1}}}}
	tests := []struct {
		name string
		p    orb.Point
		want Location
	}{
		{"inside", orb.Point{3, 3}, Inside},
		{"outside", orb.Point{5, 1}, Outside},
		{"on an edge", orb.Point{4, 2}, OnBoundary},
		{"on a vertex", orb.Point{0, 0}, OnBoundary},
		{"in the hole", orb.Point{1.5, 1.5}, Outside},
		{"on the hole's edge", orb.Point{1, 1.5}, OnBoundary},
		{"level with a vertex, outside", orb.Point{-1, 4}, Outside},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LocatePointInPolygon(square, tt.p); got != tt.want {
				t.Errorf("LocatePointInPolygon(%v) = %d, want %d", tt.p, got, tt.want)
			}
			if got := Prepare(square).Locate(tt.p); got != tt.want {
				t.Errorf("prepared Locate(%v) = %d, want %d", tt.p, got, tt.want)
			}
		})
	}
}

// TestPreparedMatchesPlain checks the banded prepared form against the plain
// routine on a ring large enough to be banded, and both against orb's
// planar test away from the boundary.
func TestPreparedMatchesPlain(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	var ring orb.Ring
	for i := range 200 { // a star-shaped polygon of 200 vertices
		a := float64(i) / 200 * 6.283185307179586
		r := 1 + 0.5*rng.Float64()
		ring = append(ring, orb.Point{120 + r*cosine(a), 36 + r*sine(a)})
	}
	ring = append(ring, ring[0])
	mp := orb.MultiPolygon{{ring}}
	pp := Prepare(mp)
	var probes []orb.Point
	for range 20000 {
		probes = append(probes, orb.Point{118.4 + 3.2*rng.Float64(), 34.4 + 3.2*rng.Float64()})
	}
	for i := 0; i+1 < len(ring); i++ {
		probes = append(probes, ring[i], orb.Point{(ring[i][0] + ring[i+1][0]) / 2, (ring[i][1] + ring[i+1][1]) / 2})
	}
	for _, p := range probes {
		plain, prepared := LocatePointInPolygon(mp, p), pp.Locate(p)
		if plain != prepared {
			t.Fatalf("at %v: plain %d, prepared %d", p, plain, prepared)
		}
		if plain != OnBoundary && (plain == Inside) != planar.MultiPolygonContains(mp, p) {
			t.Fatalf("at %v: %d disagrees with orb/planar", p, plain)
		}
	}
}

func TestDistanceToBoundary(t *testing.T) {
	// A 0.01° square at 36°N: 0.001° east of its east edge is about 90 m.
	sq := orb.MultiPolygon{{{{120, 36}, {120.01, 36}, {120.01, 36.01}, {120, 36.01}, {120, 36}}}}
	d := DistanceToBoundaryM(sq, orb.Point{120.011, 36.005})
	if d < 89 || d > 91 {
		t.Errorf("distance = %.2f m, want about 90", d)
	}
	if got := Prepare(sq).DistanceToBoundaryM(orb.Point{120.011, 36.005}); got != d {
		t.Errorf("prepared distance = %v, plain %v", got, d)
	}
	if DistanceToPolygonM(sq, orb.Point{120.005, 36.005}) != 0 {
		t.Error("a covered point is at distance 0")
	}
}

func cosine(a float64) float64 { return math.Cos(a) }
func sine(a float64) float64   { return math.Sin(a) }
