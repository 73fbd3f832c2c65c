package grid

import (
	"sort"
	"strings"
)

// Rule kinds say why a unit was chosen.
const (
	RuleCategory = "category" // a units_by_category prefix matched the case category
	RuleDefault  = "default"  // the grid's (or an ancestor's) default unit
	RuleFallback = "fallback" // no grid on the path names a unit: the district's fallback unit (属地兜底)
)

// Owner is the responsible unit chosen for a point and the rule that chose it.
type Owner struct {
	Unit Unit
	// Rule is RuleCategory, RuleDefault or RuleFallback.
	Rule string
	// Grid and Level name the grid on the path whose setting decided; for
	// RuleFallback, the top of the path (the district the fallback serves).
	Grid  string
	Level Level
	// Prefix is the matching category prefix for RuleCategory.
	Prefix string
}

// owner applies the ownership rule to grid i and its ancestors: walking up
// from grid i, the first grid whose units_by_category has a prefix of
// category decides, with its longest matching prefix; when no level matches,
// the first grid with a default unit decides; when none does, the fallback
// unit. It returns nil when no grid on the path names a unit and there is
// no fallback. Every possible answer is built with the index
// (prepareOwners), so the hot path neither allocates nor ranges over maps.
func (l *Locator) owner(i int32, category string) *Owner {
	if category != "" {
		for _, j := range l.grids[i].pathIdx {
			g := &l.grids[j]
			for k, prefix := range g.prefixes {
				if strings.HasPrefix(category, prefix) {
					return g.prefixOwners[k]
				}
			}
		}
	}
	return l.grids[i].defaultOwner
}

// prepareOwners builds each grid's category owners and default owner.
func (l *Locator) prepareOwners() {
	for i := range l.grids {
		g := &l.grids[i]
		g.prefixes = sortedPrefixes(g.UnitsByCategory)
		for _, prefix := range g.prefixes {
			g.prefixOwners = append(g.prefixOwners, &Owner{
				Unit: unitOrCode(l.units, g.UnitsByCategory[prefix]), Rule: RuleCategory, Grid: g.Code, Level: g.Level, Prefix: prefix,
			})
		}
	}
	fallbacks := map[string]*Owner{} // by the top of the path: one answer per district
	for i := range l.grids {
		path := l.grids[i].path
		for _, p := range path {
			if p.Unit != "" {
				l.grids[i].defaultOwner = &Owner{Unit: unitOrCode(l.units, p.Unit), Rule: RuleDefault, Grid: p.Code, Level: p.Level}
				break
			}
		}
		if l.grids[i].defaultOwner != nil || l.opt.FallbackUnit == "" {
			continue
		}
		root := path[len(path)-1]
		if fallbacks[root.Code] == nil {
			fallbacks[root.Code] = &Owner{Unit: unitOrCode(l.units, l.opt.FallbackUnit), Rule: RuleFallback, Grid: root.Code, Level: root.Level}
		}
		l.grids[i].defaultOwner = fallbacks[root.Code]
	}
}

// Unit returns a registered unit by code.
func (l *Locator) Unit(code string) (Unit, bool) {
	u, ok := l.units[code]
	return u, ok
}

// sortedPrefixes returns the keys of m, longest first, then in byte order:
// the first match is the longest matching prefix.
func sortedPrefixes(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i]) != len(out[j]) {
			return len(out[i]) > len(out[j])
		}
		return out[i] < out[j]
	})
	return out
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
