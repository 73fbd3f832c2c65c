package geo

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

func TestValidatePolygonal(t *testing.T) {
	sq := orb.Ring{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}
	tests := []struct {
		name string
		g    orb.Geometry
		want string // "" = valid
	}{
		{"square", orb.Polygon{sq}, ""},
		{"square with a hole", orb.Polygon{sq, {{0.2, 0.2}, {0.2, 0.4}, {0.4, 0.4}, {0.4, 0.2}, {0.2, 0.2}}}, ""},
		{"two squares touching at a corner", orb.MultiPolygon{{sq}, {{{1, 1}, {2, 1}, {2, 2}, {1, 2}, {1, 1}}}}, ""},
		{"not polygonal", orb.Point{1, 2}, "want Polygon"},
		{"unclosed", orb.Polygon{{{0, 0}, {1, 0}, {1, 1}, {0, 1}}}, "not closed"},
		{"too few points", orb.Polygon{{{0, 0}, {1, 0}, {0, 0}}}, "need at least 4"},
		{"latitude 91", orb.Polygon{{{0, 0}, {1, 0}, {1, 91}, {0, 0}}}, "latitude"},
		{"NaN", orb.Polygon{{{0, 0}, {math.NaN(), 0}, {1, 1}, {0, 0}}}, "finite"},
		{"bowtie", orb.Polygon{{{0, 0}, {1, 1}, {1, 0}, {0, 1}, {0, 0}}}, "self-intersects"},
		{"spike", orb.Polygon{{{0, 0}, {2, 0}, {1, 0}, {1, 1}, {0, 0}}}, "self-intersects"},
		{"ring touching itself", orb.Polygon{{{0, 0}, {2, 0}, {1, 1}, {2, 2}, {0, 2}, {1, 1}, {0, 0}}}, "self-intersects"},
		{"zero area", orb.Polygon{{{0, 0}, {1, 1}, {2, 2}, {0, 0}}}, ""},
		{"hole outside", orb.Polygon{sq, {{2, 2}, {2, 3}, {3, 3}, {3, 2}, {2, 2}}}, "outside its shell"},
		{"hole crossing shell", orb.Polygon{sq, {{0.5, 0.5}, {0.5, 1.5}, {1.5, 1.5}, {1.5, 0.5}, {0.5, 0.5}}}, "cross"},
		{"overlapping polygons", orb.MultiPolygon{{sq}, {{{0.5, 0.5}, {1.5, 0.5}, {1.5, 1.5}, {0.5, 1.5}, {0.5, 0.5}}}}, "overlap"},
		{"nested polygons", orb.MultiPolygon{{sq}, {{{0.2, 0.2}, {0.4, 0.2}, {0.4, 0.4}, {0.2, 0.4}, {0.2, 0.2}}}}, "inside polygon"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidatePolygonal(tt.g)
			switch {
			case tt.name == "zero area":
				if err == nil {
					t.Error("a ring of collinear points was accepted")
				}
			case tt.want == "" && err != nil:
				t.Errorf("ValidatePolygonal = %v, want valid", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("ValidatePolygonal = %v, want an error containing %q", err, tt.want)
			case err != nil && !errors.Is(err, ErrInvalidGeometry):
				t.Errorf("error %v does not wrap ErrInvalidGeometry", err)
			}
		})
	}
}

func FuzzValidatePolygonal(f *testing.F) {
	f.Add([]byte{0, 0, 10, 0, 10, 10, 0, 10, 0, 0})
	f.Add([]byte{0, 0, 10, 10, 10, 0, 0, 10, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var ring orb.Ring
		for i := 0; i+1 < len(b) && len(ring) < 64; i += 2 {
			ring = append(ring, orb.Point{float64(int8(b[i])) / 7, float64(int8(b[i+1])) / 11})
		}
		poly := orb.Polygon{ring}
		if err := ValidatePolygonal(poly); err != nil && !errors.Is(err, ErrInvalidGeometry) {
			t.Fatalf("error %v does not wrap ErrInvalidGeometry", err)
		}
		_ = LocatePointInPolygon(orb.MultiPolygon{poly}, orb.Point{0, 0}) // must not panic
	})
}

func TestValidLonLat(t *testing.T) {
	for _, p := range []orb.Point{{181, 0}, {-181, 0}, {0, 90.0001}, {math.Inf(1), 0}, {0, math.NaN()}} {
		if err := ValidLonLat(p); !errors.Is(err, ErrOutOfRange) {
			t.Errorf("ValidLonLat(%v) = %v, want ErrOutOfRange", p, err)
		}
	}
	if err := ValidLonLat(orb.Point{180, -90}); err != nil {
		t.Errorf("ValidLonLat(180, -90) = %v", err)
	}
}
