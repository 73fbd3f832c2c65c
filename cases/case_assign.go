package cases

import "citygrid"

// reassign applies a change of grid or unit. A case always keeps a grid and
// an owner: neither can be cleared, and a new grid without a unit gets the
// unit the ownership rule gives a case of its category there (the rule
// lives in grid.Locator), so the old grid's unit never stays behind.
func reassign(next *Case, u Update, event func(kind, from, to string, data any)) error {
	unprocessable := func(format string, a ...any) error {
		return citygrid.Errorf(citygrid.CodeUnprocessable, format, a...)
	}
	if u.Grid != nil && *u.Grid == "" {
		return unprocessable("grid cannot be cleared: a case always lies in a grid; name another grid")
	}
	if u.Unit != nil && *u.Unit == "" {
		return unprocessable("unit cannot be cleared: a case always has a responsible unit; name another unit, or a grid to take that grid's unit")
	}
	unit, rule := next.Unit, next.UnitRule
	if u.Unit != nil {
		unit, rule = *u.Unit, RuleManual
	}
	moved := u.Grid != nil && *u.Grid != next.Grid
	if moved {
		if u.Unit == nil {
			if u.Locator == nil {
				return unprocessable("the unit of grid %q cannot be derived now: give the unit too", *u.Grid)
			}
			o, ok := u.Locator.OwnerOf(*u.Grid, next.Category)
			switch {
			case !ok:
				return unprocessable("grid %q does not exist", *u.Grid)
			case o == nil:
				return unprocessable("no unit is responsible for %s cases in grid %q (no grid from it up names one, and no fallback unit is set): give the unit too", next.Category, *u.Grid)
			}
			unit, rule = o.Unit.Code, o.Rule
		}
		event("assign", "", "", map[string]string{"field": "grid", "from": next.Grid, "to": *u.Grid})
		next.Grid = *u.Grid
	}
	switch {
	case unit != next.Unit:
		event("assign", "", "", map[string]string{"field": "unit", "from": next.Unit, "to": unit, "rule": rule})
		next.Unit, next.UnitRule = unit, rule
	case moved:
		next.UnitRule = rule // the same unit, now by the new grid's rule
	}
	return nil
}
