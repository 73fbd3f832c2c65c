package geo

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
)

func TestSphereDistanceToBoundary(t *testing.T) {
	// A 0.01° square at 36°N (Qingdao's latitude), and a long thin ring
	// (40 vertices along one edge) so that chunks are skipped.
	sq := orb.MultiPolygon{{{{120, 36}, {120.01, 36}, {120.01, 36.01}, {120, 36.01}, {120, 36}}}}
	var long orb.Ring
	for i := 0; i <= 40; i++ {
		long = append(long, orb.Point{120 + float64(i)*0.001, 36})
	}
	long = append(long, orb.Point{120.04, 36.001}, orb.Point{120, 36.001}, orb.Point{120, 36})
	// The wanted distances are PostGIS 3.3's ST_Distance(geography,
	// geography, false), on the same sphere with edges as great-circle
	// arcs (which bulge poleward of the parallels: 12 mm mid-edge here).
	tests := []struct {
		name  string
		mp    orb.MultiPolygon
		p     orb.Point
		wantM float64
	}{
		{"south of the square", sq, orb.Point{120.005, 35.99}, 1111.96233319},
		{"a centimetre south of the edge's middle", sq, orb.Point{120.005, 35.99999999}, 0.01264779},
		// A GPS fix at 0,0: half a world away (the local frame said 13,900 km).
		{"at 0,0", sq, orb.Point{0, 0}, 12660351.17999903},
		{"the antipode of the centre", sq, orb.Point{-59.995, -36.005}, 20014399.22283973},
		{"inside, nearer the north edge", sq, orb.Point{120.005, 36.009}, 111.20661688},
		{"south of the middle of a long ring", orb.MultiPolygon{{long}}, orb.Point{120.0205, 35.999}, 111.19519509},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Prepare(tt.mp).SphereDistanceToBoundaryM(ToSphere(tt.p))
			if math.Abs(got-tt.wantM) > 1e-8*tt.wantM+1e-6 {
				t.Errorf("SphereDistanceToBoundaryM(%v) = %.8f m, want %.8f", tt.p, got, tt.wantM)
			}
		})
	}
}

// TestSphereDistanceAgreesNearby: within a district the sphere distance and
// the local frame's agree to centimetres (the frame's edges are straight in
// degrees, the sphere's great-circle arcs); near or far, no point of the
// boundary lies outside the polygon's cap, and ChordSq ranks as the
// distance does.
func TestSphereDistanceAgreesNearby(t *testing.T) {
	mp := orb.MultiPolygon{{{{120, 36}, {120.013, 36.002}, {120.01, 36.011}, {120.004, 36.008}, {120, 36.01}, {120, 36}}}}
	pp := Prepare(mp)
	rng := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		p := orb.Point{119.98 + rng.Float64()*0.05, 35.98 + rng.Float64()*0.05}
		v := ToSphere(p)
		sphere, local := pp.SphereDistanceToBoundaryM(v), pp.DistanceToBoundaryM(p)
		if math.Abs(sphere-local) > 1e-3*local+0.05 {
			t.Fatalf("at %v: sphere %.4f m, local frame %.4f m", p, sphere, local)
		}
		far := orb.Point{rng.Float64()*360 - 180, rng.Float64()*180 - 90}
		for _, q := range []orb.Point{p, far} {
			v := ToSphere(q)
			c, r := pp.SphereCap()
			if lb, d := (arc(v, c)-r)*EarthRadiusM, pp.SphereDistanceToBoundaryM(v); lb > d {
				t.Fatalf("at %v: the cap puts the boundary %.4f m away or more, but it is %.4f m", q, lb, d)
			}
			if got, want := ChordSq(v, c), ChordSqOfM(arc(v, c)*EarthRadiusM); math.Abs(got-want) > 1e-12 {
				t.Fatalf("at %v: ChordSq %g, ChordSqOfM %g", q, got, want)
			}
		}
	}
}
