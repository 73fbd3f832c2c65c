package grid

import "testing"

func TestChooseOwner(t *testing.T) {
	units := map[string]Unit{"U1": {Code: "U1", Name: "one"}}
	district := &Grid{Code: "d", Level: LevelDistrict, Unit: "U1", UnitsByCategory: map[string]string{"C": "CGJ", "E03": "ZFJ"}}
	street := &Grid{Code: "s", Level: LevelStreet, Unit: "JD", UnitsByCategory: map[string]string{"E05": "ZD", "E0501": "ZD1"}}
	community := &Grid{Code: "c", Level: LevelCommunity, UnitsByCategory: map[string]string{"E01": "JW"}}
	cell := &Grid{Code: "g", Level: LevelGrid}
	path := []*Grid{cell, community, street, district}
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
		{"registered unit keeps its name", []*Grid{district}, "", "U1", RuleDefault, LevelDistrict, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := chooseOwner(tt.path, tt.category, units)
			if o == nil {
				t.Fatalf("chooseOwner(%q) = nil", tt.category)
			}
			if o.Unit.Code != tt.wantUnit || o.Rule != tt.wantRule || o.Level != tt.wantLevel || o.Prefix != tt.wantPref {
				t.Errorf("chooseOwner(%q) = %s/%s/%s/%q, want %s/%s/%s/%q", tt.category,
					o.Unit.Code, o.Rule, o.Level, o.Prefix, tt.wantUnit, tt.wantRule, tt.wantLevel, tt.wantPref)
			}
		})
	}
	if o := chooseOwner([]*Grid{cell}, "E01", units); o != nil {
		t.Errorf("chooseOwner with no unit on the path = %+v, want nil", o)
	}
	if o := chooseOwner([]*Grid{district}, "", units); o.Unit.Name != "one" {
		t.Errorf("unit name = %q, want %q", o.Unit.Name, "one")
	}
}
