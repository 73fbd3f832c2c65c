package grid

import (
	"testing"

	"github.com/paulmach/orb"
)

// ownerOf builds a locator over grids (all the same square, nested by
// parent) and returns the owner of the point inside them.
func ownerOf(t *testing.T, grids []*Grid, category string) *Owner {
	t.Helper()
	units := []Unit{{Code: "U1", Name: "one"}}
	for _, g := range grids {
		g.Geometry = orb.Polygon{{{120, 36}, {120.01, 36}, {120.01, 36.01}, {120, 36.01}, {120, 36}}}
	}
	l, err := NewLocator(grids, units, LocatorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := l.Assign(orb.Point{120.005, 36.005}, category)
	if err != nil {
		t.Fatal(err)
	}
	return a.Owner
}

func TestOwnerRule(t *testing.T) {
	mk := func() []*Grid {
		return []*Grid{
			{Code: "d", Level: LevelDistrict, Unit: "U1", UnitsByCategory: map[string]string{"C": "CGJ", "E03": "ZFJ"}},
			{Code: "s", Level: LevelStreet, Parent: "d", Unit: "JD", UnitsByCategory: map[string]string{"E05": "ZD", "E0501": "ZD1"}},
			{Code: "c", Level: LevelCommunity, Parent: "s", UnitsByCategory: map[string]string{"E01": "JW"}},
			{Code: "g", Level: LevelGrid, Parent: "c"},
		}
	}
	path := mk()
	district := mk()[:1]
	tests := []struct {
		name      string
		path      []*Grid
		category  string
		wantUnit  string
		wantRule  string
		wantLevel Level
		wantPref  string
	}{
		{"no category: first default walking up", path, "", "JD", RuleDefault, LevelStreet, ""},
		{"category at community", path, "E0101", "JW", RuleCategory, LevelCommunity, "E01"},
		{"longest prefix at the first matching level", path, "E050102", "ZD1", RuleCategory, LevelStreet, "E0501"},
		{"shorter prefix when the longer does not match", path, "E0502", "ZD", RuleCategory, LevelStreet, "E05"},
		{"category at district skips the street default", path, "C0101", "CGJ", RuleCategory, LevelDistrict, "C"},
		{"unmatched category falls back to default", path, "X99", "JD", RuleDefault, LevelStreet, ""},
		{"registered unit keeps its name", district, "", "U1", RuleDefault, LevelDistrict, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ownerOf(t, tt.path, tt.category)
			if o == nil {
				t.Fatalf("owner(%q) = nil", tt.category)
			}
			if o.Unit.Code != tt.wantUnit || o.Rule != tt.wantRule || o.Level != tt.wantLevel || o.Prefix != tt.wantPref {
				t.Errorf("owner(%q) = %s/%s/%s/%q, want %s/%s/%s/%q", tt.category,
					o.Unit.Code, o.Rule, o.Level, o.Prefix, tt.wantUnit, tt.wantRule, tt.wantLevel, tt.wantPref)
			}
		})
	}
	if o := ownerOf(t, []*Grid{{Code: "g", Level: LevelGrid}}, "E01"); o != nil {
		t.Errorf("owner with no unit on the path = %+v, want nil", o)
	}
	if o := ownerOf(t, mk()[:1], ""); o.Unit.Name != "one" {
		t.Errorf("unit name = %q, want %q", o.Unit.Name, "one")
	}
}

func TestFallbackOwner(t *testing.T) {
	square := orb.Polygon{{{120, 36}, {120.01, 36}, {120.01, 36.01}, {120, 36.01}, {120, 36}}}
	mk := func(districtUnit string) []*Grid {
		return []*Grid{
			{Code: "d", Level: LevelDistrict, Unit: districtUnit, Geometry: square},
			{Code: "c", Level: LevelCommunity, Parent: "d", UnitsByCategory: map[string]string{"E01": "JW"}, Geometry: square},
			{Code: "g", Level: LevelGrid, Parent: "c", Geometry: square},
		}
	}
	units := []Unit{{Code: "FB", Name: "街道办"}}
	tests := []struct {
		name               string
		districtUnit       string
		fallback, category string
		want               string // unit/rule/grid/level, or "" for no owner
	}{
		{"no unit on the path: the fallback, naming the district", "", "FB", "E0501", "FB/fallback/d/district"},
		{"a category rule wins over the fallback", "", "FB", "E0101", "JW/category/c/community"},
		{"a default unit wins over the fallback", "U1", "FB", "E0501", "U1/default/d/district"},
		{"no fallback set: no owner", "", "", "E0501", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := NewLocator(mk(tt.districtUnit), units, LocatorOptions{FallbackUnit: tt.fallback})
			if err != nil {
				t.Fatal(err)
			}
			describe := func(o *Owner) string {
				if o == nil {
					return ""
				}
				return o.Unit.Code + "/" + o.Rule + "/" + o.Grid + "/" + o.Level.String()
			}
			a, err := l.Assign(orb.Point{120.005, 36.005}, tt.category)
			if err != nil {
				t.Fatal(err)
			}
			loc, err := l.Locate(orb.Point{120.005, 36.005}, tt.category)
			if err != nil {
				t.Fatal(err)
			}
			byGrid, ok := l.OwnerOf("g", tt.category)
			if !ok {
				t.Fatal("OwnerOf(g): unknown grid")
			}
			for what, o := range map[string]*Owner{"Assign": a.Owner, "Locate": loc.Owner, "OwnerOf": byGrid} {
				if got := describe(o); got != tt.want {
					t.Errorf("%s owner = %q, want %q", what, got, tt.want)
				}
			}
			if a.Owner != nil && a.Owner.Rule == RuleFallback && a.Owner.Unit.Name != "街道办" {
				t.Errorf("fallback unit name = %q, want the registered one", a.Owner.Unit.Name)
			}
		})
	}
	l, err := NewLocator(mk(""), units, LocatorOptions{FallbackUnit: "FB"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := l.OwnerOf("nope", ""); ok {
		t.Error("OwnerOf(an unknown grid) reports it known")
	}
	if o, _ := l.OwnerOf("d", "E0501"); o == nil || o.Rule != RuleFallback {
		t.Errorf("OwnerOf(d) = %+v, want the fallback", o)
	}
}
