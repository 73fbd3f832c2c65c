package geo

import (
	"errors"
	"math"
	"testing"

	"github.com/paulmach/orb"
)

func TestCellAt(t *testing.T) {
	tests := []struct {
		name    string
		p       orb.Point
		res     int
		wantErr error
	}{
		{"Shibei", orb.Point{120.37, 36.09}, 9, nil},
		{"latitude above 90", orb.Point{0, 90.5}, 9, ErrOutOfRange},
		{"resolution above 15", orb.Point{0, 0}, 16, ErrResolution},
		{"negative resolution", orb.Point{0, 0}, -1, ErrResolution},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := CellAt(tt.p, tt.res); !errors.Is(err, tt.wantErr) {
				t.Fatalf("CellAt(%v, %d) error = %v, want %v", tt.p, tt.res, err, tt.wantErr)
			}
		})
	}
}

func TestCellRoundTripAndHierarchy(t *testing.T) {
	c, err := CellAt(orb.Point{120.37, 36.09}, 12)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := ParseCell(c.String())
	if err != nil || parsed != c || c.Resolution() != 12 || !c.Valid() {
		t.Fatalf("ParseCell(%s) = %v, %v", c, parsed, err)
	}
	for res := 0; res <= 12; res++ {
		p := c.Parent(res)
		if p.Resolution() != res || !p.Valid() {
			t.Fatalf("Parent(%d) = %s, invalid", res, p)
		}
		found := false
		for _, k := range p.Children(min(res+3, 12)) {
			if k == c.Parent(min(res+3, 12)) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s is not among the children of its parent at %d", c, res)
		}
	}
	if a := c.AreaM2(); a < 200 || a > 400 || math.IsNaN(a) {
		t.Errorf("res 12 area = %g m², want about 307", a)
	}
	if b := c.Boundary(); len(b) != 7 || b[0] != b[6] {
		t.Errorf("boundary %v is not a closed hexagon", b)
	}
	if len(c.Disk(1)) != 7 {
		t.Errorf("Disk(1) has %d cells, want 7", len(c.Disk(1)))
	}
	for _, bad := range []string{"", "zz", "8930acc9817fff", "ffffffffffffffff", "12345678901234567"} {
		if _, err := ParseCell(bad); !errors.Is(err, ErrInvalidCell) {
			t.Errorf("ParseCell(%q) = %v, want ErrInvalidCell", bad, err)
		}
	}
}

func TestPolygonCells(t *testing.T) {
	sq := orb.MultiPolygon{{{{120.35, 36.07}, {120.37, 36.07}, {120.37, 36.09}, {120.35, 36.09}, {120.35, 36.07}}}}
	full, _ := PolygonCells(sq, 9, ContainFull)
	center, _ := PolygonCells(sq, 9, ContainCenter)
	over, _ := PolygonCells(sq, 9, ContainOverlapping)
	if !(len(full) < len(center) && len(center) < len(over)) {
		t.Errorf("full %d, centre %d, overlapping %d: want strictly growing", len(full), len(center), len(over))
	}
}

func BenchmarkCellAt(b *testing.B) {
	for _, res := range []int{9, 13} {
		b.Run("res"+string(rune('0'+res/10))+string(rune('0'+res%10)), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				if _, err := CellAt(orb.Point{120.37 + float64(i%1000)*1e-5, 36.09}, res); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
