package grid

import "strings"

// Rule kinds say why a unit was chosen.
const (
	RuleCategory = "category" // a units_by_category prefix matched the case category
	RuleDefault  = "default"  // the grid's (or an ancestor's) default unit
)

// Owner is the responsible unit chosen for a point and the rule that chose it.
type Owner struct {
	Unit Unit
	// Rule is RuleCategory or RuleDefault.
	Rule string
	// Grid and Level name the grid on the path whose setting decided.
	Grid  string
	Level Level
	// Prefix is the matching category prefix for RuleCategory.
	Prefix string
}

// chooseOwner applies the ownership rule to path (deepest grid first):
// walking up from the deepest grid, the first grid whose units_by_category
// has a prefix of category decides, with its longest matching prefix; when no
// level matches, the first grid with a default unit decides. It returns nil
// when no grid on the path names a unit.
func chooseOwner(path []*Grid, category string, units map[string]Unit) *Owner {
	if category != "" {
		for _, g := range path {
			best := ""
			for prefix := range g.UnitsByCategory {
				if strings.HasPrefix(category, prefix) && (len(prefix) > len(best) || (len(prefix) == len(best) && prefix < best)) {
					best = prefix
				}
			}
			if best != "" {
				return &Owner{Unit: unitOrCode(units, g.UnitsByCategory[best]), Rule: RuleCategory, Grid: g.Code, Level: g.Level, Prefix: best}
			}
		}
	}
	for _, g := range path {
		if g.Unit != "" {
			return &Owner{Unit: unitOrCode(units, g.Unit), Rule: RuleDefault, Grid: g.Code, Level: g.Level}
		}
	}
	return nil
}

// unitOrCode returns the registered unit, or a bare one carrying only its
// code: stores reject unknown units, so this only happens with hand-built
// grids in tests.
func unitOrCode(units map[string]Unit, code string) Unit {
	if u, ok := units[code]; ok {
		return u
	}
	return Unit{Code: code}
}
