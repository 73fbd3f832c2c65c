package demo

import (
	"strings"
	"testing"

	"github.com/paulmach/orb"
	orbgeo "github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/planar"

	"citygrid/geo"
)

func TestDistrict(t *testing.T) {
	d, err := District()
	if err != nil {
		t.Fatal(err)
	}
	if err := geo.ValidatePolygonal(d); err != nil {
		t.Fatalf("district boundary is invalid: %v", err)
	}
	b := d.Bound()
	if b.Min[0] < 120.2 || b.Max[0] > 120.5 || b.Min[1] < 36.0 || b.Max[1] > 36.2 {
		t.Errorf("district bound %v is not around Shibei", b)
	}
	km2 := orbgeo.Area(d) / 1e6
	if km2 < 50 || km2 > 80 {
		t.Errorf("district area = %.1f km², want 50 to 80 (Shibei is about 63)", km2)
	}
	if !planar.MultiPolygonContains(d, orb.Point{120.37, 36.09}) {
		t.Error("district does not contain (120.37, 36.09)")
	}
}

func TestDivisions(t *testing.T) {
	d, err := LoadDivisions()
	if err != nil {
		t.Fatal(err)
	}
	if d.DistrictCode != "370203" || d.DistrictName != "市北区" {
		t.Errorf("district = %s %s", d.DistrictCode, d.DistrictName)
	}
	if len(d.Streets) < 10 {
		t.Fatalf("%d streets, want at least 10", len(d.Streets))
	}
	seen := map[string]bool{}
	for _, st := range d.Streets {
		if !strings.HasPrefix(st.Code, "370203") || seen[st.Code] {
			t.Errorf("street code %q is not a unique Shibei code", st.Code)
		}
		seen[st.Code] = true
		for _, c := range st.Communities {
			if !strings.HasPrefix(c.Code, st.Code) || seen[c.Code] {
				t.Errorf("community %q of street %q", c.Code, st.Code)
			}
			seen[c.Code] = true
		}
	}
}
