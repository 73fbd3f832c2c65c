package geo

import (
	"math"
	"testing"

	"github.com/paulmach/orb"
)

// Published pairs: wandergis/coordtransform, test/app.js (input 116.404, 39.915).
func TestCRSPublishedPairs(t *testing.T) {
	in := orb.Point{116.404, 39.915}
	// BD09ToGCJ02 refines the published one-step inverse, so it may differ
	// from the published value by its error (about 1e-6 degrees).
	tests := []struct {
		name string
		f    func(orb.Point) orb.Point
		want orb.Point
		tol  float64
	}{
		{"WGS84ToGCJ02", WGS84ToGCJ02, orb.Point{116.41024449916938, 39.91640428150164}, 1e-12},
		{"GCJ02ToBD09", GCJ02ToBD09, orb.Point{116.41036949371029, 39.92133699351021}, 1e-12},
		{"BD09ToGCJ02", BD09ToGCJ02, orb.Point{116.39762729119315, 39.90865673957631}, 2e-6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.f(in)
			if math.Abs(got[0]-tt.want[0]) > tt.tol || math.Abs(got[1]-tt.want[1]) > tt.tol {
				t.Errorf("%s(%v) = %.14f, want %.14f", tt.name, in, got, tt.want)
			}
		})
	}
	// The published one-step inverse gives (116.39775550083061, 39.91359571849836);
	// the iterated inverse is exact and within a few metres of it.
	got := GCJ02ToWGS84(in)
	if back := WGS84ToGCJ02(got); math.Abs(back[0]-in[0]) > 1e-9 || math.Abs(back[1]-in[1]) > 1e-9 {
		t.Errorf("GCJ02ToWGS84 does not invert: back to %.12f", back)
	}
	if d := DistanceM(got, orb.Point{116.39775550083061, 39.91359571849836}); d > 5 {
		t.Errorf("GCJ02ToWGS84 is %.2f m from the one-step answer, want under 5", d)
	}
}

func TestCRSRoundTripsAcrossChina(t *testing.T) {
	for lng := 75.0; lng < 135; lng += 3.7 {
		for lat := 18.0; lat < 53; lat += 2.9 {
			p := orb.Point{lng, lat}
			for _, c := range []struct {
				name     string
				to, back func(orb.Point) orb.Point
			}{{"gcj02", WGS84ToGCJ02, GCJ02ToWGS84}, {"bd09", WGS84ToBD09, BD09ToWGS84}} {
				q := c.back(c.to(p))
				if math.Abs(q[0]-p[0]) > 1e-6 || math.Abs(q[1]-p[1]) > 1e-6 {
					t.Fatalf("%s round trip of %v = %v", c.name, p, q)
				}
			}
		}
	}
}

func TestCRSOutsideChinaUnchanged(t *testing.T) {
	p := orb.Point{-0.1276, 51.5072} // London
	if WGS84ToGCJ02(p) != p || GCJ02ToWGS84(p) != p {
		t.Error("points outside China must pass through GCJ-02 unchanged")
	}
}

func TestParseCRS(t *testing.T) {
	for in, want := range map[string]CRS{"": WGS84, "WGS84": WGS84, "gcj02": GCJ02, "BD09": BD09} {
		if got, err := ParseCRS(in); err != nil || got != want {
			t.Errorf("ParseCRS(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseCRS("epsg:3857"); err == nil {
		t.Error("ParseCRS accepted an unknown system")
	}
}
